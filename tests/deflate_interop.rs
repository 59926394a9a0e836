//! permessage-deflate against a real peer nobody here wrote: Python websockets (deflate on, as it
//! is by default), both roles, over TCP on 127.0.0.1, with a small blocking host around the
//! driver. The peer is `tests/permessage_deflate/websockets_peer.py` in the venv `make test`
//! builds (`WSACTION_PYTHON`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use wsaction::http::{parse_request_head, parse_response_head, serialize_request_head, serialize_response_head};
use wsaction::*;

fn python() -> String {
    std::env::var("WSACTION_PYTHON")
        .unwrap_or_else(|_| format!("{}/.cache/wsaction/venv/bin/python", std::env::var("HOME").unwrap()))
}

fn peer(args: &[&str]) -> Child {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/permessage_deflate/websockets_peer.py");
    Command::new(python())
        .arg(script)
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{} (the venv with websockets, `make component-venv`): {e}", python()))
}

/// The JSON line the peer prints last: {"extensions": "..."}.
fn peer_result(child: Child) -> serde_json::Value {
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "the websockets peer failed");
    let text = String::from_utf8(output.stdout).unwrap();
    serde_json::from_str(text.lines().last().unwrap()).unwrap()
}

/// Reads an HTTP head (up to the blank line) and returns it with whatever came after it.
fn read_head(stream: &mut TcpStream) -> (Vec<u8>, Vec<u8>) {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buffer.split_off(end + 4);
            return (buffer, rest);
        }
        let n = stream.read(&mut chunk).unwrap();
        assert!(n > 0, "the peer closed during the handshake");
        buffer.extend_from_slice(&chunk[..n]);
    }
}

/// Runs an open handle over `stream` with the driver: feeds what arrives, writes what it says,
/// answers the peer's close, and hands each whole message to `on_message` (which may send).
/// Returns when the handle is finished.
fn run_connection(
    handle: &mut Handle,
    stream: &mut TcpStream,
    early_bytes: Vec<u8>,
    mut on_message: impl FnMut(&mut Handle, &mut Driver, &mut TcpStream, BufferType, Vec<u8>),
) {
    let mut driver = Driver::new();
    let options = DrainOptions::default();
    handle.receive(None).unwrap();
    let mut message = Vec::new();
    let mut input = early_bytes;
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let mut completed = Vec::new();
        let mut peer_closed = false;
        let drained = if input.is_empty() {
            let n = stream.read(&mut chunk).unwrap_or(0);
            if n == 0 {
                driver.end_of_stream(handle, options).unwrap()
            } else {
                input.extend_from_slice(&chunk[..n]);
                continue;
            }
        } else {
            driver.feed(handle, &input, options).unwrap()
        };
        let consumed = drained.consumed;
        stream.write_all(drained.out).unwrap();
        if let Some(violation) = drained.violation {
            panic!("the peer broke the protocol: {violation}");
        }
        for indication in drained.indications {
            if let Indication::Received { buffer_type, .. } = indication {
                match buffer_type {
                    BufferType::Close => peer_closed = true,
                    t if t.is_data() => {
                        message.extend_from_slice(drained.payload_of(indication));
                        if !t.is_fragment() {
                            completed.push((*t, std::mem::take(&mut message)));
                        }
                    }
                    _ => {}
                }
            }
        }
        let finished = drained.finished();
        input.drain(..consumed);
        for (buffer_type, bytes) in completed {
            on_message(handle, &mut driver, stream, buffer_type, bytes);
        }
        if peer_closed && handle.state() == State::CloseReceived {
            let drained = driver.send_and_drain(handle, BufferType::Close, None, options).unwrap();
            stream.write_all(drained.out).unwrap();
        }
        if finished || handle.state() == State::Closed && input.is_empty() {
            return;
        }
    }
}

fn send(handle: &mut Handle, driver: &mut Driver, stream: &mut TcpStream, buffer_type: BufferType, bytes: &[u8]) {
    let drained =
        driver.send_and_drain(handle, buffer_type, Some(Buffer::Data(bytes)), DrainOptions::default()).unwrap();
    stream.write_all(drained.out).unwrap();
}

fn corpus() -> Vec<(BufferType, Vec<u8>)> {
    let record = |i: usize| format!("{{\"id\":{i},\"name\":\"alpha\",\"kind\":\"ticker\",\"value\":{}.5}}", i * 7);
    let text: String = (0..2000).map(record).collect::<Vec<_>>().join(",");
    vec![
        (BufferType::Utf8Message, b"Hello".to_vec()),
        (BufferType::Utf8Message, Vec::new()),
        (BufferType::Utf8Message, text.clone().into_bytes()),
        (BufferType::Utf8Message, text.into_bytes()),
        (BufferType::BinaryMessage, (0..=255u8).cycle().take(256 * 300).collect()),
        (BufferType::Utf8Message, "héllo wörld — ✓ ".repeat(500).into_bytes()),
        (BufferType::BinaryMessage, vec![0u8; 1_000_000]),
    ]
}

