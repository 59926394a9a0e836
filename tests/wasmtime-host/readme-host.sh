#!/usr/bin/env bash
# Builds and runs exactly the from-scratch host in wit/README.md ("Your own host, from scratch"):
# its Cargo.toml and src/main.rs blocks are cut out of the README into a fresh crate beside a copy
# of wit/, built against the lock file of tests/wasmtime-host (same wasmtime, so the compiled
# dependencies in the shared target dir are reused), and run against the component.
#   tests/wasmtime-host/readme-host.sh COMPONENT.wasm TARGET_DIR
set -euo pipefail
component=$1
target=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
crate="$target/readme-host"
rm -rf "$crate"
mkdir -p "$crate/src"
# The first ```toml and the first ```rust block after the section heading.
awk -v want=toml '/^## Your own host, from scratch/{on=1} on && $0=="```" want {grab=1; next} grab && /^```/{exit} grab' \
  "$root/wit/README.md" > "$crate/Cargo.toml"
awk -v want=rust '/^## Your own host, from scratch/{on=1} on && $0=="```" want {grab=1; next} grab && /^```/{exit} grab' \
  "$root/wit/README.md" > "$crate/src/main.rs"
test -s "$crate/Cargo.toml" && test -s "$crate/src/main.rs" || { echo "readme-host: no snippet found in wit/README.md"; exit 1; }
cp -r "$root/wit" "$crate/wit"
cp "$root/tests/wasmtime-host/Cargo.lock" "$crate/Cargo.lock"
CARGO_TARGET_DIR="$target" nice cargo build --release --quiet --manifest-path "$crate/Cargo.toml"
"$target/release/my-wsaction-host" "$component"
