//! permessage-deflate through the handle (RFC 7692): negotiation in the handshake calls, RSV1 on
//! the wire, the RFC's example frames, the framing violations, and inflation within the message
//! budget, between two wsaction handles and against hand-made frames.

mod common;
use common::*;
use wsaction::permessage_deflate::{Direction, MessageCompressor};
use wsaction::*;

fn deflate_on() -> Vec<Property> {
    vec![Property::PerMessageDeflate(true)]
}

/// A pair whose handshake ran with the given properties (deflate or not on each side).
fn open(client_props: &[Property], server_props: &[Property]) -> Pair {
    Pair::open(client_props, server_props)
}

fn send(side: &mut Side, buffer_type: BufferType, payload: &[u8]) {
    side.handle.send(buffer_type, Some(Buffer::Data(payload)), None).unwrap();
}

/// The first byte of each frame this side wrote (for checks on RSV1), walking frame headers.
fn first_bytes(wire: &[u8]) -> Vec<u8> {
    let mut at = 0;
    let mut out = Vec::new();
    while at + 2 <= wire.len() {
        out.push(wire[at]);
        let masked = wire[at + 1] & 0x80 != 0;
        let (len, header) = match wire[at + 1] & 0x7F {
            126 => (u16::from_be_bytes([wire[at + 2], wire[at + 3]]) as usize, 4),
            127 => (u64::from_be_bytes(wire[at + 2..at + 10].try_into().unwrap()) as usize, 10),
            n => (n as usize, 2),
        };
        at += header + if masked { 4 } else { 0 } + len;
    }
    out
}

#[test]
fn both_sides_negotiate_and_messages_round_trip_compressed() {
    let mut pair = open(&deflate_on(), &deflate_on());
    assert_eq!(pair.client.handle.extensions(), ["permessage-deflate"]);
    assert_eq!(pair.server.handle.extensions(), ["permessage-deflate"]);
    let negotiated = *pair.client.handle.permessage_deflate().unwrap();
    assert_eq!(negotiated.send, Direction { window_bits: 15, no_context_takeover: false });

    let json = br#"{"id":1,"name":"alpha","tags":["a","b"],"value":12.5}"#.repeat(200);
    send(&mut pair.client, BufferType::Utf8Message, &json);
    pair.run();
    send(&mut pair.server, BufferType::BinaryMessage, &json);
    pair.run();
    // Small messages go compressed too with context takeover (ws's rule).
    send(&mut pair.server, BufferType::Utf8Message, b"Hello");
    pair.run();
    assert_eq!(pair.server.messages(), vec![(BufferType::Utf8Message, json.clone())]);
    assert_eq!(
        pair.client.messages(),
        vec![(BufferType::BinaryMessage, json.clone()), (BufferType::Utf8Message, b"Hello".to_vec())]
    );
    // RSV1 set on every data frame here (each message is one frame), and the wire far smaller.
    assert_eq!(first_bytes(&pair.client.wrote), [0xC1]);
    assert_eq!(first_bytes(&pair.server.wrote), [0xC2, 0xC1]);
    assert!(pair.client.wrote.len() * 10 < json.len(), "{} bytes on the wire", pair.client.wrote.len());
}

#[test]
fn a_fragmented_compressed_send_sets_rsv1_on_its_first_frame_only() {
    let mut pair = open(&deflate_on(), &deflate_on());
    let text = "permessage-deflate — ".repeat(300);
    let (a, b) = text.as_bytes().split_at(1001); // inside a multi-byte character
    send(&mut pair.server, BufferType::Utf8Fragment, a);
    pair.run();
    send(&mut pair.server, BufferType::Utf8Fragment, b"");
    pair.run();
    send(&mut pair.server, BufferType::Utf8Message, b);
    pair.run();
    assert_eq!(first_bytes(&pair.server.wrote), [0x41, 0x00, 0x80]);
    assert_eq!(pair.client.messages(), vec![(BufferType::Utf8Message, text.into_bytes())]);
}

#[test]
fn compress_false_and_the_threshold_send_uncompressed_messages() {
    let props = [Property::PerMessageDeflate(true), Property::DeflateServerNoContextTakeover(true)];
    let mut pair = open(&deflate_on(), &props);
    // Without takeover on the server's side, ws's threshold (1024 by default) applies.
    send(&mut pair.server, BufferType::Utf8Message, b"short");
    pair.run();
    send(&mut pair.server, BufferType::Utf8Message, &[b'x'; 2000]);
    pair.run();
    let options = SendOptions { compress: false, ..SendOptions::default() };
    pair.server
        .handle
        .send_with_options(BufferType::BinaryMessage, Some(Buffer::Data(&[7; 2000])), None, options)
        .unwrap();
    pair.run();
    assert_eq!(first_bytes(&pair.server.wrote), [0x81, 0xC1, 0x82]);
    assert_eq!(
        pair.client.messages(),
        vec![
            (BufferType::Utf8Message, b"short".to_vec()),
            (BufferType::Utf8Message, vec![b'x'; 2000]),
            (BufferType::BinaryMessage, vec![7; 2000]),
        ]
    );
}

