//! The pair harness: a client handle and a server handle wired through an in-memory network that
//! can deliver bytes whole, in chunks, one byte at a time, or in any schedule of read sizes.
#![allow(dead_code)]

use wsaction::*;

/// What one side observed: every indication and every error, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    Received { buffer_type: BufferType, bytes: Vec<u8>, close_status: Option<u16>, context: Option<u64> },
    SendComplete { buffer_type: BufferType, context: Option<u64> },
    Failed { code: &'static str, close_code: Option<u16> },
}

/// How reads are sized: each ReceiveFromNetwork takes at most the next size in the schedule
/// (cycling); 0 means "everything waiting".
#[derive(Clone, Debug)]
pub struct Schedule {
    pub sizes: Vec<usize>,
    at: usize,
}

impl Schedule {
    pub fn whole() -> Self {
        Schedule { sizes: vec![0], at: 0 }
    }
    pub fn bytewise() -> Self {
        Schedule { sizes: vec![1], at: 0 }
    }
    pub fn of(sizes: Vec<usize>) -> Self {
        Schedule { sizes, at: 0 }
    }
    pub fn next(&mut self) -> usize {
        let size = self.sizes[self.at % self.sizes.len()];
        self.at += 1;
        if size == 0 {
            usize::MAX
        } else {
            size
        }
    }
}

pub struct Side {
    pub handle: Handle,
    /// The core's driver: the harness holds no action loop of its own.
    pub driver: Driver,
    pub wire_in: Vec<u8>,
    /// Everything this side wrote, for checks on framing and masking.
    pub wrote: Vec<u8>,
    pub events: Vec<Event>,
    pub schedule: Schedule,
    /// Queue a new receive after each indication while the state allows it.
    pub auto_receive: bool,
}

impl Side {
    pub fn new(handle: Handle) -> Self {
        Side {
            handle,
            driver: Driver::new(),
            wire_in: Vec::new(),
            wrote: Vec::new(),
            events: Vec::new(),
            schedule: Schedule::whole(),
            auto_receive: true,
        }
    }

    /// Drains this side with the driver, one scheduled read per driver call; bytes it writes go
    /// to `peer_wire`. True when anything happened.
    pub fn drain(&mut self, peer_wire: &mut Vec<u8>) -> bool {
        let options = DrainOptions { keep_receiving: self.auto_receive, ..DrainOptions::default() };
        let mut progressed = false;
        loop {
            let read: Vec<u8> = match self.handle.outstanding_receive() {
                Some((_, capacity)) if !self.wire_in.is_empty() => {
                    assert!(capacity > 0, "a read must offer space");
                    let n = self.wire_in.len().min(capacity).min(self.schedule.next());
                    self.wire_in.drain(..n).collect()
                }
                _ => Vec::new(),
            };
            let drained = self.driver.feed(&mut self.handle, &read, options).expect("the driver's loop");
            // What the handle did not take (it stopped receiving) stays on the wire.
            let rest = read[drained.consumed..].to_vec();
            self.wire_in.splice(..0, rest);
            peer_wire.extend_from_slice(drained.out);
            self.wrote.extend_from_slice(drained.out);
            for indication in drained.indications {
                self.events.push(match indication {
                    Indication::SendComplete { buffer_type, context } => {
                        Event::SendComplete { buffer_type: *buffer_type, context: *context }
                    }
                    Indication::Received { buffer_type, close_status, context, .. } => Event::Received {
                        buffer_type: *buffer_type,
                        bytes: drained.payload_of(indication).to_vec(),
                        close_status: *close_status,
                        context: *context,
                    },
                    other => panic!("an indication the harness does not know: {other:?}"),
                });
            }
            if let Some(error) = drained.violation {
                self.events.push(Event::Failed { code: error.code(), close_code: error.close_code() });
            }
            let moved = drained.consumed > 0
                || !drained.out.is_empty()
                || !drained.indications.is_empty()
                || drained.violation.is_some();
            let can_read = self.handle.outstanding_receive().is_some() && !self.wire_in.is_empty();
            if !moved && !can_read {
                return progressed;
            }
            progressed = true;
        }
    }

    /// Received data indications joined into whole messages: (type of the final piece, bytes).
    pub fn messages(&self) -> Vec<(BufferType, Vec<u8>)> {
        let mut out = Vec::new();
        let mut current = Vec::new();
        for event in &self.events {
            if let Event::Received { buffer_type, bytes, .. } = event {
                if buffer_type.is_data() {
                    current.extend_from_slice(bytes);
                    if !buffer_type.is_fragment() {
                        out.push((*buffer_type, std::mem::take(&mut current)));
                    }
                }
            }
        }
        out
    }

    pub fn received(&self) -> Vec<Event> {
        self.events.iter().filter(|e| matches!(e, Event::Received { .. })).cloned().collect()
    }
}

pub struct Pair {
    pub client: Side,
    pub server: Side,
}

impl Pair {
    /// Both handles created with seeded randomness and the given properties, handshake done,
    /// a receive queued on each side.
    pub fn open(client_props: &[Property], server_props: &[Property]) -> Pair {
        let mut pair = Pair::connecting(client_props, server_props);
        pair.handshake(&[], None);
        pair
    }

    pub fn connecting(client_props: &[Property], server_props: &[Property]) -> Pair {
        let client = Handle::with_random(Role::Client, client_props, Box::new(SeededRandom::new(1))).unwrap();
        let server = Handle::with_random(Role::Server, server_props, Box::new(SeededRandom::new(2))).unwrap();
        let mut pair = Pair { client: Side::new(client), server: Side::new(server) };
        pair.client.handle.tick(0);
        pair.server.handle.tick(0);
        pair
    }

    pub fn handshake(&mut self, offered: &[&str], selected: Option<&str>) {
        let mut request = self.client.handle.begin_client_handshake(offered, &[], &[]).unwrap();
        request.push(("Host".into(), "wsaction.test".into()));
        let response = self.server.handle.begin_server_handshake(selected, &[], &request).unwrap();
        self.client.handle.end_client_handshake(&response).unwrap();
        self.client.handle.receive(None).unwrap();
        self.server.handle.receive(None).unwrap();
    }

    /// Drains both sides until neither makes progress.
    pub fn run(&mut self) {
        for _ in 0..10_000_000 {
            let a = self.client.drain(&mut self.server.wire_in);
            let b = self.server.drain(&mut self.client.wire_in);
            if !a && !b {
                return;
            }
        }
        panic!("the pair never went quiet");
    }

    pub fn tick(&mut self, now: u64) {
        self.client.handle.tick(now);
        self.server.handle.tick(now);
        self.run();
    }
}

/// A masked client frame, as a hostile or hand-made peer would write it toward a server.
pub fn client_frame(first_byte: u8, payload: &[u8]) -> Vec<u8> {
    let key = [0x11, 0x22, 0x33, 0x44];
    let mut out = vec![first_byte];
    match payload.len() {
        n if n < 126 => out.push(0x80 | n as u8),
        n if n <= 0xFFFF => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(&key);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    out
}

/// An unmasked server frame, as a server would write it toward a client.
pub fn server_frame(first_byte: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![first_byte];
    match payload.len() {
        n if n < 126 => out.push(n as u8),
        n if n <= 0xFFFF => {
            out.push(126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(payload);
    out
}
