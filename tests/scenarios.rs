//! Runs every tests/scenarios/*.json through the native crate (format: tests/scenarios/README.md)
//! and writes tests/artifacts/scenario-results/native.json for the host x scenario matrix.
//! `WSACTION_SCENARIO_PRINT=1` prints each run's events, to help write a new scenario.

mod common;
use common::{Event, Pair, Schedule, Side};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;
use wsaction::config::PropertyValue;
use wsaction::*;

fn payload(step: &Value) -> Vec<u8> {
    if let Some(text) = step.get("text").and_then(Value::as_str) {
        return text.as_bytes().to_vec();
    }
    if let Some(hex) = step.get("hex").and_then(Value::as_str) {
        return decode_hex(hex);
    }
    if let Some(fill) = step.get("fill") {
        let byte = fill["byte"].as_u64().expect("fill.byte") as u8;
        let length = fill["length"].as_u64().expect("fill.length") as usize;
        return vec![byte; length];
    }
    Vec::new()
}

fn decode_hex(hex: &str) -> Vec<u8> {
    let digits: Vec<u8> = hex.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    digits
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).expect("hex digit"))
        .collect()
}

fn encode_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn fnv1a(bytes: &[u8]) -> String {
    let mut hash: u32 = 0x811c_9dc5;
    for &b in bytes {
        hash ^= b as u32;
        hash = hash.wrapping_mul(0x0100_0193);
    }
    format!("{hash:08x}")
}

/// A scenario's properties by their JS names, through the property table (every row, so a
/// property added to the engine is usable in a scenario without touching this runner).
fn properties(spec: &Value) -> Vec<Property> {
    let Some(map) = spec.get("properties").and_then(Value::as_object) else { return Vec::new() };
    map.iter()
        .map(|(name, value)| {
            let row = wsaction::config::PROPERTIES
                .iter()
                .find(|row| row.name == name)
                .unwrap_or_else(|| panic!("unknown property {name}"));
            let value = match value {
                Value::Bool(on) => PropertyValue::Bool(*on),
                Value::Number(n) => PropertyValue::Integer(n.as_u64().unwrap_or_else(|| panic!("{name}: {n}"))),
                Value::String(mode) => PropertyValue::KeepAliveMode(match mode.as_str() {
                    "ping" => KeepAliveMode::Ping,
                    "unsolicited-pong" => KeepAliveMode::UnsolicitedPong,
                    other => panic!("{name}: {other:?}"),
                }),
                other => panic!("{name}: {other}"),
            };
            Property::from_value(row.number, value).unwrap_or_else(|e| panic!("{name}: {e}"))
        })
        .collect()
}

fn buffer_type_named(name: &str) -> BufferType {
    [
        BufferType::Utf8Message,
        BufferType::Utf8Fragment,
        BufferType::BinaryMessage,
        BufferType::BinaryFragment,
        BufferType::Close,
        BufferType::PingPong,
        BufferType::UnsolicitedPong,
        BufferType::Ping,
    ]
    .into_iter()
    .find(|t| t.name() == name)
    .unwrap_or_else(|| panic!("unknown buffer type {name}"))
}

/// A side's event as the README records it.
fn event_json(event: &Event) -> Value {
    match event {
        Event::SendComplete { buffer_type, .. } => json!({ "sendComplete": buffer_type.name() }),
        Event::Failed { code, close_code } => {
            let mut json = json!({ "error": code });
            if let Some(close_code) = close_code {
                json["closeCode"] = json!(close_code);
            }
            json
        }
        Event::Received { buffer_type, bytes, close_status, .. } => {
            let mut json = json!({ "received": buffer_type.name() });
            if *buffer_type == BufferType::Close {
                json["status"] = json!(close_status);
                json["reason"] = json!(String::from_utf8_lossy(bytes));
            } else if bytes.len() <= 64 {
                if buffer_type.is_utf8() {
                    json["text"] = json!(String::from_utf8_lossy(bytes));
                } else {
                    json["hex"] = json!(encode_hex(bytes));
                }
            } else {
                json["length"] = json!(bytes.len());
                json["fnv1a"] = json!(fnv1a(bytes));
            }
            json
        }
    }
}

fn make_side(role: Role, spec: &Value, default_seed: u64, chunk: usize) -> Side {
    let seed = spec.get("seed").and_then(Value::as_u64).unwrap_or(default_seed);
    let handle = Handle::with_random(role, &properties(spec), Box::new(SeededRandom::new(seed)))
        .expect("scenario properties are valid");
    let mut side = Side::new(handle);
    side.schedule = Schedule::of(vec![chunk]);
    side
}

