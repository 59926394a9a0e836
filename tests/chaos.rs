//! Nothing a peer or a caller does may panic: random sequences of API calls (valid and not) and
//! random bytes from the network, against both roles. Memory stays bounded by the buffer sizes.

use proptest::prelude::*;
use wsaction::*;

#[derive(Clone, Debug)]
enum Call {
    Send {
        buffer_type: u8,
        data: Vec<u8>,
        close: Option<(u16, Vec<u8>)>,
    },
    Receive,
    GetAction(u8),
    /// Complete the last action seen, or a made-up id; `bytes` as given or the action's length.
    Complete {
        made_up: Option<u32>,
        bytes: Option<usize>,
    },
    /// Complete the last ReceiveFromNetwork with these bytes (hostile or a valid frame).
    Feed(Vec<u8>),
    FeedValidFrame {
        opcode: u8,
        fin: bool,
        payload: Vec<u8>,
    },
    Tick(u64),
    Abort,
    EndServerHandshake,
}

fn call() -> impl Strategy<Value = Call> {
    prop_oneof![
        3 => (0u8..8, prop::collection::vec(any::<u8>(), 0..200), prop::option::of((any::<u16>(), prop::collection::vec(any::<u8>(), 0..130))))
            .prop_map(|(buffer_type, data, close)| Call::Send { buffer_type, data, close }),
        2 => Just(Call::Receive),
        6 => (0u8..5).prop_map(Call::GetAction),
        4 => (prop::option::of(0u32..50), prop::option::of(0usize..300)).prop_map(|(made_up, bytes)| Call::Complete { made_up, bytes }),
        3 => prop::collection::vec(any::<u8>(), 0..300).prop_map(Call::Feed),
        3 => (0u8..16, any::<bool>(), prop::collection::vec(any::<u8>(), 0..200)).prop_map(|(opcode, fin, payload)| Call::FeedValidFrame { opcode, fin, payload }),
        1 => (0u64..100_000).prop_map(Call::Tick),
        1 => Just(Call::Abort),
        1 => Just(Call::EndServerHandshake),
    ]
}

fn frame(opcode: u8, fin: bool, payload: &[u8], masked: bool) -> Vec<u8> {
    let mut out = vec![(if fin { 0x80 } else { 0 }) | opcode];
    let mask_bit = if masked { 0x80 } else { 0 };
    if payload.len() < 126 {
        out.push(mask_bit | payload.len() as u8);
    } else {
        out.push(mask_bit | 126);
        out.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    }
    if masked {
        out.extend_from_slice(&[9, 8, 7, 6]);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ [9, 8, 7, 6][i % 4]));
    } else {
        out.extend_from_slice(payload);
    }
    out
}

fn open(role: Role) -> Handle {
    let props = [
        Property::ReceiveBufferSize(256),
        Property::SendBufferSize(16),
        Property::KeepAliveInterval(1000),
        Property::CloseTimeout(500),
    ];
    let mut client = Handle::with_random(Role::Client, &props, Box::new(SeededRandom::new(3))).unwrap();
    let mut server = Handle::with_random(Role::Server, &props, Box::new(SeededRandom::new(4))).unwrap();
    let mut request = client.begin_client_handshake(&["a"], &["x-ext"], &[]).unwrap();
    request.push(("Host".into(), "h".into()));
    let response = server.begin_server_handshake(Some("a"), &[], &request).unwrap();
    client.end_client_handshake(&response).unwrap();
    match role {
        Role::Client => client,
        Role::Server => server,
    }
}

