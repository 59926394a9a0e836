//! Pair-harness scenarios: a client and a server handle talking through the in-memory network.

mod common;
use common::*;
use wsaction::*;

fn send(side: &mut Side, buffer_type: BufferType, data: &[u8]) {
    side.handle.send(buffer_type, Some(Buffer::Data(data)), None).unwrap();
}

fn close(side: &mut Side, status: u16, reason: &str) {
    side.handle.send(BufferType::Close, Some(Buffer::CloseStatus { status, reason: reason.as_bytes() }), None).unwrap();
}

#[test]
fn handshake_negotiates_subprotocol_and_opens_both_sides() {
    let mut pair = Pair::connecting(&[], &[]);
    assert_eq!(pair.client.handle.state(), State::Connecting);
    pair.handshake(&["chat", "superchat"], Some("superchat"));
    assert_eq!(pair.client.handle.state(), State::Open);
    assert_eq!(pair.server.handle.state(), State::Open);
    assert_eq!(pair.client.handle.subprotocol(), Some("superchat"));
    assert_eq!(pair.server.handle.subprotocol(), Some("superchat"));
}

#[test]
fn text_and_binary_of_every_boundary_size_arrive_intact_both_ways() {
    let sizes = [0usize, 1, 125, 126, 65535, 65536];
    for schedule in [Schedule::whole(), Schedule::of(vec![1, 3, 4096, 7])] {
        let props = [Property::ReceiveBufferSize(4096)];
        let mut pair = Pair::open(&props, &props);
        pair.client.schedule = schedule.clone();
        pair.server.schedule = schedule.clone();
        let mut expected = Vec::new();
        for &size in &sizes {
            let text: Vec<u8> = "aé€".bytes().cycle().take(size).collect::<Vec<_>>();
            // Cut the text on a code point boundary so it stays valid UTF-8.
            let text = String::from_utf8_lossy(&text).into_owned().into_bytes();
            let binary: Vec<u8> = (0..size).map(|i| (i * 7 % 251) as u8).collect();
            send(&mut pair.client, BufferType::Utf8Message, &text);
            pair.run();
            send(&mut pair.client, BufferType::BinaryMessage, &binary);
            pair.run();
            send(&mut pair.server, BufferType::BinaryMessage, &binary);
            pair.run();
            expected.push((BufferType::Utf8Message, text));
            expected.push((BufferType::BinaryMessage, binary.clone()));
        }
        assert_eq!(pair.server.messages(), expected);
        let client_got: Vec<_> = pair.client.messages();
        assert_eq!(client_got.len(), sizes.len());
        for (got, &size) in client_got.iter().zip(&sizes) {
            assert_eq!(got.1.len(), size);
        }
    }
}

#[test]
fn sixteen_mib_message_arrives_in_receive_buffer_pieces() {
    let props = [Property::ReceiveBufferSize(64 * 1024), Property::SendBufferSize(1 << 20)];
    let mut pair = Pair::open(&props, &props);
    let payload: Vec<u8> = (0..16 * 1024 * 1024).map(|i: usize| (i % 253) as u8).collect();
    send(&mut pair.client, BufferType::BinaryMessage, &payload);
    pair.run();
    let pieces = pair.server.received();
    assert_eq!(pieces.len(), 256, "16 MiB / 64 KiB");
    for (i, piece) in pieces.iter().enumerate() {
        let Event::Received { buffer_type, bytes, .. } = piece else { unreachable!() };
        let last = i == pieces.len() - 1;
        assert_eq!(*buffer_type, if last { BufferType::BinaryMessage } else { BufferType::BinaryFragment });
        assert_eq!(bytes.len(), 64 * 1024);
    }
    assert_eq!(pair.server.messages(), vec![(BufferType::BinaryMessage, payload)]);
    // The masked client frame went out in send-buffer-sized actions: 16 MiB / 1 MiB + the header's.
    assert!(pair.client.wrote.len() == 16 * 1024 * 1024 + 14);
}

#[test]
fn fragmented_sends_reassemble_and_types_may_not_change_mid_message() {
    let mut pair = Pair::open(&[], &[]);
    send(&mut pair.client, BufferType::BinaryFragment, b"ab");
    pair.run();
    let mixed = pair.client.handle.send(BufferType::Utf8Message, Some(Buffer::Data(b"x")), None);
    assert_eq!(mixed.unwrap_err().code(), "INVALID_ARGUMENT");
    send(&mut pair.client, BufferType::BinaryFragment, b"");
    pair.run();
    // A ping between fragments is a control frame and may interleave (RFC 6455 5.4).
    pair.client.handle.send(BufferType::PingPong, Some(Buffer::Data(b"mid")), None).unwrap();
    pair.run();
    send(&mut pair.client, BufferType::BinaryMessage, b"cd");
    pair.run();
    assert_eq!(pair.server.messages(), vec![(BufferType::BinaryMessage, b"abcd".to_vec())]);
    // The client got the engine's pong for its ping.
    assert!(pair.client.events.iter().any(|e| matches!(e,
        Event::Received { buffer_type: BufferType::PingPong, bytes, .. } if bytes == b"mid")));
    // Wire check: first frame opcode binary without FIN, the rest continuations.
    assert_eq!(pair.client.wrote[0], 0x02);
}

