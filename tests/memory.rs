//! Memory an idle handle holds (issue 10): its buffers grow with the traffic and go back after
//! it. A counting global allocator measures the heap a handle holds as what dropping it frees.

mod common;

use common::{Pair, Side};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use wsaction::*;

struct Counting;

thread_local! {
    /// Bytes this thread has allocated and not freed: each test measures its own thread only.
    static LIVE: Cell<isize> = const { Cell::new(0) };
}

thread_local! {
    /// Allocations larger than this fail on this thread (as they would with the memory exhausted).
    static REFUSE_ABOVE: Cell<usize> = const { Cell::new(usize::MAX) };
}

thread_local! {
    /// How many allocations above REFUSE_ABOVE still succeed before the refusals start.
    static ALLOW_ABOVE: Cell<usize> = const { Cell::new(0) };
}

fn refused(size: usize) -> bool {
    if !REFUSE_ABOVE.try_with(|limit| size > limit.get()).unwrap_or(false) {
        return false;
    }
    let allowed = ALLOW_ABOVE.try_with(|n| n.replace(n.get().saturating_sub(1)) > 0).unwrap_or(false);
    !allowed
}

thread_local! {
    /// Allocation calls (alloc and realloc) on this thread.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count(change: isize) {
    // try_with: a thread's last frees may come after its counter is gone.
    let _ = LIVE.try_with(|live| live.set(live.get() + change));
    if change > 0 {
        let _ = ALLOCATIONS.try_with(|calls| calls.set(calls.get() + 1));
    }
}

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

fn live() -> isize {
    LIVE.with(Cell::get)
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if refused(layout.size()) {
            return std::ptr::null_mut();
        }
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            count(layout.size() as isize);
        }
        ptr
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        count(-(layout.size() as isize));
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if refused(new_size) {
            return std::ptr::null_mut();
        }
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            count(-(layout.size() as isize));
            count(new_size as isize);
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// At most this much heap for an idle handle: "a few KiB" (ws holds 5-6 KiB per connection,
/// socket included).
const IDLE_LIMIT: isize = 8 * 1024;

const RECEIVE_BUFFER_SIZE: u32 = 64 * 1024;

fn properties() -> Vec<Property> {
    vec![Property::ReceiveBufferSize(RECEIVE_BUFFER_SIZE), Property::SendBufferSize(RECEIVE_BUFFER_SIZE)]
}

/// The heap `side`'s handle and driver hold: what dropping them gives back.
fn held_by(side: Side) -> isize {
    let Side { handle, driver, wire_in, wrote, events, .. } = side;
    drop((wire_in, wrote, events));
    let before = live();
    drop((handle, driver));
    before - live()
}

fn open_pair() -> Pair {
    let mut pair = Pair::open(&properties(), &properties());
    pair.run();
    pair
}

#[test]
fn a_handle_after_the_handshake_with_a_receive_queued_holds_a_few_kib() {
    let pair = open_pair();
    assert!(pair.server.handle.outstanding_receive().is_some(), "the server holds a read");
    let Pair { client, server } = pair;
    let (server_held, client_held) = (held_by(server), held_by(client));
    assert!(server_held <= IDLE_LIMIT, "an idle server handle holds {server_held} bytes");
    assert!(client_held <= IDLE_LIMIT, "an idle client handle holds {client_held} bytes");
}

