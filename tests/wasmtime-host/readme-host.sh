#!/usr/bin/env bash
# Checks that the from-scratch host in wit/README.md ("Your own host, from scratch") is exactly what
# this crate builds and runs: its src/main.rs block is src/bin/readme-host.rs byte for byte (built
# beside the host, with `wit` a link to the repository's wit/ as the README says to copy it), and
# every dependency line of its Cargo.toml block is in this crate's Cargo.toml (the versions and
# features built and locked here). Then runs it against the component.
#   tests/wasmtime-host/readme-host.sh COMPONENT.wasm HOST_TARGET_DIR
set -euo pipefail
component=$1
target=$2
here=$(cd "$(dirname "$0")" && pwd)
readme="$here/../../wit/README.md"
block() {
  awk -v want="$1" '/^## Your own host, from scratch/{on=1} on && $0=="```" want {grab=1; next} grab && /^```/{exit} grab' "$readme"
}
if ! diff -u <(block rust) "$here/src/bin/readme-host.rs"; then
  echo "readme-host: the README's src/main.rs and tests/wasmtime-host/src/bin/readme-host.rs differ" >&2
  exit 1
fi
block toml | sed -n '/^\[dependencies\]/,/^$/p' | grep -v '^\[dependencies\]' | grep -v '^$' | while IFS= read -r line; do
  grep -qxF "$line" "$here/Cargo.toml" || { echo "readme-host: $line is not in tests/wasmtime-host/Cargo.toml" >&2; exit 1; }
done
"$target/release/readme-host" "$component"
