# wsaction: the two commands are `make demo` and `make test`. Every install step is here,
# idempotent, and quick when already done.

SHELL := /bin/bash
# A cargo target dir outside the clone, so CI's fresh clones reuse earlier builds.
CARGO_TARGET_DIR ?= $(HOME)/.cache/wsaction/target
export CARGO_TARGET_DIR

.PHONY: test demo bench setup-rust test-rust check-wasm fresh-results readme-matrix

# ---------------------------------------------------------------- the two commands
# Suites run in order; each host's scenario runner writes tests/artifacts/scenario-results/<host>.json
# and the last step prints the host x scenario matrix (failing if any host failed or skipped one).
test: fresh-results test-rust check-wasm
	node tests/scenarios/matrix.mjs
	@echo "make test: all suites passed"

fresh-results:
	rm -rf tests/artifacts/scenario-results

readme-matrix:
	node tests/scenarios/matrix.mjs --readme

demo: setup-rust
	cargo run --quiet --example pair_demo

# The engine's codec benchmark: MB/s, messages/s and the ratio to memcpy, from criterion's estimates.
bench:
	cargo bench --bench codec
	python3 benches/summary.py

# ---------------------------------------------------------------- engine (Rust)
setup-rust:
	@rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
	@rustup target list --installed | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2

test-rust: setup-rust
	cargo test --all-targets
	cargo test --doc

# The core must keep compiling to wasm with no OS randomness (bindings bring their own source).
check-wasm: setup-rust
	cargo build --lib --target wasm32-unknown-unknown --no-default-features
