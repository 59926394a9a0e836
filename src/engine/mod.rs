//! The handle: websocket.h's session object, split by job.
//!
//! | module | job |
//! | --- | --- |
//! | [`handshake`] | the begin/end handshake steps (RFC 6455 section 4) |
//! | [`send`] | `send` and `send_now`: checks, framing, masking, the send queue's frame |
//! | [`receive`] | `receive`: the frame reader (headers, per-frame rules, unmasking) |
//! | [`assembler`] | the message assembler: fragments, limits, UTF-8 as it arrives, pieces |
//! | [`control`] | ping, pong and close frames, received and the engine's own |
//! | [`action`] | `get_action` / `complete_action`: the two queues and the typed [`Action`] |
//! | [`transitions`] | every state change and every teardown (the table is [`crate::state`]) |
//! | [`timers`] | `tick` and `next_deadline`, reading one timer table |
//!
//! Inputs (handshake calls, `send`, `receive`, `complete_action`, `tick`) change the handle;
//! `get_action` hands out what the host must do, and every action handed out is held in one of two
//! slots (send queue, receive queue) until the host completes it.

mod action;
mod assembler;
mod control;
mod handshake;
mod receive;
mod send;
mod timers;
mod transitions;

pub use action::{Action, ActionRecord, Received};
pub use send::{Buffer, SendOptions};

use crate::config::{Config, Property, Role};
use crate::error::Error;
use crate::permessage_deflate::{Negotiated, PerMessageDeflate};
use crate::random::RandomSource;
use crate::state::State;
use crate::wire::utf8::Utf8Validator;
use action::Outstanding;
use assembler::InboundMessage;
use control::InternalFrame;
use handshake::HandshakePhase;
use receive::{InboundFrame, Ready};
use send::SendOp;
use std::collections::VecDeque;

/// Buffers up to this capacity stay with a handle between messages; larger ones (a big message's
/// or a full receive buffer's) go back to the allocator once they are empty, so an idle
/// connection holds a few KiB at most.
pub(crate) const IDLE_BUFFER_LIMIT: usize = 4 * 1024;

/// Makes room for `total` bytes in `buffer` (growing as a Vec does, never past `limit` when
/// `total` fits under it) or says which buffer could not grow: an allocation this connection
/// cannot get fails the connection, never the process.
fn make_room(buffer: &mut Vec<u8>, total: usize, limit: usize, name: &'static str) -> Result<(), Error> {
    if buffer.capacity() >= total {
        return Ok(());
    }
    let target = buffer.capacity().saturating_mul(2).min(limit).max(total);
    buffer.try_reserve_exact(target - buffer.len()).map_err(|_| Error::OutOfMemory { buffer: name, bytes: target })
}

/// Gives a buffer's memory back when it is empty and larger than an idle handle keeps.
fn release_if_idle(buffer: &mut Vec<u8>) {
    if buffer.is_empty() && buffer.capacity() > IDLE_BUFFER_LIMIT {
        *buffer = Vec::new();
    }
}

/// A WebSocket session: websocket.h's WEB_SOCKET_HANDLE.
pub struct Handle {
    config: Config,
    random: Box<dyn RandomSource>,
    state: State,
    handshake: HandshakePhase,
    subprotocol: Option<String>,
    extensions: Vec<String>,
    /// RSV bits a negotiated extension claims (RFC 6455 5.2): RSV1 once permessage-deflate is
    /// agreed (RFC 7692 6), else 0.
    allowed_rsv: u8,
    /// permessage-deflate's compressor and inflater once negotiated (RFC 7692); freed when the
    /// handle closes (see `permessage_deflate` for what they hold).
    deflate: Option<PerMessageDeflate>,
    failure: Option<Error>,
    /// A peer violation queued the failing close and it has not been handed out yet: replies the
    /// application sends to the messages the peer completed before its violation still go first
    /// (see `transitions::fail_connection`).
    failing_close_queued: bool,
    next_id: u32,

    // Send side.
    send_op: Option<SendOp>,
    /// The last completed send's frame buffer, reused by the next send (no allocation per message).
    spare_frame: Vec<u8>,
    /// The data message being sent: (is text, UTF-8 state across its fragments).
    sending_message: Option<(bool, Utf8Validator)>,
    /// The data message being sent went out compressed (its first frame had RSV1).
    sending_compressed: bool,
    /// The last compressed payload's buffer, reused by the next.
    spare_compressed: Vec<u8>,
    /// The engine's own frames on the receive queue: pong replies and the close that fails a
    /// connection (websocket.h puts "reply to a ping frame" there).
    replies: VecDeque<InternalFrame>,
    /// The engine's own frames on the send queue: keep-alive frames and the keep-alive timeout's
    /// close. Timers fire while the host may hold a ReceiveFromNetwork for a long time, so these
    /// must not wait behind the receive queue.
    timer_frames: VecDeque<InternalFrame>,
    send_slot: Option<Outstanding>,

