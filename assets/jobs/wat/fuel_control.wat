;; Fuel = 35 exactly: br_table/return/if-else paths, memory.grow (one failing past the declared max), select, untaken if.
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