#[test]
fn utf8_text_split_across_fragments_mid_code_point_is_accepted() {
    let mut pair = Pair::open(&[], &[]);
    let euro = "€".as_bytes();
    send(&mut pair.client, BufferType::Utf8Fragment, &euro[..1]);
    send_after_run(&mut pair, BufferType::Utf8Fragment, &euro[1..2]);
    send_after_run(&mut pair, BufferType::Utf8Message, &euro[2..]);
    pair.run();
    assert_eq!(pair.server.messages(), vec![(BufferType::Utf8Message, euro.to_vec())]);
    // But a message may not end inside a code point.
    send(&mut pair.client, BufferType::Utf8Fragment, &euro[..1]);
    pair.run();
    let err = pair.client.handle.send(BufferType::Utf8Message, Some(Buffer::Data(b"")), None).unwrap_err();
    assert_eq!(err.code(), "INVALID_ARGUMENT");
}

fn send_after_run(pair: &mut Pair, buffer_type: BufferType, data: &[u8]) {
    pair.run();
    send(&mut pair.client, buffer_type, data);
}

#[test]
fn small_receive_buffer_delivers_fragments_then_message_on_code_point_boundaries() {
    let mut pair = Pair::open(&[], &[Property::ReceiveBufferSize(256)]);
    let text = "€".repeat(300); // 900 bytes, 3 per code point
    send(&mut pair.client, BufferType::Utf8Message, text.as_bytes());
    pair.run();
    let pieces = pair.server.received();
    let mut joined = Vec::new();
    for (i, piece) in pieces.iter().enumerate() {
        let Event::Received { buffer_type, bytes, .. } = piece else { unreachable!() };
        assert!(bytes.len() <= 256);
        assert!(std::str::from_utf8(bytes).is_ok(), "piece {i} is valid UTF-8 on its own");
        let last = i == pieces.len() - 1;
        assert_eq!(*buffer_type, if last { BufferType::Utf8Message } else { BufferType::Utf8Fragment });
        joined.extend_from_slice(bytes);
    }
    assert_eq!(joined, text.as_bytes());
    assert_eq!(pieces.len(), 4); // 255 + 255 + 255 + 135
}

#[test]
fn ping_is_answered_by_the_engine_on_the_receive_queue_without_context() {
    let mut pair = Pair::open(&[], &[]);
    pair.client.handle.send(BufferType::PingPong, Some(Buffer::Data(b"p")), Some(5)).unwrap();
    // Drive the server by hand to see where the pong comes from.
    pair.client.drain(&mut pair.server.wire_in);
    let server = &mut pair.server.handle;
    let read = server.get_action(ActionQueue::Receive).unwrap().record();
    assert_eq!(read.kind, ActionKind::ReceiveFromNetwork);
    let (id, wire) = (read.id, std::mem::take(&mut pair.server.wire_in));
    server.complete_receive(id, &wire).unwrap();
    assert_eq!(server.get_action(ActionQueue::Send).unwrap().record().kind, ActionKind::NoAction);
    let pong = server.get_action(ActionQueue::Receive).unwrap().record();
    assert_eq!(pong.kind, ActionKind::SendToNetwork);
    assert_eq!(pong.queue, ActionQueue::Receive);
    assert_eq!(pong.context, None);
    assert_eq!(pong.bytes, &[0x8A, 0x01, b'p']);
    let (id, n) = (pong.id, pong.bytes.len());
    server.complete_action(id, n).unwrap();
    pair.client.wire_in.extend_from_slice(&[0x8A, 0x01, b'p']);
    pair.run();
    assert!(pair.client.events.contains(&Event::SendComplete { buffer_type: BufferType::PingPong, context: Some(5) }));
    assert!(pair.client.events.iter().any(|e| matches!(e,
        Event::Received { buffer_type: BufferType::PingPong, bytes, .. } if bytes == b"p")));
}

#[test]
fn unsolicited_pong_is_indicated_and_not_answered() {
    let mut pair = Pair::open(&[], &[]);
    pair.server.handle.send(BufferType::UnsolicitedPong, None, None).unwrap();
    pair.run();
    assert_eq!(pair.server.wrote, vec![0x8A, 0x00]);
    assert!(pair.client.wrote.is_empty());
    assert_eq!(pair.client.received().len(), 1);
}