    // Receive side.
    receive_op: Option<Option<u64>>,
    receive_slot: Option<Outstanding>,
    /// A ReceiveFromNetwork the host still holds after the engine gave up (abort, failure,
    /// timeout), with the space it offered: reading into it and completing it later are accepted,
    /// and the bytes are dropped.
    abandoned_read: Option<(u32, usize)>,
    /// Bytes read from the network, parsed from `in_start` to `in_end`. Empty until a read needs
    /// it and released again once everything in it is parsed between messages (an idle handle
    /// holds no receive buffer); ReceiveFromNetwork still offers the whole receive buffer size.
    inbound: Vec<u8>,
    in_start: usize,
    in_end: usize,
    frame: Option<InboundFrame>,
    message: Option<InboundMessage>,
    pending: Vec<u8>,
    /// A compressed frame's payload, unmasked, on its way into the inflater (at most one receive
    /// buffer of it at a time).
    inflate_input: Vec<u8>,
    control: Vec<u8>,
    ready: Option<Ready>,
    /// The peer's close arrived or the stream ended: parse nothing more.
    receive_finished: bool,

    // Time (all from `tick`).
    now: Option<u64>,
    handshake_started_at: Option<u64>,
    close_sent_at: Option<u64>,
    idle_since: Option<u64>,
    keepalive_ping_at: Option<u64>,
}

impl Handle {
    /// WebSocketCreateClientHandle, with the OS CSPRNG for mask keys and the handshake key.
    #[cfg(feature = "os-random")]
    pub fn client(properties: &[Property]) -> Result<Handle, Error> {
        Handle::with_random(Role::Client, properties, Box::new(crate::random::OsRandom))
    }

    /// WebSocketCreateServerHandle, with the OS CSPRNG.
    #[cfg(feature = "os-random")]
    pub fn server(properties: &[Property]) -> Result<Handle, Error> {
        Handle::with_random(Role::Server, properties, Box::new(crate::random::OsRandom))
    }

    /// Creates a handle whose randomness comes from `random` (a host CSPRNG, or a seeded source
    /// for byte-exact replay).
    pub fn with_random(role: Role, properties: &[Property], random: Box<dyn RandomSource>) -> Result<Handle, Error> {
        let config = Config::from_properties(role, properties)?;
        Ok(Handle {
            config,
            random,
            state: State::Connecting,
            handshake: HandshakePhase::NotStarted,
            subprotocol: None,
            extensions: Vec::new(),
            allowed_rsv: 0,
            deflate: None,
            failure: None,
            failing_close_queued: false,
            next_id: 1,
            send_op: None,
            spare_frame: Vec::new(),
            sending_message: None,
            sending_compressed: false,
            spare_compressed: Vec::new(),
            replies: VecDeque::new(),
            timer_frames: VecDeque::new(),
            send_slot: None,
            receive_op: None,
            receive_slot: None,
            abandoned_read: None,
            inbound: Vec::new(),
            in_start: 0,
            in_end: 0,
            frame: None,
            message: None,
            pending: Vec::new(),
            inflate_input: Vec::new(),
            control: Vec::new(),
            ready: None,
            receive_finished: false,
            now: None,
            handshake_started_at: None,
            close_sent_at: None,
            idle_since: None,
            keepalive_ping_at: None,
        })
    }

    pub fn role(&self) -> Role {
        self.config.role
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn state(&self) -> State {
        self.state
    }

    /// Why the handle failed or gave up, if it did: a peer's violation, a rejected handshake, a timer.
    pub fn failure(&self) -> Option<&Error> {
        self.failure.as_ref()
    }

    /// The subprotocol the handshake settled on.
    pub fn subprotocol(&self) -> Option<&str> {
        self.subprotocol.as_deref()
    }

    /// The ReceiveFromNetwork handed out and not yet completed, as (action id, capacity): what a
    /// host holds while it waits for bytes.
    pub fn outstanding_receive(&self) -> Option<(u32, usize)> {
        match self.receive_slot {
            Some(Outstanding::ReceiveFromNetwork { id, capacity }) => Some((id, capacity)),
            _ => None,
        }
    }

    /// True from a peer violation until its failing close is handed out: replies to the messages
    /// indicated before the violation may still be sent, and go out ahead of the close.
    pub fn failing_close_waits(&self) -> bool {
        self.failing_close_queued
    }

    /// The extensions the handshake settled on, as negotiated strings (permessage-deflate's as
    /// its agreed parameters, e.g. `permessage-deflate; server_max_window_bits=10`).
    pub fn extensions(&self) -> &[String] {
        &self.extensions
    }

    /// What permessage-deflate negotiation settled on, when it did (RFC 7692 7.1): the agreed
    /// parameters and how each direction compresses. None before the handshake, when it was not
    /// offered or was declined, and after the handle closed (the transform is freed then).
    pub fn permessage_deflate(&self) -> Option<&Negotiated> {
        self.deflate.as_ref().map(|deflate| &deflate.negotiated)
    }
    fn invalid_state(&self, operation: &'static str) -> Error {
        Error::InvalidState { operation, state: self.state }
    }
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handle")
            .field("role", &self.config.role)
            .field("state", &self.state)
            .field("send_slot", &self.send_slot)
            .field("receive_slot", &self.receive_slot)
            .finish_non_exhaustive()
    }
}
