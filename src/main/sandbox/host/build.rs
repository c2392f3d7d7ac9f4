//! Exposes the locked Wasmtime version (from Cargo.lock) as MESH_WASMTIME_VERSION, so the runtime
//! id the node advertises (`wasmtime-<version>`) always names the engine actually linked in.
fn main() {
    println!("cargo:rerun-if-changed=Cargo.lock");
    let lock = std::fs::read_to_string("Cargo.lock").expect("Cargo.lock");
    let mut version = None;
    let mut in_wasmtime = false;
    for line in lock.lines() {
        if line == "[[package]]" {
            in_wasmtime = false;
        } else if line == "name = \"wasmtime\"" {
            in_wasmtime = true;
        } else if in_wasmtime && line.starts_with("version = ") {
            version = Some(line.trim_start_matches("version = ").trim_matches('"').to_string());
            break;
        }
    }
    println!("cargo:rustc-env=MESH_WASMTIME_VERSION={}", version.expect("wasmtime in Cargo.lock"));
}