#[test]
fn close_started_by_client_then_server() {
    let mut pair = Pair::open(&[], &[]);
    close(&mut pair.client, 1000, "done");
    pair.run();
    assert_eq!(pair.client.handle.state(), State::CloseSent);
    assert_eq!(pair.server.handle.state(), State::CloseReceived);
    assert!(pair.server.events.contains(&Event::Received {
        buffer_type: BufferType::Close,
        bytes: b"done".to_vec(),
        close_status: Some(1000),
        context: None
    }));
    // Receiving after the peer's close is not allowed; sending data still is until we close.
    assert_eq!(pair.server.handle.receive(None).unwrap_err().code(), "INVALID_STATE");
    send(&mut pair.server, BufferType::Utf8Message, b"last words");
    pair.run();
    close(&mut pair.server, 1000, "");
    pair.run();
    assert_eq!(pair.client.handle.state(), State::Closed);
    assert_eq!(pair.server.handle.state(), State::Closed);
    assert_eq!(pair.client.messages(), vec![(BufferType::Utf8Message, b"last words".to_vec())]);
}

#[test]
fn close_started_by_server_then_client_and_simultaneous_close() {
    let mut pair = Pair::open(&[], &[]);
    close(&mut pair.server, 1001, "bye");
    pair.run();
    close(&mut pair.client, 1001, "");
    pair.run();
    assert_eq!((pair.client.handle.state(), pair.server.handle.state()), (State::Closed, State::Closed));

    // Both close at once: each sees the other's close after sending its own.
    let mut pair = Pair::open(&[], &[]);
    pair.client.handle.send(BufferType::Close, None, None).unwrap();
    close(&mut pair.server, 1000, "");
    pair.run();
    assert_eq!((pair.client.handle.state(), pair.server.handle.state()), (State::Closed, State::Closed));
    assert!(pair.server.events.iter().any(|e| matches!(e, Event::Received { close_status: Some(1005), .. })));
}

#[test]
fn data_after_our_close_is_refused_but_control_frames_go() {
    let mut pair = Pair::open(&[], &[]);
    close(&mut pair.client, 1000, "");
    pair.run();
    let err = pair.client.handle.send(BufferType::BinaryMessage, Some(Buffer::Data(b"x")), None).unwrap_err();
    assert_eq!(err.code(), "INVALID_STATE");
    assert!(err.is_local());
    pair.client.handle.send(BufferType::PingPong, None, None).unwrap();
    pair.run();
    let second = pair.client.handle.send(BufferType::Close, None, None).unwrap_err();
    assert_eq!(second.code(), "INVALID_STATE");
}

#[test]
fn abort_drains_queued_work_and_refuses_new_work() {
    let mut pair = Pair::open(&[], &[]);
    send(&mut pair.client, BufferType::BinaryMessage, b"queued");
    pair.client.handle.abort();
    pair.run();
    assert_eq!(pair.client.handle.state(), State::Aborted);
    assert!(pair
        .client
        .events
        .contains(&Event::SendComplete { buffer_type: BufferType::BinaryMessage, context: None }));
    assert!(pair.client.events.iter().any(|e| matches!(e, Event::Received { close_status: Some(1006), .. })));
    assert!(pair.server.messages().is_empty(), "an aborted send is not written");
    assert_eq!(pair.client.handle.receive(None).unwrap_err().code(), "INVALID_STATE");
    assert_eq!(pair.client.handle.send(BufferType::BinaryMessage, None, None).unwrap_err().code(), "INVALID_STATE");
}

#[test]
fn keepalive_pings_after_idle_interval_and_times_out_a_silent_peer() {
    let props = [Property::KeepAliveInterval(10_000), Property::KeepAliveTimeout(5_000)];
    let mut pair = Pair::open(&[], &props);
    assert_eq!(pair.server.handle.next_deadline(), Some(10_000));
    pair.tick(9_999);
    assert!(pair.server.wrote.is_empty());
    pair.tick(10_000);
    assert_eq!(pair.server.wrote, vec![0x89, 0x00], "an empty ping");
    // The client's engine answered; the pong reset the server's keep-alive.
    assert!(pair.server.events.iter().any(|e| matches!(e, Event::Received { buffer_type: BufferType::PingPong, .. })));
    assert_eq!(pair.server.handle.next_deadline(), Some(20_000));

    // Now a client that stops answering: the server fails the connection with 1011 after the timeout.
    pair.client.handle.abort();
    pair.tick(20_000);
    pair.client.wire_in.clear();
    assert_eq!(pair.server.handle.next_deadline(), Some(25_000));
    pair.server.handle.tick(25_000);
    pair.server.drain(&mut pair.client.wire_in);
    assert_eq!(pair.server.handle.state(), State::Closed);
    let failure = pair.server.handle.failure().unwrap();
    assert_eq!((failure.code(), failure.close_code()), ("TIMEOUT", Some(1011)));
    assert_eq!(&pair.client.wire_in[..4], &[0x88, 0x14, 0x03, 0xF3], "close 1011 went out");
}

