//! mesh-sandbox-host: runs exactly one WASI preview1 job on Wasmtime, then exits.
//!
//! The app (src/main/sandbox/index.ts) keeps a few of these processes warm: each builds its engine,
//! linker and seccomp filter, says HELLO, and waits for one RUN request on stdin. Protocol and
//! execution model: docs/SANDBOX.md and wire profile section 7.
//!
//! Usage: mesh-sandbox-host --version | --serve [--no-fuel] [--no-epochs] [--test-hooks]
//! (--no-fuel and --no-epochs are for benchmarks: no metering / no epoch checks; a timeout then only
//! ends the job through the ticker's last-resort path.)

#[global_allocator]
static ALLOC: alloc::ExitOnOom = alloc::ExitOnOom;

mod alloc;
mod cache;
mod ipc;
mod limits;
mod sandbox;
mod state;
mod streams;

use ipc::*;
use state::*;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};
use wasmtime::wasmparser::{self, Encoding, Payload, TypeRef};
use wasmtime::{
    CallHook, Config, Engine, ExternType, InstancePre, Linker, Module, OperatorCost, Store, Trap, UpdateDeadline, VariableOperatorCost,
    WasmFeatures,
};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::WasiCtxBuilder;

const WASMTIME_VERSION: &str = env!("MESH_WASMTIME_VERSION");
const WASI_MODULE: &str = "wasi_snapshot_preview1";
/// Epoch tick: granularity of timeouts, cancels and progress samples.
const TICK: Duration = Duration::from_millis(5);
/// Fuel is injected in slices of this size; at each slice boundary Wasmtime saves its counter and
/// yields, so progress (read in the epoch callback) advances even in a loop that never calls out.
const FUEL_SLICE: u64 = 1 << 21;
/// After a timeout/cancel, how long the job thread gets to report before the ticker ends the
/// process itself (compile in progress, or a host call that does not return).
const ABORT_GRACE: Duration = Duration::from_millis(150);
/// Defined functions per module. Wasmparser allows 1 000 000; real programs have tens of thousands
/// at most. Larger modules are refused (InvalidModule) before compiling, so the outcome does not
/// depend on how fast this machine compiles.
const MAX_FUNCTIONS: u64 = 100_000;
const MAX_WASM_STACK: usize = 1 << 20;
const ASYNC_STACK: usize = 4 << 20;
const MEMORY_RESERVATION: u64 = 4 << 30;
const MEMORY_GUARD: u64 = 32 << 20;
/// Address space for the host itself on top of what it has mapped when the job starts
/// (WASI state, stdio buffers, the fiber stack, tables).
const RUN_OVERHEAD: u64 = 256 << 20;
/// Address space allowed for compiling, on top of the job's memory cap.
const COMPILE_OVERHEAD: u64 = 768 << 20;

const FLAG_INTERACTIVE: u32 = 1;
const FLAG_PROBE: u32 = 2;

struct Ctx {
    wasi: WasiP1Ctx,
    limits: limits::Limits,
}

struct RunRequest {
    max_fuel: u64,
    timeout_ms: u64,
    memory_limit: u64,
    output_limit: u64,
    stderr_limit: u64,
    max_module_bytes: u64,
    progress_ms: u32,
    flags: u32,
    cache_dir: String,
    cache_secret: Vec<u8>,
    module: Vec<u8>,
    input: Vec<u8>,
}

fn parse_run(p: &[u8]) -> Result<RunRequest, String> {
    let mut c = Cursor::new(p);
    Ok(RunRequest {
        max_fuel: c.u64()?,
        timeout_ms: c.u64()?,
        memory_limit: c.u64()?,
        output_limit: c.u64()?,
        stderr_limit: c.u64()?,
        max_module_bytes: c.u64()?,
        progress_ms: c.u32()?,
        flags: c.u32()?,
        cache_dir: String::from_utf8(c.blob()?.to_vec()).map_err(|_| "cache dir is not UTF-8")?,
        cache_secret: c.blob()?.to_vec(),
        module: c.blob()?.to_vec(),
        input: c.blob()?.to_vec(),
    })
}

#[derive(Default)]
struct Outcome {
    status: &'static str,
    reason: Option<&'static str>,
    detail: Option<String>,
    fuel_used: u64,
    peak_memory: u64,
    output_bytes: u64,
    exit_code: Option<i32>,
    cache_hit: bool,
    cache_rejected: bool,
    compile_us: u64,
    /// time to get the compiled module (compile, or load from the cache)
    module_us: u64,
    /// time spent in `_start`
    run_us: u64,
    seccomp: bool,
    probe: Option<String>,
}

