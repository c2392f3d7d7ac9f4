//! Resource limits of one job's store: linear memory (the job's cap), table elements, counts.

use wasmtime::{ResourceLimiter, Result};

/// Total table elements across all tables (8-16 bytes of host memory each).
pub const MAX_TABLE_ELEMENTS: usize = 1 << 20;
/// Tables per module (LLVM emits one; reference-types modules may have a few).
pub const MAX_TABLES: usize = 10;

pub struct Limits {
    pub memory_cap: usize,
    pub tables_total: usize,
    pub peak_memory: usize,
    /// a memory grow (or the initial size) was refused because of the cap
    pub memory_hit: bool,
    pub table_hit: bool,
}

impl Limits {
    pub fn new(memory_cap: u64) -> Self {
        let cap = usize::try_from(memory_cap).unwrap_or(usize::MAX) / 65536 * 65536;
        Limits { memory_cap: cap, tables_total: 0, peak_memory: 0, memory_hit: false, table_hit: false }
    }
}

impl ResourceLimiter for Limits {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> Result<bool> {
        if desired > self.memory_cap {
            self.memory_hit = true;
            return Ok(false);
        }
        self.peak_memory = self.peak_memory.max(desired);
        Ok(true)
    }

    fn table_growing(&mut self, current: usize, desired: usize, _maximum: Option<usize>) -> Result<bool> {
        let total = self.tables_total.saturating_sub(current).saturating_add(desired);
        if total > MAX_TABLE_ELEMENTS {
            self.table_hit = true;
            return Ok(false);
        }
        self.tables_total = total;
        Ok(true)
    }

    fn instances(&self) -> usize {
        1
    }
    fn tables(&self) -> usize {
        MAX_TABLES
    }
    fn memories(&self) -> usize {
        1
    }
}
