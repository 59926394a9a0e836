//! The driver: the drain contract in one call, its keep-receiving rule, batching, backpressure,
//! the trace hook, and the ordering rule (replies to messages completed before a peer's violation
//! go out before the failing close), at every split of the peer's bytes.

mod common;
use common::*;
use wsaction::*;

/// An open server handle (seeded, handshake done, a receive queued) and its driver.
fn open_server() -> (Handle, Driver) {
    let mut pair = Pair::open(&[], &[]);
    pair.run();
    let Side { handle, driver, .. } = pair.server;
    (handle, driver)
}

/// The frames in a server's (unmasked) output: (first byte, payload).
fn frames(mut bytes: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let (len, at) = match bytes[1] & 0x7F {
            126 => (u16::from_be_bytes([bytes[2], bytes[3]]) as usize, 4),
            127 => (u64::from_be_bytes(bytes[2..10].try_into().unwrap()) as usize, 10),
            n => (n as usize, 2),
        };
        assert_eq!(bytes[1] & 0x80, 0, "a server frame is unmasked");
        out.push((bytes[0], bytes[at..at + len].to_vec()));
        bytes = &bytes[at + len..];
    }
    out
}

/// An echo application on the driver: reads `wire` in reads of `split` bytes (0: whole), echoes
/// every complete message from its handler, and returns everything the server wrote.
fn echo_server(wire: &[u8], split: usize) -> (Vec<u8>, Option<Error>) {
    let (mut handle, mut driver) = open_server();
    let options = DrainOptions::default();
    let mut written = Vec::new();
    let mut violation = None;
    let mut rest = wire;
    let mut message = Vec::new();
    for _ in 0..100_000 {
        let take = if split == 0 { rest.len() } else { rest.len().min(split) };
        let drained = driver.feed(&mut handle, &rest[..take], options).unwrap();
        rest = &rest[drained.consumed..];
        written.extend_from_slice(drained.out);
        violation = violation.or(drained.violation.cloned());
        let waits = drained.failing_close_waits;
        let mut replies = Vec::new();
        for indication in drained.indications {
            if let Indication::Received { buffer_type, .. } = indication {
                if buffer_type.is_data() {
                    message.extend_from_slice(drained.payload_of(indication));
                    if !buffer_type.is_fragment() {
                        replies.push((*buffer_type, std::mem::take(&mut message)));
                    }
                }
            }
        }
        // The application's handler: echo each message.
        for (buffer_type, data) in replies {
            let sent = driver.send_and_drain(&mut handle, buffer_type, Some(Buffer::Data(&data)), options).unwrap();
            written.extend_from_slice(sent.out);
        }
        if waits {
            // The failing close waited for the replies: drain again to write it.
            let drained = driver.drain(&mut handle, options).unwrap();
            written.extend_from_slice(drained.out);
        }
        if handle.state().is_finished() && !handle.failing_close_waits() {
            return (written, violation);
        }
        if rest.is_empty() && drained_nothing_left(&mut driver, &mut handle) {
            return (written, violation);
        }
    }
    panic!("the echo server never finished");
}

fn drained_nothing_left(driver: &mut Driver, handle: &mut Handle) -> bool {
    let drained = driver.drain(handle, DrainOptions::default()).unwrap();
    drained.out.is_empty() && drained.indications.is_empty()
}

#[test]
fn replies_to_messages_before_a_violation_go_out_before_the_failing_close() {
    // Two whole messages, then a frame with RSV1 set (no extension claims it), in one read.
    let mut wire = client_frame(0x81, b"first");
    wire.extend_from_slice(&client_frame(0x82, b"second"));
    wire.extend_from_slice(&client_frame(0xC1, b"bad"));
    for split in [0, 1, 3, 7, 11, 64] {
        let (written, violation) = echo_server(&wire, split);
        let frames = frames(&written);
        assert_eq!(
            frames.iter().map(|(b, _)| *b).collect::<Vec<_>>(),
            vec![0x81, 0x82, 0x88],
            "split {split}: echo, echo, then the failing close"
        );
        assert_eq!(frames[0].1, b"first");
        assert_eq!(frames[1].1, b"second");
        assert_eq!(u16::from_be_bytes([frames[2].1[0], frames[2].1[1]]), 1002);
        assert_eq!(violation.unwrap().violation(), Some(&Violation::ReservedBitsSet { bits: 0b100 }));
    }
}

