//! The drain contract, host side: call get-action(all) until no-action, performing each action
//! and completing it. Output bytes go to a buffer the caller writes to its transport (socket or
//! in-memory wire) in order; a receive-from-network is held until the caller has bytes for it.

use crate::guest::{Action, ActionQueue, BufferType, Error, Guest, State, Trap};
use wasmtime::component::ResourceAny;

/// What the application learns from a drain.
#[derive(Clone, Debug)]
pub enum Event {
    /// indicate-send-complete.
    SendComplete { buffer_type: BufferType, context: Option<u64> },
    /// indicate-receive-complete: a message or a piece of one, a pong, or a close.
    Received { buffer_type: BufferType, bytes: Vec<u8>, close_status: Option<u16>, context: Option<u64> },
    /// get-action returned an error (a peer's violation): the engine queued its close; keep draining.
    Failed(Error),
}

/// One handle and what the host holds for it.
pub struct Endpoint {
    pub handle: ResourceAny,
    /// The receive-from-network being held: (id, capacity).
    pub held: Option<(u32, u32)>,
    /// Bytes read from the transport and not yet handed to the engine.
    pub inbox: Vec<u8>,
    /// The transport ended (EOF): once the inbox is empty, complete the held receive with nothing.
    pub ended: bool,
}

impl Endpoint {
    pub fn new(handle: ResourceAny) -> Endpoint {
        Endpoint { handle, held: None, inbox: Vec::new(), ended: false }
    }
}

/// get-action until no-action. SendToNetwork bytes are appended to `out` and completed in full.
/// Returns the events in order. A component error from complete-action is a bug in this host
/// (it only completes what it was handed), so it is returned as a failure too.
pub fn drain(g: &mut Guest, ep: &mut Endpoint, out: &mut Vec<u8>) -> Result<Vec<Event>, Trap> {
    let mut events = Vec::new();
    let mut errors_in_a_row = 0;
    loop {
        let action = match g.get_action(ep.handle, ActionQueue::All)? {
            Ok(action) => {
                errors_in_a_row = 0;
                action
            }
            Err(error) => {
                errors_in_a_row += 1;
                if errors_in_a_row > 4 {
                    anyhow::bail!("get-action keeps failing: {error:?}");
                }
                events.push(Event::Failed(error));
                continue;
            }
        };
        match action {
            Action::NoAction => return Ok(events),
            Action::SendToNetwork(send) => {
                out.extend_from_slice(&send.bytes);
                complete(g, ep.handle, send.id, send.bytes.len() as u32)?;
            }
            Action::IndicateSendComplete(done) => {
                complete(g, ep.handle, done.id, 0)?;
                events.push(Event::SendComplete { buffer_type: done.buffer_type, context: done.context });
            }
            Action::ReceiveFromNetwork(receive) => {
                ep.held = Some((receive.id, receive.capacity));
                // Hand over what we already have; otherwise hold the action until bytes come.
                if !feed(g, ep)? {
                    return Ok(events);
                }
            }
            Action::IndicateReceiveComplete(received) => {
                events.push(Event::Received {
                    buffer_type: received.buffer_type,
                    bytes: received.bytes,
                    close_status: received.close_status,
                    context: received.context,
                });
                complete(g, ep.handle, received.id, 0)?;
            }
        }
    }
}

fn complete(g: &mut Guest, h: ResourceAny, id: u32, n: u32) -> Result<(), Trap> {
    g.complete_action(h, id, n)?.map_err(|e| anyhow::anyhow!("complete-action({id}, {n}) failed: {e:?}"))
}

/// Completes the held receive-from-network with inbox bytes (at most its capacity), or with
/// nothing when the transport ended. Returns whether it completed one.
pub fn feed(g: &mut Guest, ep: &mut Endpoint) -> Result<bool, Trap> {
    let Some((id, capacity)) = ep.held else { return Ok(false) };
    if ep.inbox.is_empty() && !ep.ended {
        return Ok(false);
    }
    let n = ep.inbox.len().min(capacity as usize);
    let bytes: Vec<u8> = ep.inbox.drain(..n).collect();
    ep.held = None;
    g.complete_receive(ep.handle, id, &bytes)?
        .map_err(|e| anyhow::anyhow!("complete-receive({id}, {n} bytes) failed: {e:?}"))?;
    Ok(true)
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
