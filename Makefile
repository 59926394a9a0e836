# wsaction: the two commands are `make demo` and `make test`. Every install step is here,
# idempotent, and quick when already done.

SHELL := /bin/bash
# A cargo target dir outside the clone, so CI's fresh clones reuse earlier builds.
CARGO_TARGET_DIR ?= $(HOME)/.cache/wsaction/target
export CARGO_TARGET_DIR

.PHONY: test demo bench setup-rust test-rust check-wasm

# ---------------------------------------------------------------- the two commands
test: test-rust check-wasm
	@echo "make test: all suites passed"

demo: setup-rust
	cargo run --quiet --example pair_demo

bench:
	cargo bench --bench codec

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
