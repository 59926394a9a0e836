//! `wsaction-wasmtime`: the wsaction component under wasmtime.
//!
//! ```text
//! wsaction-wasmtime [--component PATH] echo-server --port N [--keep-alive MS] [--per-instance N] [--deflate[=OPTIONS]]
//!     [--max-instance-memory BYTES]
//!     # port 0 picks a free one; --per-instance: connections sharing one component instance;
//!     # --max-instance-memory (for tests): an instance whose memory would grow past BYTES traps
//! wsaction-wasmtime [--component PATH] echo-client ws://127.0.0.1:N/ [--deflate[=OPTIONS]]  # echoes until the server closes
//! wsaction-wasmtime [--component PATH] client ws://127.0.0.1:N/        # a script, every echo checked
//! wsaction-wasmtime [--component PATH] pair [SEED]
//! wsaction-wasmtime [--component PATH] scenarios DIR RESULTS.json
//! wsaction-wasmtime [--component PATH] fuzz [SEEDS] [STEPS]     # bad input never traps
//! ```
//! The component path defaults to $WSACTION_COMPONENT.
//!
//! `--deflate` turns permessage-deflate (RFC 7692) on with ws's defaults: the server accepts a
//! client's offer, the client offers it. `--deflate=OPTIONS` also sets ws's `perMessageDeflate`
//! options, comma-separated: `threshold=N`, `serverNoContextTakeover`, `clientNoContextTakeover`,
//! `serverMaxWindowBits=N`, `clientMaxWindowBits=N`, `level=N`, `memLevel=N` (ws's
//! zlibDeflateOptions), e.g. `--deflate=threshold=0,clientNoContextTakeover,serverMaxWindowBits=10`.

use anyhow::{anyhow, bail, Context, Result};
use std::path::PathBuf;
use std::process::ExitCode;
use wsaction_wasmtime_host::guest::{Properties, PropertyValue, Runtime};
use wsaction_wasmtime_host::{fuzz, net, pair, scenarios, serve};

/// Connections per component instance unless --per-instance says otherwise (see serve.rs).
const DEFAULT_PER_INSTANCE: usize = 256;

fn usage() -> &'static str {
    "usage: wsaction-wasmtime [--component PATH] (echo-server --port N [--keep-alive MS] [--per-instance N] [--deflate[=OPTIONS]] [--max-instance-memory BYTES] | echo-client URL [--deflate[=OPTIONS]] | client URL | pair [SEED] | scenarios DIR RESULTS.json | fuzz [SEEDS] [STEPS])\n\
     The component path defaults to $WSACTION_COMPONENT (make component prints it).\n\
     --deflate: permessage-deflate with ws's defaults; OPTIONS (ws's perMessageDeflate names, comma-separated):\n\
     threshold=N, serverNoContextTakeover, clientNoContextTakeover, serverMaxWindowBits=N, clientMaxWindowBits=N, level=N, memLevel=N"
}

/// The engine's deflate properties for `--deflate` (`spec` None) or `--deflate=OPTIONS`, named as
/// ws's `perMessageDeflate` options. The engine checks the ranges when the handle is created.
fn deflate_properties(spec: Option<&str>) -> Result<Properties> {
    let mut properties = vec![PropertyValue::PerMessageDeflate(true)];
    for option in spec.into_iter().flat_map(|s| s.split(',')).filter(|o| !o.is_empty()) {
        let (name, value) = match option.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (option, None),
        };
        let number = |what: &str| -> Result<u32> {
            value
                .ok_or_else(|| anyhow!("--deflate: {what} needs a value ({what}=N)"))?
                .parse()
                .with_context(|| format!("--deflate: {what}"))
        };
        let small = |what: &str| -> Result<u8> {
            u8::try_from(number(what)?).map_err(|_| anyhow!("--deflate: {what} is out of range"))
        };
        let flag = |what: &str| -> Result<bool> {
            match value {
                None | Some("true") => Ok(true),
                Some("false") => Ok(false),
                Some(other) => bail!("--deflate: {what}={other}: true or false"),
            }
        };
        properties.push(match name {
            "threshold" => PropertyValue::DeflateThreshold(number(name)?),
            "serverNoContextTakeover" => PropertyValue::DeflateServerNoContextTakeover(flag(name)?),
            "clientNoContextTakeover" => PropertyValue::DeflateClientNoContextTakeover(flag(name)?),
            "serverMaxWindowBits" => PropertyValue::DeflateServerMaxWindowBits(small(name)?),
            "clientMaxWindowBits" => PropertyValue::DeflateClientMaxWindowBits(small(name)?),
            "level" => PropertyValue::DeflateLevel(small(name)?),
            "memLevel" => PropertyValue::DeflateMemLevel(small(name)?),
            other => bail!("--deflate: unknown option {other:?}\n{}", usage()),
        });
    }
    Ok(properties)
}

/// The engine's verdict on the `--deflate` properties before any connection: a handle is created
/// with them (and dropped), so a value out of range stops the command with the engine's error
/// instead of failing every connection.
fn check_deflate(runtime: &Runtime, server: bool, deflate: &Properties) -> Result<()> {
    if deflate.is_empty() {
        return Ok(());
    }
    let mut guest = runtime.instantiate()?;
    let created = if server {
        guest.create_server(deflate.clone(), None)?
    } else {
        guest.create_client(deflate.clone(), None)?
    };
    let handle = created.map_err(|e| anyhow!("--deflate: the engine refused the options: {e:?}"))?;
    guest.drop_handle(handle)
}

/// `--deflate` or `--deflate=OPTIONS` as the properties to create handles with; None for another flag.
fn deflate_flag(arg: &str) -> Option<Result<Properties>> {
    match arg {
        "--deflate" => Some(deflate_properties(None)),
        _ => arg.strip_prefix("--deflate=").map(|spec| deflate_properties(Some(spec))),
    }
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
            let (mut keep_alive_ms, mut per_instance, mut deflate) = (0u32, DEFAULT_PER_INSTANCE, Vec::new());
            let mut runtime = runtime;
            let mut options = options.iter();
            while let Some(&option) = options.next() {
                if let Some(properties) = deflate_flag(option) {
                    deflate = properties?;
                    continue;
                }
                let value = options.next().ok_or_else(|| anyhow!("{option} needs a value\n{}", usage()))?;
                match option {
                    "--keep-alive" => keep_alive_ms = value.parse().context("--keep-alive")?,
                    "--per-instance" => per_instance = value.parse().context("--per-instance")?,
                    // A way to make an instance trap from outside (tests/wasmtime-host/trap-client.mjs).
                    "--max-instance-memory" => {
                        runtime = runtime.trap_past_memory(value.parse().context("--max-instance-memory")?)
                    }
                    _ => bail!("{}", usage()),
                }
            }
            check_deflate(&runtime, true, &deflate)?;
            serve::serve(runtime, port.parse().context("--port")?, keep_alive_ms, per_instance, deflate)
        }
        ["echo-client", url, options @ ..] => {
            let mut deflate = Vec::new();
            for option in options {
                deflate = deflate_flag(option).ok_or_else(|| anyhow!("{}", usage()))??;
            }
            check_deflate(&runtime, false, &deflate)?;
            let summary = serve::echo_client(runtime, url, deflate)?;
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
            println!("pair with permessage-deflate:");
            for line in pair::run_deflate_pair(&runtime)? {
                println!("  {line}");
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