/// Bytes no compressor can shrink (a SplitMix64 stream).
fn incompressible(len: usize) -> Vec<u8> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    (0..len)
        .map(|_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            (z ^ (z >> 31)) as u8
        })
        .collect()
}

#[test]
fn an_incompressible_message_goes_uncompressed_without_context_takeover() {
    let props = [Property::PerMessageDeflate(true), Property::DeflateServerNoContextTakeover(true)];
    let mut pair = open(&deflate_on(), &props);
    let random = incompressible(4096);
    send(&mut pair.server, BufferType::BinaryMessage, &random);
    pair.run();
    send(&mut pair.server, BufferType::BinaryMessage, &[7; 4096]);
    pair.run();
    // Deflate would only grow the random message (stored blocks): without context takeover the
    // compressor starts afresh per message, so sending it as it is costs the peer nothing.
    assert_eq!(first_bytes(&pair.server.wrote), [0x82, 0xC2]);
    assert_eq!(
        pair.client.messages(),
        vec![(BufferType::BinaryMessage, random), (BufferType::BinaryMessage, vec![7; 4096])]
    );
}

#[test]
fn with_context_takeover_an_incompressible_message_still_goes_compressed() {
    // The compressor's window now holds the message: the peer's must too, so it goes compressed.
    let mut pair = open(&deflate_on(), &deflate_on());
    let random = incompressible(4096);
    send(&mut pair.server, BufferType::BinaryMessage, &random);
    pair.run();
    assert_eq!(first_bytes(&pair.server.wrote), [0xC2]);
    assert_eq!(pair.client.messages(), vec![(BufferType::BinaryMessage, random)]);
}

#[test]
fn negotiation_follows_each_sides_configuration() {
    // Deflate on one side only: no extension, plain frames.
    let mut pair = open(&deflate_on(), &[]);
    assert!(pair.client.handle.permessage_deflate().is_none() && pair.client.handle.extensions().is_empty());
    send(&mut pair.client, BufferType::Utf8Message, &[b'a'; 3000]);
    pair.run();
    assert_eq!(first_bytes(&pair.client.wrote), [0x81]);

    // Parameters from both configurations land in the agreed element on both sides.
    let client = [Property::PerMessageDeflate(true), Property::DeflateServerMaxWindowBits(10)];
    let server = [
        Property::PerMessageDeflate(true),
        Property::DeflateClientNoContextTakeover(true),
        Property::DeflateClientMaxWindowBits(9),
    ];
    let pair = open(&client, &server);
    let agreed = "permessage-deflate; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=9";
    assert_eq!(pair.client.handle.extensions(), [agreed]);
    assert_eq!(pair.server.handle.extensions(), [agreed]);
    let client_view = pair.client.handle.permessage_deflate().unwrap();
    assert_eq!(client_view.send, Direction { window_bits: 9, no_context_takeover: true });
    assert_eq!(client_view.receive, Direction { window_bits: 10, no_context_takeover: false });
}

#[test]
fn the_application_cannot_offer_or_select_permessage_deflate_as_a_string() {
    let mut client = Handle::with_random(Role::Client, &[], Box::new(SeededRandom::new(1))).unwrap();
    let error = client.begin_client_handshake(&[], &["permessage-deflate"], &[]).unwrap_err();
    assert_eq!(error.code(), "INVALID_ARGUMENT");
    assert_eq!(client.state(), State::Connecting, "the handle is unchanged");
    let mut client = Handle::with_random(Role::Client, &deflate_on(), Box::new(SeededRandom::new(1))).unwrap();
    let mut request = client.begin_client_handshake(&[], &[], &[]).unwrap();
    request.push(("Host".into(), "x".into()));
    let mut server = Handle::with_random(Role::Server, &[], Box::new(SeededRandom::new(2))).unwrap();
    let error = server.begin_server_handshake(None, &["permessage-deflate"], &request).unwrap_err();
    assert_eq!(error.code(), "INVALID_ARGUMENT");
}

