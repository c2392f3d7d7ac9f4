;; Traps on `unreachable` with exactly 4 charged: _start entry 1, i32.const 1, drop 0, nop 0, call 1, entry of
;; $boom 1, unreachable 0.
(module
  (memory (export "memory") 1)
  (func $boom
    unreachable)
  (func (export "_start")
    i32.const 1
    drop
    nop
    call $boom))
