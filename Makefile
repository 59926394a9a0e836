# wsaction: the two commands are `make demo` and `make test`. Every install step is here,
# idempotent, and quick when already done.

SHELL := /bin/bash
# A cargo target dir outside the clone, so CI's fresh clones reuse earlier builds.
CARGO_TARGET_DIR ?= $(HOME)/.cache/wsaction/target
export CARGO_TARGET_DIR

.PHONY: test demo bench setup-rust test-rust check-wasm fresh-results readme-matrix setup-fuzz fuzz fuzz-smoke
FUZZ_TARGETS := receive_frames handshake_heads operation_sequences
FUZZ_SECONDS ?= 20
FUZZ_TARGET_DIR ?= $(HOME)/.cache/wsaction/fuzz-target

# ---------------------------------------------------------------- the two commands
# Suites run in order; each host's scenario runner writes tests/artifacts/scenario-results/<host>.json
# and the last step prints the host x scenario matrix (failing if any host failed or skipped one).
test: fresh-results test-rust check-wasm fuzz-smoke
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

# Fuzzing with cargo-fuzz (libFuzzer) on the stable toolchain: `-s none` needs no nightly
# sanitizer; overflow and bounds checks stay on. `make fuzz FUZZ_SECONDS=600` for a longer run.
setup-fuzz:
	@command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz

fuzz-smoke fuzz: setup-fuzz
	cd fuzz && for target in $(FUZZ_TARGETS); do \
	  CARGO_TARGET_DIR=$(FUZZ_TARGET_DIR) cargo fuzz run -s none $$target -- \
	    -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=512 -print_final_stats=0 2>&1 | grep -E "Done|ERROR|panicked" ; \
	  test $${PIPESTATUS[0]} -eq 0 || exit 1; \
	done