fn apply(handle: &mut Handle, role: Role, call: &Call, last: &mut Option<(u32, ActionKind, usize)>) {
    let types = [
        BufferType::Utf8Message,
        BufferType::Utf8Fragment,
        BufferType::BinaryMessage,
        BufferType::BinaryFragment,
        BufferType::Close,
        BufferType::PingPong,
        BufferType::UnsolicitedPong,
    ];
    match call {
        Call::Send { buffer_type, data, close } => {
            let buffer = match close {
                Some((status, reason)) => Some(Buffer::CloseStatus { status: *status, reason }),
                None if data.is_empty() => None,
                None => Some(Buffer::Data(data)),
            };
            if let Some(t) = types.get(*buffer_type as usize) {
                let _ = handle.send(*t, buffer, Some(7));
            }
        }
        Call::Receive => {
            let _ = handle.receive(Some(8));
        }
        Call::GetAction(q) => {
            let queue = ActionQueue::from_u32(*q as u32).unwrap_or(ActionQueue::All);
            if let Ok(action) = handle.get_action(queue).map(|a| a.record()) {
                assert!(action.bytes.len() <= 16 * 1024 * 1024);
                assert!(action.receive_capacity <= 256);
                if action.kind != ActionKind::NoAction {
                    *last = Some((action.id, action.kind, action.bytes.len()));
                }
            }
        }
        Call::Complete { made_up, bytes } => {
            let (id, len) = match (made_up, *last) {
                (Some(id), _) => (*id, 0),
                (None, Some((id, _, len))) => (id, len),
                (None, None) => (0, 0),
            };
            let _ = handle.complete_action(id, bytes.unwrap_or(len));
        }
        Call::Feed(bytes) => {
            if let Some((id, ActionKind::ReceiveFromNetwork, _)) = *last {
                let _ = handle.complete_receive(id, bytes);
            }
        }
        Call::FeedValidFrame { opcode, fin, payload } => {
            if let Some((id, ActionKind::ReceiveFromNetwork, _)) = *last {
                let bytes = frame(*opcode, *fin, payload, role == Role::Server);
                let _ = handle.complete_receive(id, &bytes);
            }
        }
        Call::Tick(now) => handle.tick(*now),
        Call::Abort => handle.abort(),
        Call::EndServerHandshake => {
            let _ = handle.end_server_handshake();
        }
    }
    // Every query answers in every state.
    let _ = (handle.state(), handle.next_deadline(), handle.failure().map(Error::code));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_calls_never_panic(calls in prop::collection::vec(call(), 0..120), server in any::<bool>()) {
        let role = if server { Role::Server } else { Role::Client };
        let mut handle = open(role);
        let mut last = None;
        let mut now = 0;
        for call in &calls {
            let call = match call {
                // Keep time monotonic, as the contract asks.
                Call::Tick(dt) => { now += dt; Call::Tick(now) }
                other => other.clone(),
            };
            apply(&mut handle, role, &call, &mut last);
        }
    }

    #[test]
    fn random_handshake_headers_never_panic(
        names in prop::collection::vec("[A-Za-z-]{1,24}", 0..12),
        values in prop::collection::vec(".{0,40}", 0..12),
        server in any::<bool>(),
    ) {
        let headers: Vec<Header> = names.into_iter().zip(values).collect();
        if server {
            let mut h = Handle::with_random(Role::Server, &[], Box::new(SeededRandom::new(1))).unwrap();
            let _ = h.begin_server_handshake(Some("p"), &["e"], &headers);
        } else {
            let mut h = Handle::with_random(Role::Client, &[], Box::new(SeededRandom::new(1))).unwrap();
            let _ = h.begin_client_handshake(&["p"], &["e"], &headers);
            let _ = h.end_client_handshake(&headers);
        }
        let mut buf = Vec::new();
        for (n, v) in &headers { buf.extend(format!("{n}: {v}\r\n").bytes()); }
        let _ = http::parse_request_head(&buf, &Limits::default());
        let _ = http::parse_response_head(&buf, &Limits::default());
    }

    #[test]
    fn random_bytes_into_head_parsers_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let limits = Limits { max_handshake_header_bytes: 256, max_handshake_headers: 8, ..Limits::default() };
        let _ = http::parse_request_head(&bytes, &limits);
        let _ = http::parse_response_head(&bytes, &limits);
        let _ = frame::parse_header(&bytes);
    }
}
