//! `wsaction-wasmtime`: the wsaction component under wasmtime.
//!
//! ```text
//! wsaction-wasmtime [--component PATH] echo-server --port N [--keep-alive MS] [--per-instance N]
//!     [--max-instance-memory BYTES]
//!     # port 0 picks a free one; --per-instance: connections sharing one component instance;
//!     # --max-instance-memory (for tests): an instance whose memory would grow past BYTES traps
//! wsaction-wasmtime [--component PATH] echo-client ws://127.0.0.1:N/   # echoes until the server closes
//! wsaction-wasmtime [--component PATH] client ws://127.0.0.1:N/        # a script, every echo checked
//! wsaction-wasmtime [--component PATH] pair [SEED]
//! wsaction-wasmtime [--component PATH] scenarios DIR RESULTS.json
//! wsaction-wasmtime [--component PATH] fuzz [SEEDS] [STEPS]     # bad input never traps
//! ```
//! The component path defaults to $WSACTION_COMPONENT.

use anyhow::{anyhow, bail, Context, Result};
use std::path::PathBuf;
use std::process::ExitCode;
use wsaction_wasmtime_host::guest::Runtime;
use wsaction_wasmtime_host::{fuzz, net, pair, scenarios, serve};

/// Connections per component instance unless --per-instance says otherwise (see serve.rs).
const DEFAULT_PER_INSTANCE: usize = 256;

fn usage() -> &'static str {
    "usage: wsaction-wasmtime [--component PATH] (echo-server --port N [--keep-alive MS] [--per-instance N] [--max-instance-memory BYTES] | echo-client URL | client URL | pair [SEED] | scenarios DIR RESULTS.json | fuzz [SEEDS] [STEPS])\n\
     The component path defaults to $WSACTION_COMPONENT (make component prints it)."
}

fn run() -> Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut component = std::env::var_os("WSACTION_COMPONENT").map(PathBuf::from);
    if args.first().map(String::as_str) == Some("--component") {
        if args.len() < 2 {
            bail!("{}", usage());
        }
        component = Some(PathBuf::from(args.remove(1)));
        args.remove(0);
    }
    let component = component
        .ok_or_else(|| anyhow!("no component: pass --component PATH or set WSACTION_COMPONENT\n{}", usage()))?;
    let runtime = Runtime::load(&component)?;
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["echo-server", "--port", port, options @ ..] => {
            let (mut keep_alive_ms, mut per_instance, mut runtime) = (0u32, DEFAULT_PER_INSTANCE, runtime);
            for pair in options.chunks(2) {
                match pair {
                    ["--keep-alive", ms] => keep_alive_ms = ms.parse().context("--keep-alive")?,
                    ["--per-instance", n] => per_instance = n.parse().context("--per-instance")?,
                    // A way to make an instance trap from outside (tests/wasmtime-host/trap-client.mjs).
                    ["--max-instance-memory", bytes] => {
                        runtime = runtime.trap_past_memory(bytes.parse().context("--max-instance-memory")?)
                    }
                    _ => bail!("{}", usage()),
                }
            }
            serve::serve(runtime, port.parse().context("--port")?, keep_alive_ms, per_instance)
        }
        ["echo-client", url] => {
            let summary = serve::echo_client(runtime, url)?;
            println!("echo-client: {summary}");
            Ok(())
        }
        ["client", url] => {
            let report = net::run_client(&runtime, url)?;
            for line in report.lines {
                println!("{line}");
            }
            println!("client: all echoes matched");
            Ok(())
        }
        ["pair", rest @ ..] => {
            let seed = rest.first().map(|s| s.parse()).transpose().context("seed")?.unwrap_or(1);
            for max_split in [1, 7, 4096, u64::MAX / 2] {
                let lines = pair::run_pair(&runtime, seed, max_split)?;
                println!("pair (seed {seed}, reads of at most {max_split} bytes):");
                for line in lines {
                    println!("  {line}");
                }
            }
            Ok(())
        }
        ["fuzz", rest @ ..] => {
            let seeds: u64 = rest.first().map(|s| s.parse()).transpose().context("seeds")?.unwrap_or(20);
            let steps: u64 = rest.get(1).map(|s| s.parse()).transpose().context("steps")?.unwrap_or(5000);
            let mut total = fuzz::FuzzReport::default();
            for seed in 1..=seeds {
                let report = fuzz::run(&runtime, seed, steps)?;
                total.calls += report.calls;
                for (case, n) in report.errors {
                    *total.errors.entry(case).or_default() += n;
                }
            }
            println!("fuzz: {seeds} seeds x {steps} steps, {} calls, no trap; errors returned as values:", total.calls);
            for (case, n) in &total.errors {
                println!("  {case}: {n}");
            }
            // The run must have reached the bad-input paths the issue names.
            for wanted in [
                "unknown-action",
                "invalid-state",
                "property-out-of-range",
                "invalid-argument",
                "protocol-violation",
                "handshake-failed",
                "malformed-http",
            ] {
                if !total.errors.contains_key(wanted) {
                    bail!("the fuzz run never produced {wanted}: widen it");
                }
            }
            Ok(())
        }
        ["scenarios", dir, out] => {
            let results = scenarios::run_all(&runtime, std::path::Path::new(dir))?;
            scenarios::write_results(std::path::Path::new(out), "wasmtime", &results)?;
            let failed: Vec<_> = results.iter().filter(|(_, r)| r.as_str() != "pass").collect();
            for (name, outcome) in &results {
                println!("{name}: {outcome}");
            }
            println!(
                "wasmtime: {} of {} scenarios passed; results in {out}",
                results.len() - failed.len(),
                results.len()
            );
            if !failed.is_empty() {
                bail!("{} scenario(s) failed", failed.len());
            }
            Ok(())
        }
        _ => bail!("{}", usage()),
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wsaction-wasmtime: {e:#}");
            ExitCode::FAILURE
        }
    }
}