impl Outcome {
    fn failed(reason: &'static str, detail: impl Into<String>) -> Self {
        Outcome {
            status: if reason == "Cancelled" { "Cancelled" } else { "Failed" },
            reason: if reason == "Cancelled" { None } else { Some(reason) },
            detail: Some(detail.into()),
            ..Default::default()
        }
    }
}

/// /proc/self/status, opened before sandboxing (open is refused afterwards) and re-read with pread.
static STATUS_FILE: std::sync::OnceLock<Option<std::fs::File>> = std::sync::OnceLock::new();

/// Peak resident memory of this process (VmHWM). Not getrusage: on Linux its ru_maxrss carries the
/// parent's (the app's) peak across fork + exec.
fn peak_rss_bytes() -> u64 {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::FileExt;
        if let Some(Some(f)) = STATUS_FILE.get() {
            let mut buf = vec![0u8; 4096];
            if let Ok(n) = f.read_at(&mut buf, 0) {
                let s = String::from_utf8_lossy(&buf[..n]);
                if let Some(kb) = s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse::<u64>().ok()) {
                    return kb * 1024;
                }
            }
        }
        0
    }
    #[cfg(target_os = "macos")]
    {
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) } != 0 {
            return 0;
        }
        // bytes on macOS
        ru.ru_maxrss as u64
    }
    #[cfg(not(any(target_os = "linux", target_os = "macos")))]
    {
        0
    }
}

/// CLOCK_MONOTONIC in ns: the clock of Node's process.hrtime on Linux, so the app can compute when
/// the job's first instruction ran (elsewhere the app uses the STARTED frame's arrival time).
fn monotonic_ns() -> u64 {
    #[cfg(unix)]
    {
        let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
        ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
    }
    #[cfg(not(unix))]
    {
        0
    }
}