#[test]
fn keepalive_can_send_unsolicited_pongs_instead() {
    let props = [Property::KeepAliveInterval(1_000), Property::KeepAliveMode(KeepAliveMode::UnsolicitedPong)];
    let mut pair = Pair::open(&props, &[]);
    pair.tick(1_000);
    pair.tick(2_000);
    // Two masked empty pongs from the client (2-byte header + 4-byte key each), nothing back.
    assert_eq!(pair.client.wrote.len(), 12);
    assert_eq!(pair.client.wrote[0], 0x8A);
    assert!(pair.server.wrote.is_empty());
}

#[test]
fn close_timeout_gives_up_with_1006() {
    let mut pair = Pair::open(&[Property::CloseTimeout(3_000)], &[]);
    close(&mut pair.client, 1000, "");
    pair.run();
    pair.tick(2_999);
    assert_eq!(pair.client.handle.state(), State::CloseSent);
    pair.tick(3_000);
    assert_eq!(pair.client.handle.state(), State::Closed);
    assert_eq!(pair.client.handle.failure().unwrap().code(), "TIMEOUT");
    assert!(pair.client.events.iter().any(|e| matches!(e, Event::Received { close_status: Some(1006), .. })));
}

#[test]
fn handshake_timeout_closes_a_handle_that_never_finishes() {
    let mut pair = Pair::connecting(&[Property::HandshakeTimeout(5_000)], &[]);
    pair.client.handle.begin_client_handshake(&[], &[], &[]).unwrap();
    assert_eq!(pair.client.handle.next_deadline(), Some(5_000));
    pair.client.handle.tick(5_000);
    assert_eq!(pair.client.handle.state(), State::Closed);
    assert_eq!(pair.client.handle.failure().unwrap().code(), "TIMEOUT");
    assert_eq!(pair.client.handle.end_client_handshake(&[]).unwrap_err().code(), "INVALID_STATE");
}

#[test]
fn peer_ending_the_stream_is_a_1006_close() {
    let mut pair = Pair::open(&[], &[]);
    pair.run();
    let (id, _) = pair.server.handle.outstanding_receive().expect("the server waits for bytes");
    pair.server.handle.complete_action(id, 0).unwrap();
    pair.run();
    assert_eq!(pair.server.handle.state(), State::Closed);
    assert!(pair.server.events.iter().any(|e| matches!(e, Event::Received { close_status: Some(1006), .. })));
}

#[test]
fn client_frames_are_masked_with_a_fresh_key_and_server_frames_are_not() {
    let mut pair = Pair::open(&[], &[]);
    send(&mut pair.client, BufferType::BinaryMessage, b"same");
    pair.run();
    send(&mut pair.client, BufferType::BinaryMessage, b"same");
    pair.run();
    let wrote = &pair.client.wrote;
    assert_eq!(wrote.len(), 20);
    assert_eq!(wrote[1], 0x80 | 4, "mask bit set");
    assert_ne!(&wrote[2..6], &wrote[12..16], "a fresh key per frame");
    send(&mut pair.server, BufferType::BinaryMessage, b"same");
    pair.run();
    assert_eq!(pair.server.wrote, b"\x82\x04same");
}

#[test]
fn disabled_masking_sends_a_zero_key_and_lets_a_server_accept_unmasked_frames() {
    let mut pair = Pair::open(&[Property::DisableMasking(true)], &[Property::DisableMasking(true)]);
    send(&mut pair.client, BufferType::BinaryMessage, b"xy");
    pair.run();
    assert_eq!(pair.client.wrote, vec![0x82, 0x82, 0, 0, 0, 0, b'x', b'y']);
    pair.server.wire_in.extend_from_slice(&server_frame(0x82, b"raw"));
    pair.run();
    assert_eq!(pair.server.messages().last().unwrap().1, b"raw");
}

#[test]
fn disabled_utf8_verification_passes_invalid_text_through() {
    let props = [Property::DisableUtf8Verification(true)];
    let mut pair = Pair::open(&props, &props);
    send(&mut pair.client, BufferType::Utf8Message, &[0xC3, 0x28]);
    pair.run();
    assert_eq!(pair.server.messages(), vec![(BufferType::Utf8Message, vec![0xC3, 0x28])]);
}

#[test]
fn invalid_utf8_send_is_refused_with_verification_on() {
    let mut pair = Pair::open(&[], &[]);
    let err = pair.client.handle.send(BufferType::Utf8Message, Some(Buffer::Data(&[0xFF])), None).unwrap_err();
    assert_eq!(err.code(), "INVALID_ARGUMENT");
    // Nothing was queued: a valid send still goes.
    send(&mut pair.client, BufferType::Utf8Message, b"ok");
    pair.run();
    assert_eq!(pair.server.messages().len(), 1);
}