/// The peer's parameters and what the agreed element must be.
fn cases() -> Vec<(serde_json::Value, serde_json::Value, Vec<Property>)> {
    vec![
        // websockets' defaults on each side.
        (
            serde_json::json!({"server_max_window_bits": 12, "client_max_window_bits": 12, "compress_settings": {"memLevel": 5}}),
            serde_json::json!({"compress_settings": {"memLevel": 5}}),
            vec![Property::PerMessageDeflate(true)],
        ),
        // No context takeover either way, small windows, asked by our side.
        (
            serde_json::json!({}),
            serde_json::json!({}),
            vec![
                Property::PerMessageDeflate(true),
                Property::DeflateServerNoContextTakeover(true),
                Property::DeflateClientNoContextTakeover(true),
                Property::DeflateServerMaxWindowBits(9),
                Property::DeflateClientMaxWindowBits(9),
            ],
        ),
    ]
}

#[test]
fn a_wsaction_client_exchanges_compressed_messages_with_a_websockets_server() {
    for (server_params, _, props) in cases() {
        let mut child = peer(&["server", &server_params.to_string()]);
        let mut port_line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut port_line).unwrap();
        let port: u16 = port_line.trim().parse().unwrap();
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();

        let mut handle = Handle::client(&props).unwrap();
        let mut headers = handle.begin_client_handshake(&[], &[], &[]).unwrap();
        headers.push(("Host".into(), format!("127.0.0.1:{port}")));
        stream.write_all(&serialize_request_head("GET", "/", &headers).unwrap()).unwrap();
        let (head, early) = read_head(&mut stream);
        let response = parse_response_head(&head, &Limits::default()).unwrap().unwrap().head;
        assert_eq!(response.status, 101);
        handle.end_client_handshake(&response.headers).unwrap();
        let negotiated = *handle.permessage_deflate().expect("websockets accepted permessage-deflate");

        let corpus = corpus();
        let mut echoes = Vec::new();
        let mut next = 0;
        // The first message goes out before any byte arrives; each echo triggers the next.
        let mut driver = Driver::new();
        let (t, m) = &corpus[0];
        send(&mut handle, &mut driver, &mut stream, *t, m);
        next += 1;
        run_connection(&mut handle, &mut stream, early, |handle, driver, stream, buffer_type, bytes| {
            echoes.push((buffer_type, bytes));
            if next < corpus.len() {
                let (t, m) = &corpus[next];
                send(handle, driver, stream, *t, m);
                next += 1;
            } else {
                let close = Buffer::CloseStatus { status: 1000, reason: b"done" };
                let drained =
                    driver.send_and_drain(handle, BufferType::Close, Some(close), DrainOptions::default()).unwrap();
                stream.write_all(drained.out).unwrap();
            }
        });
        assert!(echoes == corpus, "echoes differ ({} of {})", echoes.len(), corpus.len());
        drop(stream);
        let result = peer_result(child);
        let extensions = result["extensions"].as_str().unwrap();
        assert_eq!(extensions, negotiated.agreed.to_header_text());
        println!("wsaction client, websockets server {server_params}: agreed {extensions:?}");
    }
}

#[test]
fn a_websockets_client_exchanges_compressed_messages_with_a_wsaction_server() {
    for (_, client_params, props) in cases() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port().to_string();
        let child = peer(&["client", &port, &client_params.to_string()]);
        let (mut stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();

        let mut handle = Handle::server(&props).unwrap();
        let (head, early) = read_head(&mut stream);
        let request = parse_request_head(&head, &Limits::default()).unwrap().unwrap().head;
        let headers = handle.begin_server_handshake(None, &[], &request.headers).unwrap();
        stream.write_all(&serialize_response_head(101, "Switching Protocols", &headers).unwrap()).unwrap();
        let agreed = handle.permessage_deflate().expect("our server accepted websockets' offer").agreed;

        let mut echoed = 0;
        run_connection(&mut handle, &mut stream, early, |handle, driver, stream, buffer_type, bytes| {
            send(handle, driver, stream, buffer_type, &bytes);
            echoed += 1;
        });
        assert_eq!(echoed, corpus().len());
        // RFC 6455 7.1.1: the server closes the TCP connection first; the client waits for it.
        drop(stream);
        let result = peer_result(child);
        assert_eq!(result["extensions"].as_str().unwrap(), agreed.to_header_text());
        println!("websockets client {client_params}, wsaction server: agreed {:?}", agreed.to_header_text());
    }
}
