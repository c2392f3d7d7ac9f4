;; Exits through proc_exit with the status given by stdin's first byte ('0'..'9'); the `unreachable`
;; after the call proves execution stopped there. Fuel = 17 exactly for every status: _start entry 1,
;; 6 (iovec stores), 5 (fd_read call; drop free), 4 (load, subtract), 1 (call proc_exit); then
;; proc_exit ends the job (the charge is saved before every call).
(module
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    i32.const 16 i32.const 1024 i32.store
    i32.const 20 i32.const 1 i32.store8
    i32.const 0 i32.const 16 i32.const 1 i32.const 24 call $fd_read drop
    i32.const 1024 i32.load8_u i32.const 48 i32.sub
    call $proc_exit
    unreachable))