#[test]
fn the_memory_a_large_message_used_goes_back_when_it_completes() {
    let mut pair = open_pair();
    let message: Vec<u8> = (0..1 << 20).map(|i| (i % 251) as u8).collect();
    pair.client.handle.send(BufferType::BinaryMessage, Some(Buffer::Data(&message)), None).unwrap();
    pair.run();
    // The server echoes it back, so both directions carry 1 MiB.
    let received: Vec<u8> = pair.server.messages().into_iter().flat_map(|(_, bytes)| bytes).collect();
    assert_eq!(received.len(), message.len());
    assert!(received == message, "the server received the message intact");
    pair.server.handle.send(BufferType::BinaryMessage, Some(Buffer::Data(&received)), None).unwrap();
    pair.run();
    let echoed: usize = pair.client.messages().iter().map(|(_, bytes)| bytes.len()).sum();
    assert_eq!(echoed, message.len());
    assert!(pair.server.handle.outstanding_receive().is_some(), "the server holds its next read");
    let Pair { client, server } = pair;
    let (server_held, client_held) = (held_by(server), held_by(client));
    assert!(server_held <= IDLE_LIMIT, "after a 1 MiB message each way a server handle holds {server_held} bytes");
    assert!(client_held <= IDLE_LIMIT, "after a 1 MiB message each way a client handle holds {client_held} bytes");
}

/// Runs `f` with every allocation above `limit` bytes refused on this thread.
fn with_allocations_above_refused<T>(limit: usize, f: impl FnOnce() -> T) -> T {
    with_allocations_above_refused_after(limit, 0, f)
}

/// Runs `f` with allocations above `limit` bytes refused on this thread once `allowed` of them
/// have gone through.
fn with_allocations_above_refused_after<T>(limit: usize, allowed: usize, f: impl FnOnce() -> T) -> T {
    ALLOW_ABOVE.with(|n| n.set(allowed));
    REFUSE_ABOVE.with(|refuse| refuse.set(limit));
    let result = f();
    REFUSE_ABOVE.with(|refuse| refuse.set(usize::MAX));
    ALLOW_ABOVE.with(|n| n.set(0));
    result
}

