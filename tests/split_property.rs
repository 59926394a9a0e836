//! Property: any scenario gives the same indications whatever way the bytes are split between
//! the two handles, down to one byte at a time.

mod common;
use common::*;
use proptest::prelude::*;
use wsaction::*;

#[derive(Clone, Debug)]
enum Step {
    /// A message from the client (true) or server, as text or binary, in `pieces` fragments.
    Message {
        from_client: bool,
        text: bool,
        payload: Vec<u8>,
        pieces: usize,
    },
    Ping {
        from_client: bool,
        payload: Vec<u8>,
    },
    Pong {
        from_client: bool,
        payload: Vec<u8>,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (any::<bool>(), any::<bool>(), prop::collection::vec(any::<u8>(), 0..700), 1usize..4)
            .prop_map(|(from_client, text, payload, pieces)| {
                // Text payloads are made valid UTF-8 (multi-byte characters included).
                let payload = if text {
                    payload.iter().map(|b| ['a', 'é', '€', '𝄞'][(*b % 4) as usize]).collect::<String>().into_bytes()
                } else {
                    payload
                };
                Step::Message { from_client, text, payload, pieces }
            }),
        1 => (any::<bool>(), prop::collection::vec(any::<u8>(), 0..126)).prop_map(|(from_client, payload)| Step::Ping { from_client, payload }),
        1 => (any::<bool>(), prop::collection::vec(any::<u8>(), 0..126)).prop_map(|(from_client, payload)| Step::Pong { from_client, payload }),
    ]
}

/// Runs the steps (then a close from each side) and returns both sides' events.
/// With `deflate`, both sides negotiate permessage-deflate (RFC 7692) and compress every message.
fn run(
    steps: &[Step],
    receive_size: u32,
    deflate: bool,
    client_reads: Schedule,
    server_reads: Schedule,
) -> (Vec<Event>, Vec<Event>) {
    let props =
        [Property::ReceiveBufferSize(receive_size), Property::SendBufferSize(64), Property::PerMessageDeflate(deflate)];
    let mut pair = Pair::open(&props, &props);
    pair.client.schedule = client_reads;
    pair.server.schedule = server_reads;
    for step in steps {
        let (from_client, buffer_type, payload) = match step {
            Step::Message { from_client, text, payload, pieces } => {
                // Fragments may split a code point anywhere; only the message as a whole must be UTF-8.
                let cut = (payload.len() / pieces).max(1);
                let chunks: Vec<&[u8]> =
                    if payload.is_empty() { vec![&payload[..]] } else { payload.chunks(cut).collect() };
                for (i, chunk) in chunks.iter().enumerate() {
                    let last = i == chunks.len() - 1;
                    let buffer_type = match (text, last) {
                        (true, true) => BufferType::Utf8Message,
                        (true, false) => BufferType::Utf8Fragment,
                        (false, true) => BufferType::BinaryMessage,
                        (false, false) => BufferType::BinaryFragment,
                    };
                    let side = if *from_client { &mut pair.client } else { &mut pair.server };
                    side.handle.send(buffer_type, Some(Buffer::Data(chunk)), None).unwrap();
                    pair.run();
                }
                continue;
            }
            Step::Ping { from_client, payload } => (*from_client, BufferType::PingPong, payload),
            Step::Pong { from_client, payload } => (*from_client, BufferType::UnsolicitedPong, payload),
        };
        let side = if from_client { &mut pair.client } else { &mut pair.server };
        side.handle.send(buffer_type, Some(Buffer::Data(payload)), None).unwrap();
        pair.run();
    }
    pair.client
        .handle
        .send(BufferType::Close, Some(Buffer::CloseStatus { status: 1000, reason: b"end" }), None)
        .unwrap();
    pair.run();
    pair.server.handle.send(BufferType::Close, None, None).unwrap();
    pair.run();
    assert_eq!(pair.client.handle.state(), State::Closed);
    assert_eq!(pair.server.handle.state(), State::Closed);
    (pair.client.events, pair.server.events)
}

fn schedule() -> impl Strategy<Value = Schedule> {
    prop_oneof![
        Just(Schedule::bytewise()),
        Just(Schedule::whole()),
        prop::collection::vec(1usize..300, 1..8).prop_map(Schedule::of),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn indications_do_not_depend_on_how_bytes_are_split(
        steps in prop::collection::vec(step(), 0..12),
        receive_size in prop_oneof![Just(256u32), Just(300), Just(4096)],
        client_reads in schedule(),
        server_reads in schedule(),
        deflate in any::<bool>(),
    ) {
        let reference = run(&steps, receive_size, deflate, Schedule::whole(), Schedule::whole());
        let split = run(&steps, receive_size, deflate, client_reads, server_reads);
        prop_assert_eq!(&reference, &split);
        // And each message arrives whole, with its type.
        let mut pair_msgs = (Vec::new(), Vec::new());
        for step in &steps {
            if let Step::Message { from_client, text, payload, .. } = step {
                let t = if *text { BufferType::Utf8Message } else { BufferType::BinaryMessage };
                if *from_client { pair_msgs.1.push((t, payload.clone())) } else { pair_msgs.0.push((t, payload.clone())) }
            }
        }
        let joined = |events: &[Event]| {
            let mut side = Side::new(Handle::with_random(Role::Client, &[], Box::new(SeededRandom::new(0))).unwrap());
            side.events = events.to_vec();
            side.messages()
        };
        prop_assert_eq!(joined(&split.0), pair_msgs.0);
        prop_assert_eq!(joined(&split.1), pair_msgs.1);
    }
}
