;; An endless loop of 64 MiB memory.fill operations. Under the profile's fuel rule a bulk operation
;; costs 1 like any instruction, so each iteration costs 5 fuel but ~5 ms of CPU: fuel-slice yields
;; come rarely, and the wall-clock limit must still end it (Timeout) on time.
(module
  (memory (export "memory") 1024)
  (func (export "_start")
    loop
      i32.const 0 i32.const 7 i32.const 67108864 memory.fill
      br 0
    end))