fn perform(side: &mut Side, step: &Value) {
    let op = step["op"].as_str().expect("op");
    let data = payload(step);
    let result = match op {
        "send" => {
            let buffer_type = buffer_type_named(step["type"].as_str().expect("send type"));
            side.handle.send(buffer_type, Some(Buffer::Data(&data)), None)
        }
        "close" => {
            let buffer = step.get("status").and_then(Value::as_u64).map(|status| Buffer::CloseStatus {
                status: status as u16,
                reason: step.get("reason").and_then(Value::as_str).unwrap_or("").as_bytes(),
            });
            side.handle.send(BufferType::Close, buffer, None)
        }
        "ping" => side.handle.send(BufferType::PingPong, Some(Buffer::Data(&data)), None),
        "pong" => side.handle.send(BufferType::UnsolicitedPong, Some(Buffer::Data(&data)), None),
        "abort" => {
            side.handle.abort();
            Ok(())
        }
        other => panic!("unknown op {other}"),
    };
    if let Err(error) = result {
        side.events.push(Event::Failed { code: error.code(), close_code: error.close_code() });
    }
}

/// Runs one scenario with one read size (the README's algorithm: the pair harness's drain is it)
/// and returns what each side observed.
fn run_scenario(scenario: &Value, chunk: usize) -> Value {
    let mut pair = Pair {
        client: make_side(Role::Client, &scenario["client"], 1, chunk),
        server: make_side(Role::Server, &scenario["server"], 2, chunk),
    };
    pair.client.handle.tick(0);
    pair.server.handle.tick(0);
    let offered: Vec<&str> = scenario["handshake"]["subprotocols"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    pair.handshake(&offered, scenario["handshake"]["serverSelects"].as_str());

    for step in scenario["steps"].as_array().expect("steps") {
        match step["op"].as_str() {
            Some("tick") => {
                pair.tick(step["now"].as_u64().expect("tick now"));
                continue;
            }
            Some("inject") => {
                let bytes = payload(step);
                match step["toward"].as_str() {
                    Some("server") => pair.server.wire_in.extend_from_slice(&bytes),
                    Some("client") => pair.client.wire_in.extend_from_slice(&bytes),
                    other => panic!("inject toward {other:?}"),
                }
            }
            _ => match step["side"].as_str() {
                Some("client") => perform(&mut pair.client, step),
                Some("server") => perform(&mut pair.server, step),
                other => panic!("step side {other:?}"),
            },
        }
        pair.run();
    }
    let events = |side: &Side| side.events.iter().map(event_json).collect::<Vec<_>>();
    json!({
        "subprotocol": pair.client.handle.subprotocol(),
        "client": { "events": events(&pair.client), "state": pair.client.handle.state().name() },
        "server": { "events": events(&pair.server), "state": pair.server.handle.state().name() },
    })
}

fn check(scenario: &Value, actual: &Value) -> Result<(), String> {
    let expect = &scenario["expect"];
    if let Some(subprotocol) = expect.get("subprotocol") {
        if &actual["subprotocol"] != subprotocol {
            return Err(format!("subprotocol {} != {}", actual["subprotocol"], subprotocol));
        }
    }
    for side in ["client", "server"] {
        for field in ["events", "state"] {
            if let Some(wanted) = expect[side].get(field) {
                if &actual[side][field] != wanted {
                    return Err(format!("{side} {field}:\n  expected {wanted}\n  actual   {}", actual[side][field]));
                }
            }
        }
    }
    Ok(())
}

/// The checkout being tested, read when the test runs: the target dir is shared between clones
/// (`~/.cache/wsaction`), so a path baked in at compile time can name another clone.
fn package_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

fn scenario_files() -> Vec<PathBuf> {
    let dir = package_dir().join("tests/scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/scenarios")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_scenario_passes_natively_at_every_split() {
    let print = std::env::var_os("WSACTION_SCENARIO_PRINT").is_some();
    let mut results = BTreeMap::new();
    let mut failures = Vec::new();
    let files = scenario_files();
    assert!(files.len() >= 6, "the scenario suite is missing");
    for file in files {
        let scenario: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).expect("scenario JSON");
        let name = scenario["name"].as_str().expect("name").to_string();
        let chunks: Vec<usize> = scenario
            .get("chunks")
            .and_then(Value::as_array)
            .map(|a| a.iter().map(|c| c.as_u64().unwrap() as usize).collect())
            .unwrap_or_else(|| vec![0, 1, 7]);
        let mut outcome = "pass".to_string();
        for chunk in chunks {
            let actual = run_scenario(&scenario, chunk);
            if print {
                println!("{name} chunk {chunk}: {}", serde_json::to_string_pretty(&actual).unwrap());
            }
            if let Err(why) = check(&scenario, &actual) {
                outcome = format!("fail: chunk {chunk}: {why}");
                break;
            }
        }
        if outcome != "pass" {
            failures.push(format!("{name}: {outcome}"));
        }
        results.insert(name, outcome);
    }
    let out_dir = package_dir().join("tests/artifacts/scenario-results");
    std::fs::create_dir_all(&out_dir).unwrap();
    std::fs::write(
        out_dir.join("native.json"),
        serde_json::to_string_pretty(&json!({ "host": "native", "results": results })).unwrap(),
    )
    .unwrap();
    assert!(failures.is_empty(), "scenario failures:\n{}", failures.join("\n"));
}