#[test]
fn a_client_fails_the_handshake_on_a_response_that_breaks_rfc_7692() {
    let responses = [
        ("permessage-deflate; server_max_window_bits=7", 0x8376_0002u32),
        ("permessage-deflate; client_max_window_bits", 0x8376_0002),
        // The engine's RFC 6455 4.1 check sees the second element first: accepted twice, so not offered.
        ("permessage-deflate, permessage-deflate", 0x8376_0003),
        ("permessage-deflate; x-unknown", 0x8376_0002),
    ];
    for (extensions, hresult) in responses {
        let mut client = Handle::with_random(Role::Client, &deflate_on(), Box::new(SeededRandom::new(1))).unwrap();
        let mut request = client.begin_client_handshake(&[], &[], &[]).unwrap();
        request.push(("Host".into(), "x".into()));
        let mut server = Handle::with_random(Role::Server, &[], Box::new(SeededRandom::new(2))).unwrap();
        let mut response = server.begin_server_handshake(None, &[], &request).unwrap();
        response.push(("Sec-WebSocket-Extensions".into(), extensions.into()));
        let error = client.end_client_handshake(&response).unwrap_err();
        assert_eq!((error.code(), error.hresult()), ("HANDSHAKE_FAILED", hresult), "{extensions}: {error}");
        assert_eq!(client.state(), State::Closed, "{extensions}");
    }
    // A client that asked the server to reset its window fails over a response that ignores it (1010's case).
    let props = [Property::PerMessageDeflate(true), Property::DeflateServerNoContextTakeover(true)];
    let mut client = Handle::with_random(Role::Client, &props, Box::new(SeededRandom::new(1))).unwrap();
    let mut request = client.begin_client_handshake(&[], &[], &[]).unwrap();
    request.push(("Host".into(), "x".into()));
    let mut server = Handle::with_random(Role::Server, &[], Box::new(SeededRandom::new(2))).unwrap();
    let mut response = server.begin_server_handshake(None, &[], &request).unwrap();
    response.push(("Sec-WebSocket-Extensions".into(), "permessage-deflate".into()));
    let error = client.end_client_handshake(&response).unwrap_err();
    assert_eq!(error.hresult(), hresult::E_PROTOCOL_EXTENSIONS_NOT_SUPPORTED, "{error}");
}

#[test]
fn a_server_rejects_an_extensions_header_that_does_not_parse_with_400() {
    let mut server = Handle::with_random(Role::Server, &deflate_on(), Box::new(SeededRandom::new(2))).unwrap();
    let mut client = Handle::with_random(Role::Client, &[], Box::new(SeededRandom::new(1))).unwrap();
    let mut request = client.begin_client_handshake(&[], &[], &[]).unwrap();
    request.push(("Host".into(), "x".into()));
    request.push(("Sec-WebSocket-Extensions".into(), "permessage-deflate; x=\"a b\"".into()));
    let error = server.begin_server_handshake(None, &[], &request).unwrap_err();
    assert_eq!(error.http_status(), Some(400), "{error}");
}

/// A client handle whose handshake agreed permessage-deflate with a hand-driven server, so the
/// test writes the server's frames itself.
fn client_with_deflate(extra: &[Property]) -> Pair {
    let mut props = deflate_on();
    props.extend_from_slice(extra);
    open(&props, &deflate_on())
}

#[test]
fn the_rfc_7692_example_frames_arrive_as_hello() {
    let frames: &[&[u8]] = &[
        // 7.2.3.1: one frame.
        &[0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00],
        // 7.2.3.1: two fragments, RSV1 on the first only.
        &[0x41, 0x03, 0xf2, 0x48, 0xcd, 0x80, 0x04, 0xc9, 0xc9, 0x07, 0x00],
        // 7.2.3.2: "Hello" again, referring to the previous message's window.
        &[0xc1, 0x05, 0xf2, 0x00, 0x11, 0x00, 0x00],
        // 7.2.3.3: a stored block.
        &[0xc1, 0x0b, 0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00],
        // 7.2.3.4: BFINAL set.
        &[0xc1, 0x08, 0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00],
    ];
    for schedule in [Schedule::whole(), Schedule::bytewise()] {
        let mut pair = client_with_deflate(&[]);
        pair.client.schedule = schedule;
        for frame in frames {
            pair.client.wire_in.extend_from_slice(frame);
        }
        pair.run();
        assert_eq!(pair.client.messages(), vec![(BufferType::Utf8Message, b"Hello".to_vec()); 5]);
    }
}

/// The violation a side failed with, as (its code, the close code the harness saw).
fn failure(side: &Side) -> Option<(&'static str, Option<u16>)> {
    let close_code = side.events.iter().find_map(|e| match e {
        Event::Failed { close_code, .. } => Some(*close_code),
        _ => None,
    })?;
    Some((side.handle.failure()?.violation()?.code(), close_code))
}

