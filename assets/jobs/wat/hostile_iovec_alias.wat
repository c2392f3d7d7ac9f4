;; fd_write with 16 000 iovecs that all alias one 1 MiB buffer, 64 times. An engine that joins the
;; iovecs before applying the output limit allocates 16 GB per call; Wasmtime's preview1 writes only
;; the first non-empty iovec (1 MiB per call), so the output limit (OutputLimit) is reached with the
;; host's memory bounded.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 20)
  (func (export "_start")
    (local $i i32)
    ;; the buffer: 1 MiB of 'x' at 0
    i32.const 0 i32.const 120 i32.const 1048576 memory.fill
    ;; 16 000 iovecs at 1 MiB, each {buf 0, len 1 MiB}
    loop $fill
      local.get $i i32.const 8 i32.mul i32.const 1048576 i32.add
      i32.const 0
      i32.store
      local.get $i i32.const 8 i32.mul i32.const 1048580 i32.add
      i32.const 1048576
      i32.store
      local.get $i i32.const 1 i32.add local.tee $i
      i32.const 16000 i32.lt_u
      br_if $fill
    end
    i32.const 0 local.set $i
    loop $write
      i32.const 1 i32.const 1048576 i32.const 16000 i32.const 1200000 call $fd_write drop
      local.get $i i32.const 1 i32.add local.tee $i
      i32.const 64 i32.lt_u
      br_if $write
    end))