#[test]
fn the_ordering_rule_holds_for_a_reserved_opcode_and_a_stray_continuation() {
    for (bad, expected) in [
        (client_frame(0x83, b""), Violation::ReservedOpcode { opcode: 3 }),
        (client_frame(0x80, b"x"), Violation::UnexpectedContinuation),
    ] {
        let mut wire = client_frame(0x81, b"hello");
        wire.extend_from_slice(&bad);
        for split in [0, 1, 5] {
            let (written, violation) = echo_server(&wire, split);
            let frames = frames(&written);
            assert_eq!(frames.iter().map(|(b, _)| *b).collect::<Vec<_>>(), vec![0x81, 0x88], "split {split}");
            assert_eq!(violation.unwrap().violation(), Some(&expected));
        }
    }
}

#[test]
fn the_failing_close_waits_in_the_engine_until_the_next_drain() {
    let (mut handle, mut driver) = open_server();
    let mut wire = client_frame(0x81, b"hi");
    wire.extend_from_slice(&client_frame(0xC1, b""));
    let drained = driver.feed(&mut handle, &wire, DrainOptions::default()).unwrap();
    assert!(drained.out.is_empty(), "no close yet: the application has not seen the message");
    assert_eq!(drained.indications.len(), 1);
    assert!(drained.failing_close_waits);
    assert!(!drained.finished(), "the transport stays open for the close");
    assert_eq!(drained.state, State::Closed);
    assert_eq!(drained.violation.unwrap().code(), "PROTOCOL_VIOLATION");
    // No reply: the next drain writes the close, and the handle is finished.
    let drained = driver.drain(&mut handle, DrainOptions::default()).unwrap();
    assert_eq!(frames(drained.out), vec![(0x88, [&1002u16.to_be_bytes()[..], b"RESERVED_BITS_SET"].concat())]);
    assert!(drained.finished());
    // Once the close is out, nothing more may be sent.
    let refused = driver.send_and_drain(
        &mut handle,
        BufferType::Utf8Message,
        Some(Buffer::Data(b"late")),
        DrainOptions::default(),
    );
    assert_eq!(refused.unwrap_err().code(), "INVALID_STATE");
}

#[test]
fn the_plain_loop_may_reply_between_the_violation_and_the_close() {
    // The websocket.h loop, one action at a time: the reply sent after the violation is reported
    // still goes before the failing close, because the close has not been handed out.
    let (mut handle, _) = open_server();
    let mut wire = client_frame(0x81, b"hi");
    wire.extend_from_slice(&client_frame(0xC1, b""));
    let (id, _) = handle.outstanding_receive().expect("a receive is held");
    handle.complete_receive(id, &wire).unwrap();
    let (id, buffer_type) = match handle.get_action(ActionQueue::All).unwrap() {
        Action::IndicateReceiveComplete { id, received, .. } => (id, received.buffer_type()),
        other => panic!("{other:?}"),
    };
    assert_eq!(buffer_type, BufferType::Utf8Message);
    handle.complete_action(id, 0).unwrap();
    handle.receive(None).unwrap();
    assert_eq!(handle.get_action(ActionQueue::All).unwrap_err().code(), "PROTOCOL_VIOLATION");
    handle.send(BufferType::Utf8Message, Some(Buffer::Data(b"hi")), None).unwrap();
    let mut order = Vec::new();
    loop {
        let (id, written) = match handle.get_action(ActionQueue::All).unwrap() {
            Action::NoAction => break,
            Action::SendToNetwork { id, bytes, .. } => {
                order.push(bytes[0]);
                (id, bytes.len())
            }
            other => (other.id(), 0),
        };
        handle.complete_action(id, written).unwrap();
    }
    assert_eq!(order, vec![0x81, 0x88]);
    // A close of the application's own is refused: the engine's failing close is the close.
    assert_eq!(handle.send(BufferType::Close, None, None).unwrap_err().code(), "INVALID_STATE");
}

#[test]
fn keep_receiving_queues_a_receive_after_each_indication() {
    let (mut handle, mut driver) = open_server();
    let mut wire = Vec::new();
    for i in 0..5u8 {
        wire.extend_from_slice(&client_frame(0x82, &[i; 3]));
    }
    let drained = driver.feed(&mut handle, &wire, DrainOptions::default()).unwrap();
    assert_eq!(drained.consumed, wire.len());
    assert_eq!(drained.indications.len(), 5);
    assert!(drained.receive.is_some(), "a receive is held for the next bytes");
    // Without the rule, the first indication ends the receiving.
    let (mut handle, mut driver) = open_server();
    let options = DrainOptions { keep_receiving: false, ..DrainOptions::default() };
    let drained = driver.feed(&mut handle, &wire, options).unwrap();
    assert_eq!(drained.indications.len(), 1);
    assert!(drained.receive.is_none());
    assert!(drained.consumed <= wire.len());
}