/// `utf8_verified` hands the check of a whole text message to the caller (the JS package checks
/// with Node's isUtf8); the pieces of a fragmented message are still the engine's to check.
#[test]
fn a_caller_verified_whole_text_message_skips_the_check_but_fragments_do_not() {
    let verified = SendOptions { utf8_verified: true, ..SendOptions::default() };
    let mut pair = Pair::open(&[], &[]);
    // What the caller vouches for goes as it is (a lying caller sends what RFC 6455 8.1 forbids).
    let handle = &mut pair.client.handle;
    handle.send_with_options(BufferType::Utf8Message, Some(Buffer::Data(&[0xC3, 0x28])), None, verified).unwrap();
    pair.run();
    assert!(pair.server.events.iter().any(|e| matches!(e, Event::Failed { close_code: Some(1007), .. })));

    let mut pair = Pair::open(&[], &[]);
    let handle = &mut pair.client.handle;
    handle.send(BufferType::Utf8Fragment, Some(Buffer::Data(b"caf\xC3")), None).unwrap();
    pair.run();
    // The last piece of a fragmented message: the engine's validator holds the open code point.
    let err = pair
        .client
        .handle
        .send_with_options(BufferType::Utf8Message, Some(Buffer::Data(&[0x28])), None, verified)
        .unwrap_err();
    assert_eq!(err.code(), "INVALID_ARGUMENT");
    let err = pair
        .client
        .handle
        .send_with_options(BufferType::Utf8Fragment, Some(Buffer::Data(&[0xFF])), None, verified)
        .unwrap_err();
    assert_eq!(err.code(), "INVALID_ARGUMENT");
    pair.client.handle.send_with_options(BufferType::Utf8Message, Some(Buffer::Data(&[0xA9])), None, verified).unwrap();
    pair.run();
    assert_eq!(pair.server.messages(), vec![(BufferType::Utf8Message, "café".as_bytes().to_vec())]);
}

#[test]
fn four_mib_in_65536_fragments_passes_default_limits() {
    let props = [Property::ReceiveBufferSize(64 * 1024)];
    let mut pair = Pair::open(&[], &props);
    let mut wire = Vec::new();
    for i in 0..65536u32 {
        let first = if i == 0 { 0x02 } else { 0x00 };
        let fin = if i == 65535 { 0x80 } else { 0x00 };
        wire.extend_from_slice(&client_frame(first | fin, &[(i % 256) as u8; 64]));
    }
    pair.server.wire_in.extend_from_slice(&wire);
    pair.run();
    let messages = pair.server.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].1.len(), 4 * 1024 * 1024);
    assert!(pair.server.events.iter().all(|e| !matches!(e, Event::Failed { .. })));
}

#[test]
fn partial_send_cancels_and_aborts_the_stream() {
    let mut pair = Pair::open(&[], &[]);
    send(&mut pair.client, BufferType::BinaryMessage, b"hello");
    let action = pair.client.handle.get_action(ActionQueue::Send).unwrap().record();
    assert_eq!(action.kind, ActionKind::SendToNetwork);
    let id = action.id;
    pair.client.handle.complete_action(id, 3).unwrap();
    let done = pair.client.handle.get_action(ActionQueue::Send).unwrap().record();
    assert_eq!(done.kind, ActionKind::IndicateSendComplete);
    let id = done.id;
    pair.client.handle.complete_action(id, 0).unwrap();
    assert_eq!(pair.client.handle.state(), State::Aborted);
}

#[test]
fn zero_byte_write_cancels_a_send_cleanly() {
    let mut pair = Pair::open(&[], &[]);
    send(&mut pair.client, BufferType::BinaryMessage, b"hello");
    let id = pair.client.handle.get_action(ActionQueue::Send).unwrap().record().id;
    pair.client.handle.complete_action(id, 0).unwrap();
    let done = pair.client.handle.get_action(ActionQueue::Send).unwrap().record();
    assert_eq!(done.kind, ActionKind::IndicateSendComplete);
    let id = done.id;
    pair.client.handle.complete_action(id, 0).unwrap();
    assert_eq!(pair.client.handle.state(), State::Open, "nothing reached the wire");
    send(&mut pair.client, BufferType::BinaryMessage, b"again");
    pair.run();
    assert_eq!(pair.server.messages(), vec![(BufferType::BinaryMessage, b"again".to_vec())]);
}

#[test]
fn a_second_send_or_receive_while_one_is_outstanding_is_refused() {
    let mut pair = Pair::open(&[], &[]);
    send(&mut pair.client, BufferType::BinaryMessage, b"one");
    let err = pair.client.handle.send(BufferType::BinaryMessage, Some(Buffer::Data(b"two")), None).unwrap_err();
    assert_eq!(err.code(), "OPERATION_PENDING");
    assert_eq!(pair.client.handle.receive(None).unwrap_err().code(), "OPERATION_PENDING");
}

