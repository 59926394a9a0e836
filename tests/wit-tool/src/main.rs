//! `wsaction-wit-tool`: the component's build step and its two structural checks.
//!
//! - `new CORE.wasm OUT.wasm`: wraps the core module built for wasm32-unknown-unknown (with the
//!   component type wit-bindgen embeds) into a component. Built this way the component imports
//!   exactly what the `wsaction` world declares; a wasm32-wasip2 build would also import
//!   wasi:cli and wasi:io through the standard library's stdio (for panic messages).
//! - `imports COMPONENT.wasm`: prints the component's imports, one a line.
//! - `check-imports COMPONENT.wasm ALLOWED...`: fails if an import is not in ALLOWED (interface
//!   names without version, e.g. `wasi:random/random`).
//! - `wit COMPONENT.wasm` / `wit-dir DIR`: prints the `wsaction:engine` package as WIT (with the
//!   docs the input has) through one printer (`wasm-tools component wit`'s), so they compare.
//! - `check-wit COMPONENT.wasm DIR`: fails, showing the first difference, unless the interfaces the
//!   component exports are those in DIR, type for type and function for function.

use anyhow::{anyhow, bail, Context, Result};
use std::process::ExitCode;
use wit_component::{ComponentEncoder, DecodedWasm, WitPrinter};
use wit_parser::{PackageId, Resolve, WorldItem, WorldKey};

const PACKAGE: &str = "wsaction:engine@0.3.0";

fn read(path: &str) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading {path}"))
}

fn componentize(core: &str, out: &str) -> Result<()> {
    let bytes = read(core)?;
    let component = ComponentEncoder::default().module(&bytes)?.validate(true).encode()?;
    std::fs::write(out, &component).with_context(|| format!("writing {out}"))?;
    println!("{out}: {} bytes", component.len());
    Ok(())
}

fn decode_component(path: &str) -> Result<(Resolve, wit_parser::WorldId)> {
    match wit_component::decode(&read(path)?).with_context(|| format!("decoding {path}"))? {
        DecodedWasm::Component(resolve, world) => Ok((resolve, world)),
        DecodedWasm::WitPackage(..) => bail!("{path} is a WIT package, not a component"),
    }
}

fn imports(path: &str) -> Result<Vec<String>> {
    let (resolve, world) = decode_component(path)?;
    let mut names = Vec::new();
    for (key, item) in &resolve.worlds[world].imports {
        let name = match (key, item) {
            (WorldKey::Interface(id), _) => resolve.id_of(*id).unwrap_or_else(|| "<anonymous interface>".into()),
            (WorldKey::Name(name), WorldItem::Function(_)) => format!("function {name}"),
            (WorldKey::Name(name), WorldItem::Type { .. }) => format!("type {name}"),
            (WorldKey::Name(name), WorldItem::Interface { .. }) => format!("interface {name}"),
        };
        names.push(name);
    }
    Ok(names)
}

/// `wasi:random/random@0.2.0` -> `wasi:random/random`.
fn unversioned(name: &str) -> &str {
    name.split('@').next().unwrap_or(name)
}

fn print_package(resolve: &Resolve, package: PackageId, docs: bool) -> Result<String> {
    let mut printer = WitPrinter::default();
    printer.emit_docs(docs);
    printer.print(resolve, package, &[])?;
    Ok(printer.output.to_string())
}

fn find_package(resolve: &Resolve) -> Result<PackageId> {
    resolve
        .packages
        .iter()
        .find(|(_, p)| p.name.to_string() == PACKAGE)
        .map(|(id, _)| id)
        .ok_or_else(|| anyhow!("no package {PACKAGE}"))
}

fn wit_of_component(path: &str, docs: bool) -> Result<String> {
    let (resolve, _) = decode_component(path)?;
    print_package(&resolve, find_package(&resolve)?, docs)
}

