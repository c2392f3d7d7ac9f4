;; Does nothing: fuel 0. Used to measure job start latency.
(module
  (memory (export "memory") 1)
  (func (export "_start")))
