//! Global allocator: the system allocator, except that an allocation failure (the address-space
//! rlimit reached, see sandbox.rs) ends the process with EXIT_OUT_OF_MEMORY instead of aborting.
//! The app maps that exit status to `MemoryLimit`: the job (its module or its run) needed more than
//! the job's memory cap plus the host's fixed overhead.

use std::alloc::{GlobalAlloc, Layout, System};

pub const EXIT_OUT_OF_MEMORY: i32 = 86;

pub struct ExitOnOom;

/// Ends the process at once: no destructors, no atexit handlers, no allocation.
pub fn hard_exit(code: i32) -> ! {
    #[cfg(unix)]
    unsafe {
        libc::_exit(code)
    }
    #[cfg(not(unix))]
    std::process::exit(code)
}

#[cold]
fn out_of_memory() -> ! {
    // No allocation, no locks: just leave.
    hard_exit(EXIT_OUT_OF_MEMORY)
}

unsafe impl GlobalAlloc for ExitOnOom {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if p.is_null() {
            out_of_memory()
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if p.is_null() {
            out_of_memory()
        }
        p
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if p.is_null() {
            out_of_memory()
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}