fn send_result(shared: &Shared, o: &Outcome, wall: Duration) {
    if !shared.claim_result() {
        return;
    }
    // all stdout before the result (a blocking flush in progress holds the lock: wait for it briefly)
    for _ in 0..200 {
        if let Ok(mut p) = shared.stdout_pending.try_lock() {
            if !p.is_empty() {
                shared.outbox.push(T_STDOUT, std::mem::take(&mut *p));
            }
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let mut j = String::from("{");
    j.push_str(&format!("\"status\":{}", json_str(o.status)));
    if let Some(r) = o.reason {
        j.push_str(&format!(",\"failure_reason\":{}", json_str(r)));
    }
    if let Some(d) = &o.detail {
        j.push_str(&format!(",\"detail\":{}", json_str(d)));
    }
    j.push_str(&format!(
        ",\"fuel_used\":\"{}\",\"wall_us\":{},\"peak_memory_bytes\":{},\"output_bytes\":{}",
        o.fuel_used,
        wall.as_micros(),
        o.peak_memory,
        o.output_bytes
    ));
    if let Some(c) = o.exit_code {
        j.push_str(&format!(",\"exit_code\":{c}"));
    }
    j.push_str(&format!(
        ",\"host\":{{\"pid\":{},\"cache_hit\":{},\"cache_rejected\":{},\"compile_us\":{},\"module_us\":{},\"run_us\":{},\"peak_rss_bytes\":{},\"seccomp\":{}",
        std::process::id(),
        o.cache_hit,
        o.cache_rejected,
        o.compile_us,
        o.module_us,
        o.run_us,
        peak_rss_bytes(),
        o.seccomp
    ));
    if let Some(p) = &o.probe {
        j.push_str(&format!(",\"probe\":{p}"));
    }
    j.push_str("}}");
    shared.outbox.push(T_RESULT, j.into_bytes());
    shared.phase.store(PHASE_DONE, Ordering::Release);
}

fn engine_config(fuel: bool, epochs: bool) -> Config {
    let mut c = Config::new();
    c.consume_fuel(fuel);
    if fuel {
        // Wire profile section 7 counts instructions only: Wasmtime's flat default costs (1 per
        // operator; 0 for nop, drop, block, loop, else, end, unreachable, return; 1 per function
        // entry), without the per-byte/per-element extra it charges for bulk memory and table
        // operations by default.
        let mut cost = OperatorCost::new();
        cost.variable = VariableOperatorCost {
            memory_copy_per_byte: 0,
            memory_fill_per_byte: 0,
            memory_init_per_byte: 0,
            memory_grow_per_page: 0,
            table_copy_per_element: 0,
            table_fill_per_element: 0,
            table_init_per_element: 0,
            table_grow_per_element: 0,
            array_copy_per_element: 0,
            array_fill_per_element: 0,
            array_new_data_per_element: 0,
            array_init_data_per_element: 0,
            array_new_elem_per_element: 0,
            array_init_elem_per_element: 0,
            array_new_default_per_element: 0,
            array_new_per_element: 0,
        };
        c.operator_cost(cost);
    }
    c.epoch_interruption(epochs);
    c.max_wasm_stack(MAX_WASM_STACK);
    c.async_stack_size(ASYNC_STACK);
    // No NaN canonicalization: it costs ~3x on float-heavy code (mandelbrot). WebAssembly leaves only
    // NaN payload bits nondeterministic (relaxed SIMD and threads are off); fuel never depends on them
    // unless a program branches on NaN bits. See docs/SANDBOX.md.
    c.cranelift_nan_canonicalization(false);
    // no memfd/CoW images: instantiation needs no new file descriptors after sandboxing
    c.memory_init_cow(false);
    c.memory_reservation(MEMORY_RESERVATION);
    c.memory_guard_size(MEMORY_GUARD);
    c.memory_reservation_for_growth(0);
    // Proposals: what WASI commands and the old engine used (MVP, mutable globals, sign extension,
    // saturating float-to-int, multi-value, bulk memory, reference types (funcref tables only: no
    // GC support is compiled in, so externref is refused), SIMD, tail calls, extended const).
    // Everything else off: such modules are InvalidModule.
    for f in [
        WasmFeatures::THREADS,
        WasmFeatures::SHARED_EVERYTHING_THREADS,
        WasmFeatures::MEMORY64,
        WasmFeatures::MULTI_MEMORY,
        WasmFeatures::EXCEPTIONS,
        WasmFeatures::LEGACY_EXCEPTIONS,
        WasmFeatures::GC,
        WasmFeatures::FUNCTION_REFERENCES,
        WasmFeatures::RELAXED_SIMD,
        WasmFeatures::STACK_SWITCHING,
        WasmFeatures::WIDE_ARITHMETIC,
        WasmFeatures::CUSTOM_PAGE_SIZES,
        WasmFeatures::COMPONENT_MODEL,
        WasmFeatures::CM_ASYNC,
    ] {
        c.wasm_features(f, false);
    }
    for f in [
        WasmFeatures::MUTABLE_GLOBAL,
        WasmFeatures::SATURATING_FLOAT_TO_INT,
        WasmFeatures::SIGN_EXTENSION,
        WasmFeatures::MULTI_VALUE,
        WasmFeatures::BULK_MEMORY,
        WasmFeatures::REFERENCE_TYPES,
        WasmFeatures::SIMD,
        WasmFeatures::TAIL_CALL,
        WasmFeatures::EXTENDED_CONST,
    ] {
        c.wasm_features(f, true);
    }
    c
}

/// Cache key: module hash + Wasmtime version + a hash of everything that shapes compiled code.
fn cache_key(engine: &Engine, module_sha256: &[u8]) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut h);
    "mesh-host-checks-1".hash(&mut h);
    let hex: String = module_sha256.iter().map(|b| format!("{b:02x}")).collect();
    format!("{hex}-wasmtime-{WASMTIME_VERSION}-{:016x}", h.finish())
}

/// Checks done on the binary before compiling (cheap: function bodies are skipped).
/// Returns the number of tables the module defines (checked after validation).
fn precheck(bytes: &[u8]) -> Result<u64, (&'static str, String)> {
    let invalid = |m: String| ("InvalidModule", m);
    let mut tables = 0u64;
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(|e| invalid(format!("invalid module: {e}")))?;
        match payload {
            Payload::Version { encoding: Encoding::Component, .. } => {
                return Err(invalid("components are not supported: a job is a WASI preview1 core module".into()))
            }
            Payload::ImportSection(s) => {
                for imp in s.into_imports() {
                    let imp = imp.map_err(|e| invalid(format!("invalid module: {e}")))?;
                    if imp.module != WASI_MODULE {
                        return Err(invalid(format!(
                            "import {}.{} is not allowed: only {WASI_MODULE} functions may be imported",
                            imp.module, imp.name
                        )));
                    }
                    if !matches!(imp.ty, TypeRef::Func(_) | TypeRef::FuncExact(_)) {
                        return Err(invalid(format!("import {}.{} is not a function", imp.module, imp.name)));
                    }
                }
            }
            Payload::FunctionSection(s) => {
                if u64::from(s.count()) > MAX_FUNCTIONS {
                    return Err(invalid(format!(
                        "module defines {} functions, over the limit of {MAX_FUNCTIONS}",
                        s.count()
                    )));
                }
            }
            Payload::TableSection(s) => tables += u64::from(s.count()),
            Payload::StartSection { .. } => {
                return Err(invalid("a start section is not allowed: a WASI command starts at _start".into()))
            }
            _ => {}
        }
    }
    Ok(tables)
}