#[test]
fn action_ids_are_checked_and_noaction_completion_is_ignored() {
    let mut pair = Pair::open(&[], &[]);
    pair.client.handle.complete_action(0, 0).unwrap();
    assert_eq!(pair.client.handle.complete_action(12345, 0).unwrap_err().code(), "UNKNOWN_ACTION");
    send(&mut pair.client, BufferType::BinaryMessage, b"x");
    let action = pair.client.handle.get_action(ActionQueue::Send).unwrap().record();
    let (id, n) = (action.id, action.bytes.len());
    // Held: the send queue has nothing more until it is completed.
    assert_eq!(pair.client.handle.get_action(ActionQueue::Send).unwrap().record().kind, ActionKind::NoAction);
    pair.client.handle.complete_action(id, n).unwrap();
    assert_eq!(pair.client.handle.complete_action(id, n).unwrap_err().code(), "UNKNOWN_ACTION");
    let read = pair.client.handle.get_action(ActionQueue::Receive).unwrap().record();
    assert_eq!(read.kind, ActionKind::ReceiveFromNetwork);
    let (id, cap) = (read.id, read.receive_capacity);
    let err = pair.client.handle.complete_action(id, cap + 1).unwrap_err();
    assert_eq!(err.code(), "INVALID_ARGUMENT");
    let too_much = vec![0u8; cap + 1];
    assert_eq!(pair.client.handle.complete_receive(id, &too_much).unwrap_err().code(), "INVALID_ARGUMENT");
    // Still outstanding and usable after those mistakes.
    pair.client.handle.complete_receive(id, &[0x81, 0x00]).unwrap();
}

#[test]
fn zero_copy_receive_buffer_is_the_offered_space() {
    let mut pair = Pair::open(&[], &[]);
    let read = pair.server.handle.get_action(ActionQueue::Receive).unwrap().record();
    let (id, cap) = (read.id, read.receive_capacity);
    let frame = client_frame(0x81, b"zc");
    let space = pair.server.handle.receive_buffer(id).unwrap();
    assert_eq!(space.len(), cap);
    space[..frame.len()].copy_from_slice(&frame);
    pair.server.handle.complete_action(id, frame.len()).unwrap();
    let got = pair.server.handle.get_action(ActionQueue::Receive).unwrap().record();
    assert_eq!((got.kind, got.bytes), (ActionKind::IndicateReceiveComplete, &b"zc"[..]));
}

