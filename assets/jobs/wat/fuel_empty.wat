;; Does nothing: fuel 1 (the entry into _start). Used to measure job start latency.
(module
  (memory (export "memory") 1)
  (func (export "_start")))