#[test]
fn max_out_bytes_stops_the_drain_and_the_next_drain_goes_on() {
    let (mut handle, mut driver) = open_server();
    // A ping from the peer (the engine's pong reply) and a queued send: two frames to write.
    let drained = driver.feed(&mut handle, &client_frame(0x89, b"p"), DrainOptions::default()).unwrap();
    assert_eq!(frames(drained.out), vec![(0x8A, b"p".to_vec())]);
    handle.send(BufferType::BinaryMessage, Some(Buffer::Data(&[7u8; 100])), Some(9)).unwrap();
    let options = DrainOptions { keep_receiving: true, max_out_bytes: 1 };
    let first = driver.drain(&mut handle, options).unwrap();
    assert_eq!(frames(first.out), vec![(0x82, vec![7u8; 100])]);
    assert!(first.indications.is_empty(), "stopped right after the bytes");
    let second = driver.drain(&mut handle, options).unwrap();
    assert!(second.out.is_empty());
    assert_eq!(
        second.indications,
        &[Indication::SendComplete { buffer_type: BufferType::BinaryMessage, context: Some(9) }]
    );
}

#[test]
fn send_many_reports_its_sends_by_count_and_stops_at_a_refusal() {
    let (mut handle, mut driver) = open_server();
    let messages: [&[u8]; 3] = [b"a", b"\xFF", b"c"];
    let drained =
        driver.send_many_and_drain(&mut handle, BufferType::Utf8Message, messages, DrainOptions::default()).unwrap();
    assert_eq!(drained.sent, 1);
    assert_eq!(drained.send_error.unwrap().code(), "INVALID_ARGUMENT");
    assert_eq!(frames(drained.out), vec![(0x81, b"a".to_vec())]);
    assert!(drained.indications.is_empty(), "batched sends are counted, not indicated");
    // A refusal of the first message is the error, and nothing is sent.
    let refused =
        driver.send_many_and_drain(&mut handle, BufferType::Utf8Message, [&b"\xFF"[..]], DrainOptions::default());
    assert_eq!(refused.unwrap_err().code(), "INVALID_ARGUMENT");
}

#[test]
fn the_trace_hook_sees_each_input_and_action_with_its_bytes() {
    use std::cell::RefCell;
    use std::rc::Rc;
    let (mut handle, mut driver) = open_server();
    let seen: Rc<RefCell<Vec<String>>> = Rc::default();
    let sink = seen.clone();
    driver.set_trace(Some(Box::new(move |event: &TraceEvent<'_>| {
        sink.borrow_mut().push(match event {
            TraceEvent::Input { call, bytes, .. } => format!("{call} {}", bytes.len()),
            TraceEvent::Action(action) => format!("{:?} {}", action.kind(), action.record().bytes.len()),
            TraceEvent::Violation(error) => format!("violation {}", error.code()),
            _ => "other".into(),
        })
    })));
    let wire = client_frame(0x81, b"hey");
    driver.feed(&mut handle, &wire, DrainOptions::default()).unwrap();
    driver
        .send_and_drain(&mut handle, BufferType::Utf8Message, Some(Buffer::Data(b"hey")), DrainOptions::default())
        .unwrap();
    let seen = seen.borrow().clone();
    assert_eq!(
        seen,
        vec![
            &format!("complete_receive {}", wire.len()),
            "IndicateReceiveComplete 3",
            "ReceiveFromNetwork 0",
            "send 3",
        ]
    );
}

/// A server handle opened with `properties`, and its driver.
fn open_server_with(properties: &[Property]) -> (Handle, Driver) {
    let mut pair = Pair::open(&[], properties);
    pair.run();
    let Side { handle, driver, .. } = pair.server;
    (handle, driver)
}

/// The received pings a drain indicated, with their payloads.
fn pings(drained: &Drained<'_>) -> Vec<Vec<u8>> {
    drained
        .indications
        .iter()
        .filter(|i| matches!(i, Indication::Received { buffer_type: BufferType::Ping, .. }))
        .map(|i| drained.payload_of(i).to_vec())
        .collect()
}

