//! Length-prefixed binary frames over the process's stdin (app -> host) and stdout (host -> app).
//!
//! Frame: `u32 LE length` (of what follows), `u8 type`, payload. See `src/main/sandbox/protocol.ts`.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

// app -> host
pub const T_RUN: u8 = 1;
pub const T_STDIN: u8 = 2;
pub const T_STDIN_END: u8 = 3;
pub const T_CANCEL: u8 = 4;
// host -> app
pub const T_HELLO: u8 = 10;
pub const T_STARTED: u8 = 11;
pub const T_STDOUT: u8 = 12;
pub const T_STDERR: u8 = 13;
pub const T_STDIN_ACK: u8 = 14;
pub const T_PROGRESS: u8 = 15;
pub const T_RESULT: u8 = 16;

/// Largest frame we accept from the app (module + input of one job).
pub const MAX_FRAME: usize = 1 << 31;

pub fn read_frame(r: &mut impl Read) -> std::io::Result<Option<(u8, Vec<u8>)>> {
    let mut len = [0u8; 4];
    match r.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u32::from_le_bytes(len) as usize;
    if len == 0 || len > MAX_FRAME {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "bad frame length"));
    }
    let mut ty = [0u8; 1];
    r.read_exact(&mut ty)?;
    let mut payload = vec![0u8; len - 1];
    r.read_exact(&mut payload)?;
    Ok(Some((ty[0], payload)))
}

pub fn encode_frame(ty: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(5 + payload.len());
    out.extend_from_slice(&((payload.len() + 1) as u32).to_le_bytes());
    out.push(ty);
    out.extend_from_slice(payload);
    out
}

/// A little-endian reader over a RUN payload.
pub struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Cursor { buf, pos: 0 }
    }
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.pos.checked_add(n).ok_or("overflow")?;
        if end > self.buf.len() {
            return Err("truncated run request".into());
        }
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    pub fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.bytes(4)?.try_into().unwrap()))
    }
    pub fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(self.bytes(8)?.try_into().unwrap()))
    }
    pub fn blob(&mut self) -> Result<&'a [u8], String> {
        let n = self.u32()? as usize;
        self.bytes(n)
    }
}

/// Frames queued for the writer thread. stdout bytes in the queue are bounded: a guest writing
/// faster than the app reads blocks in `push_stdout` (back-pressure through the pipe).
pub struct Outbox {
    state: Mutex<OutState>,
    changed: Condvar,
}

struct OutState {
    frames: VecDeque<(u8, Vec<u8>)>,
    stdout_queued: usize,
    closed: bool,
    /// the writer has written everything queued so far
    idle: bool,
}

pub const STDOUT_QUEUE_MAX: usize = 1 << 20;
const COALESCE_MAX: usize = 256 * 1024;

impl Outbox {
    pub fn new() -> Self {
        Outbox {
            state: Mutex::new(OutState { frames: VecDeque::new(), stdout_queued: 0, closed: false, idle: true }),
            changed: Condvar::new(),
        }
    }

    pub fn push(&self, ty: u8, payload: Vec<u8>) {
        let mut s = self.state.lock().unwrap();
        if ty == T_STDOUT {
            s.stdout_queued += payload.len();
        }
        s.frames.push_back((ty, payload));
        s.idle = false;
        self.changed.notify_all();
    }

    /// Queues stdout bytes, first waiting (up to `abort()` returning true) while the queue is full.
    /// Returns false if it gave up because of an abort.
    pub fn push_stdout(&self, data: Vec<u8>, abort: &dyn Fn() -> bool) -> bool {
        let mut s = self.state.lock().unwrap();
        while s.stdout_queued >= STDOUT_QUEUE_MAX && !s.closed {
            if abort() {
                return false;
            }
            s = self.changed.wait_timeout(s, Duration::from_millis(20)).unwrap().0;
        }
        s.stdout_queued += data.len();
        s.frames.push_back((T_STDOUT, data));
        s.idle = false;
        self.changed.notify_all();
        true
    }

    /// The stdout queue is at its bound (the app is not reading fast enough).
    pub fn stdout_full(&self) -> bool {
        self.state.lock().unwrap().stdout_queued >= STDOUT_QUEUE_MAX
    }

    /// Blocks until everything queued so far has been written (or the pipe broke).
    pub fn flush(&self, max: Duration) {
        let deadline = std::time::Instant::now() + max;
        let mut s = self.state.lock().unwrap();
        while !(s.idle && s.frames.is_empty()) && !s.closed {
            let now = std::time::Instant::now();
            if now >= deadline {
                return;
            }
            s = self.changed.wait_timeout(s, deadline - now).unwrap().0;
        }
    }

    /// Writer thread body: writes queued frames to `out`, merging runs of stdout frames.
    pub fn run_writer(&self, out: &mut impl Write) {
        loop {
            let batch: Vec<(u8, Vec<u8>)> = {
                let mut s = self.state.lock().unwrap();
                while s.frames.is_empty() {
                    s.idle = true;
                    self.changed.notify_all();
                    s = self.changed.wait(s).unwrap();
                }
                s.idle = false;
                s.frames.drain(..).collect()
            };
            let mut buf: Vec<u8> = Vec::new();
            let mut stdout_run: Vec<u8> = Vec::new();
            let mut stdout_bytes = 0usize;
            for (ty, payload) in batch {
                if ty == T_STDOUT {
                    stdout_bytes += payload.len();
                    if stdout_run.len() + payload.len() > COALESCE_MAX && !stdout_run.is_empty() {
                        buf.extend_from_slice(&encode_frame(T_STDOUT, &stdout_run));
                        stdout_run.clear();
                    }
                    stdout_run.extend_from_slice(&payload);
                    continue;
                }
                if !stdout_run.is_empty() {
                    buf.extend_from_slice(&encode_frame(T_STDOUT, &stdout_run));
                    stdout_run.clear();
                }
                buf.extend_from_slice(&encode_frame(ty, &payload));
            }
            if !stdout_run.is_empty() {
                buf.extend_from_slice(&encode_frame(T_STDOUT, &stdout_run));
            }
            let ok = out.write_all(&buf).and_then(|_| out.flush()).is_ok();
            let mut s = self.state.lock().unwrap();
            s.stdout_queued = s.stdout_queued.saturating_sub(stdout_bytes);
            if !ok {
                // The app went away: nobody will read the result. Stop quietly.
                s.closed = true;
                s.frames.clear();
                self.changed.notify_all();
                drop(s);
                crate::alloc::hard_exit(0);
            }
            self.changed.notify_all();
        }
    }
}

/// JSON string literal (for the RESULT frame, which we build by hand).
pub fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
