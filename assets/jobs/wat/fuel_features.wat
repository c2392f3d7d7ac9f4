;; Fuel = 26 exactly: multi-value results, a block with parameters, a tail call, sign extension,
;; bulk memory, SIMD and saturating truncation. _start entry 1 + 2 (i32.const, call) + $tail 3 (entry,
;; local.get, return_call) + $pair 5 (entry + 4) + 1 (i32.add) + 1 (extend8_s) + 4 (memory.fill line: bulk
;; operations cost 1 like any instruction, not per byte) + 4 (memory.copy line) + 3 (v128 line) + 2 (trunc_sat).
(module
  (memory (export "memory") 1)
  (func $pair (param i32) (result i32 i32)
    local.get 0
    local.get 0
    i32.const 1
    i32.add)
  (func $tail (param i32) (result i32 i32)
    local.get 0
    return_call $pair)
  (func (export "_start")
    i32.const 5
    call $tail
    block (param i32 i32) (result i32)
      i32.add
    end
    i32.extend8_s
    drop
    i32.const 0 i32.const 7 i32.const 16 memory.fill
    i32.const 32 i32.const 0 i32.const 16 memory.copy
    i32.const 0 v128.load i32x4.extract_lane 1 drop
    f64.const 2.5 i64.trunc_sat_f64_s drop))