#[test]
fn masked_frames_go_out_in_send_buffer_sized_actions_and_unmasked_frames_whole() {
    let mut pair = Pair::open(&[Property::SendBufferSize(16)], &[Property::SendBufferSize(16)]);
    let payload = [0x5Au8; 100];
    pair.client.handle.send(BufferType::BinaryMessage, Some(Buffer::Data(&payload)), None).unwrap();
    let mut sizes = Vec::new();
    loop {
        let action = pair.client.handle.get_action(ActionQueue::Send).unwrap().record();
        let (id, n) = (action.id, action.bytes.len());
        match action.kind {
            ActionKind::SendToNetwork => {
                pair.server.wire_in.extend_from_slice(action.bytes);
                sizes.push(n);
                pair.client.handle.complete_action(id, n).unwrap();
            }
            ActionKind::IndicateSendComplete => {
                pair.client.handle.complete_action(id, 0).unwrap();
                break;
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(sizes, vec![16, 16, 16, 16, 16, 16, 10], "106 bytes of frame in 16-byte actions");
    pair.run();
    assert_eq!(pair.server.messages(), vec![(BufferType::BinaryMessage, payload.to_vec())]);
    pair.server.handle.send(BufferType::BinaryMessage, Some(Buffer::Data(&payload)), None).unwrap();
    let action = pair.server.handle.get_action(ActionQueue::Send).unwrap().record();
    assert_eq!(action.bytes.len(), 102, "a server frame is handed out whole");
}

#[test]
fn a_pong_reply_waits_until_a_partly_written_frame_is_finished() {
    let mut pair = Pair::open(&[Property::SendBufferSize(16)], &[]);
    // The client starts a 100-byte masked frame: 7 chunks.
    pair.client.handle.send(BufferType::BinaryMessage, Some(Buffer::Data(&[1u8; 100])), None).unwrap();
    let first = pair.client.handle.get_action(ActionQueue::Send).unwrap().record();
    let (id, n) = (first.id, first.bytes.len());
    let mut wire = first.bytes.to_vec();
    pair.client.handle.complete_action(id, n).unwrap();
    // Meanwhile a ping arrives.
    let read = pair.client.handle.get_action(ActionQueue::Receive).unwrap().record();
    assert_eq!(read.kind, ActionKind::ReceiveFromNetwork);
    let id = read.id;
    pair.client.handle.complete_receive(id, &server_frame(0x89, b"?")).unwrap();
    // The pong may not cut into the frame on the wire: the receive queue has nothing to send yet.
    assert_eq!(pair.client.handle.get_action(ActionQueue::Receive).unwrap().record().kind, ActionKind::NoAction);
    loop {
        let action = pair.client.handle.get_action(ActionQueue::Send).unwrap().record();
        let (id, n) = (action.id, action.bytes.len());
        if action.kind != ActionKind::SendToNetwork {
            pair.client.handle.complete_action(id, 0).unwrap();
            break;
        }
        wire.extend_from_slice(action.bytes);
        pair.client.handle.complete_action(id, n).unwrap();
    }
    let pong = pair.client.handle.get_action(ActionQueue::Receive).unwrap().record();
    assert_eq!(pong.kind, ActionKind::SendToNetwork);
    wire.extend_from_slice(pong.bytes);
    assert_eq!(wire.len(), 106 + 7, "the whole data frame, then the 7-byte masked pong");
    assert_eq!(wire[106], 0x8A);
}

#[test]
fn client_handshake_offer_is_checked_and_the_key_is_16_random_bytes() {
    let mut client = Handle::with_random(Role::Client, &[], Box::new(SeededRandom::new(9))).unwrap();
    assert_eq!(client.begin_client_handshake(&["bad token"], &[], &[]).unwrap_err().code(), "INVALID_ARGUMENT");
    assert_eq!(client.begin_client_handshake(&["a", "a"], &[], &[]).unwrap_err().code(), "INVALID_ARGUMENT");
    assert_eq!(client.begin_client_handshake(&[], &["a, b"], &[]).unwrap_err().code(), "INVALID_ARGUMENT");
    let injected = [("X-Evil".to_string(), "a\r\nHost: other".to_string())];
    assert_eq!(client.begin_client_handshake(&[], &[], &injected).unwrap_err().code(), "INVALID_ARGUMENT");
    let headers = client.begin_client_handshake(&["a", "b"], &["x-foo; client_max_window_bits"], &[]).unwrap();
    let get = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    assert_eq!(get("Upgrade").as_deref(), Some("websocket"));
    assert_eq!(get("Connection").as_deref(), Some("Upgrade"));
    assert_eq!(get("Sec-WebSocket-Version").as_deref(), Some("13"));
    assert_eq!(get("Sec-WebSocket-Protocol").as_deref(), Some("a, b"));
    assert_eq!(get("Sec-WebSocket-Extensions").as_deref(), Some("x-foo; client_max_window_bits"));
    use base64ct::Encoding as _;
    let key = base64ct::Base64::decode_vec(&get("Sec-WebSocket-Key").unwrap()).unwrap();
    assert_eq!(key.len(), 16);
    // A second handle with another seed gets another key.
    let mut other = Handle::with_random(Role::Client, &[], Box::new(SeededRandom::new(10))).unwrap();
    let other_headers = other.begin_client_handshake(&[], &[], &[]).unwrap();
    assert_ne!(
        other_headers.iter().find(|(n, _)| n == "Sec-WebSocket-Key"),
        headers.iter().find(|(n, _)| n == "Sec-WebSocket-Key")
    );
}

#[test]
fn server_selects_extensions_by_name_and_the_client_gets_their_indexes() {
    let mut client = Handle::with_random(Role::Client, &[], Box::new(SeededRandom::new(1))).unwrap();
    let mut server = Handle::with_random(Role::Server, &[], Box::new(SeededRandom::new(2))).unwrap();
    let mut request = client.begin_client_handshake(&[], &["x-one", "x-two; p=1"], &[]).unwrap();
    request.push(("Host".into(), "h".into()));
    assert_eq!(handshake::offered_extensions(&request), vec!["x-one".to_string(), "x-two; p=1".to_string()]);
    let response = server.begin_server_handshake(None, &["x-two; p=1"], &request).unwrap();
    let result = client.end_client_handshake(&response).unwrap();
    assert_eq!(result.selected_extensions, vec![1]);
    assert_eq!(result.selected_subprotocol, None);
    assert_eq!(client.extensions(), &["x-two; p=1".to_string()]);
}

#[test]
fn a_read_held_when_the_engine_gives_up_can_still_be_completed() {
    let mut pair = Pair::open(&[], &[]);
    pair.run();
    let (id, capacity) = pair.server.handle.outstanding_receive().expect("the server waits for bytes");
    pair.server.handle.abort();
    // The abandoned read still offers its space, for hosts that read into it, and the bytes are dropped.
    let space = pair.server.handle.receive_buffer(id).unwrap();
    assert_eq!(space.len(), capacity);
    space[0] = 0x89;
    pair.server.handle.complete_action(id, 1).unwrap();
    assert_eq!(pair.server.handle.complete_action(id, 1).unwrap_err().code(), "UNKNOWN_ACTION");
    pair.run();
    assert!(pair.server.events.iter().any(|e| matches!(e, Event::Received { close_status: Some(1006), .. })));
    assert!(pair.server.wrote.is_empty(), "nothing was parsed from the dropped bytes");
}

#[test]
fn send_now_writes_the_same_frames_as_the_action_loop() {
    // Two client handles with the same seed: one through send + get/complete, one through send_now.
    let mut looped = Pair::open(&[], &[]);
    let mut direct = Pair::open(&[], &[]);
    let messages: [(BufferType, &[u8]); 3] =
        [(BufferType::Utf8Message, b"one"), (BufferType::BinaryMessage, &[0u8; 300]), (BufferType::PingPong, b"p")];
    let mut out = Vec::new();
    for (buffer_type, data) in messages {
        looped.client.handle.send(buffer_type, Some(Buffer::Data(data)), None).unwrap();
        looped.run();
        direct.client.handle.send_now(buffer_type, Some(Buffer::Data(data)), &mut out).unwrap();
    }
    direct
        .client
        .handle
        .send_now(BufferType::Close, Some(Buffer::CloseStatus { status: 1000, reason: b"" }), &mut out)
        .unwrap();
    assert_eq!(direct.client.handle.state(), State::CloseSent);
    let looped_bytes = &looped.client.wrote;
    assert_eq!(&out[..looped_bytes.len()], &looped_bytes[..]);
    // The peer reads them as usual.
    direct.server.wire_in.extend_from_slice(&out);
    direct.run();
    assert_eq!(direct.server.messages().len(), 2);
    // It refuses while a queued send holds the wire, and follows send's rules.
    let mut pair = Pair::open(&[], &[]);
    pair.client.handle.send(BufferType::BinaryMessage, Some(Buffer::Data(b"queued")), None).unwrap();
    let err =
        pair.client.handle.send_now(BufferType::BinaryMessage, Some(Buffer::Data(b"x")), &mut Vec::new()).unwrap_err();
    assert_eq!(err.code(), "OPERATION_PENDING");
    pair.run();
    let err =
        pair.client.handle.send_now(BufferType::Utf8Message, Some(Buffer::Data(&[0xFF])), &mut Vec::new()).unwrap_err();
    assert_eq!(err.code(), "INVALID_ARGUMENT");
}

/// A large message's payload goes from each read straight into the message buffer, unmasked in
/// that one pass: after the first read, each ReceiveFromNetwork offers the receive buffer less the
/// part of the piece already assembled, so every later read completes one piece and nothing waits
/// in the receive buffer to be copied again.
#[test]
fn reads_of_a_large_message_keep_in_step_with_its_pieces() {
    const BUFFER: usize = 4096;
    let mut pair = Pair::open(&[], &[Property::ReceiveBufferSize(BUFFER as u32)]);
    let payload: Vec<u8> = (0..4 * BUFFER + 100).map(|i| (i % 251) as u8).collect();
    let wire = client_frame(0x82, &payload);
    let header = wire.len() - payload.len();
    let server = &mut pair.server.handle;
    if server.outstanding_receive().is_none() {
        let _ = server.receive(None);
    }
    let (mut offers, mut pieces, mut fed) = (Vec::new(), Vec::new(), 0);
    while pieces.last().is_none_or(|(buffer_type, _)| *buffer_type != BufferType::BinaryMessage) {
        let action = server.get_action(ActionQueue::Receive).unwrap().record();
        let (id, kind, capacity) = (action.id, action.kind, action.receive_capacity);
        let piece = (action.buffer_type, action.bytes.to_vec());
        match kind {
            ActionKind::ReceiveFromNetwork => {
                offers.push(capacity);
                let n = capacity.min(wire.len() - fed);
                server.complete_receive(id, &wire[fed..fed + n]).unwrap();
                fed += n;
            }
            ActionKind::IndicateReceiveComplete => {
                pieces.push((piece.0.unwrap(), piece.1));
                server.complete_action(id, 0).unwrap();
                server.receive(None).unwrap();
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    // The first read brings the header and a piece short of the header's length; the second
    // completes that piece; then one read per piece, and the last piece is the message's tail.
    assert_eq!(offers, vec![BUFFER, header, BUFFER, BUFFER, BUFFER, BUFFER]);
    let sizes: Vec<usize> = pieces.iter().map(|(_, bytes)| bytes.len()).collect();
    assert_eq!(sizes, vec![BUFFER, BUFFER, BUFFER, BUFFER, 100]);
    assert_eq!(pieces.into_iter().flat_map(|(_, bytes)| bytes).collect::<Vec<u8>>(), payload);
}
