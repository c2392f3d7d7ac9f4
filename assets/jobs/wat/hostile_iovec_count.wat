;; fd_write and fd_read with 2^31-1 iovecs (an iovec array of 16 GiB, far past the 64 KiB memory).
;; The host must answer each call with an error quickly, without allocating for the array. Prints the two
;; errno values ("fd_write 48\nfd_read 48\n": ENOMEM from Wasmtime's hostcall bound), then exits 0.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 256) "fd_write ")
  (data (i32.const 272) "fd_read  ")
  ;; prints the 8-byte label at $label followed by the 2-digit errno and a newline
  (func $report (param $label i32) (param $errno i32)
    ;; copy the label to 512
    i32.const 512 local.get $label i32.const 8 memory.copy
    i32.const 520 local.get $errno i32.const 10 i32.div_u i32.const 48 i32.add i32.store8
    i32.const 521 local.get $errno i32.const 10 i32.rem_u i32.const 48 i32.add i32.store8
    i32.const 522 i32.const 10 i32.store8
    ;; iovec at 600: {512, 11}
    i32.const 600 i32.const 512 i32.store
    i32.const 604 i32.const 11 i32.store
    i32.const 1 i32.const 600 i32.const 1 i32.const 608 call $fd_write drop)
  (func (export "_start")
    i32.const 256
    i32.const 1 i32.const 0 i32.const 0x7fffffff i32.const 64 call $fd_write
    call $report
    i32.const 272
    i32.const 0 i32.const 0 i32.const 0x7fffffff i32.const 64 call $fd_read
    call $report))
