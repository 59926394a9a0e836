//! One test per peer violation (RFC 6455 section 5): the handle fails the connection with the
//! right close code, returns a typed remote error naming the rule, and queues the failing close.

mod common;
use common::*;
use wsaction::*;

/// Feeds `wire` to a fresh open server (or client) and returns (error, bytes the handle wrote).
fn feed(role: Role, props: &[Property], wire: &[u8], split: usize) -> (Error, Vec<u8>) {
    let mut pair = Pair::open(props, props);
    let side = match role {
        Role::Server => &mut pair.server,
        Role::Client => &mut pair.client,
    };
    side.schedule = Schedule::of(vec![split]);
    side.wire_in.extend_from_slice(wire);
    let mut out = Vec::new();
    side.drain(&mut out);
    let failure = side.events.iter().find_map(|e| match e {
        Event::Failed { .. } => side.handle.failure().cloned(),
        _ => None,
    });
    let error = failure.unwrap_or_else(|| panic!("no failure; events {:?}", side.events));
    assert_eq!(side.handle.state(), State::Closed);
    (error, out)
}

fn expect_violation(role: Role, props: &[Property], wire: &[u8], violation: Violation) {
    for split in [0, 1] {
        let (error, out) = feed(role, props, wire, split);
        assert!(error.is_remote(), "{error}");
        assert_eq!(error.code(), "PROTOCOL_VIOLATION");
        assert_eq!(error.violation(), Some(&violation));
        let code = violation.close_code();
        assert_eq!(error.close_code(), Some(code));
        assert!(error.to_string().contains("RFC 6455") || error.to_string().contains("limit"), "{error}");
        // The failing close frame went out with the code (masked when a client sends it).
        assert_eq!(out[0], 0x88, "close frame first");
        let payload: Vec<u8> = if role == Role::Client {
            let key = [out[2], out[3], out[4], out[5]];
            out[6..].iter().enumerate().map(|(i, b)| b ^ key[i % 4]).collect()
        } else {
            out[2..].to_vec()
        };
        assert_eq!(u16::from_be_bytes([payload[0], payload[1]]), code);
        assert_eq!(&payload[2..], violation.code().as_bytes());
    }
}

#[test]
fn rsv_bits_without_extension() {
    expect_violation(Role::Server, &[], &client_frame(0xC1, b"x"), Violation::ReservedBitsSet { bits: 0b100 });
    expect_violation(Role::Client, &[], &server_frame(0x92, b"x"), Violation::ReservedBitsSet { bits: 0b001 });
}

#[test]
fn reserved_opcodes() {
    for opcode in [0x3u8, 0x7, 0xB, 0xF] {
        expect_violation(Role::Server, &[], &client_frame(0x80 | opcode, b""), Violation::ReservedOpcode { opcode });
    }
}

#[test]
fn control_frame_over_125_bytes() {
    expect_violation(
        Role::Server,
        &[],
        &client_frame(0x89, &[0u8; 126]),
        Violation::ControlFrameTooLong { length: 126 },
    );
}

#[test]
fn fragmented_control_frame() {
    expect_violation(Role::Server, &[], &client_frame(0x09, b""), Violation::FragmentedControlFrame { opcode: 9 });
}

#[test]
fn continuation_without_a_message() {
    expect_violation(Role::Server, &[], &client_frame(0x80, b"x"), Violation::UnexpectedContinuation);
}

#[test]
fn new_data_frame_inside_a_fragmented_message() {
    let mut wire = client_frame(0x01, b"part");
    wire.extend(client_frame(0x82, b"new"));
    expect_violation(Role::Server, &[], &wire, Violation::DataFrameInsideMessage { opcode: 2 });
}

#[test]
fn unmasked_client_frame_at_a_server() {
    expect_violation(Role::Server, &[], &server_frame(0x81, b"hi"), Violation::UnmaskedClientFrame);
}

#[test]
fn masked_server_frame_at_a_client() {
    expect_violation(Role::Client, &[], &client_frame(0x81, b"hi"), Violation::MaskedServerFrame);
}

#[test]
fn sixty_four_bit_length_with_top_bit() {
    let wire = [0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4];
    expect_violation(Role::Server, &[], &wire, Violation::LengthTopBitSet);
}

#[test]
fn close_payload_of_one_byte() {
    expect_violation(Role::Server, &[], &client_frame(0x88, &[0x03]), Violation::CloseFrameOneByte);
}

#[test]
fn close_codes_that_may_not_be_sent() {
    for code in [0u16, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000] {
        expect_violation(
            Role::Server,
            &[],
            &client_frame(0x88, &code.to_be_bytes()),
            Violation::InvalidCloseCode { code },
        );
    }
}

