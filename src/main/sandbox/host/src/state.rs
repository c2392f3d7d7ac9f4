//! State shared between the job thread, the IPC reader, the writer and the ticker.

use crate::ipc::Outbox;
use bytes::Bytes;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::Mutex;
use std::time::Instant;

pub const ABORT_NONE: u8 = 0;
pub const ABORT_TIMEOUT: u8 = 1;
pub const ABORT_CANCEL: u8 = 2;

pub const PHASE_WAITING: u8 = 0;
pub const PHASE_COMPILING: u8 = 1;
pub const PHASE_RUNNING: u8 = 2;
pub const PHASE_DONE: u8 = 3;

#[derive(Default)]
pub struct StdinState {
    pub queue: VecDeque<Bytes>,
    pub eof: bool,
}

pub struct Shared {
    pub outbox: Outbox,
    /// why the job is being stopped (ABORT_*), first reason wins
    pub abort: AtomicU8,
    pub aborted_at: Mutex<Option<Instant>>,
    /// wakes async waiters (interactive stdin, the call future) on new stdin bytes or an abort
    pub wake: tokio::sync::Notify,
    pub stdin: Mutex<StdinState>,
    pub phase: AtomicU8,
    /// when the RUN request arrived and its deadline
    pub received: Mutex<Option<(Instant, Instant)>>,
    /// fuel charged so far, as of the last epoch callback (used if the ticker has to end the job)
    pub fuel_so_far: AtomicU64,
    pub result_sent: AtomicBool,
    /// stdout written by the guest but not yet queued for the app (see `flush_stdout`)
    pub stdout_pending: Mutex<Vec<u8>>,
}

/// stdout is collected and sent in chunks: when 64 KiB are pending, when the guest waits for stdin,
/// on every ticker tick (5 ms) and before the result. So one `printf` line — which wasi-libc writes
/// as two iovecs and Wasmtime's preview1 as two `fd_write`s — reaches the app as one chunk.
pub const STDOUT_CHUNK: usize = 64 * 1024;

impl Shared {
    pub fn new() -> Self {
        Shared {
            outbox: Outbox::new(),
            abort: AtomicU8::new(ABORT_NONE),
            aborted_at: Mutex::new(None),
            wake: tokio::sync::Notify::new(),
            stdin: Mutex::new(StdinState::default()),
            phase: AtomicU8::new(PHASE_WAITING),
            received: Mutex::new(None),
            fuel_so_far: AtomicU64::new(0),
            result_sent: AtomicBool::new(false),
            stdout_pending: Mutex::new(Vec::new()),
        }
    }

    pub fn aborted(&self) -> bool {
        self.abort.load(Ordering::Acquire) != ABORT_NONE
    }

    pub fn abort(&self, why: u8) {
        if self.abort.compare_exchange(ABORT_NONE, why, Ordering::AcqRel, Ordering::Acquire).is_ok() {
            *self.aborted_at.lock().unwrap() = Some(Instant::now());
        }
        self.wake.notify_waiters();
    }

    /// Queues pending stdout for the app without blocking (ticker, stdin waits, the end of the job).
    /// Skips if the job thread is in the middle of a (blocking) flush.
    pub fn flush_stdout_nonblocking(&self) {
        if self.outbox.stdout_full() {
            return; // the guest blocks on its next full chunk instead
        }
        if let Ok(mut p) = self.stdout_pending.try_lock() {
            if !p.is_empty() {
                let data = std::mem::take(&mut *p);
                self.outbox.push(crate::ipc::T_STDOUT, data);
            }
        }
    }

    /// Claims the right to send the single RESULT frame.
    pub fn claim_result(&self) -> bool {
        !self.result_sent.swap(true, Ordering::AcqRel)
    }
}
