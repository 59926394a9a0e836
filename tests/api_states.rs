//! Every public operation in every state, for both roles: it succeeds where websocket.h (and RFC
//! 6455) allow it and otherwise fails with a local, typed error. Nothing panics.

mod common;
use common::*;
use wsaction::*;

const STATES: [State; 6] =
    [State::Connecting, State::Open, State::CloseSent, State::CloseReceived, State::Closed, State::Aborted];

/// A pair whose `role` side is in `state`, a receive queued where the state allows one.
fn in_state(role: Role, state: State) -> Pair {
    let mut pair = Pair::connecting(&[], &[]);
    if state != State::Connecting {
        pair.handshake(&[], None);
        pair.run();
    }
    let (me, peer) = match role {
        Role::Client => (&mut pair.client, &mut pair.server),
        Role::Server => (&mut pair.server, &mut pair.client),
    };
    match state {
        State::Connecting | State::Open => {}
        State::CloseSent => me.handle.send(BufferType::Close, None, None).unwrap(),
        State::CloseReceived => peer.handle.send(BufferType::Close, None, None).unwrap(),
        State::Closed => {
            peer.handle.send(BufferType::Close, None, None).unwrap();
        }
        State::Aborted => me.handle.abort(),
    }
    pair.run();
    if state == State::Closed {
        let me = match role {
            Role::Client => &mut pair.client,
            Role::Server => &mut pair.server,
        };
        me.handle.send(BufferType::Close, None, None).unwrap();
        pair.run();
    }
    let me = match role {
        Role::Client => &mut pair.client,
        Role::Server => &mut pair.server,
    };
    assert_eq!(me.handle.state(), state, "setting up {role:?} {state:?}");
    pair
}

type Op = (&'static str, fn(&mut Handle) -> Result<(), Error>);

fn ops() -> Vec<Op> {
    vec![
        ("begin_client_handshake", |h| h.begin_client_handshake(&[], &[], &[]).map(drop)),
        ("end_client_handshake", |h| h.end_client_handshake(&[]).map(drop)),
        ("begin_server_handshake", |h| h.begin_server_handshake(None, &[], &[]).map(drop)),
        ("end_server_handshake", |h| h.end_server_handshake()),
        ("send text", |h| h.send(BufferType::Utf8Message, Some(Buffer::Data(b"x")), None)),
        ("send binary fragment", |h| h.send(BufferType::BinaryFragment, Some(Buffer::Data(b"x")), None)),
        ("send close", |h| h.send(BufferType::Close, Some(Buffer::CloseStatus { status: 1000, reason: b"" }), None)),
        ("send ping", |h| h.send(BufferType::PingPong, None, None)),
        ("send pong", |h| h.send(BufferType::UnsolicitedPong, None, None)),
        ("receive", |h| h.receive(None)),
        ("get_action all", |h| h.get_action(ActionQueue::All).map(drop)),
        ("get_action send", |h| h.get_action(ActionQueue::Send).map(drop)),
        ("get_action receive", |h| h.get_action(ActionQueue::Receive).map(drop)),
        ("complete no-action", |h| h.complete_action(0, 0)),
        ("complete unknown id", |h| h.complete_action(999_999, 5)),
        ("complete_receive unknown id", |h| h.complete_receive(999_999, b"x")),
        ("receive_buffer unknown id", |h| h.receive_buffer(999_999).map(drop)),
        ("tick", |h| {
            h.tick(1_000_000);
            Ok(())
        }),
        ("abort", |h| {
            h.abort();
            Ok(())
        }),
    ]
}

/// The expected outcome: Ok, or the error code.
fn expected(role: Role, state: State, op: &str) -> Result<(), &'static str> {
    use State::*;
    let open_ish = matches!(state, Open | CloseSent | CloseReceived);
    match op {
        "begin_client_handshake" => match (role, state) {
            (Role::Client, Connecting) => Ok(()),
            (Role::Server, _) => Err("INVALID_ARGUMENT"),
            _ => Err("INVALID_STATE"),
        },
        "end_client_handshake" => match role {
            Role::Server => Err("INVALID_ARGUMENT"),
            Role::Client => Err("INVALID_STATE"), // never begun in this table
        },
        "begin_server_handshake" => match (role, state) {
            (Role::Client, _) => Err("INVALID_ARGUMENT"),
            // Empty headers are the peer's fault: a 400 rejection.
            (Role::Server, Connecting) => Err("HANDSHAKE_FAILED"),
            _ => Err("INVALID_STATE"),
        },
        "end_server_handshake" => match (role, state) {
            (Role::Client, _) => Err("INVALID_ARGUMENT"),
            // Optional after a successful begin, whatever happened since.
            (Role::Server, Connecting) => Err("INVALID_STATE"),
            (Role::Server, _) => Ok(()),
        },
        "send text" | "send binary fragment" => {
            if matches!(state, Open | CloseReceived) {
                Ok(())
            } else {
                Err("INVALID_STATE")
            }
        }
        "send close" => {
            if matches!(state, Open | CloseReceived) {
                Ok(())
            } else {
                Err("INVALID_STATE")
            }
        }
        "send ping" | "send pong" => {
            if open_ish {
                Ok(())
            } else {
                Err("INVALID_STATE")
            }
        }
        // The harness keeps a receive queued while the state allows one: a second is refused.
        "receive" => {
            if matches!(state, Open | CloseSent) {
                Err("OPERATION_PENDING")
            } else {
                Err("INVALID_STATE")
            }
        }
        "get_action all" | "get_action send" | "get_action receive" => Ok(()),
        "complete no-action" | "tick" | "abort" => Ok(()),
        "complete unknown id" | "complete_receive unknown id" | "receive_buffer unknown id" => Err("UNKNOWN_ACTION"),
        other => panic!("no expectation for {other}"),
    }
}