#[test]
fn rsv1_in_the_wrong_place_fails_the_connection() {
    let cases: &[(&[u8], &str, u16)] = &[
        // RFC 7692 6.1: not on control frames.
        (&[0xC9, 0x00], "COMPRESSED_CONTROL_FRAME", 1002),
        (&[0xC8, 0x02, 0x03, 0xE8], "COMPRESSED_CONTROL_FRAME", 1002),
        // RFC 7692 6.1: not on a non-first fragment.
        (&[0x41, 0x03, 0xf2, 0x48, 0xcd, 0xC0, 0x04, 0xc9, 0xc9, 0x07, 0x00], "COMPRESSED_CONTINUATION", 1002),
        // RSV2 and RSV3 stay reserved (RFC 6455 5.2).
        (&[0xA1, 0x00], "RESERVED_BITS_SET", 1002),
        // Compressed data that is not DEFLATE (BTYPE 11 is reserved): 1007, as ws.
        (&[0xC1, 0x03, 0xff, 0xff, 0xff], "INVALID_COMPRESSED_DATA", 1007),
        // A text message that inflates to bytes that are not UTF-8.
        (&[0xC1, 0x06, 0x00, 0x01, 0x00, 0xfe, 0xff, 0xc0], "INVALID_UTF8", 1007),
    ];
    for (frame, code, close_code) in cases {
        let mut pair = client_with_deflate(&[]);
        pair.client.wire_in.extend_from_slice(frame);
        pair.run();
        assert_eq!(failure(&pair.client), Some((*code, Some(*close_code))), "{frame:02x?}");
    }
    // Without the extension RSV1 is a reserved bit like the others (RFC 6455 5.2).
    let mut pair = open(&[], &[]);
    pair.client.wire_in.extend_from_slice(&[0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]);
    pair.run();
    assert_eq!(failure(&pair.client), Some(("RESERVED_BITS_SET", Some(1002))));
}

/// A compressed message of `megabytes` MiB of zeros, as one frame's payload.
fn zeros_payload(megabytes: usize) -> Vec<u8> {
    let mut payload = Vec::new();
    MessageCompressor::new(Direction { window_bits: 15, no_context_takeover: false }, 9, 9)
        .compress_message(&vec![0u8; megabytes << 20], &mut payload)
        .unwrap();
    payload
}

#[test]
fn a_compressed_message_is_charged_what_it_inflates_to() {
    let limit = 4 << 20;
    let bomb = zeros_payload(64); // about 64 KiB on the wire
    assert!(bomb.len() < 100 * 1024);
    let mut pair = client_with_deflate(&[Property::MaxMessageSize(limit)]);
    pair.client.wire_in.extend_from_slice(&server_frame(0xC2, &bomb));
    pair.run();
    assert_eq!(failure(&pair.client), Some(("MESSAGE_TOO_BIG", Some(1009))));
    let delivered: usize = pair
        .client
        .events
        .iter()
        .map(|e| match e {
            Event::Received { bytes, .. } => bytes.len(),
            _ => 0,
        })
        .sum();
    assert!(delivered as u64 <= limit, "{delivered} bytes indicated");

    // The same limit lets a message that inflates to just under it through, in buffer-sized pieces.
    let mut pair = client_with_deflate(&[Property::MaxMessageSize(limit)]);
    pair.client.wire_in.extend_from_slice(&server_frame(0xC2, &zeros_payload(3)));
    pair.run();
    assert_eq!(failure(&pair.client), None);
    assert_eq!(pair.client.messages(), vec![(BufferType::BinaryMessage, vec![0u8; 3 << 20])]);
    assert!(pair.client.received().len() > 700, "pieces of at most the 4096-byte receive buffer");
}

#[test]
fn a_fragmented_compressed_bomb_fails_at_the_limit() {
    // Fragments of about 1 KiB that inflate to 1 MiB each; the 5th crosses 4 MiB.
    let mut compressor = MessageCompressor::new(Direction { window_bits: 15, no_context_takeover: false }, 9, 9);
    let mut pair = client_with_deflate(&[Property::MaxMessageSize(4 << 20)]);
    for i in 0..10 {
        let mut piece = Vec::new();
        compressor.compress(&vec![0u8; 1 << 20], false, &mut piece).unwrap();
        assert!(piece.len() < 2048);
        let first_byte = if i == 0 { 0x42 } else { 0x00 };
        pair.client.wire_in.extend_from_slice(&server_frame(first_byte, &piece));
    }
    pair.run();
    assert_eq!(failure(&pair.client), Some(("MESSAGE_TOO_BIG", Some(1009))));
}

#[test]
fn the_transform_is_freed_when_the_handle_closes() {
    let mut pair = open(&deflate_on(), &deflate_on());
    send(&mut pair.client, BufferType::Utf8Message, b"compressed");
    pair.run();
    assert!(pair.client.handle.permessage_deflate().is_some());
    pair.client.handle.send(BufferType::Close, Some(Buffer::CloseStatus { status: 1000, reason: b"" }), None).unwrap();
    pair.run();
    pair.server.handle.send(BufferType::Close, None, None).unwrap();
    pair.run();
    assert_eq!(pair.client.handle.state(), State::Closed);
    assert!(pair.client.handle.permessage_deflate().is_none());
    assert!(pair.server.handle.permessage_deflate().is_none());
}
