;; Fuel = 167 exactly (wire profile section 7, see docs/SANDBOX.md): 1 (_start entry) + 11 (iovec + fd_write
;; call; drop is free) + 2 + 10 loop iterations of 15 (3 exit test + 4 decrement + 3 call + 1 entry of $add
;; + 3 in $add + 1 br; drop free) + 3 (final exit test).
;; Writes "hello\n" to stdout.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hello\n")
  (func $add (param i32 i32) (result i32)
    local.get 0
    local.get 1
    i32.add)
  (func $_start (export "_start")
    (local $i i32)
    i32.const 0 i32.const 16 i32.store
    i32.const 4 i32.const 6 i32.store
    i32.const 1 i32.const 0 i32.const 1 i32.const 8 call $fd_write drop
    i32.const 10 local.set $i
    block
      loop
        local.get $i i32.eqz br_if 1
        local.get $i i32.const 1 i32.sub local.set $i
        local.get $i i32.const 2 call $add drop
        br 0
      end
    end
    nop))
