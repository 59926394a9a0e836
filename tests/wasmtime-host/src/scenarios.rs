//! The shared scenario suite (tests/scenarios/*.json, format in tests/scenarios/README.md) run
//! through the component under wasmtime: a client handle and a server handle of one instance,
//! wired back to back, driven exactly as the README's runner steps say.

use crate::drive::OPTIONS;
use crate::guest::{
    default_properties, header, Buffer, BufferType, CloseBuffer, Error, Guest, Indication, KeepAliveMode, Properties,
    PropertyValue, Runtime, State, Trap,
};
use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use wasmtime::component::ResourceAny;

const BUFFER_TYPES: [(BufferType, &str); 8] = [
    (BufferType::Utf8Message, "UTF8_MESSAGE"),
    (BufferType::Utf8Fragment, "UTF8_FRAGMENT"),
    (BufferType::BinaryMessage, "BINARY_MESSAGE"),
    (BufferType::BinaryFragment, "BINARY_FRAGMENT"),
    (BufferType::Close, "CLOSE"),
    (BufferType::PingPong, "PING_PONG"),
    (BufferType::UnsolicitedPong, "UNSOLICITED_PONG"),
    (BufferType::Ping, "PING"),
];

/// websocket.h's name for a buffer type.
pub fn buffer_type_name(t: BufferType) -> &'static str {
    BUFFER_TYPES.iter().find(|(b, _)| *b == t).map(|(_, n)| *n).expect("every type is listed")
}

fn buffer_type_named(name: &str) -> Result<BufferType> {
    BUFFER_TYPES.iter().find(|(_, n)| *n == name).map(|(b, _)| *b).ok_or_else(|| anyhow!("unknown buffer type {name}"))
}

pub fn state_name(s: State) -> &'static str {
    match s {
        State::Connecting => "connecting",
        State::Open => "open",
        State::CloseSent => "close-sent",
        State::CloseReceived => "close-received",
        State::Closed => "closed",
        State::Aborted => "aborted",
    }
}

/// The engine's stable error code (`INVALID_STATE`, ...) for a WIT error case (`invalid-state`).
pub fn error_code(e: &Error) -> String {
    e.case().to_ascii_uppercase().replace('-', "_")
}

/// The close code an error carries, if any.
pub fn error_close_code(e: &Error) -> Option<u16> {
    match e {
        Error::ProtocolViolation(v) => Some(v.close_code),
        Error::Timeout(t) => t.close_code,
        _ => None,
    }
}

