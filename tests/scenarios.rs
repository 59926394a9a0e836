//! Runs every tests/scenarios/*.json through the native crate (format: tests/scenarios/README.md)
//! and writes tests/artifacts/scenario-results/native.json for the host x scenario matrix.
//! `WSACTION_SCENARIO_PRINT=1` prints each run's events, to help write a new scenario.

use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;
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

fn properties(spec: &Value) -> Vec<Property> {
    let mut out = Vec::new();
    let Some(map) = spec.get("properties").and_then(Value::as_object) else { return out };
    for (name, value) in map {
        let n = || value.as_u64().unwrap_or_else(|| panic!("{name} wants a number"));
        let b = || value.as_bool().unwrap_or_else(|| panic!("{name} wants a boolean"));
        out.push(match name.as_str() {
            "receiveBufferSize" => Property::ReceiveBufferSize(n() as u32),
            "sendBufferSize" => Property::SendBufferSize(n() as u32),
            "disableMasking" => Property::DisableMasking(b()),
            "disableUtf8Verification" => Property::DisableUtf8Verification(b()),
            "keepAliveInterval" => Property::KeepAliveInterval(n() as u32),
            "keepAliveMode" => Property::KeepAliveMode(match value.as_str() {
                Some("ping") => KeepAliveMode::Ping,
                Some("unsolicited-pong") => KeepAliveMode::UnsolicitedPong,
                other => panic!("keepAliveMode {other:?}"),
            }),
            "keepAliveTimeout" => Property::KeepAliveTimeout(n() as u32),
            "closeTimeout" => Property::CloseTimeout(n() as u32),
            "handshakeTimeout" => Property::HandshakeTimeout(n() as u32),
            "maxFrameSize" => Property::MaxFrameSize(n()),
            "maxMessageSize" => Property::MaxMessageSize(n()),
            "maxFragments" => Property::MaxFragments(n() as u32),
            "maxHandshakeHeaderBytes" => Property::MaxHandshakeHeaderBytes(n() as u32),
            "maxHandshakeHeaders" => Property::MaxHandshakeHeaders(n() as u32),
            other => panic!("unknown property {other}"),
        });
    }
    out
}

struct Side {
    handle: Handle,
    /// Bytes on the wire toward this side.
    wire_in: Vec<u8>,
    held_receive: Option<(u32, usize)>,
    events: Vec<Value>,
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
    ]
    .into_iter()
    .find(|t| t.name() == name)
    .unwrap_or_else(|| panic!("unknown buffer type {name}"))
}

fn record_error(events: &mut Vec<Value>, error: &Error) {
    let mut event = json!({ "error": error.code() });
    if let Some(code) = error.close_code() {
        event["closeCode"] = json!(code);
    }
    events.push(event);
}

fn received_event(action: &Action<'_>) -> Value {
    let buffer_type = action.buffer_type.expect("indications carry a type");
    let mut event = json!({ "received": buffer_type.name() });
    if buffer_type == BufferType::Close {
        event["status"] = json!(action.close_status);
        event["reason"] = json!(String::from_utf8_lossy(action.bytes));
    } else if action.bytes.len() <= 64 {
        if buffer_type.is_utf8() {
            event["text"] = json!(String::from_utf8_lossy(action.bytes));
        } else {
            event["hex"] = json!(encode_hex(action.bytes));
        }
    } else {
        event["length"] = json!(action.bytes.len());
        event["fnv1a"] = json!(fnv1a(action.bytes));
    }
    event
}