#[test]
fn every_operation_in_every_state() {
    let mut checked = 0;
    for role in [Role::Client, Role::Server] {
        for state in STATES {
            for (name, op) in ops() {
                let mut pair = in_state(role, state);
                let handle = match role {
                    Role::Client => &mut pair.client.handle,
                    Role::Server => &mut pair.server.handle,
                };
                let outcome = op(handle);
                let got = outcome.as_ref().map(|_| ()).map_err(|e| e.code());
                assert_eq!(got, expected(role, state, name), "{role:?} {state:?} {name}: {outcome:?}");
                if let Err(error) = &outcome {
                    // Errors read as sentences naming who is at fault.
                    let text = error.to_string();
                    assert!(text.starts_with("caller error") || text.starts_with("peer error"), "{text}");
                    assert_ne!(error.hresult(), 0);
                }
                // And the handle still answers afterwards.
                let _ = handle.get_action(ActionQueue::All);
                let _ = handle.next_deadline();
                let _ = handle.state();
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 2 * 6 * ops().len());
}

#[test]
fn properties_are_checked_by_name_and_range() {
    let bad = [
        (Property::ReceiveBufferSize(255), "receive buffer size"),
        (Property::ReceiveBufferSize(16 * 1024 * 1024 + 1), "receive buffer size"),
        (Property::SendBufferSize(15), "send buffer size"),
        (Property::MaxFrameSize(0), "max frame size"),
        (Property::MaxHandshakeHeaderBytes(10), "max handshake header bytes"),
    ];
    for (property, name) in bad {
        let err = Handle::with_random(Role::Client, &[property], Box::new(SeededRandom::new(1))).unwrap_err();
        assert_eq!(err.code(), "PROPERTY_OUT_OF_RANGE");
        assert!(err.to_string().contains(name), "{err}");
        assert!(err.is_local());
    }
    let err =
        Handle::with_random(Role::Server, &[Property::AllocatedBuffer], Box::new(SeededRandom::new(1))).unwrap_err();
    assert_eq!(err.code(), "UNSUPPORTED_PROPERTY");
    assert!(err.to_string().contains("owns its memory"));
    // The documented defaults.
    let client = Handle::with_random(Role::Client, &[], Box::new(SeededRandom::new(1))).unwrap();
    let server = Handle::with_random(Role::Server, &[], Box::new(SeededRandom::new(1))).unwrap();
    assert_eq!((client.config().receive_buffer_size, client.config().send_buffer_size), (4096, 4096));
    assert_eq!((server.config().receive_buffer_size, server.config().send_buffer_size), (4096, 16));
    assert_eq!(client.config().keepalive_interval_ms, 0, "keep-alive off by default");
}

#[test]
fn global_properties() {
    assert_eq!(global_property(property_type::KEEPALIVE_INTERVAL), Ok(GlobalProperty::KeepAliveInterval(30_000)));
    assert_eq!(global_property(property_type::SUPPORTED_VERSIONS), Ok(GlobalProperty::SupportedVersions(vec![13])));
    assert_eq!(global_property(0).unwrap_err().code(), "INVALID_ARGUMENT");
}

#[test]
fn bad_send_arguments() {
    let mut pair = Pair::open(&[], &[]);
    let h = &mut pair.client.handle;
    let cases: Vec<(BufferType, Option<Buffer<'_>>)> = vec![
        (BufferType::Close, Some(Buffer::CloseStatus { status: 1006, reason: b"" })),
        (BufferType::Close, Some(Buffer::CloseStatus { status: 1000, reason: &[b'x'; 124] })),
        (BufferType::Close, Some(Buffer::CloseStatus { status: 1000, reason: &[0xFF] })),
        (BufferType::Close, Some(Buffer::Data(b"x"))),
        (BufferType::PingPong, Some(Buffer::Data(&[0u8; 126]))),
        (BufferType::PingPong, Some(Buffer::CloseStatus { status: 1000, reason: b"" })),
        (BufferType::BinaryMessage, Some(Buffer::CloseStatus { status: 1000, reason: b"" })),
    ];
    for (buffer_type, buffer) in cases {
        let err = h.send(buffer_type, buffer, None).unwrap_err();
        assert_eq!(err.code(), "INVALID_ARGUMENT", "{buffer_type:?} {buffer:?}");
    }
    assert_eq!(BufferType::from_u32(0x8000_0007), None);
    assert_eq!(ActionQueue::from_u32(4), None);
}