fn decode_hex(hex: &str) -> Result<Vec<u8>> {
    let digits: Vec<u8> = hex.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    digits
        .chunks(2)
        .map(|pair| {
            let s = std::str::from_utf8(pair)?;
            u8::from_str_radix(s, 16).with_context(|| format!("hex {s:?}"))
        })
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

fn payload(step: &Value) -> Result<Vec<u8>> {
    if let Some(text) = step.get("text").and_then(Value::as_str) {
        return Ok(text.as_bytes().to_vec());
    }
    if let Some(hex) = step.get("hex").and_then(Value::as_str) {
        return decode_hex(hex);
    }
    if let Some(fill) = step.get("fill") {
        let byte = fill["byte"].as_u64().ok_or_else(|| anyhow!("fill.byte"))? as u8;
        let length = fill["length"].as_u64().ok_or_else(|| anyhow!("fill.length"))? as usize;
        return Ok(vec![byte; length]);
    }
    Ok(Vec::new())
}

/// The scenario's JS-style property names as the WIT properties record.
/// A scenario's properties (JS names, as the property table has them) as the WIT list.
fn properties(spec: &Value) -> Result<Properties> {
    let mut p = default_properties();
    let Some(map) = spec.get("properties").and_then(Value::as_object) else { return Ok(p) };
    for (name, value) in map {
        let n = || value.as_u64().ok_or_else(|| anyhow!("{name} wants a number"));
        let u = || n().map(|v| v as u32);
        let b = || value.as_bool().ok_or_else(|| anyhow!("{name} wants a boolean"));
        let small = || n().and_then(|v| u8::try_from(v).map_err(|_| anyhow!("{name}: {v} is out of range")));
        p.push(match name.as_str() {
            "receiveBufferSize" => PropertyValue::ReceiveBufferSize(u()?),
            "sendBufferSize" => PropertyValue::SendBufferSize(u()?),
            "disableMasking" => PropertyValue::DisableMasking(b()?),
            "disableUtf8Verification" => PropertyValue::DisableUtf8Verification(b()?),
            "keepAliveInterval" => PropertyValue::KeepAliveInterval(u()?),
            "keepAliveMode" => PropertyValue::KeepAliveMode(match value.as_str() {
                Some("ping") => KeepAliveMode::Ping,
                Some("unsolicited-pong") => KeepAliveMode::UnsolicitedPong,
                other => bail!("keepAliveMode {other:?}"),
            }),
            "keepAliveTimeout" => PropertyValue::KeepAliveTimeout(u()?),
            "closeTimeout" => PropertyValue::CloseTimeout(u()?),
            "handshakeTimeout" => PropertyValue::HandshakeTimeout(u()?),
            "maxFrameSize" => PropertyValue::MaxFrameSize(n()?),
            "maxMessageSize" => PropertyValue::MaxMessageSize(n()?),
            "maxFragments" => PropertyValue::MaxFragments(u()?),
            "maxHandshakeHeaderBytes" => PropertyValue::MaxHandshakeHeaderBytes(u()?),
            "maxHandshakeHeaders" => PropertyValue::MaxHandshakeHeaders(u()?),
            "perMessageDeflate" => PropertyValue::PerMessageDeflate(b()?),
            "deflateThreshold" => PropertyValue::DeflateThreshold(u()?),
            "deflateServerNoContextTakeover" => PropertyValue::DeflateServerNoContextTakeover(b()?),
            "deflateClientNoContextTakeover" => PropertyValue::DeflateClientNoContextTakeover(b()?),
            "deflateServerMaxWindowBits" => PropertyValue::DeflateServerMaxWindowBits(small()?),
            "deflateClientMaxWindowBits" => PropertyValue::DeflateClientMaxWindowBits(small()?),
            "deflateLevel" => PropertyValue::DeflateLevel(small()?),
            "deflateMemLevel" => PropertyValue::DeflateMemLevel(small()?),
            "indicatePings" => PropertyValue::IndicatePings(b()?),
            "autoPong" => PropertyValue::AutoPong(b()?),
            other => bail!("unknown property {other}"),
        });
    }
    Ok(p)
}

struct Side {
    handle: ResourceAny,
    /// Bytes on the wire toward this side.
    wire_in: Vec<u8>,
    events: Vec<Value>,
}

fn record_error(events: &mut Vec<Value>, error: &Error) {
    let mut event = json!({ "error": error_code(error) });
    if let Some(code) = error_close_code(error) {
        event["closeCode"] = json!(code);
    }
    events.push(event);
}

fn received_event(buffer_type: BufferType, bytes: &[u8], close_status: Option<u16>) -> Value {
    let name = buffer_type_name(buffer_type);
    let mut event = json!({ "received": name });
    if buffer_type == BufferType::Close {
        event["status"] = json!(close_status);
        event["reason"] = json!(String::from_utf8_lossy(bytes));
    } else if bytes.len() <= 64 {
        if matches!(buffer_type, BufferType::Utf8Message | BufferType::Utf8Fragment) {
            event["text"] = json!(String::from_utf8_lossy(bytes));
        } else {
            event["hex"] = json!(encode_hex(bytes));
        }
    } else {
        event["length"] = json!(bytes.len());
        event["fnv1a"] = json!(fnv1a(bytes));
    }
    event
}

fn ok<T>(r: Result<T, Error>, what: &str) -> Result<T> {
    r.map_err(|e| anyhow!("{what}: {e:?}"))
}

/// The README's `drain(side)` on the component's driver, one read of at most `chunk` bytes (0:
/// all) per crossing; returns whether anything happened. `out` is the peer's wire.
fn drain(g: &mut Guest, side: &mut Side, out: &mut Vec<u8>, chunk: usize) -> Result<bool, Trap> {
    let mut progressed = false;
    loop {
        let limit = if chunk == 0 { side.wire_in.len() } else { side.wire_in.len().min(chunk) };
        let result = ok(g.drain(side.handle, &side.wire_in[..limit], false, OPTIONS)?, "drain")?;
        side.wire_in.drain(..result.consumed as usize);
        out.extend_from_slice(&result.out);
        let moved = result.consumed > 0 || !result.out.is_empty() || !result.indications.is_empty();
        for indication in result.indications {
            side.events.push(match indication {
                Indication::SendComplete(sent) => json!({ "sendComplete": buffer_type_name(sent.buffer_type) }),
                Indication::ReceiveComplete(r) => received_event(r.buffer_type, &r.bytes, r.close_status),
            });
        }
        if let Some(error) = &result.violation {
            record_error(&mut side.events, error);
        }
        let more = moved || result.violation.is_some() || result.failing_close_waits;
        if !more {
            return Ok(progressed);
        }
        progressed = true;
    }
}

fn run(g: &mut Guest, client: &mut Side, server: &mut Side, chunk: usize) -> Result<()> {
    for _ in 0..1_000_000 {
        let a = drain(g, client, &mut server.wire_in, chunk)?;
        let b = drain(g, server, &mut client.wire_in, chunk)?;
        if !a && !b {
            return Ok(());
        }
    }
    bail!("the pair never went quiet")
}

fn make_side(g: &mut Guest, client: bool, spec: &Value, default_seed: u64) -> Result<Side> {
    let seed = spec.get("seed").and_then(Value::as_u64).unwrap_or(default_seed);
    let props = properties(spec)?;
    let handle = if client { g.create_client(props, Some(seed))? } else { g.create_server(props, Some(seed))? };
    let handle = ok(handle, "create the handle")?;
    Ok(Side { handle, wire_in: Vec::new(), events: Vec::new() })
}

fn perform(g: &mut Guest, side: &mut Side, step: &Value) -> Result<()> {
    let op = step["op"].as_str().ok_or_else(|| anyhow!("op"))?;
    let data = payload(step)?;
    let result = match op {
        "send" => {
            let buffer_type = buffer_type_named(step["type"].as_str().ok_or_else(|| anyhow!("send type"))?)?;
            g.send(side.handle, buffer_type, Some(&Buffer::Data(data)), None)?
        }
        "close" => {
            let buffer = step.get("status").and_then(Value::as_u64).map(|status| {
                Buffer::CloseStatus(CloseBuffer {
                    status: status as u16,
                    reason: step.get("reason").and_then(Value::as_str).unwrap_or("").as_bytes().to_vec(),
                })
            });
            g.send(side.handle, BufferType::Close, buffer.as_ref(), None)?
        }
        "ping" => g.send(side.handle, BufferType::PingPong, Some(&Buffer::Data(data)), None)?,
        "pong" => g.send(side.handle, BufferType::UnsolicitedPong, Some(&Buffer::Data(data)), None)?,
        "abort" => {
            g.abort(side.handle)?;
            Ok(())
        }
        other => bail!("unknown op {other}"),
    };
    if let Err(error) = result {
        record_error(&mut side.events, &error);
    }
    Ok(())
}

/// Runs one scenario at one chunk size in a fresh instance; returns what each side observed.
pub fn run_scenario(runtime: &Runtime, scenario: &Value, chunk: usize) -> Result<Value> {
    let mut g = runtime.instantiate()?;
    let mut client = make_side(&mut g, true, &scenario["client"], 1)?;
    let mut server = make_side(&mut g, false, &scenario["server"], 2)?;
    g.tick(client.handle, 0)?;
    g.tick(server.handle, 0)?;
    let offered: Vec<String> = scenario["handshake"]["subprotocols"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default();
    let selected = scenario["handshake"]["serverSelects"].as_str();
    let mut request = ok(g.begin_client_handshake(client.handle, &offered, &[], &[])?, "begin client handshake")?;
    request.push(header("Host", "wsaction.test"));
    let response = ok(g.begin_server_handshake(server.handle, selected, &[], &request)?, "begin server handshake")?;
    ok(g.end_client_handshake(client.handle, &response)?, "end client handshake")?;
    ok(g.receive(client.handle, None)?, "client receive")?;
    ok(g.receive(server.handle, None)?, "server receive")?;

    for step in scenario["steps"].as_array().ok_or_else(|| anyhow!("steps"))? {
        match step["op"].as_str() {
            Some("tick") => {
                let now = step["now"].as_u64().ok_or_else(|| anyhow!("tick now"))?;
                g.tick(client.handle, now)?;
                g.tick(server.handle, now)?;
            }
            Some("inject") => {
                let bytes = payload(step)?;
                match step["toward"].as_str() {
                    Some("server") => server.wire_in.extend_from_slice(&bytes),
                    Some("client") => client.wire_in.extend_from_slice(&bytes),
                    other => bail!("inject toward {other:?}"),
                }
            }
            _ => match step["side"].as_str() {
                Some("client") => perform(&mut g, &mut client, step)?,
                Some("server") => perform(&mut g, &mut server, step)?,
                other => bail!("step side {other:?}"),
            },
        }
        run(&mut g, &mut client, &mut server, chunk)?;
    }
    let result = json!({
        "subprotocol": g.subprotocol(client.handle)?,
        "client": { "events": client.events, "state": state_name(g.state(client.handle)?) },
        "server": { "events": server.events, "state": state_name(g.state(server.handle)?) },
    });
    g.drop_handle(client.handle)?;
    g.drop_handle(server.handle)?;
    Ok(result)
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
                    return Err(format!("{side} {field}: expected {wanted}, actual {}", actual[side][field]));
                }
            }
        }
    }
    Ok(())
}

