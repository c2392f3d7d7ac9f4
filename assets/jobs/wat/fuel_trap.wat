;; Traps on `unreachable` after exactly 4 counted instructions (i32.const, drop, nop=0, call, unreachable).
(module
  (memory (export "memory") 1)
  (func $boom
    unreachable)
  (func (export "_start")
    i32.const 1
    drop
    nop
    call $boom))
