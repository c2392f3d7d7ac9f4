;; Fuel = 31 exactly: br_table/return/if-else paths, memory.grow (one failing past the declared max), select, untaken if.
;; _start entry 1; calls of $f: 4 (x=0: entry, local.get, br_table, i32.const; return free), 4 (x=1), 6 (x=2:
;; entry, local.get, br_table, local.get, if, i32.const) plus 2 per call site (i32.const, call; drop free);
;; memory.grow lines 2 + 2; select line 4; untaken if 2 (i32.const, if).
(module
  (memory (export "memory") 1 2)
  (func $f (param $x i32) (result i32)
    block $b2
      block $b1
        block $b0
          local.get $x
          br_table $b0 $b1 $b2
        end
        i32.const 100
        return
      end
      i32.const 200
      return
    end
    local.get $x
    if (result i32)
      i32.const 1
    else
      i32.const 2
    end)
  (func (export "_start")
    i32.const 0 call $f drop
    i32.const 1 call $f drop
    i32.const 2 call $f drop
    i32.const 1 memory.grow drop
    i32.const 5 memory.grow drop
    i32.const 7 i32.const 8 i32.const 0 select drop
    i32.const 0
    if
      unreachable
    end))