/// The close codes and reasons `side` received.
fn closes_received(side: &common::Side) -> Vec<(Option<u16>, Vec<u8>)> {
    side.received()
        .into_iter()
        .filter_map(|event| match event {
            common::Event::Received { buffer_type: BufferType::Close, close_status, bytes, .. } => {
                Some((close_status, bytes))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn a_message_buffer_that_cannot_grow_fails_that_connection_with_1011() {
    let mut pair = open_pair();
    let message = vec![7u8; 60 * 1024];
    pair.client.handle.send(BufferType::BinaryMessage, Some(Buffer::Data(&message)), None).unwrap();
    pair.client.drain(&mut pair.server.wire_in);
    // Reads of 4 KiB (the harness's own read buffers stay under the limit): the message is
    // assembled in `pending`, which cannot grow past 16 KiB.
    pair.server.schedule = common::Schedule::of(vec![4096]);
    with_allocations_above_refused(16 * 1024, || pair.server.drain(&mut pair.client.wire_in));
    assert_eq!(
        pair.server.events,
        vec![common::Event::Failed { code: "OUT_OF_MEMORY", close_code: Some(1011) }],
        "the server fails the connection, and says why"
    );
    let failure = pair.server.handle.failure().expect("the handle says why it failed").clone();
    assert!(matches!(failure, Error::OutOfMemory { buffer: "message buffer", .. }), "{failure}");
    pair.run();
    let closes: Vec<_> = pair
        .client
        .received()
        .into_iter()
        .filter_map(|event| match event {
            common::Event::Received { buffer_type: BufferType::Close, close_status, bytes, .. } => {
                Some((close_status, bytes))
            }
            _ => None,
        })
        .collect();
    assert_eq!(closes, vec![(Some(1011), b"OUT_OF_MEMORY".to_vec())], "the client is told with 1011");
}

#[test]
fn a_send_frame_that_cannot_be_allocated_fails_that_connection_with_1011() {
    let mut pair = open_pair();
    let message = vec![7u8; 60 * 1024];
    let refused = with_allocations_above_refused(16 * 1024, || {
        pair.server.handle.send(BufferType::BinaryMessage, Some(Buffer::Data(&message)), None)
    });
    let error = refused.expect_err("the send is refused");
    assert_eq!((error.code(), error.close_code()), ("OUT_OF_MEMORY", Some(1011)));
    assert!(!error.is_local() && !error.is_remote(), "neither the caller nor the peer is at fault");
    pair.run();
    let closes: Vec<_> = pair
        .client
        .received()
        .into_iter()
        .filter_map(|event| match event {
            common::Event::Received { buffer_type: BufferType::Close, close_status, .. } => close_status,
            _ => None,
        })
        .collect();
    assert_eq!(closes, vec![1011], "the client is told with 1011");
    assert!(pair.client.messages().is_empty(), "nothing of the message went out");
}

#[test]
fn with_permessage_deflate_a_ping_or_a_large_message_leaves_no_buffer_behind() {
    let deflate = |mut props: Vec<Property>| {
        props.push(Property::PerMessageDeflate(true));
        props
    };
    let open_deflate = || {
        let mut pair = Pair::open(&deflate(properties()), &deflate(properties()));
        pair.run();
        assert!(pair.server.handle.permessage_deflate().is_some(), "permessage-deflate was agreed");
        pair
    };
    let baseline = held_by(open_deflate().server);

    let mut pinged = open_deflate();
    pinged.client.handle.send(BufferType::PingPong, Some(Buffer::Data(b"are you there")), None).unwrap();
    pinged.run();
    let after_ping = held_by(pinged.server);
    assert!(
        after_ping <= baseline + IDLE_LIMIT,
        "after a ping a server handle holds {after_ping} bytes, {baseline} idle"
    );

    // With context takeover (RFC 7692 7.1.1) the compressor's and inflater's state lives as long
    // as the connection (ws keeps its zlib streams too): a small message each way creates it.
    let small_echo = |pair: &mut Pair| {
        pair.client.handle.send(BufferType::BinaryMessage, Some(Buffer::Data(b"small")), None).unwrap();
        pair.run();
        pair.server.handle.send(BufferType::BinaryMessage, Some(Buffer::Data(b"small")), None).unwrap();
        pair.run();
    };
    let mut warmed = open_deflate();
    small_echo(&mut warmed);
    let with_contexts = held_by(warmed.server);

    let mut echoed = open_deflate();
    small_echo(&mut echoed);
    let message: Vec<u8> = (0..1 << 20).map(|i| (i % 7) as u8).collect();
    echoed.client.handle.send(BufferType::BinaryMessage, Some(Buffer::Data(&message)), None).unwrap();
    echoed.run();
    let received: Vec<u8> = echoed.server.messages().into_iter().skip(1).flat_map(|(_, bytes)| bytes).collect();
    assert!(received == message, "the server received the message intact");
    echoed.server.handle.send(BufferType::BinaryMessage, Some(Buffer::Data(&received)), None).unwrap();
    echoed.run();
    let after_echo = held_by(echoed.server);
    assert!(
        after_echo <= with_contexts + IDLE_LIMIT,
        "after a 1 MiB compressed message each way a server handle holds {after_echo} bytes, {with_contexts} after a small one"
    );
}

// ------------------------------------------------------------------ permessage-deflate's zlib state

/// A pair with permessage-deflate on both sides and the default buffers (4 KiB reads), so that the
/// engine's own buffers stay far below zlib's state (47,552 bytes for an inflater, 380,032 for a
/// compressor at ws's defaults, each one allocation).
fn open_deflate_pair() -> Pair {
    let deflate = [Property::PerMessageDeflate(true)];
    let mut pair = Pair::open(&deflate, &deflate);
    pair.run();
    assert!(pair.server.handle.permessage_deflate().is_some(), "permessage-deflate was agreed");
    pair
}

#[test]
fn an_inflater_without_memory_for_its_zlib_state_fails_that_connection_with_1011() {
    let mut pair = open_deflate_pair();
    let message = b"{\"price\": 100} ".repeat(200);
    pair.client.handle.send(BufferType::Utf8Message, Some(Buffer::Data(&message)), None).unwrap();
    pair.client.drain(&mut pair.server.wire_in);
    pair.server.schedule = common::Schedule::of(vec![4096]);
    with_allocations_above_refused(16 * 1024, || pair.server.drain(&mut pair.client.wire_in));
    assert_eq!(
        pair.server.events,
        vec![common::Event::Failed { code: "OUT_OF_MEMORY", close_code: Some(1011) }],
        "the server fails the connection, and says why"
    );
    let failure = pair.server.handle.failure().expect("the handle says why it failed").clone();
    assert!(matches!(failure, Error::OutOfMemory { buffer: "inflater state", bytes: 47_552 }), "{failure}");
    pair.run();
    assert_eq!(closes_received(&pair.client), vec![(Some(1011), b"OUT_OF_MEMORY".to_vec())]);

    // Another connection, with memory to be had, inflates the same message.
    let mut other = open_deflate_pair();
    other.client.handle.send(BufferType::Utf8Message, Some(Buffer::Data(&message)), None).unwrap();
    other.run();
    let received: Vec<u8> = other.server.messages().into_iter().flat_map(|(_, bytes)| bytes).collect();
    assert!(received == message, "the other connection's message arrives intact");
}

#[test]
fn a_compressor_without_memory_for_its_zlib_state_fails_that_connection_with_1011() {
    let mut pair = open_deflate_pair();
    let message = b"{\"price\": 100} ".repeat(200);
    let refused = with_allocations_above_refused(64 * 1024, || {
        pair.server.handle.send(BufferType::Utf8Message, Some(Buffer::Data(&message)), None)
    });
    let error = refused.expect_err("the send is refused");
    assert_eq!((error.code(), error.close_code()), ("OUT_OF_MEMORY", Some(1011)));
    assert!(matches!(error, Error::OutOfMemory { buffer: "compressor state", bytes: 380_032 }), "{error}");
    pair.run();
    assert_eq!(closes_received(&pair.client), vec![(Some(1011), b"OUT_OF_MEMORY".to_vec())]);
    assert!(pair.client.messages().is_empty(), "nothing of the message went out");
}

#[test]
fn a_compressed_payload_that_cannot_grow_fails_that_connection_with_1011() {
    let mut pair = open_deflate_pair();
    // With context takeover the compressor's state stays after a first message.
    pair.server.handle.send(BufferType::BinaryMessage, Some(Buffer::Data(b"warm")), None).unwrap();
    pair.run();
    // 1 MiB of noise compresses to a little more than itself: the compressed payload grows in
    // 64 KiB steps. The frame's own reservation (the first allocation over 64 KiB) goes through,
    // the payload's growth past 64 KiB does not.
    let mut x: u32 = 0x9e37_79b9;
    let noise: Vec<u8> = (0..1 << 20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect();
    let refused = with_allocations_above_refused_after(64 * 1024, 1, || {
        pair.server.handle.send(BufferType::BinaryMessage, Some(Buffer::Data(&noise)), None)
    });
    let error = refused.expect_err("the send is refused");
    assert_eq!((error.code(), error.close_code()), ("OUT_OF_MEMORY", Some(1011)));
    assert!(matches!(error, Error::OutOfMemory { buffer: "compressed payload", .. }), "{error}");
    pair.run();
    assert_eq!(closes_received(&pair.client), vec![(Some(1011), b"OUT_OF_MEMORY".to_vec())]);
    assert_eq!(pair.client.messages().len(), 1, "only the first message went out");
}

/// Many small messages in one read reuse the message buffer: it goes back once the read is
/// parsed, not after each message (which cost an allocation and a free of a receive buffer's size
/// per 16-byte message, a quarter of the parse time).
#[test]
fn small_messages_many_to_a_read_allocate_the_message_buffer_once() {
    let mut pair = open_pair();
    let mut wire = Vec::new();
    for i in 0..1000u16 {
        wire.extend(common::client_frame(0x82, &[i as u8; 16]));
    }
    let server = &mut pair.server.handle;
    let (id, capacity) = server.outstanding_receive().expect("the server holds a read");
    assert!(wire.len() <= capacity);
    let before = allocations();
    server.complete_receive(id, &wire).unwrap();
    let mut messages = 0;
    loop {
        let action = server.get_action(ActionQueue::Receive).unwrap().record();
        let (id, kind, len) = (action.id, action.kind, action.bytes.len());
        match kind {
            ActionKind::IndicateReceiveComplete => {
                assert_eq!(len, 16);
                messages += 1;
                server.complete_action(id, 0).unwrap();
                server.receive(None).unwrap();
            }
            ActionKind::ReceiveFromNetwork => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(messages, 1000);
    let calls = allocations() - before;
    assert!(calls <= 10, "parsing 1000 messages of one read took {calls} allocations");
}

/// Hands `bytes` to `side`'s held ReceiveFromNetwork the websocket.h way (zero-copy): the host
/// reads into the space `receive_buffer` offers, then completes the action with the count.
fn read_in_place(side: &mut common::Side, bytes: &[u8]) {
    let (id, capacity) = side.handle.outstanding_receive().expect("the side holds a read");
    assert!(bytes.len() <= capacity);
    let space = side.handle.receive_buffer(id).unwrap();
    space[..bytes.len()].copy_from_slice(bytes);
    side.handle.complete_action(id, bytes.len()).unwrap();
}

#[test]
fn a_closed_handle_holds_no_receive_buffer() {
    // The server reads the client's close into the whole receive buffer websocket.h offers
    // (64 KiB), answers it, and closes: the memory of that read must not stay with the handle
    // until it is freed (the JS adapters keep a closed handle until its socket is gone; 19,000
    // closed at once held a receive buffer each, 1.27 GB of wasm memory).
    let mut pair = open_pair();
    pair.client
        .handle
        .send(BufferType::Close, Some(Buffer::CloseStatus { status: 1000, reason: b"bye" }), None)
        .unwrap();
    pair.client.drain(&mut pair.server.wire_in);
    let close = std::mem::take(&mut pair.server.wire_in);
    read_in_place(&mut pair.server, &close);
    pair.run();
    pair.server
        .handle
        .send(BufferType::Close, Some(Buffer::CloseStatus { status: 1000, reason: b"bye" }), None)
        .unwrap();
    pair.run();
    assert_eq!(pair.server.handle.state(), State::Closed, "the close handshake completed");
    let held = held_by(pair.server);
    assert!(held <= IDLE_LIMIT, "a closed server handle holds {held} bytes");
}

#[test]
fn a_read_completed_after_an_abort_leaves_no_buffer_behind() {
    // The host holds a read when the handle is aborted (its socket closed), then completes it:
    // the bytes are dropped, and so must be the space they were read into.
    let mut pair = open_pair();
    let (id, _) = pair.server.handle.outstanding_receive().expect("the server holds a read");
    pair.server.handle.abort();
    let space = pair.server.handle.receive_buffer(id).expect("the abandoned read's space");
    space[..4].copy_from_slice(b"late");
    pair.server.handle.complete_action(id, 4).unwrap();
    pair.run();
    let held = held_by(pair.server);
    assert!(held <= IDLE_LIMIT, "an aborted server handle holds {held} bytes");
}

#[test]
fn a_read_of_a_few_bytes_takes_receive_buffer_room_for_those_bytes_only() {
    // Hosts that copy what they read into the engine (the JS class's completeReceive) ask for the
    // room of the bytes they have, not for the whole receive buffer the action offers.
    let mut pair = open_pair();
    let (id, capacity) = pair.server.handle.outstanding_receive().expect("the server holds a read");
    assert_eq!(capacity, RECEIVE_BUFFER_SIZE as usize);
    let before = live();
    let space = pair.server.handle.receive_buffer_for(id, 6).unwrap();
    assert_eq!(space.len(), 6);
    let taken = live() - before;
    assert!(taken <= 1024, "room for 6 bytes took {taken} bytes");
}