#[test]
fn invalid_utf8_in_text_fails_at_the_first_bad_byte() {
    // The frame claims 1000 bytes; only the valid prefix and the bad byte arrive. The failure must
    // come now, not when the message would end.
    let mut payload = "κόσμε".as_bytes().to_vec();
    payload.extend_from_slice(&[0xF4, 0x90]);
    let mut wire = client_frame(0x81, &[0u8; 1000]);
    let key = [0x11, 0x22, 0x33, 0x44];
    let header_len = wire.len() - 1000;
    wire.truncate(header_len);
    wire.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    expect_violation(Role::Server, &[], &wire, Violation::InvalidUtf8InText);
    // Also across fragments: a code point left incomplete at the final fragment.
    let mut wire = client_frame(0x01, &[0xE2, 0x82]);
    wire.extend(client_frame(0x80, b""));
    expect_violation(Role::Server, &[], &wire, Violation::InvalidUtf8InText);
}

#[test]
fn invalid_utf8_in_close_reason() {
    expect_violation(
        Role::Server,
        &[],
        &client_frame(0x88, &[0x03, 0xE8, 0xC3, 0x28]),
        Violation::InvalidUtf8InCloseReason,
    );
}

#[test]
fn frame_over_the_frame_limit() {
    let props = [Property::MaxFrameSize(1000)];
    expect_violation(
        Role::Server,
        &props,
        &client_frame(0x82, &[0u8; 1001]),
        Violation::FrameTooBig { length: 1001, limit: 1000 },
    );
}

#[test]
fn message_over_the_message_limit_summed_over_fragments() {
    let props = [Property::MaxMessageSize(1000)];
    let mut wire = client_frame(0x02, &[0u8; 600]);
    wire.extend(client_frame(0x80, &[0u8; 600]));
    expect_violation(Role::Server, &props, &wire, Violation::MessageTooBig { limit: 1000 });
}

#[test]
fn flood_of_empty_fragments_hits_the_message_budget() {
    // Each fragment is charged 64 bytes: 20 empty fragments cost 1216 > 1000.
    let props = [Property::MaxMessageSize(1000)];
    let mut wire = client_frame(0x02, b"");
    for _ in 0..20 {
        wire.extend(client_frame(0x00, b""));
    }
    expect_violation(Role::Server, &props, &wire, Violation::MessageTooBig { limit: 1000 });
}

#[test]
fn too_many_fragments() {
    let props = [Property::MaxFragments(3)];
    let mut wire = client_frame(0x02, b"a");
    for _ in 0..3 {
        wire.extend(client_frame(0x00, b"b"));
    }
    expect_violation(Role::Server, &props, &wire, Violation::TooManyFragments { limit: 3 });
}

#[test]
fn a_violation_after_our_close_sends_no_second_close() {
    let mut pair = Pair::open(&[], &[]);
    pair.server.handle.send(BufferType::Close, None, None).unwrap();
    pair.run();
    pair.client.wire_in.clear();
    let before = pair.server.wrote.len();
    pair.server.wire_in.extend(client_frame(0x83, b""));
    pair.run();
    assert_eq!(pair.server.handle.state(), State::Closed);
    assert_eq!(pair.server.wrote.len(), before, "no frame after our close");
    assert_eq!(pair.server.handle.failure().unwrap().close_code(), Some(1002));
}

#[test]
fn handshake_rejections_carry_the_status_to_answer() {
    let mut server = Handle::with_random(Role::Server, &[], Box::new(SeededRandom::new(2))).unwrap();
    let request = vec![
        ("Host".to_string(), "x".to_string()),
        ("Upgrade".to_string(), "websocket".to_string()),
        ("Connection".to_string(), "Upgrade".to_string()),
        ("Sec-WebSocket-Key".to_string(), "dGhlIHNhbXBsZSBub25jZQ==".to_string()),
        ("Sec-WebSocket-Version".to_string(), "8".to_string()),
    ];
    let err = server.begin_server_handshake(None, &[], &request).unwrap_err();
    assert!(err.is_remote());
    assert_eq!(err.http_status(), Some(426));
    assert_eq!(err.http_headers(), &[("Sec-WebSocket-Version".to_string(), "13".to_string())]);
    assert_eq!(err.hresult(), hresult::E_PROTOCOL_VERSION_NOT_SUPPORTED);
    assert_eq!(server.state(), State::Closed);

    // Over the header budget: 431.
    let mut server =
        Handle::with_random(Role::Server, &[Property::MaxHandshakeHeaders(8)], Box::new(SeededRandom::new(2))).unwrap();
    let many: Vec<Header> = (0..9).map(|i| (format!("X-{i}"), "v".to_string())).collect();
    assert_eq!(server.begin_server_handshake(None, &[], &many).unwrap_err().http_status(), Some(431));

    // A client whose server answers with a wrong accept key fails with a remote error.
    let mut client = Handle::with_random(Role::Client, &[], Box::new(SeededRandom::new(1))).unwrap();
    client.begin_client_handshake(&[], &[], &[]).unwrap();
    let response = vec![
        ("Upgrade".to_string(), "websocket".to_string()),
        ("Connection".to_string(), "Upgrade".to_string()),
        ("Sec-WebSocket-Accept".to_string(), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".to_string()),
    ];
    let err = client.end_client_handshake(&response).unwrap_err();
    assert!(err.is_remote());
    assert_eq!(err.hresult(), hresult::E_INVALID_PROTOCOL_FORMAT);
    assert_eq!(client.state(), State::Closed);
}