#[test]
fn by_default_a_ping_is_answered_and_not_indicated() {
    // websocket.h's way: the engine answers (RFC 6455 5.5.2) and the application hears nothing.
    let (mut handle, mut driver) = open_server();
    let drained = driver.feed(&mut handle, &client_frame(0x89, b"hb"), DrainOptions::default()).unwrap();
    assert!(pings(&drained).is_empty());
    assert!(drained.indications.is_empty(), "{:?}", drained.indications);
    assert_eq!(frames(drained.out), vec![(0x8A, b"hb".to_vec())]);
}

#[test]
fn indicated_pings_carry_their_payload_and_are_still_answered() {
    // RFC 6455 5.5.2: the pong carries "identical Application data"; the indication carries it too
    // (ws's 'ping' event), and the receiving goes on after it.
    let (mut handle, mut driver) = open_server_with(&[Property::IndicatePings(true)]);
    let mut wire = client_frame(0x89, b"one");
    wire.extend_from_slice(&client_frame(0x81, b"text"));
    wire.extend_from_slice(&client_frame(0x89, b""));
    let drained = driver.feed(&mut handle, &wire, DrainOptions::default()).unwrap();
    assert_eq!(drained.consumed, wire.len());
    assert_eq!(pings(&drained), vec![b"one".to_vec(), Vec::new()]);
    let types: Vec<BufferType> = drained
        .indications
        .iter()
        .filter_map(|i| match i {
            Indication::Received { buffer_type, .. } => Some(*buffer_type),
            _ => None,
        })
        .collect();
    assert_eq!(types, vec![BufferType::Ping, BufferType::Utf8Message, BufferType::Ping], "in wire order");
    assert_eq!(frames(drained.out), vec![(0x8A, b"one".to_vec()), (0x8A, Vec::new())]);
    assert!(drained.receive.is_some(), "a receive is held for the next bytes");
}

#[test]
fn without_auto_pong_the_application_answers_the_ping() {
    // RFC 6455 5.5.3: a pong "sent in response" echoes the ping's data; the application sends it
    // (ws's autoPong: false) as an UNSOLICITED_PONG carrying the ping's payload.
    let (mut handle, mut driver) = open_server_with(&[Property::IndicatePings(true), Property::AutoPong(false)]);
    let drained = driver.feed(&mut handle, &client_frame(0x89, b"are you there"), DrainOptions::default()).unwrap();
    assert_eq!(pings(&drained), vec![b"are you there".to_vec()]);
    assert!(drained.out.is_empty(), "the engine did not answer: {:?}", frames(drained.out));
    let payload = b"are you there".to_vec();
    let drained = driver
        .send_and_drain(&mut handle, BufferType::UnsolicitedPong, Some(Buffer::Data(&payload)), DrainOptions::default())
        .unwrap();
    assert_eq!(frames(drained.out), vec![(0x8A, payload)]);
}

#[test]
fn auto_pong_off_without_indicated_pings_is_refused_and_ping_cannot_be_sent() {
    // Nobody would answer the ping (RFC 6455 5.5.2 MUST): refused when the handle is made.
    let error = Handle::server(&[Property::AutoPong(false)]).unwrap_err();
    assert_eq!(error.code(), "INVALID_ARGUMENT");
    assert!(error.to_string().contains("indicate pings"), "{error}");
    // PING is an indication's type only.
    let (mut handle, _) = open_server();
    let error = handle.send(BufferType::Ping, Some(Buffer::Data(b"x")), None).unwrap_err();
    assert_eq!(error.code(), "INVALID_ARGUMENT");
}

#[test]
fn a_ping_between_the_fragments_of_a_message_is_indicated_and_the_message_goes_on() {
    // RFC 6455 5.4: control frames MAY be injected in the middle of a fragmented message.
    let (mut handle, mut driver) = open_server_with(&[Property::IndicatePings(true)]);
    let mut wire = client_frame(0x01, b"hel");
    wire.extend_from_slice(&client_frame(0x89, b"mid"));
    wire.extend_from_slice(&client_frame(0x80, b"lo"));
    let drained = driver.feed(&mut handle, &wire, DrainOptions::default()).unwrap();
    assert_eq!(pings(&drained), vec![b"mid".to_vec()]);
    let text: Vec<u8> = drained
        .indications
        .iter()
        .filter(|i| matches!(i, Indication::Received { buffer_type, .. } if buffer_type.is_data()))
        .flat_map(|i| drained.payload_of(i).to_vec())
        .collect();
    assert_eq!(text, b"hello");
    assert_eq!(frames(drained.out), vec![(0x8A, b"mid".to_vec())]);
    assert!(drained.violation.is_none());
}