pub fn scenario_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    Ok(files)
}

/// Runs every scenario in `dir` at each of its chunk sizes; returns name -> "pass" | "fail: why".
pub fn run_all(runtime: &Runtime, dir: &Path) -> Result<BTreeMap<String, String>> {
    let mut results = BTreeMap::new();
    for file in scenario_files(dir)? {
        let scenario: Value = serde_json::from_str(&std::fs::read_to_string(&file)?)
            .with_context(|| format!("parsing {}", file.display()))?;
        let name = scenario["name"].as_str().ok_or_else(|| anyhow!("{}: no name", file.display()))?.to_string();
        let chunks: Vec<usize> = scenario
            .get("chunks")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_u64).map(|c| c as usize).collect())
            .unwrap_or_else(|| vec![0, 1, 7]);
        let mut outcome = "pass".to_string();
        for chunk in chunks {
            match run_scenario(runtime, &scenario, chunk) {
                Ok(actual) => {
                    if let Err(why) = check(&scenario, &actual) {
                        outcome = format!("fail: chunk {chunk}: {why}");
                        break;
                    }
                }
                Err(e) => {
                    outcome = format!("fail: chunk {chunk}: {e:#}");
                    break;
                }
            }
        }
        results.insert(name, outcome);
    }
    Ok(results)
}

/// Writes `{"host": host, "results": {...}}` to `out`.
pub fn write_results(out: &Path, host: &str, results: &BTreeMap<String, String>) -> Result<()> {
    if let Some(parent) = out.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(out, serde_json::to_string_pretty(&json!({ "host": host, "results": results }))? + "\n")?;
    Ok(())
}