fn wit_of_dir(dir: &str, docs: bool) -> Result<String> {
    let mut resolve = Resolve::default();
    resolve.push_dir(dir).with_context(|| format!("parsing {dir}"))?;
    print_package(&resolve, find_package(&resolve)?, docs)
}

/// Drops `world` blocks: a component's type holds the interfaces it exports, not the world
/// text it was built from (the decoder invents a `root` world instead).
fn interfaces_only(wit: &str) -> String {
    let mut out = String::new();
    let mut depth_in_world: Option<i32> = None;
    let mut pending_docs = String::new();
    for line in wit.lines() {
        let trimmed = line.trim_start();
        // Feature gates (@since, @unstable, @deprecated) are, like docs, source metadata that the
        // component's embedded types do not carry: compare the types they gate.
        if ["@since(", "@unstable(", "@deprecated("].iter().any(|gate| trimmed.starts_with(gate)) {
            continue;
        }
        if let Some(depth) = depth_in_world.as_mut() {
            *depth += line.matches('{').count() as i32 - line.matches('}').count() as i32;
            if *depth <= 0 {
                depth_in_world = None;
            }
            continue;
        }
        if trimmed.starts_with("///") && !line.starts_with(' ') {
            pending_docs.push_str(line);
            pending_docs.push('\n');
            continue;
        }
        if trimmed.starts_with("world ") && !line.starts_with(' ') {
            pending_docs.clear();
            let depth = line.matches('{').count() as i32 - line.matches('}').count() as i32;
            if depth > 0 {
                depth_in_world = Some(depth);
            }
            continue;
        }
        out.push_str(&pending_docs);
        pending_docs.clear();
        out.push_str(line);
        out.push('\n');
    }
    out.trim_end().to_string() + "\n"
}

fn check_wit(component: &str, dir: &str) -> Result<()> {
    // wit-bindgen embeds the world's types without their doc comments or feature gates, and a
    // component's type holds the interfaces it exports, not the world it was built from: compare
    // the interfaces, every type and function, without docs and gates.
    let from_component = interfaces_only(&wit_of_component(component, false)?);
    let from_dir = interfaces_only(&wit_of_dir(dir, false)?);
    if from_component == from_dir {
        println!(
            "ok: the WIT in {component} is {dir} ({} lines of {PACKAGE}: every type and function)",
            from_dir.lines().count()
        );
        return Ok(());
    }
    let a: Vec<&str> = from_component.lines().collect();
    let b: Vec<&str> = from_dir.lines().collect();
    let first = (0..a.len().max(b.len())).find(|&i| a.get(i) != b.get(i)).unwrap_or(0);
    bail!(
        "the WIT in {component} differs from {dir} at line {}:\n  component: {:?}\n  {dir}: {:?}",
        first + 1,
        a.get(first),
        b.get(first)
    )
}

fn run(args: &[String]) -> Result<()> {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["new", core, out] => componentize(core, out),
        ["imports", component] => {
            for name in imports(component)? {
                println!("{name}");
            }
            Ok(())
        }
        ["check-imports", component, allowed @ ..] => {
            let names = imports(component)?;
            let unexpected: Vec<&String> =
                names.iter().filter(|n| !allowed.contains(&unversioned(n))).collect();
            if !unexpected.is_empty() {
                bail!("{component} imports more than {allowed:?}: {unexpected:?}");
            }
            println!("ok: {component} imports only {names:?}");
            Ok(())
        }
        ["wit", component] => {
            print!("{}", wit_of_component(component, true)?);
            Ok(())
        }
        ["wit-dir", dir] => {
            print!("{}", wit_of_dir(dir, true)?);
            Ok(())
        }
        ["check-wit", component, dir] => check_wit(component, dir),
        _ => bail!(
            "usage: wsaction-wit-tool new CORE OUT | imports C | check-imports C ALLOWED... | wit C | wit-dir DIR | check-wit C DIR"
        ),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("wsaction-wit-tool: {error:#}");
            ExitCode::FAILURE
        }
    }
}
