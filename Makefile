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
test: fresh-results test-rust check-wasm test-component
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

# ---------------------------------------------------------------- WIT component (wasmtime, jco)
# The component is this crate built for wasm32-unknown-unknown with feature `component`
# (wit-bindgen over wit/) and wrapped into a component by wit-component (tests/wit-tool), so that
# it imports wasi:random/random and nothing else (a wasm32-wasip2 build would also import
# wasi:cli and wasi:io through std's stdio). The wasmtime host and the tool have their own target
# dir, outside the clone so CI reuses the first (slow, ~4 min) build.
HOST_TARGET_DIR ?= $(HOME)/.cache/wsaction/host-target
COMPONENT_CORE_DIR := $(CARGO_TARGET_DIR)/component-core
COMPONENT := $(CARGO_TARGET_DIR)/component/wsaction.wasm
WIT_TOOL := $(HOST_TARGET_DIR)/release/wsaction-wit-tool
WASMTIME_HOST := $(HOST_TARGET_DIR)/release/wsaction-wasmtime

.PHONY: component wit-tool wasmtime-host component-js-deps component-venv test-component \
	test-component-wit test-component-wasmtime test-component-net test-component-jco

component: setup-rust wit-tool
	CARGO_TARGET_DIR=$(COMPONENT_CORE_DIR) cargo build --lib --release --target wasm32-unknown-unknown --no-default-features --features component
	@mkdir -p $(dir $(COMPONENT))
	$(WIT_TOOL) new $(COMPONENT_CORE_DIR)/wasm32-unknown-unknown/release/wsaction.wasm $(COMPONENT)

wit-tool:
	CARGO_TARGET_DIR=$(HOST_TARGET_DIR) cargo build --release --locked --manifest-path tests/wit-tool/Cargo.toml

wasmtime-host:
	CARGO_TARGET_DIR=$(HOST_TARGET_DIR) nice cargo build --release --locked --manifest-path tests/wasmtime-host/Cargo.toml

component-js-deps:
	@test -x tests/jco/node_modules/.bin/jco -a -d tests/jco/node_modules/ws || npm install --prefix tests/jco --no-audit --no-fund

component-venv:
	@(test -x .venv/bin/python && .venv/bin/python -c 'import websockets') 2>/dev/null || \
		(python3 -m venv .venv && .venv/bin/pip install --quiet websockets)

test-component: test-component-wit test-component-wasmtime test-component-net test-component-jco

# The component imports only wasi:random/random, and its WIT is wit/, type for type.
test-component-wit: component
	$(WIT_TOOL) check-imports $(COMPONENT) wasi:random/random
	$(WIT_TOOL) check-wit $(COMPONENT) wit

# Pair over a randomly split wire, seeded bad-input sequences (no trap), the scenario suite.
test-component-wasmtime: component wasmtime-host
	$(WASMTIME_HOST) --component $(COMPONENT) pair
	$(WASMTIME_HOST) --component $(COMPONENT) fuzz 50 10000
	$(WASMTIME_HOST) --component $(COMPONENT) scenarios tests/scenarios tests/artifacts/scenario-results/wasmtime.json

# Real peers on 127.0.0.1: Node ws and Python websockets against the component's echo server,
# the component's client against a Node ws echo server.
test-component-net: component wasmtime-host component-js-deps component-venv
	tests/wasmtime-host/net-tests.sh $(WASMTIME_HOST) $(COMPONENT) .venv/bin/python

# The component transpiled by jco, in Node: the pair, bad input, the scenario suite.
test-component-jco: component component-js-deps
	tests/jco/node_modules/.bin/jco transpile $(COMPONENT) -o tests/jco/generated --name wsaction --quiet
	node tests/jco/pair.mjs
	node tests/jco/scenarios.mjs tests/artifacts/scenario-results/jco.json
