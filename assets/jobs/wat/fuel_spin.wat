;; Spins forever: 1 for the entry, then every iteration costs 1 (the br); a job with max_fuel N ends
;; FuelExhausted with fuel_used N.
(module
  (memory (export "memory") 1)
  (func (export "_start")
    loop
      br 0
    end))
