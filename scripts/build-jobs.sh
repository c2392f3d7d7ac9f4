#!/usr/bin/env bash
# Builds the sandbox job modules in assets/jobs/ from C (assets/jobs/src/*.c, clang --target=wasm32-wasi)
# and WAT (assets/jobs/wat/*.wat, wabt's wat2wasm). The built .wasm files are committed so the app runs
# without a compiler. Needs Debian packages: clang lld wasi-libc libclang-rt-14-dev-wasm32 wabt.
set -euo pipefail
cd "$(dirname "$0")/../assets/jobs"
CC="${CC:-clang}"
for src in src/*.c; do
  name="$(basename "$src" .c)"
  "$CC" --target=wasm32-wasi --sysroot=/usr -O2 -Wall -Wno-infinite-recursion -o "$name.wasm" "$src" -Wl,--strip-debug
  echo "built $name.wasm ($(stat -c %s "$name.wasm") bytes)"
done
for src in wat/*.wat; do
  name="$(basename "$src" .wat)"
  wat2wasm --enable-all -o "$name.wasm" "$src"
  echo "built $name.wasm ($(stat -c %s "$name.wasm") bytes)"
done
