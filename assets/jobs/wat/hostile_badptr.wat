;; WASI calls with negative or out-of-bounds pointers and lengths. stdin's first byte picks the case
;; (the rest of stdin is data for the fd_read case). Wasmtime's preview1 follows the WASI rule that a
;; call which must dereference an out-of-bounds pointer traps the caller; a length it refuses before
;; touching memory is an errno. Either way, never a silent success: a call that returns prints
;; "errno NN". Case 9 is a control that succeeds ("ok" then "errno 00").
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock_time_get (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) "ok\n")
  (data (i32.const 80) "errno   \n")
  ;; stdin byte -> 1024
  (func $case (result i32)
    i32.const 16 i32.const 1024 i32.store
    i32.const 20 i32.const 1 i32.store
    i32.const 0 i32.const 16 i32.const 1 i32.const 24 call $fd_read drop
    i32.const 1024 i32.load8_u i32.const 48 i32.sub)
  (func $iov (param $buf i32) (param $len i32)
    i32.const 32 local.get $buf i32.store
    i32.const 36 local.get $len i32.store)
  ;; prints "errno NN\n" for the errno returned by the call
  (func $report (param $errno i32)
    i32.const 86 local.get $errno i32.const 10 i32.div_u i32.const 48 i32.add i32.store8
    i32.const 87 local.get $errno i32.const 10 i32.rem_u i32.const 48 i32.add i32.store8
    i32.const 48 i32.const 80 i32.store
    i32.const 52 i32.const 9 i32.store
    i32.const 1 i32.const 48 i32.const 1 i32.const 56 call $fd_write drop)
  (func (export "_start")
    block $c9 block $c8 block $c7 block $c6 block $c5 block $c4 block $c3 block $c2 block $c1 block $c0
      call $case
      br_table $c0 $c1 $c2 $c3 $c4 $c5 $c6 $c7 $c8 $c9 $c9
    end ;; 0: iovec array pointer out of bounds (negative)
      i32.const 1 i32.const -16 i32.const 1 i32.const 40 call $fd_write call $report return
    end ;; 1: iovec buffer pointer negative
      i32.const -16 i32.const 16 call $iov
      i32.const 1 i32.const 32 i32.const 1 i32.const 40 call $fd_write call $report return
    end ;; 2: iovec length negative (0xffffffff)
      i32.const 64 i32.const -1 call $iov
      i32.const 1 i32.const 32 i32.const 1 i32.const 40 call $fd_write call $report return
    end ;; 3: result pointer (nwritten) negative
      i32.const 64 i32.const 3 call $iov
      i32.const 1 i32.const 32 i32.const 1 i32.const -4 call $fd_write call $report return
    end ;; 4: fd_read into a negative buffer
      i32.const -16 i32.const 16 call $iov
      i32.const 0 i32.const 32 i32.const 1 i32.const 40 call $fd_read call $report return
    end ;; 5: random_get into a negative buffer
      i32.const -16 i32.const 32 call $random_get call $report return
    end ;; 6: clock_time_get result pointer past the end of memory
      i32.const 0 i64.const 0 i32.const 65536 call $clock_time_get call $report return
    end ;; 7: args_get with negative pointers
      i32.const -4 i32.const -4 call $args_get call $report return
    end ;; 8: iovec length far past the end of memory
      i32.const 0 i32.const 0x7fffffff call $iov
      i32.const 1 i32.const 32 i32.const 1 i32.const 40 call $fd_write call $report return
    end ;; 9: control
    i32.const 64 i32.const 3 call $iov
    i32.const 1 i32.const 32 i32.const 1 i32.const 40 call $fd_write call $report))
