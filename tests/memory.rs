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

fn count(change: isize) {
    // try_with: a thread's last frees may come after its counter is gone.
    let _ = LIVE.try_with(|live| live.set(live.get() + change));
}

fn live() -> isize {
    LIVE.with(Cell::get)
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
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
