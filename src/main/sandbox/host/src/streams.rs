//! The job's stdio, plugged into wasmtime-wasi's preview1 implementation (which calls these through
//! its p2 stream traits): stdout is forwarded to the app (capped: `OutputLimit`), stderr too (capped,
//! excess dropped), stdin is the interactive stream the app feeds (acknowledged as the guest reads).

use crate::ipc::{T_STDERR, T_STDIN_ACK};
use crate::state::Shared;
use bytes::Bytes;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};
use wasmtime_wasi::cli::{IsTerminal, StdinStream, StdoutStream};
use wasmtime_wasi_io::poll::Pollable;
use wasmtime_wasi_io::streams::{InputStream, OutputStream, StreamError, StreamResult};

/// Error carried by a trap that our stdout stream raised when the output limit was reached.
#[derive(Debug)]
pub struct OutputLimitHit;
impl std::fmt::Display for OutputLimitHit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "stdout exceeded the output limit")
    }
}
impl std::error::Error for OutputLimitHit {}

/// Error carried by a trap raised because the job was stopped (timeout or cancel).
#[derive(Debug)]
pub struct Aborted;
impl std::fmt::Display for Aborted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "job stopped (timeout or cancel)")
    }
}
impl std::error::Error for Aborted {}

const WRITE_WINDOW: usize = 64 * 1024;

#[derive(Clone)]
pub struct Stdout {
    pub shared: Arc<Shared>,
    pub limit: u64,
    pub written: Arc<AtomicU64>,
    pub hit: Arc<AtomicBool>,
}

impl IsTerminal for Stdout {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for Stdout {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        // Only used by WASIp3, which this host does not link.
        Box::new(tokio::io::sink())
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for Stdout {
    async fn ready(&mut self) {}
}

#[wasmtime_wasi::async_trait]
impl OutputStream for Stdout {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        if self.hit.load(Ordering::Relaxed) {
            return Err(StreamError::Trap(OutputLimitHit.into()));
        }
        let total = self.written.load(Ordering::Relaxed);
        let room = self.limit.saturating_sub(total);
        let over = bytes.len() as u64 > room;
        let part = if over { bytes.slice(..room as usize) } else { bytes };
        if !part.is_empty() {
            let mut pending = self.shared.stdout_pending.lock().unwrap();
            pending.extend_from_slice(&part);
            self.written.fetch_add(part.len() as u64, Ordering::Relaxed);
            if pending.len() >= crate::state::STDOUT_CHUNK {
                // queue it, waiting while the app is behind (back-pressure); the lock keeps chunks in order
                let data = std::mem::take(&mut *pending);
                let shared = self.shared.clone();
                if !self.shared.outbox.push_stdout(data, &move || shared.aborted()) {
                    return Err(StreamError::Trap(Aborted.into()));
                }
            }
        }
        if over {
            self.hit.store(true, Ordering::Relaxed);
            return Err(StreamError::Trap(OutputLimitHit.into()));
        }
        Ok(())
    }
    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }
    fn check_write(&mut self) -> StreamResult<usize> {
        if self.hit.load(Ordering::Relaxed) {
            return Err(StreamError::Trap(OutputLimitHit.into()));
        }
        if self.shared.aborted() {
            return Err(StreamError::Trap(Aborted.into()));
        }
        Ok(WRITE_WINDOW)
    }
}

/// stderr: forwarded up to `limit` bytes, the rest silently dropped (never fails the job).
#[derive(Clone)]
pub struct Stderr {
    pub shared: Arc<Shared>,
    pub limit: u64,
    pub written: Arc<AtomicU64>,
}

impl IsTerminal for Stderr {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for Stderr {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(tokio::io::sink())
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for Stderr {
    async fn ready(&mut self) {}
}

#[wasmtime_wasi::async_trait]
impl OutputStream for Stderr {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        let total = self.written.load(Ordering::Relaxed);
        let room = self.limit.saturating_sub(total) as usize;
        let n = bytes.len().min(room);
        if n > 0 {
            self.shared.outbox.push(T_STDERR, bytes[..n].to_vec());
            self.written.fetch_add(n as u64, Ordering::Relaxed);
        }
        Ok(())
    }
    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }
    fn check_write(&mut self) -> StreamResult<usize> {
        if self.shared.aborted() {
            return Err(StreamError::Trap(Aborted.into()));
        }
        Ok(WRITE_WINDOW)
    }
}

/// Interactive stdin: bytes the app sends in STDIN frames, end-of-file after STDIN_END.
#[derive(Clone)]
pub struct InteractiveStdin {
    pub shared: Arc<Shared>,
}

impl IsTerminal for InteractiveStdin {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdinStream for InteractiveStdin {
    fn p2_stream(&self) -> Box<dyn InputStream> {
        Box::new(self.clone())
    }
    fn async_stream(&self) -> Box<dyn AsyncRead + Send + Sync> {
        Box::new(tokio::io::empty())
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for InteractiveStdin {
    async fn ready(&mut self) {
        loop {
            let notified = self.shared.wake.notified();
            let mut notified = std::pin::pin!(notified);
            notified.as_mut().enable();
            if self.shared.aborted() {
                return;
            }
            // the guest is about to wait for input: what it wrote so far goes out now
            self.shared.flush_stdout_nonblocking();
            {
                let st = self.shared.stdin.lock().unwrap();
                if !st.queue.is_empty() || st.eof {
                    return;
                }
            }
            notified.await;
        }
    }
}

#[wasmtime_wasi::async_trait]
impl InputStream for InteractiveStdin {
    fn read(&mut self, size: usize) -> StreamResult<Bytes> {
        if self.shared.aborted() {
            return Err(StreamError::Trap(Aborted.into()));
        }
        let mut st = self.shared.stdin.lock().unwrap();
        let Some(front) = st.queue.front_mut() else {
            return if st.eof { Err(StreamError::Closed) } else { Ok(Bytes::new()) };
        };
        let n = size.min(front.len());
        let out = front.split_to(n);
        if front.is_empty() {
            st.queue.pop_front();
        }
        drop(st);
        if n > 0 {
            self.shared.outbox.push(T_STDIN_ACK, (n as u64).to_le_bytes().to_vec());
        }
        Ok(out)
    }
}