fn check_exports(module: &Module) -> Result<(), String> {
    match module.get_export("_start") {
        Some(ExternType::Func(f)) if f.params().len() == 0 && f.results().len() == 0 => {}
        Some(_) => return Err("export _start must be a function with no parameters and no results".into()),
        None => return Err("module does not export a _start function".into()),
    }
    match module.get_export("memory") {
        Some(ExternType::Memory(_)) => Ok(()),
        _ => Err("module does not export a memory named \"memory\"".into()),
    }
}

fn find_in_chain<T: std::error::Error + Send + Sync + 'static>(e: &wasmtime::Error) -> Option<&T> {
    if let Some(t) = e.downcast_ref::<T>() {
        return Some(t);
    }
    e.chain().find_map(|c| c.downcast_ref::<T>())
}

fn first_line(e: &wasmtime::Error) -> String {
    let s = format!("{e:#}");
    s.lines().next().unwrap_or("").trim_end_matches(':').to_string()
}

/// A trap's own message ("wasm trap: integer divide by zero"), else the root cause.
fn trap_detail(e: &wasmtime::Error) -> String {
    if let Some(t) = find_in_chain::<Trap>(e) {
        return t.to_string();
    }
    let root = e.root_cause().to_string();
    if root.is_empty() { first_line(e) } else { root }
}

struct Warm {
    engine: Engine,
    linker: Linker<Ctx>,
    filter: Result<sandbox_filter::Filter, String>,
    fuel: bool,
    epochs: bool,
    test_hooks: bool,
}

mod sandbox_filter {
    #[cfg(target_os = "linux")]
    pub type Filter = seccompiler::BpfProgram;
    #[cfg(not(target_os = "linux"))]
    pub type Filter = crate::sandbox::BpfProgram;
}