/// The `drain(side)` of the README; returns whether anything happened. `out` is the peer's wire.
fn drain(side: &mut Side, out: &mut Vec<u8>, chunk: usize) -> bool {
    let mut progressed = false;
    let take = |wire: &mut Vec<u8>, capacity: usize| -> Vec<u8> {
        let limit = if chunk == 0 { usize::MAX } else { chunk };
        let n = wire.len().min(capacity).min(limit);
        wire.drain(..n).collect()
    };
    if let Some((id, capacity)) = side.held_receive {
        if !side.wire_in.is_empty() {
            let bytes = take(&mut side.wire_in, capacity);
            side.handle.complete_receive(id, &bytes).expect("complete held receive");
            side.held_receive = None;
            progressed = true;
        }
    }
    loop {
        let action = match side.handle.get_action(ActionQueue::All) {
            Ok(action) => action,
            Err(error) => {
                record_error(&mut side.events, &error);
                progressed = true;
                continue;
            }
        };
        let id = action.id;
        match action.kind {
            ActionKind::NoAction => return progressed,
            ActionKind::SendToNetwork => {
                out.extend_from_slice(action.bytes);
                let n = action.bytes.len();
                side.handle.complete_action(id, n).expect("complete send");
            }
            ActionKind::ReceiveFromNetwork => {
                let capacity = action.receive_capacity;
                if side.wire_in.is_empty() {
                    side.held_receive = Some((id, capacity));
                    return progressed;
                }
                let bytes = take(&mut side.wire_in, capacity);
                side.handle.complete_receive(id, &bytes).expect("complete receive");
            }
            ActionKind::IndicateSendComplete => {
                let name = action.buffer_type.expect("send type").name();
                side.events.push(json!({ "sendComplete": name }));
                side.handle.complete_action(id, 0).expect("complete send indication");
            }
            ActionKind::IndicateReceiveComplete => {
                side.events.push(received_event(&action));
                side.handle.complete_action(id, 0).expect("complete receive indication");
                if matches!(side.handle.state(), State::Open | State::CloseSent) {
                    side.handle.receive(None).expect("queue the next receive");
                }
            }
        }
        progressed = true;
    }
}

fn run(client: &mut Side, server: &mut Side, chunk: usize) {
    loop {
        let a = drain(client, &mut server.wire_in, chunk);
        let b = drain(server, &mut client.wire_in, chunk);
        if !a && !b {
            return;
        }
    }
}

fn make_side(role: Role, spec: &Value, default_seed: u64) -> Side {
    let seed = spec.get("seed").and_then(Value::as_u64).unwrap_or(default_seed);
    let handle = Handle::with_random(role, &properties(spec), Box::new(SeededRandom::new(seed)))
        .expect("scenario properties are valid");
    Side { handle, wire_in: Vec::new(), held_receive: None, events: Vec::new() }
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
        record_error(&mut side.events, &error);
    }
}

/// Runs one scenario with one chunk size; returns (client events, client state, server events,
/// server state, subprotocol).
fn run_scenario(scenario: &Value, chunk: usize) -> Value {
    let mut client = make_side(Role::Client, &scenario["client"], 1);
    let mut server = make_side(Role::Server, &scenario["server"], 2);
    client.handle.tick(0);
    server.handle.tick(0);
    let offered: Vec<&str> = scenario["handshake"]["subprotocols"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let selected = scenario["handshake"]["serverSelects"].as_str();
    let mut request = client.handle.begin_client_handshake(&offered, &[], &[]).expect("begin client");
    request.push(("Host".into(), "wsaction.test".into()));
    let response = server.handle.begin_server_handshake(selected, &[], &request).expect("begin server");
    client.handle.end_client_handshake(&response).expect("end client");
    client.handle.receive(None).expect("client receive");
    server.handle.receive(None).expect("server receive");

    for step in scenario["steps"].as_array().expect("steps") {
        match step["op"].as_str() {
            Some("tick") => {
                let now = step["now"].as_u64().expect("tick now");
                client.handle.tick(now);
                server.handle.tick(now);
            }
            Some("inject") => {
                let bytes = payload(step);
                match step["toward"].as_str() {
                    Some("server") => server.wire_in.extend_from_slice(&bytes),
                    Some("client") => client.wire_in.extend_from_slice(&bytes),
                    other => panic!("inject toward {other:?}"),
                }
            }
            _ => match step["side"].as_str() {
                Some("client") => perform(&mut client, step),
                Some("server") => perform(&mut server, step),
                other => panic!("step side {other:?}"),
            },
        }
        run(&mut client, &mut server, chunk);
    }
    json!({
        "subprotocol": client.handle.subprotocol(),
        "client": { "events": client.events, "state": client.handle.state().name() },
        "server": { "events": server.events, "state": server.handle.state().name() },
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
                    return Err(format!(
                        "{side} {field}:\n  expected {wanted}\n  actual   {}",
                        actual[side][field]
                    ));
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
        let scenario: Value =
            serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).expect("scenario JSON");
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
