//! The host side of the drain contract, on the component's driver: one `drain` crossing hands
//! the bytes read to the engine and returns the bytes to write, the indications, the held
//! receive and the first violation; `send-and-drain` sends in the same crossing. The loop and
//! its rules (receive again after each indication, replies before a failing close) are the
//! core's; this file only moves bytes and turns indications into events.

use crate::guest::Buffer;
use crate::guest::{BufferType, DrainOptions, DrainResult, Error, Guest, Indication, SendOptions, State, Trap};
use wasmtime::component::ResourceAny;

/// What the application learns from a drain.
#[derive(Clone, Debug)]
pub enum Event {
    /// A send finished.
    SendComplete { buffer_type: BufferType, context: Option<u64> },
    /// A receive finished: a message or a piece of one, a pong, or a close.
    Received { buffer_type: BufferType, bytes: Vec<u8>, close_status: Option<u16>, context: Option<u64> },
    /// The peer broke the protocol: the engine queued its failing close (written by a later drain,
    /// after the application's replies to the messages before it).
    Failed(Error),
}

/// One handle and what the host holds for it.
pub struct Endpoint {
    pub handle: ResourceAny,
    /// The receive-from-network the engine holds for more bytes: (id, capacity).
    pub held: Option<(u32, u32)>,
    /// Bytes read from the transport and not yet taken by the engine.
    pub inbox: Vec<u8>,
    /// The transport ended (EOF): the engine hears it once it has taken the inbox.
    pub ended: bool,
    /// A failing close waits behind the replies to the last events: drain again after them.
    pub close_waits: bool,
    /// When the engine's next timer fires (the clock the host ticks with), as of the last drain.
    pub next_deadline: Option<u64>,
}

impl Endpoint {
    pub fn new(handle: ResourceAny) -> Endpoint {
        Endpoint { handle, held: None, inbox: Vec::new(), ended: false, close_waits: false, next_deadline: None }
    }
}

/// Every host here keeps receiving after each indication.
pub const OPTIONS: DrainOptions = DrainOptions { keep_receiving: true, max_out_bytes: None };

/// One `drain` crossing with at most `limit` bytes of the inbox: the engine's output is appended
/// to `out`, the events are returned in order, and what the engine did not take stays in the inbox.
pub fn drain_some(g: &mut Guest, ep: &mut Endpoint, out: &mut Vec<u8>, limit: usize) -> Result<Vec<Event>, Trap> {
    let n = ep.inbox.len().min(limit);
    let end_of_stream = ep.ended && n == ep.inbox.len();
    let result = g
        .drain(ep.handle, &ep.inbox[..n], end_of_stream, OPTIONS)?
        .map_err(|e| anyhow::anyhow!("drain failed (a local error, a bug in this host): {e:?}"))?;
    ep.inbox.drain(..result.consumed as usize);
    Ok(take(ep, result, out))
}

/// One `drain` crossing with the whole inbox.
pub fn drain(g: &mut Guest, ep: &mut Endpoint, out: &mut Vec<u8>) -> Result<Vec<Event>, Trap> {
    drain_some(g, ep, out, usize::MAX)
}

/// Sends as `send` does by default: compressed when permessage-deflate was agreed (ws's default).
pub const SEND: SendOptions = SendOptions { compress: true };

/// `send-and-drain`: the send's frame and anything else the engine had lands in `out`. The
/// engine's refusal (the connection is closing, a bad buffer) is the inner error.
pub fn send(
    g: &mut Guest,
    ep: &mut Endpoint,
    kind: BufferType,
    buffer: Option<&Buffer>,
    out: &mut Vec<u8>,
) -> Result<Result<Vec<Event>, Error>, Trap> {
    send_with_options(g, ep, kind, buffer, SEND, out)
}

/// `send` with ws's per-send options (`compress: false` sends a message uncompressed).
pub fn send_with_options(
    g: &mut Guest,
    ep: &mut Endpoint,
    kind: BufferType,
    buffer: Option<&Buffer>,
    send_options: SendOptions,
    out: &mut Vec<u8>,
) -> Result<Result<Vec<Event>, Error>, Trap> {
    Ok(match g.send_and_drain(ep.handle, kind, buffer, send_options, OPTIONS)? {
        Ok(result) => Ok(take(ep, result, out)),
        Err(refused) => Err(refused),
    })
}

fn take(ep: &mut Endpoint, result: DrainResult, out: &mut Vec<u8>) -> Vec<Event> {
    out.extend_from_slice(&result.out);
    ep.held = result.receive.map(|held| (held.id, held.capacity));
    ep.close_waits = result.failing_close_waits;
    ep.next_deadline = result.next_deadline;
    let mut events: Vec<Event> = result
        .indications
        .into_iter()
        .map(|indication| match indication {
            Indication::SendComplete(sent) => {
                Event::SendComplete { buffer_type: sent.buffer_type, context: sent.context }
            }
            Indication::ReceiveComplete(received) => Event::Received {
                buffer_type: received.buffer_type,
                bytes: received.bytes,
                close_status: received.close_status,
                context: received.context,
            },
        })
        .collect();
    events.extend(result.violation.map(Event::Failed));
    events
}

/// True once the handle is done: close the transport.
pub fn finished(state: State) -> bool {
    matches!(state, State::Closed | State::Aborted)
}

/// Reassembles message pieces (*-fragment ... *-message) into whole messages.
#[derive(Default)]
pub struct Assembler {
    partial: Vec<u8>,
}

impl Assembler {
    /// Feeds one received piece; returns (is_text, message) when it ends a message.
    pub fn push(&mut self, buffer_type: BufferType, bytes: &[u8]) -> Option<(bool, Vec<u8>)> {
        match buffer_type {
            BufferType::Utf8Fragment | BufferType::BinaryFragment => {
                self.partial.extend_from_slice(bytes);
                None
            }
            BufferType::Utf8Message | BufferType::BinaryMessage => {
                self.partial.extend_from_slice(bytes);
                Some((buffer_type == BufferType::Utf8Message, std::mem::take(&mut self.partial)))
            }
            _ => None,
        }
    }
}