fn run_job(warm: &Warm, shared: &Arc<Shared>, req: RunRequest, received: Instant) -> Outcome {
    let engine = &warm.engine;
    let mut out = Outcome::default();
    shared.phase.store(PHASE_COMPILING, Ordering::Release);

    // ---- module checks and compile (or cache load)
    if req.module.len() as u64 > req.max_module_bytes {
        return Outcome::failed(
            "InvalidModule",
            format!("module is {} bytes, over the {}-byte limit", req.module.len(), req.max_module_bytes),
        );
    }
    let tables = match precheck(&req.module) {
        Ok(t) => t,
        Err((code, msg)) => return Outcome::failed(code, msg),
    };
    let digest = {
        use sha2::Digest;
        sha2::Sha256::digest(&req.module)
    };
    let cache = if req.cache_dir.is_empty() || req.cache_secret.is_empty() {
        None
    } else {
        Some(cache::Cache { dir: req.cache_dir.clone().into(), secret: req.cache_secret.clone() })
    };
    let key = cache_key(engine, &digest);
    let module_t0 = Instant::now();
    let mut module: Option<Module> = None;
    if let Some(c) = &cache {
        match c.load(&key) {
            cache::Lookup::Hit(bytes) => {
                // SAFETY: `bytes` passed the HMAC check: it is a file this host wrote with
                // `Module::serialize` for an engine with the same compatibility hash.
                if let Ok(m) = unsafe { Module::deserialize(engine, &bytes) } {
                    module = Some(m);
                    out.cache_hit = true;
                } else {
                    out.cache_rejected = true;
                }
            }
            cache::Lookup::Rejected => out.cache_rejected = true,
            cache::Lookup::Miss => {}
        }
    }
    let module = match module {
        Some(m) => m,
        None => {
            if let Some(vm) = sandbox::vm_size_bytes() {
                let _ = sandbox::limit_compile_address_space(vm + req.memory_limit + COMPILE_OVERHEAD);
            }
            let t = Instant::now();
            let m = match Module::new(engine, &req.module) {
                Ok(m) => m,
                Err(e) => return Outcome::failed("InvalidModule", format!("invalid module: {}", first_line(&e))),
            };
            out.compile_us = t.elapsed().as_micros() as u64;
            if let Some(c) = &cache {
                if let Ok(bytes) = m.serialize() {
                    let _ = c.store(&key, &bytes);
                }
            }
            m
        }
    };
    out.module_us = module_t0.elapsed().as_micros() as u64;
    if tables > limits::MAX_TABLES as u64 {
        return Outcome {
            compile_us: out.compile_us,
            ..Outcome::failed("MemoryLimit", format!("module defines {tables} tables, over the limit of {}", limits::MAX_TABLES))
        };
    }
    if let Err(msg) = check_exports(&module) {
        return Outcome { compile_us: out.compile_us, cache_hit: out.cache_hit, ..Outcome::failed("InvalidModule", msg) };
    }
    let pre: InstancePre<Ctx> = match warm.linker.instantiate_pre(&module) {
        Ok(p) => p,
        Err(e) => {
            return Outcome {
                compile_us: out.compile_us,
                cache_hit: out.cache_hit,
                ..Outcome::failed("InvalidModule", format!("imports do not match WASI preview1: {}", first_line(&e)))
            }
        }
    };
    if shared.aborted() {
        return stopped(shared, 0);
    }

    // ---- confine the process
    if let Some(vm) = sandbox::vm_size_bytes() {
        let tables = (limits::MAX_TABLE_ELEMENTS as u64) * 16;
        let _ = sandbox::limit_address_space(vm + MEMORY_RESERVATION + 2 * MEMORY_GUARD + ASYNC_STACK as u64 + tables + RUN_OVERHEAD);
    }
    if let Err(e) = sandbox::apply_rlimits() {
        return Outcome::failed("InternalError", format!("rlimits: {e}"));
    }
    match &warm.filter {
        Ok(f) => match sandbox::apply_filter(f) {
            Ok(()) => out.seccomp = true,
            Err(e) if cfg!(target_os = "linux") => return Outcome::failed("InternalError", format!("seccomp: {e}")),
            Err(_) => {}
        },
        Err(e) if cfg!(target_os = "linux") => return Outcome::failed("InternalError", format!("seccomp filter: {e}")),
        Err(_) => {}
    }
    if warm.test_hooks && req.flags & FLAG_PROBE != 0 {
        out.probe = Some(sandbox::probe());
    }

    // ---- store: WASI ctx (args ["job"], no env, no preopens, no sockets), limits, fuel, epochs
    let stdout_written = Arc::new(AtomicU64::new(0));
    let stdout_hit = Arc::new(AtomicBool::new(false));
    let mut b = WasiCtxBuilder::new();
    b.args(&["job"]);
    if req.flags & FLAG_INTERACTIVE != 0 {
        if !req.input.is_empty() {
            shared.stdin.lock().unwrap().queue.push_front(bytes::Bytes::from(req.input));
        }
        b.stdin(streams::InteractiveStdin { shared: shared.clone() });
    } else {
        b.stdin(wasmtime_wasi::p2::pipe::MemoryInputPipe::new(req.input));
    }
    b.stdout(streams::Stdout { shared: shared.clone(), limit: req.output_limit, written: stdout_written.clone(), hit: stdout_hit.clone() });
    b.stderr(streams::Stderr { shared: shared.clone(), limit: req.stderr_limit, written: Arc::new(AtomicU64::new(0)) });
    let ctx = Ctx { wasi: b.build_p1(), limits: limits::Limits::new(req.memory_limit) };
    let mut store = Store::new(engine, ctx);
    store.limiter(|c| &mut c.limits);
    let max_fuel = req.max_fuel;
    // Budget max_fuel + 1: Wasmtime traps when a check finds the counter >= budget, i.e. past
    // max_fuel; and a run that ends with 0 left used more than max_fuel (the counter can overshoot
    // between checks, get_fuel() then saturates at 0). See docs/SANDBOX.md "Fuel".
    let budget = max_fuel.saturating_add(1);
    if warm.fuel {
        store.fuel_async_yield_interval(Some(FUEL_SLICE)).expect("fuel is enabled");
        // instantiation (global/table/segment initializers) is not part of the profile's count
        store.set_fuel(u64::MAX >> 2).expect("fuel is enabled");
    }
    {
        let fuel = warm.fuel;
        let running = Arc::new(AtomicBool::new(false));
        // Epochs only without fuel (benchmarks): with fuel, the fuel-slice yields give us control
        // every FUEL_SLICE units, which serves timeouts, cancels and progress at a lower cost than
        // an epoch check in every loop header (docs/SANDBOX.md, Benchmarks).
        if warm.epochs {
            let cb_shared = shared.clone();
            store.epoch_deadline_callback(move |_ctx| {
                if cb_shared.aborted() {
                    return Err(streams::Aborted.into());
                }
                Ok(UpdateDeadline::Continue(1))
            });
            store.set_epoch_deadline(1);
        }
        // Progress. Exact at every WASI call (the call hook reads the counter Wasmtime saved before
        // the call); during pure computation a lower bound that advances with every fuel-slice
        // yield: after k yields since the budget was set, at least k * FUEL_SLICE was consumed.
        let in_host = Arc::new(AtomicBool::new(false));
        let exact = Arc::new(AtomicU64::new(0));
        if fuel {
            let (running, in_host, exact) = (running.clone(), in_host.clone(), exact.clone());
            store.call_hook(move |ctx, hook| {
                match hook {
                    CallHook::CallingHost => {
                        in_host.store(true, Ordering::Relaxed);
                        if running.load(Ordering::Relaxed) {
                            let used = budget.saturating_sub(ctx.get_fuel().unwrap_or(0)).min(max_fuel);
                            exact.fetch_max(used, Ordering::Relaxed);
                        }
                    }
                    CallHook::ReturningFromHost => in_host.store(false, Ordering::Relaxed),
                    _ => {}
                }
                Ok(())
            });
        }
        let progress_every = Duration::from_millis(u64::from(req.progress_ms));
        let mut next_progress = Instant::now() + progress_every;
        let mut last_sent = 0u64;
        let mut slice_yields = 0u64;
        let mut progress = |pending_in_wasm: bool| {
            if pending_in_wasm {
                slice_yields += 1;
            }
            let used = exact.load(Ordering::Relaxed).max(slice_yields.saturating_mul(FUEL_SLICE)).min(max_fuel);
            shared.fuel_so_far.store(used, Ordering::Relaxed);
            if req.progress_ms > 0 && used > last_sent {
                let now = Instant::now();
                if now >= next_progress {
                    next_progress = now + progress_every;
                    last_sent = used;
                    shared.outbox.push(T_PROGRESS, used.to_le_bytes().to_vec());
                }
            }
        };
        let run_us = AtomicU64::new(0);
        let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().expect("tokio runtime");
        let outcome = rt.block_on(async {
            let instance = match pre.instantiate_async(&mut store).await {
                Ok(i) => i,
                Err(e) => return Err((true, e)),
            };
            if fuel {
                store.set_fuel(budget).expect("fuel is enabled");
            }
            let start = match instance.get_typed_func::<(), ()>(&mut store, "_start") {
                Ok(f) => f,
                Err(e) => return Err((true, e)),
            };
            running.store(true, Ordering::Relaxed);
            shared.phase.store(PHASE_RUNNING, Ordering::Release);
            shared.outbox.push(T_STARTED, monotonic_ns().to_le_bytes().to_vec());
            let run_t0 = Instant::now();
            let call = std::pin::pin!(start.call_async(&mut store, ()));
            let mut call = call;
            let aborted = wait_abort(shared.clone());
            let mut aborted = std::pin::pin!(aborted);
            let r = std::future::poll_fn(|cx| {
                if let std::task::Poll::Ready(r) = call.as_mut().poll(cx) {
                    return std::task::Poll::Ready(r.map_err(|e| (false, e)));
                }
                // Pending: a fuel-slice yield (in wasm), or a host call waiting (stdin, sleep, stdout)
                if fuel {
                    progress(!in_host.load(Ordering::Relaxed));
                }
                if aborted.as_mut().poll(cx).is_ready() {
                    return std::task::Poll::Ready(Err((false, streams::Aborted.into())));
                }
                std::task::Poll::Pending
            })
            .await;
            run_us.store(run_t0.elapsed().as_micros() as u64, Ordering::Relaxed);
            r
        });
        out.run_us = run_us.load(Ordering::Relaxed);
        let _ = received;
        let limits = &store.data().limits;
        out.peak_memory = limits.peak_memory as u64;
        out.output_bytes = stdout_written.load(Ordering::Relaxed);
        let memory_hit = limits.memory_hit || limits.table_hit;
        let used = if fuel { budget.saturating_sub(store.get_fuel().unwrap_or(0)) } else { 0 };
        let over = fuel && used > max_fuel;
        let charged = used.min(max_fuel);
        out.fuel_used = charged;
        let fail = |out: Outcome, reason: &'static str, detail: String| Outcome {
            status: if reason == "Cancelled" { "Cancelled" } else { "Failed" },
            reason: if reason == "Cancelled" { None } else { Some(reason) },
            detail: Some(detail),
            ..out
        };
        if over {
            return fail(out, "FuelExhausted", format!("fuel exhausted: the job needed more than max_fuel {max_fuel}"));
        }
        match outcome {
            Ok(()) => {
                out.status = "CompletedSuccessfully";
                out.exit_code = Some(0);
                out
            }
            Err((during_instantiation, e)) => {
                if during_instantiation && !shared.aborted() {
                    out.fuel_used = 0;
                    if memory_hit {
                        return fail(out, "MemoryLimit", format!("memory limit: {}", first_line(&e)));
                    }
                    if find_in_chain::<Trap>(&e).is_some() {
                        return fail(out, "Trap", format!("trap during instantiation: {}", first_line(&e)));
                    }
                    return fail(out, "InternalError", format!("instantiation failed: {}", first_line(&e)));
                }
                match shared.abort.load(Ordering::Acquire) {
                    ABORT_TIMEOUT => return fail(out, "Timeout", format!("wall-clock limit of {} ms reached", req.timeout_ms)),
                    ABORT_CANCEL => return fail(out, "Cancelled", "cancelled".into()),
                    _ => {}
                }
                if stdout_hit.load(Ordering::Relaxed) {
                    return fail(out, "OutputLimit", format!("stdout exceeded the {}-byte output limit", req.output_limit));
                }
                if let Some(exit) = find_in_chain::<wasmtime_wasi::I32Exit>(&e) {
                    let code = exit.0;
                    if code == 0 {
                        out.status = "CompletedSuccessfully";
                        out.exit_code = Some(0);
                        return out;
                    }
                    out.exit_code = Some(code);
                    if memory_hit {
                        return fail(out, "MemoryLimit", format!("exited with status {code} after a memory allocation was refused (cap {} bytes)", req.memory_limit));
                    }
                    return fail(out, "Trap", format!("exited with status {code}"));
                }
                if let Some(trap) = find_in_chain::<Trap>(&e) {
                    if *trap == Trap::OutOfFuel {
                        out.fuel_used = max_fuel;
                        return fail(out, "FuelExhausted", format!("fuel exhausted: the job needed more than max_fuel {max_fuel}"));
                    }
                }
                if memory_hit {
                    return fail(out, "MemoryLimit", format!("trapped after a memory allocation was refused (cap {} bytes): {}", req.memory_limit, trap_detail(&e)));
                }
                fail(out, "Trap", trap_detail(&e))
            }
        }
    }
}

/// Result for a job stopped before it ran.
fn stopped(shared: &Shared, fuel: u64) -> Outcome {
    let when = match shared.phase.load(Ordering::Acquire) {
        PHASE_RUNNING => "while running",
        _ => "before the job started (compiling or loading the module)",
    };
    let mut o = match shared.abort.load(Ordering::Acquire) {
        ABORT_TIMEOUT => Outcome::failed("Timeout", format!("wall-clock limit reached {when}")),
        _ => Outcome::failed("Cancelled", format!("cancelled {when}")),
    };
    o.fuel_used = fuel;
    o
}

async fn wait_abort(shared: Arc<Shared>) {
    loop {
        let n = shared.wake.notified();
        let mut n = std::pin::pin!(n);
        n.as_mut().enable();
        if shared.aborted() {
            return;
        }
        n.await;
    }
}

fn serve(fuel: bool, epochs: bool, test_hooks: bool) {
    STATUS_FILE.get_or_init(|| if cfg!(target_os = "linux") { std::fs::File::open("/proc/self/status").ok() } else { None });
    let shared = Arc::new(Shared::new());
    {
        let shared = shared.clone();
        std::thread::Builder::new()
            .name("writer".into())
            .stack_size(256 << 10)
            .spawn(move || {
                // unbuffered fd 1 (std's stdout would line-buffer our binary frames)
                #[cfg(unix)]
                let mut out = {
                    use std::os::fd::FromRawFd;
                    unsafe { std::fs::File::from_raw_fd(1) }
                };
                #[cfg(not(unix))]
                let mut out = std::io::stdout();
                shared.outbox.run_writer(&mut out);
            })
            .expect("writer thread");
    }
    let engine = match Engine::new(&engine_config(fuel, epochs)) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("mesh-sandbox-host: engine: {e:#}");
            std::process::exit(2);
        }
    };
    let mut linker: Linker<Ctx> = Linker::new(&engine);
    if let Err(e) = wasmtime_wasi::p1::add_to_linker_async(&mut linker, |c: &mut Ctx| &mut c.wasi) {
        eprintln!("mesh-sandbox-host: linker: {e:#}");
        std::process::exit(2);
    }
    let warm = Warm { engine: engine.clone(), linker, filter: sandbox::build_filter(), fuel, epochs, test_hooks };

    // reader: RUN (once), STDIN, STDIN_END, CANCEL
    let (run_tx, run_rx) = mpsc::channel::<(RunRequest, Instant)>();
    {
        let shared = shared.clone();
        std::thread::Builder::new()
            .name("reader".into())
            .stack_size(256 << 10)
            .spawn(move || {
                let mut input = std::io::stdin().lock();
                let mut got_run = false;
                loop {
                    let frame = read_frame(&mut input);
                    let Ok(Some((ty, payload))) = frame else {
                        // the app closed our stdin (or died): nothing to report to
                        if !got_run {
                            alloc::hard_exit(0);
                        }
                        shared.abort(ABORT_CANCEL);
                        return;
                    };
                    match ty {
                        T_RUN if !got_run => {
                            got_run = true;
                            let now = Instant::now();
                            match parse_run(&payload) {
                                Ok(req) => {
                                    let deadline = now + Duration::from_millis(req.timeout_ms);
                                    *shared.received.lock().unwrap() = Some((now, deadline));
                                    let _ = run_tx.send((req, now));
                                }
                                Err(e) => {
                                    eprintln!("mesh-sandbox-host: bad run request: {e}");
                                    alloc::hard_exit(2);
                                }
                            }
                        }
                        T_STDIN => {
                            let mut st = shared.stdin.lock().unwrap();
                            if !st.eof && !payload.is_empty() {
                                st.queue.push_back(bytes::Bytes::from(payload));
                            }
                            drop(st);
                            shared.wake.notify_waiters();
                        }
                        T_STDIN_END => {
                            shared.stdin.lock().unwrap().eof = true;
                            shared.wake.notify_waiters();
                        }
                        T_CANCEL => shared.abort(ABORT_CANCEL),
                        _ => {}
                    }
                }
            })
            .expect("reader thread");
    }

    // ticker: epochs (timeouts, cancels, progress) and the last-resort end of a stuck job
    {
        let shared = shared.clone();
        let engine = engine.clone();
        std::thread::Builder::new()
            .name("ticker".into())
            .stack_size(256 << 10)
            .spawn(move || loop {
                std::thread::sleep(TICK);
                engine.increment_epoch();
                if shared.phase.load(Ordering::Acquire) == PHASE_RUNNING {
                    shared.flush_stdout_nonblocking();
                }
                let received = *shared.received.lock().unwrap();
                let Some((start, deadline)) = received else { continue };
                let now = Instant::now();
                if now >= deadline && !shared.aborted() {
                    shared.abort(ABORT_TIMEOUT);
                }
                let aborted_at = *shared.aborted_at.lock().unwrap();
                if let Some(at) = aborted_at {
                    if now.duration_since(at) >= ABORT_GRACE && shared.phase.load(Ordering::Acquire) != PHASE_DONE {
                        let fuel = shared.fuel_so_far.load(Ordering::Relaxed);
                        let o = stopped(&shared, fuel);
                        send_result(&shared, &o, now.duration_since(start));
                        shared.outbox.flush(Duration::from_secs(2));
                        alloc::hard_exit(0);
                    }
                }
            })
            .expect("ticker thread");
    }

    shared.outbox.push(
        T_HELLO,
        format!("{{\"wasmtime\":{},\"pid\":{},\"fuel\":{fuel}}}", json_str(WASMTIME_VERSION), std::process::id()).into_bytes(),
    );

    // the job runs on its own thread with a large stack (compiling hostile modules can recurse deep)
    let job = std::thread::Builder::new()
        .name("job".into())
        .stack_size(64 << 20)
        .spawn(move || {
            let Ok((req, received)) = run_rx.recv() else { return };
            let outcome = run_job(&warm, &shared, req, received);
            send_result(&shared, &outcome, received.elapsed());
            shared.outbox.flush(Duration::from_secs(5));
        })
        .expect("job thread");
    let _ = job.join();
    alloc::hard_exit(0);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--version") {
        println!("mesh-sandbox-host {} wasmtime {}", env!("CARGO_PKG_VERSION"), WASMTIME_VERSION);
        return;
    }
    if !args.iter().any(|a| a == "--serve") {
        eprintln!("usage: mesh-sandbox-host --version | --serve [--no-fuel] [--no-epochs] [--test-hooks]");
        std::process::exit(2);
    }
    let fuel = !args.iter().any(|a| a == "--no-fuel");
    let test_hooks = args.iter().any(|a| a == "--test-hooks");
    // with fuel, timeouts/cancels/progress ride on the fuel-slice yields; epochs only without fuel
    let epochs = !fuel && !args.iter().any(|a| a == "--no-epochs");
    serve(fuel, epochs, test_hooks);
}
