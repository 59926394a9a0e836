//! The handle: websocket.h's session object. Inputs (handshake calls, `send`, `receive`,
//! `complete_action`, `tick`) change its state; `get_action` hands out what the host must do.
//! Every state transition is in this file, and every action handed out is recorded in one of two
//! slots (send queue, receive queue) until the host completes it.

use crate::close::{build_close_payload, parse_close_payload};
use crate::config::{Config, Property, Role, FRAGMENT_OVERHEAD};
use crate::constants::{close_status, ActionKind, ActionQueue, BufferType};
use crate::error::{Error, Timer, Violation};
use crate::frame::{self, FrameHeader, HeaderParse};
use crate::handshake::{self, ClientHandshakeResult, Header};
use crate::random::RandomSource;
use crate::utf8::Utf8Validator;
use std::borrow::Cow;
use std::collections::VecDeque;

/// Frame buffers up to this capacity are kept for reuse between sends.
const SPARE_FRAME_LIMIT: usize = 64 * 1024;

/// Where a handle is in its life (beyond websocket.h, which has no state query).
///
/// | from | event | to |
/// | --- | --- | --- |
/// | Connecting | `end_client_handshake` / `begin_server_handshake` succeeds | Open |
/// | Connecting | a handshake check fails, or the handshake timer runs out | Closed |
/// | Open | our close is queued (`send` CLOSE) | CloseSent |
/// | Open | the peer's close is parsed | CloseReceived |
/// | CloseSent | the peer's close is parsed, or the close timer runs out | Closed |
/// | CloseReceived | our close is queued | Closed |
/// | Open, CloseSent, CloseReceived | a peer violation, the stream ends, or the keep-alive timer runs out | Closed |
/// | any | `abort`, or a write cut short mid-frame | Aborted |
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    /// Before the handshake completes: only handshake calls are allowed.
    Connecting = 0,
    /// Messages flow both ways.
    Open = 1,
    /// We queued our close; waiting for the peer's (only control frames may be sent).
    CloseSent = 2,
    /// The peer's close arrived; answer it with a close of our own.
    CloseReceived = 3,
    /// Both closes crossed, the connection failed, or a timer ran out: close the transport once
    /// `get_action` has nothing left.
    Closed = 4,
    /// `abort` was called (or a write was cut short): queued work drains, new work is refused.
    Aborted = 5,
}

impl State {
    pub fn name(self) -> &'static str {
        match self {
            State::Connecting => "connecting",
            State::Open => "open",
            State::CloseSent => "close-sent",
            State::CloseReceived => "close-received",
            State::Closed => "closed",
            State::Aborted => "aborted",
        }
    }
}

/// The buffer of a send: websocket.h's WEB_SOCKET_BUFFER union.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Buffer<'a> {
    /// Payload for a data, ping or unsolicited pong send.
    Data(&'a [u8]),
    /// A close status (1005 for "no status") and a UTF-8 reason of at most 123 bytes.
    CloseStatus { status: u16, reason: &'a [u8] },
}

/// One action from `get_action`: websocket.h's out-parameters in one value.
///
/// `bytes` borrows the handle's memory: write it (SendToNetwork) or copy it out
/// (IndicateReceiveComplete) before calling the handle again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Action<'a> {
    pub kind: ActionKind,
    /// The action context to pass to `complete_action` (0 for NoAction).
    pub id: u32,
    /// The queue the action came from (Send or Receive).
    pub queue: ActionQueue,
    /// For SendToNetwork, the type of the frame; for indications, what was sent or received.
    pub buffer_type: Option<BufferType>,
    /// The application context given to `send`/`receive`; `None` for the engine's own frames.
    pub context: Option<u64>,
    /// SendToNetwork: the bytes to write, in order. IndicateReceiveComplete: the payload (data or
    /// pong) or the close reason. Empty otherwise.
    pub bytes: &'a [u8],
    /// IndicateReceiveComplete of a close: the status (1005 when the frame had none, 1006 when the
    /// stream ended or the handle gave up without a close frame).
    pub close_status: Option<u16>,
    /// ReceiveFromNetwork: the most bytes the engine takes now.
    pub receive_capacity: usize,
}

impl Action<'_> {
    fn none() -> Action<'static> {
        Action {
            kind: ActionKind::NoAction,
            id: 0,
            queue: ActionQueue::All,
            buffer_type: None,
            context: None,
            bytes: &[],
            close_status: None,
            receive_capacity: 0,
        }
    }
}

/// A send queued by `send`, framed at once (the payload is copied into the frame, masked in place).
struct SendOp {
    buffer_type: BufferType,
    context: Option<u64>,
    frame: Vec<u8>,
    /// Bytes already handed out in SendToNetwork actions.
    handed_out: usize,
    /// Bytes the host reported written.
    written: usize,
    /// Largest SendToNetwork for this frame: the send buffer size when the engine masks
    /// (websocket.dll masks into its send buffer), the whole frame otherwise.
    chunk_limit: usize,
    /// All written, or cancelled: the next action on the send queue is IndicateSendComplete.
    finished: bool,
}

/// What `send` checked: the frame to build and what the message being sent becomes.
struct CheckedSend<'a> {
    opcode: u8,
    fin: bool,
    payload: Cow<'a, [u8]>,
    next_message: Option<(bool, Utf8Validator)>,
}

/// A frame the engine sends on its own: a pong reply, a keep-alive, the close that fails a connection.
struct InternalFrame {
    buffer_type: BufferType,
    frame: Vec<u8>,
}

/// A receive indication ready to hand out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ready {
    /// `len` bytes at the front of `pending`.
    Data { buffer_type: BufferType, len: usize },
    /// The pong payload in `control`.
    Pong,
    /// The close payload in `control` (status parsed and checked).
    Close { status: u16 },
    /// No close frame will come: the stream ended, a timer ran out, or the handle was aborted.
    Abnormal,
}

/// An action handed out and not yet completed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outstanding {
    /// A chunk of the queued send's frame.
    SendChunk {
        id: u32,
        len: usize,
    },
    /// The front internal frame, whole.
    InternalSend {
        id: u32,
        len: usize,
    },
    SendComplete {
        id: u32,
    },
    ReceiveFromNetwork {
        id: u32,
        capacity: usize,
    },
    Indication {
        id: u32,
        ready: Ready,
    },
}

impl Outstanding {
    fn id(&self) -> u32 {
        match *self {
            Outstanding::SendChunk { id, .. }
            | Outstanding::InternalSend { id, .. }
            | Outstanding::SendComplete { id }
            | Outstanding::ReceiveFromNetwork { id, .. }
            | Outstanding::Indication { id, .. } => id,
        }
    }

    fn is_network_write(&self) -> bool {
        matches!(self, Outstanding::SendChunk { .. } | Outstanding::InternalSend { .. })
    }
}

/// The frame being received.
#[derive(Clone, Copy, Debug)]
struct InboundFrame {
    header: FrameHeader,
    /// Payload bytes consumed so far (the mask key's phase).
    consumed: u64,
}

impl InboundFrame {
    fn remaining(&self) -> u64 {
        self.header.payload_len - self.consumed
    }
}

/// The data message being received.
struct InboundMessage {
    text: bool,
    charged: u64,
    frames: u32,
    utf8: Utf8Validator,
}

enum HandshakePhase {
    NotStarted,
    ClientBegun { key: String, subprotocols: Vec<String>, extensions: Vec<String> },
    ServerBegun,
    Done,
}

/// What a step of the receive parser ended with.
enum Progress {
    /// An indication is ready.
    Ready,
    /// A pong reply is queued; hand it out before parsing on (bounds memory under a ping flood).
    Blocked,
    /// The buffered bytes are used up.
    NeedBytes,
}

/// A WebSocket session: websocket.h's WEB_SOCKET_HANDLE.
pub struct Handle {
    config: Config,
    random: Box<dyn RandomSource>,
    state: State,
    handshake: HandshakePhase,
    subprotocol: Option<String>,
    extensions: Vec<String>,
    /// RSV bits a negotiated extension claims (RFC 6455 5.2). No extension is built in yet, so this
    /// stays 0; permessage-deflate will claim RSV1 and transform payload where `pending` is filled
    /// and where `send` frames.
    allowed_rsv: u8,
    failure: Option<Error>,
    next_id: u32,

    // Send side.
    send_op: Option<SendOp>,
    /// The last completed send's frame buffer, reused by the next send (no allocation per message).
    spare_frame: Vec<u8>,
    /// The data message being sent: (is text, UTF-8 state across its fragments).
    sending_message: Option<(bool, Utf8Validator)>,
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
    inbound: Box<[u8]>,
    in_start: usize,
    in_end: usize,
    frame: Option<InboundFrame>,
    message: Option<InboundMessage>,
    pending: Vec<u8>,
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
        let receive_size = config.receive_buffer_size as usize;
        Ok(Handle {
            config,
            random,
            state: State::Connecting,
            handshake: HandshakePhase::NotStarted,
            subprotocol: None,
            extensions: Vec::new(),
            allowed_rsv: 0,
            failure: None,
            next_id: 1,
            send_op: None,
            spare_frame: Vec::new(),
            sending_message: None,
            replies: VecDeque::new(),
            timer_frames: VecDeque::new(),
            send_slot: None,
            receive_op: None,
            receive_slot: None,
            abandoned_read: None,
            inbound: vec![0u8; receive_size].into_boxed_slice(),
            in_start: 0,
            in_end: 0,
            frame: None,
            message: None,
            pending: Vec::with_capacity(receive_size),
            control: Vec::with_capacity(frame::MAX_CONTROL_PAYLOAD),
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

    /// The extensions the handshake settled on, as negotiated strings.
    pub fn extensions(&self) -> &[String] {
        &self.extensions
    }

    // ----------------------------------------------------------------------------------------
    // Handshake (RFC 6455 section 4)
    // ----------------------------------------------------------------------------------------

    /// WebSocketBeginClientHandshake: checks the offer and returns the headers to add to the
    /// request (Connection, Upgrade, a fresh Sec-WebSocket-Key, Sec-WebSocket-Version: 13, and
    /// Sec-WebSocket-Protocol / -Extensions when offered). Replace any of these the initial
    /// headers also carry. The host adds Host and writes the request.
    pub fn begin_client_handshake(
        &mut self,
        subprotocols: &[&str],
        extensions: &[&str],
        initial_headers: &[Header],
    ) -> Result<Vec<Header>, Error> {
        self.require_phase("begin_client_handshake", Role::Client, |p| matches!(p, HandshakePhase::NotStarted))?;
        let mut nonce = [0u8; 16];
        self.random.fill(&mut nonce)?;
        let key = handshake::encode_key(&nonce);
        let headers = handshake::client_request_headers(&key, subprotocols, extensions, initial_headers)?;
        self.handshake = HandshakePhase::ClientBegun {
            key,
            subprotocols: subprotocols.iter().map(|s| s.to_string()).collect(),
            extensions: extensions.iter().map(|s| s.to_string()).collect(),
        };
        Ok(headers)
    }

    /// WebSocketEndClientHandshake: checks the response headers (the host has checked for status
    /// 101) and returns the indexes of the chosen subprotocol and extensions. A failed check
    /// closes the handle: close the transport.
    pub fn end_client_handshake(&mut self, response_headers: &[Header]) -> Result<ClientHandshakeResult, Error> {
        self.require_phase("end_client_handshake", Role::Client, |p| matches!(p, HandshakePhase::ClientBegun { .. }))?;
        let HandshakePhase::ClientBegun { key, subprotocols, extensions } = &self.handshake else {
            return Err(self.invalid_state("end_client_handshake"));
        };
        let checked = self
            .check_header_limits(response_headers, 0)
            .and_then(|_| handshake::check_server_response(key, subprotocols, extensions, response_headers));
        match checked {
            Ok(result) => {
                self.subprotocol = result.selected_subprotocol.map(|i| subprotocols[i as usize].clone());
                self.extensions = result.selected_extensions.iter().map(|&i| extensions[i as usize].clone()).collect();
                self.handshake = HandshakePhase::Done;
                self.open();
                Ok(result)
            }
            Err(error) => {
                self.fail_without_frames(error.clone());
                Err(error)
            }
        }
    }

    /// WebSocketBeginServerHandshake: checks the request headers (RFC 6455 4.2.1) and returns the
    /// 101 response headers carrying the application's choice of subprotocol and extensions
    /// (which must be among those offered). A failed check carries the status and headers to
    /// reject with (400, or 426 with `Sec-WebSocket-Version: 13`). Messages may flow once the
    /// response is written; `end_server_handshake` is optional.
    pub fn begin_server_handshake(
        &mut self,
        selected_subprotocol: Option<&str>,
        selected_extensions: &[&str],
        request_headers: &[Header],
    ) -> Result<Vec<Header>, Error> {
        self.require_phase("begin_server_handshake", Role::Server, |p| matches!(p, HandshakePhase::NotStarted))?;
        let key = match self
            .check_header_limits(request_headers, 431)
            .and_then(|_| handshake::check_client_request(request_headers))
        {
            Ok(key) => key,
            Err(error) => {
                self.fail_without_frames(error.clone());
                return Err(error);
            }
        };
        // A bad selection is the application's mistake: report it and let it choose again.
        let headers =
            handshake::server_response_headers(&key, request_headers, selected_subprotocol, selected_extensions)?;
        self.subprotocol = selected_subprotocol.map(str::to_string);
        self.extensions = selected_extensions.iter().map(|s| s.to_string()).collect();
        self.handshake = HandshakePhase::ServerBegun;
        self.open();
        Ok(headers)
    }

    /// WebSocketEndServerHandshake: optional, as in websocket.h (the first session call ends the
    /// handshake too). Allowed once after a successful `begin_server_handshake`.
    pub fn end_server_handshake(&mut self) -> Result<(), Error> {
        if self.config.role != Role::Server {
            return Err(Error::InvalidArgument {
                argument: "handle",
                problem: "end_server_handshake needs a Server handle, this is a Client handle".into(),
            });
        }
        if !matches!(self.handshake, HandshakePhase::ServerBegun) {
            return Err(self.invalid_state("end_server_handshake"));
        }
        self.handshake = HandshakePhase::Done;
        Ok(())
    }

    fn require_phase(
        &self,
        operation: &'static str,
        role: Role,
        phase_ok: impl Fn(&HandshakePhase) -> bool,
    ) -> Result<(), Error> {
        if self.config.role != role {
            return Err(Error::InvalidArgument {
                argument: "handle",
                problem: format!("{operation} needs a {role:?} handle, this is a {:?} handle", self.config.role),
            });
        }
        if self.state != State::Connecting || !phase_ok(&self.handshake) {
            return Err(self.invalid_state(operation));
        }
        Ok(())
    }

    fn check_header_limits(&self, headers: &[Header], status: u16) -> Result<(), Error> {
        let limits = &self.config.limits;
        let bytes: usize = headers.iter().map(|(n, v)| n.len() + v.len() + 4).sum();
        if headers.len() > limits.max_handshake_headers as usize || bytes > limits.max_handshake_header_bytes as usize {
            return Err(Error::MalformedHttp {
                problem: format!(
                    "{} header fields, {bytes} bytes: over the limits ({} fields, {} bytes)",
                    headers.len(),
                    limits.max_handshake_headers,
                    limits.max_handshake_header_bytes
                ),
                status: if status == 0 { 400 } else { status },
            });
        }
        Ok(())
    }

    fn open(&mut self) {
        self.state = State::Open;
        self.idle_since = self.now;
    }

    // ----------------------------------------------------------------------------------------
    // Send and receive (websocket.h WebSocketSend / WebSocketReceive)
    // ----------------------------------------------------------------------------------------

    /// WebSocketSend: queues one send. Data types send a message or a fragment of one
    /// (*_FRAGMENT then *_MESSAGE ends it; the type may not change mid-message). `Close` sends a
    /// close (`None` or status 1005: no status). `PingPong` sends a ping and `UnsolicitedPong` a
    /// pong, each with an optional payload of at most 125 bytes. One send may be outstanding.
    pub fn send(
        &mut self,
        buffer_type: BufferType,
        buffer: Option<Buffer<'_>>,
        context: Option<u64>,
    ) -> Result<(), Error> {
        if self.send_op.is_some() {
            return Err(Error::OperationPending { operation: "send" });
        }
        let prepared = self.check_send(buffer_type, buffer)?;
        // The last send's buffer, reused: no allocation per message.
        let mut frame_bytes = std::mem::take(&mut self.spare_frame);
        frame_bytes.clear();
        self.append_frame(&mut frame_bytes, prepared.opcode, prepared.fin, &prepared.payload)?;
        let masked = self.masks_frames();
        self.commit_send(buffer_type, prepared.next_message);
        self.send_op = Some(SendOp {
            buffer_type,
            context,
            chunk_limit: if masked { self.config.send_buffer_size as usize } else { usize::MAX },
            frame: frame_bytes,
            handed_out: 0,
            written: 0,
            finished: false,
        });
        Ok(())
    }

    /// Everything `send` checks, nothing it changes: the frame to build and what the message
    /// being sent becomes.
    fn check_send<'a>(&self, buffer_type: BufferType, buffer: Option<Buffer<'a>>) -> Result<CheckedSend<'a>, Error> {
        match self.state {
            State::Open | State::CloseSent | State::CloseReceived => {}
            _ => return Err(self.invalid_state("send")),
        }
        let verify_utf8 = !self.config.disable_utf8_verification;
        // What the message being sent becomes once this send is queued (control frames keep it).
        let mut next_message = self.sending_message;
        // Data is framed straight from the caller's slice: one copy, into the frame.
        let (opcode, fin, payload): (u8, bool, Cow<'a, [u8]>) = match buffer_type {
            BufferType::Utf8Message
            | BufferType::Utf8Fragment
            | BufferType::BinaryMessage
            | BufferType::BinaryFragment => {
                // RFC 6455 5.5.1: "After sending a Close frame, the endpoint MUST NOT send any further data frames."
                if self.state == State::CloseSent {
                    return Err(self.invalid_state("sending data after a close"));
                }
                let data = match buffer {
                    None => &[][..],
                    Some(Buffer::Data(data)) => data,
                    Some(Buffer::CloseStatus { .. }) => {
                        return Err(Error::InvalidArgument {
                            argument: "buffer",
                            problem: format!("a close status buffer cannot carry {}", buffer_type.name()),
                        })
                    }
                };
                let text = buffer_type.is_utf8();
                let mut utf8 = match self.sending_message {
                    Some((was_text, _)) if was_text != text => {
                        return Err(Error::InvalidArgument {
                            argument: "buffer type",
                            problem: format!(
                                "{} inside a {} message: a message keeps its type until its *_MESSAGE piece",
                                buffer_type.name(),
                                if was_text { "UTF-8" } else { "binary" }
                            ),
                        })
                    }
                    Some((_, utf8)) => utf8,
                    None => Utf8Validator::new(),
                };
                let last = !buffer_type.is_fragment();
                if text && verify_utf8 {
                    // Checked on a copy: a rejected send leaves the message as it was.
                    let valid = utf8.feed(data).and_then(|_| if last { utf8.finish() } else { Ok(()) });
                    if valid.is_err() {
                        return Err(Error::InvalidArgument {
                            argument: "buffer",
                            problem: "the UTF-8 payload is not valid UTF-8 (RFC 6455 5.6)".into(),
                        });
                    }
                }
                let opcode = match self.sending_message {
                    Some(_) => frame::OPCODE_CONTINUATION,
                    None if text => frame::OPCODE_TEXT,
                    None => frame::OPCODE_BINARY,
                };
                next_message = if last { None } else { Some((text, utf8)) };
                (opcode, last, Cow::Borrowed(data))
            }
            BufferType::Close => {
                if matches!(self.state, State::CloseSent) {
                    return Err(self.invalid_state("sending a second close"));
                }
                let payload = match buffer {
                    None => Vec::new(),
                    Some(Buffer::CloseStatus { status, reason }) => {
                        build_close_payload(Some(status), reason, verify_utf8)?
                    }
                    Some(Buffer::Data(_)) => {
                        return Err(Error::InvalidArgument {
                            argument: "buffer",
                            problem: "a close takes a close status buffer (or none)".into(),
                        })
                    }
                };
                (frame::OPCODE_CLOSE, true, Cow::Owned(payload))
            }
            BufferType::PingPong | BufferType::UnsolicitedPong => {
                let data = match buffer {
                    None => &[][..],
                    Some(Buffer::Data(data)) => data,
                    Some(Buffer::CloseStatus { .. }) => {
                        return Err(Error::InvalidArgument {
                            argument: "buffer",
                            problem: "a ping or pong takes data (or none), not a close status".into(),
                        })
                    }
                };
                if data.len() > frame::MAX_CONTROL_PAYLOAD {
                    return Err(Error::InvalidArgument {
                        argument: "buffer",
                        problem: format!(
                            "{} bytes is over the 125-byte control frame limit (RFC 6455 5.5)",
                            data.len()
                        ),
                    });
                }
                let opcode = if buffer_type == BufferType::PingPong { frame::OPCODE_PING } else { frame::OPCODE_PONG };
                (opcode, true, Cow::Borrowed(data))
            }
        };
        Ok(CheckedSend { opcode, fin, payload, next_message })
    }

    /// The state changes of a send whose frame exists (so a failed send leaves the handle as it was).
    fn commit_send(&mut self, buffer_type: BufferType, next_message: Option<(bool, Utf8Validator)>) {
        self.sending_message = next_message;
        if buffer_type == BufferType::Close {
            self.state = match self.state {
                State::CloseReceived => State::Closed,
                _ => State::CloseSent,
            };
            self.close_sent_at = self.now;
        }
    }

    /// Frames one send at once and appends its bytes to `out`: what `send` followed by handing out
    /// and completing its SendToNetwork and IndicateSendComplete actions would do, without the
    /// action round trips. For hosts that write synchronously and batch many small messages (the
    /// JS class's `sendMany`). It needs the wire free: no send queued and no SendToNetwork
    /// outstanding (`OperationPending` otherwise). Checks and state changes are `send`'s.
    pub fn send_now(
        &mut self,
        buffer_type: BufferType,
        buffer: Option<Buffer<'_>>,
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        if self.send_op.is_some() || self.wire_busy() {
            return Err(Error::OperationPending { operation: "send" });
        }
        let prepared = self.check_send(buffer_type, buffer)?;
        self.append_frame(out, prepared.opcode, prepared.fin, &prepared.payload)?;
        self.commit_send(buffer_type, prepared.next_message);
        Ok(())
    }

    /// WebSocketReceive: queues one receive. The next IndicateReceiveComplete carries at most
    /// the receive buffer size of payload; a longer message comes as *_FRAGMENT pieces and a final
    /// *_MESSAGE piece, whatever its framing on the wire.
    pub fn receive(&mut self, context: Option<u64>) -> Result<(), Error> {
        match self.state {
            State::Open | State::CloseSent => {}
            _ => return Err(self.invalid_state("receive")),
        }
        if self.receive_op.is_some() {
            return Err(Error::OperationPending { operation: "receive" });
        }
        self.receive_op = Some(context);
        Ok(())
    }

    /// True when this handle applies a mask key to its frames (clients, unless masking is disabled).
    fn masks_frames(&self) -> bool {
        self.config.role == Role::Client && !self.config.disable_masking
    }

    /// Appends a frame to `out`: header, then the payload masked (RFC 6455 5.2, 5.3). Client frames
    /// carry the mask bit; the key is fresh from the random source, or 0 with masking disabled. On
    /// error (no mask key to be had) `out` is as it was.
    fn append_frame(&mut self, out: &mut Vec<u8>, opcode: u8, fin: bool, payload: &[u8]) -> Result<(), Error> {
        let mask = match self.config.role {
            Role::Server => None,
            Role::Client if self.config.disable_masking => Some([0u8; 4]),
            Role::Client => {
                let mut key = [0u8; 4];
                self.random.fill(&mut key)?;
                Some(key)
            }
        };
        let header = FrameHeader { fin, rsv: 0, opcode, mask, payload_len: payload.len() as u64 };
        out.reserve(frame::header_len(payload.len() as u64, mask.is_some()) + payload.len());
        frame::write_header(out, &header);
        let start = out.len();
        // The fused word loop, even with a zero key: the header shifts the payload's alignment.
        out.resize(start + payload.len(), 0);
        frame::copy_masked(&mut out[start..], payload, mask.unwrap_or([0; 4]), 0);
        Ok(())
    }

    // ----------------------------------------------------------------------------------------
    // The action loop (websocket.h WebSocketGetAction / WebSocketCompleteAction)
    // ----------------------------------------------------------------------------------------

    /// WebSocketGetAction: the next thing the host must do for `queue`. `NoAction` means nothing
    /// now, which includes "complete the action you hold first". A peer's protocol violation comes
    /// back as `Err(ProtocolViolation)` from here; the engine has then queued the failing close
    /// frame, so keep calling until NoAction and close the transport.
    ///
    /// Write SendToNetwork bytes in the order the actions are handed out.
    pub fn get_action(&mut self, queue: ActionQueue) -> Result<Action<'_>, Error> {
        if queue.includes(ActionQueue::Send) {
            if let Some(planned) = self.plan_send_queue() {
                self.send_slot = Some(planned);
                return Ok(self.view(ActionQueue::Send, planned));
            }
        }
        if queue.includes(ActionQueue::Receive) {
            if let Some(planned) = self.plan_receive_queue()? {
                self.receive_slot = Some(planned);
                return Ok(self.view(ActionQueue::Receive, planned));
            }
        }
        Ok(Action::none())
    }

    fn take_id(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id = self.next_id.checked_add(1).unwrap_or(1);
        id
    }

    /// True while bytes of a frame are out with the host, or a frame is partly written: another
    /// frame's bytes would interleave with it on the wire.
    fn wire_busy(&self) -> bool {
        let outstanding_write = self.send_slot.is_some_and(|o| o.is_network_write())
            || self.receive_slot.is_some_and(|o| o.is_network_write());
        let mid_frame =
            self.send_op.as_ref().is_some_and(|op| !op.finished && op.written > 0 && op.written < op.frame.len());
        outstanding_write || mid_frame
    }

    fn plan_send_queue(&mut self) -> Option<Outstanding> {
        if self.send_slot.is_some() {
            return None;
        }
        if let Some(frame) = self.timer_frames.front() {
            if !self.wire_busy() {
                let len = frame.frame.len();
                let id = self.take_id();
                return Some(Outstanding::InternalSend { id, len });
            }
        }
        let op = self.send_op.as_ref()?;
        if op.finished {
            let id = self.take_id();
            return Some(Outstanding::SendComplete { id });
        }
        // A frame starts only when no other frame is on the wire; its later chunks follow at once.
        let starting = op.written == 0;
        if self.receive_slot.is_some_and(|o| o.is_network_write()) || (starting && self.wire_busy()) {
            return None;
        }
        let op = self.send_op.as_ref()?;
        let len = (op.frame.len() - op.handed_out).min(op.chunk_limit);
        let id = self.take_id();
        if let Some(op) = self.send_op.as_mut() {
            op.handed_out += len;
        }
        Some(Outstanding::SendChunk { id, len })
    }

    fn plan_receive_queue(&mut self) -> Result<Option<Outstanding>, Error> {
        if self.receive_slot.is_some() {
            return Ok(None);
        }
        loop {
            if let Some(internal) = self.replies.front() {
                if !self.wire_busy() {
                    let len = internal.frame.len();
                    let id = self.take_id();
                    return Ok(Some(Outstanding::InternalSend { id, len }));
                }
            }
            if self.receive_op.is_none() {
                return Ok(None);
            }
            if self.ready.is_none() {
                match self.advance_receive() {
                    Ok(Progress::Ready) => {}
                    Ok(Progress::Blocked) => {
                        if self.wire_busy() {
                            return Ok(None);
                        }
                        continue;
                    }
                    Ok(Progress::NeedBytes) => {
                        self.compact_inbound();
                        let capacity = self.inbound.len() - self.in_end;
                        let id = self.take_id();
                        return Ok(Some(Outstanding::ReceiveFromNetwork { id, capacity }));
                    }
                    Err(violation) => return Err(self.fail_connection(violation)),
                }
            }
            let ready = self.ready.expect("ready was just set");
            let id = self.take_id();
            return Ok(Some(Outstanding::Indication { id, ready }));
        }
    }

    fn view(&self, queue: ActionQueue, planned: Outstanding) -> Action<'_> {
        let mut action = Action { queue, ..Action::none() };
        match planned {
            Outstanding::SendChunk { id, len } => {
                let op = self.send_op.as_ref().expect("a chunk belongs to the queued send");
                action.kind = ActionKind::SendToNetwork;
                action.id = id;
                action.buffer_type = Some(op.buffer_type);
                action.context = op.context;
                action.bytes = &op.frame[op.handed_out - len..op.handed_out];
            }
            Outstanding::InternalSend { id, .. } => {
                let frames = if queue == ActionQueue::Send { &self.timer_frames } else { &self.replies };
                let internal = frames.front().expect("an internal send is queued");
                action.kind = ActionKind::SendToNetwork;
                action.id = id;
                action.buffer_type = Some(internal.buffer_type);
                action.bytes = &internal.frame;
            }
            Outstanding::SendComplete { id } => {
                let op = self.send_op.as_ref().expect("the completed send is still held");
                action.kind = ActionKind::IndicateSendComplete;
                action.id = id;
                action.buffer_type = Some(op.buffer_type);
                action.context = op.context;
            }
            Outstanding::ReceiveFromNetwork { id, capacity } => {
                action.kind = ActionKind::ReceiveFromNetwork;
                action.id = id;
                action.context = self.receive_op.flatten();
                action.receive_capacity = capacity;
            }
            Outstanding::Indication { id, ready } => {
                action.kind = ActionKind::IndicateReceiveComplete;
                action.id = id;
                action.context = self.receive_op.flatten();
                match ready {
                    Ready::Data { buffer_type, len } => {
                        action.buffer_type = Some(buffer_type);
                        action.bytes = &self.pending[..len];
                    }
                    Ready::Pong => {
                        action.buffer_type = Some(BufferType::PingPong);
                        action.bytes = &self.control;
                    }
                    Ready::Close { status } => {
                        action.buffer_type = Some(BufferType::Close);
                        action.close_status = Some(status);
                        action.bytes = self.control.get(2..).unwrap_or(&[]);
                    }
                    Ready::Abnormal => {
                        action.buffer_type = Some(BufferType::Close);
                        action.close_status = Some(close_status::ABORTED);
                    }
                }
            }
        }
        action
    }

    /// WebSocketCompleteAction. `bytes_transferred`: for SendToNetwork, the count written (any
    /// other count than the action's length cancels the send); for ReceiveFromNetwork, the count
    /// read into `receive_buffer` (0: the peer ended the stream); ignored for indications.
    /// Completing id 0 (a NoAction) is accepted and ignored; any other id the handle is not
    /// waiting for is an `UnknownAction` error.
    pub fn complete_action(&mut self, id: u32, bytes_transferred: usize) -> Result<(), Error> {
        if id == 0 {
            return Ok(());
        }
        if self.abandoned_read.is_some_and(|(held, _)| held == id) {
            self.abandoned_read = None;
            return Ok(());
        }
        let (queue, outstanding) = self.take_outstanding(id)?;
        match outstanding {
            Outstanding::SendChunk { len, .. } => self.complete_send_chunk(len, bytes_transferred),
            Outstanding::InternalSend { len, .. } => {
                let frames = if queue == ActionQueue::Send { &mut self.timer_frames } else { &mut self.replies };
                let sent = frames.pop_front();
                if bytes_transferred != len && bytes_transferred != 0 {
                    // Part of a frame went out: nothing sent after it can be parsed by the peer.
                    self.break_outbound();
                } else if bytes_transferred == 0 {
                    // .NET cancels pong replies after its close this way: allowed, nothing was written.
                    drop(sent);
                }
            }
            Outstanding::SendComplete { .. } => {
                if let Some(op) = self.send_op.take() {
                    // Keep a modest frame buffer for the next send; let big ones go.
                    if op.frame.capacity() <= SPARE_FRAME_LIMIT {
                        self.spare_frame = op.frame;
                    }
                }
            }
            Outstanding::ReceiveFromNetwork { capacity, .. } => {
                if bytes_transferred > capacity {
                    // Put it back: the host can still complete it correctly.
                    self.receive_slot = Some(outstanding);
                    return Err(Error::InvalidArgument {
                        argument: "bytes transferred",
                        problem: format!("{bytes_transferred} is more than the {capacity} bytes offered"),
                    });
                }
                self.complete_receive_from_network(bytes_transferred);
            }
            Outstanding::Indication { ready, .. } => self.complete_indication(ready),
        }
        Ok(())
    }

    /// Completes a ReceiveFromNetwork action with the bytes the host read (at most
    /// `receive_capacity`; empty means the peer ended the stream). The usual way for hosts that
    /// read into their own buffers (JS, WIT); `receive_buffer` + `complete_action` avoids the copy.
    pub fn complete_receive(&mut self, id: u32, data: &[u8]) -> Result<(), Error> {
        if self.abandoned_read.is_some_and(|(held, _)| held == id) {
            self.abandoned_read = None;
            return Ok(());
        }
        let space = self.receive_buffer(id)?;
        if data.len() > space.len() {
            return Err(Error::InvalidArgument {
                argument: "data",
                problem: format!("{} bytes is more than the {} bytes offered", data.len(), space.len()),
            });
        }
        space[..data.len()].copy_from_slice(data);
        self.complete_action(id, data.len())
    }

    /// The space an outstanding ReceiveFromNetwork action offers, to read into directly
    /// (websocket.h's zero-copy receive). Complete with the count read.
    pub fn receive_buffer(&mut self, id: u32) -> Result<&mut [u8], Error> {
        match self.receive_slot {
            Some(Outstanding::ReceiveFromNetwork { id: held, capacity }) if held == id && id != 0 => {
                Ok(&mut self.inbound[self.in_end..self.in_end + capacity])
            }
            // The engine gave up on this read: the host may still read into the space it was
            // offered (the receive buffer, no longer parsed), and what it reads is dropped.
            _ => match self.abandoned_read {
                Some((held, capacity)) if held == id && id != 0 => Ok(&mut self.inbound[..capacity]),
                _ => Err(Error::UnknownAction { id }),
            },
        }
    }

    fn take_outstanding(&mut self, id: u32) -> Result<(ActionQueue, Outstanding), Error> {
        if self.send_slot.is_some_and(|o| o.id() == id) {
            return Ok((ActionQueue::Send, self.send_slot.take().expect("checked")));
        }
        if self.receive_slot.is_some_and(|o| o.id() == id) {
            return Ok((ActionQueue::Receive, self.receive_slot.take().expect("checked")));
        }
        Err(Error::UnknownAction { id })
    }

    fn complete_send_chunk(&mut self, len: usize, bytes_transferred: usize) {
        let Some(op) = self.send_op.as_mut() else { return };
        if bytes_transferred == len {
            op.written += len;
            if op.written == op.frame.len() {
                op.finished = true;
            }
            return;
        }
        // websocket.h: a different count cancels the send; IndicateSendComplete comes next.
        let nothing_written = op.written == 0 && bytes_transferred == 0;
        op.finished = true;
        if !nothing_written {
            self.break_outbound();
        }
    }

    /// A frame went out in part: the byte stream to the peer is beyond repair.
    fn break_outbound(&mut self) {
        self.replies.clear();
        self.timer_frames.clear();
        if !matches!(self.state, State::Closed | State::Aborted) {
            self.state = State::Aborted;
        }
        self.cancel_pending_work();
    }

    fn complete_receive_from_network(&mut self, count: usize) {
        if count == 0 {
            // websocket.h: 0 cancels the receive. The peer ended the stream without (or after) a close.
            self.receive_finished = true;
            self.ready = Some(Ready::Abnormal);
            if !matches!(self.state, State::Aborted) {
                self.state = State::Closed;
            }
            return;
        }
        self.in_end += count;
        // Activity is stamped with the last tick's time: a host that ticks only at deadlines makes
        // the idle interval start a little early, never late.
        if self.now.is_some() {
            self.idle_since = self.now;
        }
        self.keepalive_ping_at = None;
    }

    fn complete_indication(&mut self, ready: Ready) {
        self.ready = None;
        self.receive_op = None;
        match ready {
            Ready::Data { len, .. } => {
                // `pending` may have been emptied meanwhile (abort, failure): nothing to keep then.
                let len = len.min(self.pending.len());
                self.pending.copy_within(len.., 0);
                let keep = self.pending.len() - len;
                self.pending.truncate(keep);
            }
            Ready::Pong | Ready::Close { .. } => self.control.clear(),
            Ready::Abnormal => {}
        }
    }

    // ----------------------------------------------------------------------------------------
    // The receive parser (RFC 6455 section 5)
    // ----------------------------------------------------------------------------------------

    fn compact_inbound(&mut self) {
        if self.in_start == self.in_end {
            self.in_start = 0;
            self.in_end = 0;
        } else if self.in_start > 0 {
            self.inbound.copy_within(self.in_start..self.in_end, 0);
            self.in_end -= self.in_start;
            self.in_start = 0;
        }
    }

    /// Parses buffered bytes until an indication is ready, a pong reply waits, or bytes run out.
    /// Indications depend only on the bytes, never on how they were split into reads.
    fn advance_receive(&mut self) -> Result<Progress, Violation> {
        let capacity = self.config.receive_buffer_size as usize;
        loop {
            if self.ready.is_some() {
                return Ok(Progress::Ready);
            }
            if !self.replies.is_empty() {
                return Ok(Progress::Blocked);
            }
            if self.receive_finished {
                // Nothing more will be read: a queued receive completes as an abnormal close.
                self.ready = Some(Ready::Abnormal);
                return Ok(Progress::Ready);
            }
            let Some(mut inbound) = self.frame else {
                match frame::parse_header(&self.inbound[self.in_start..self.in_end])? {
                    HeaderParse::Incomplete => return Ok(Progress::NeedBytes),
                    HeaderParse::Complete(header, used) => {
                        self.in_start += used;
                        self.start_frame(header)?;
                        continue;
                    }
                }
            };
            let available = self.in_end - self.in_start;
            let opcode = inbound.header.opcode;
            if frame::is_control(opcode) {
                let take = (inbound.remaining() as usize).min(available);
                self.copy_payload(&mut inbound, take, true);
                if inbound.remaining() > 0 {
                    self.frame = Some(inbound);
                    return Ok(Progress::NeedBytes);
                }
                self.frame = None;
                self.finish_control(opcode)?;
                continue;
            }
            let space = capacity - self.pending.len();
            let take = (inbound.remaining().min(available as u64) as usize).min(space);
            if take > 0 {
                let from = self.pending.len();
                self.copy_payload(&mut inbound, take, false);
                let verify = !self.config.disable_utf8_verification;
                if let Some(message) = self.message.as_mut() {
                    if message.text && verify && message.utf8.feed(&self.pending[from..]).is_err() {
                        // RFC 6455 8.1: fail at the first invalid byte, not at the message's end.
                        return Err(Violation::InvalidUtf8InText);
                    }
                }
            }
            let frame_done = inbound.remaining() == 0;
            let message_done = frame_done && inbound.header.fin;
            self.frame = if frame_done { None } else { Some(inbound) };
            if message_done {
                let message = self.message.take().expect("a data frame belongs to a message");
                let mut utf8 = message.utf8;
                if message.text && !self.config.disable_utf8_verification && utf8.finish().is_err() {
                    return Err(Violation::InvalidUtf8InText);
                }
                let buffer_type = if message.text { BufferType::Utf8Message } else { BufferType::BinaryMessage };
                self.ready = Some(Ready::Data { buffer_type, len: self.pending.len() });
                continue;
            }
            if self.pending.len() == capacity {
                let message = self.message.as_ref().expect("a data frame belongs to a message");
                let (buffer_type, held_back) = if message.text {
                    // Hold back an incomplete code point so each UTF-8 piece is valid on its own.
                    (BufferType::Utf8Fragment, message.utf8.incomplete_len())
                } else {
                    (BufferType::BinaryFragment, 0)
                };
                self.ready = Some(Ready::Data { buffer_type, len: capacity - held_back });
                continue;
            }
            if !frame_done {
                return Ok(Progress::NeedBytes);
            }
        }
    }

    /// Moves `take` payload bytes from the inbound buffer to `control` or `pending`, unmasking.
    fn copy_payload(&mut self, inbound: &mut InboundFrame, take: usize, control: bool) {
        let src = &self.inbound[self.in_start..self.in_start + take];
        let target = if control { &mut self.control } else { &mut self.pending };
        match inbound.header.mask {
            Some(key) => {
                let from = target.len();
                target.resize(from + take, 0);
                frame::copy_masked(&mut target[from..], src, key, (inbound.consumed % 4) as usize);
            }
            None => target.extend_from_slice(src),
        }
        inbound.consumed += take as u64;
        self.in_start += take;
    }

    /// Checks a frame header against the connection's state (RFC 6455 5.1-5.5) and the limits.
    fn start_frame(&mut self, header: FrameHeader) -> Result<(), Violation> {
        // RFC 6455 5.2: RSV bits "MUST be 0 unless an extension is negotiated that defines meanings".
        if header.rsv & !self.allowed_rsv != 0 {
            return Err(Violation::ReservedBitsSet { bits: header.rsv });
        }
        match self.config.role {
            // RFC 6455 5.1: "The server MUST close the connection upon receiving a frame that is not masked."
            Role::Server if header.mask.is_none() && !self.config.disable_masking => {
                return Err(Violation::UnmaskedClientFrame)
            }
            // RFC 6455 5.1: "A client MUST close a connection if it detects a masked frame."
            Role::Client if header.mask.is_some() => return Err(Violation::MaskedServerFrame),
            _ => {}
        }
        if frame::is_control(header.opcode) {
            self.control.clear();
        } else {
            let limits = self.config.limits;
            if header.payload_len > limits.max_frame_size {
                return Err(Violation::FrameTooBig { length: header.payload_len, limit: limits.max_frame_size });
            }
            match (header.opcode, self.message.as_mut()) {
                // RFC 6455 5.4: a continuation needs a started fragmented message.
                (frame::OPCODE_CONTINUATION, None) => return Err(Violation::UnexpectedContinuation),
                (frame::OPCODE_CONTINUATION, Some(message)) => {
                    message.frames += 1;
                    if message.frames > limits.max_fragments {
                        return Err(Violation::TooManyFragments { limit: limits.max_fragments });
                    }
                    message.charged += header.payload_len + FRAGMENT_OVERHEAD;
                }
                // RFC 6455 5.4: "the fragments of one message MUST NOT be interleaved" with another's.
                (opcode, Some(_)) => return Err(Violation::DataFrameInsideMessage { opcode }),
                (opcode, None) => {
                    self.message = Some(InboundMessage {
                        text: opcode == frame::OPCODE_TEXT,
                        charged: header.payload_len,
                        frames: 1,
                        utf8: Utf8Validator::new(),
                    });
                }
            }
            let charged = self.message.as_ref().map_or(0, |m| m.charged);
            if charged > limits.max_message_size {
                return Err(Violation::MessageTooBig { limit: limits.max_message_size });
            }
        }
        self.frame = Some(InboundFrame { header, consumed: 0 });
        Ok(())
    }

    fn finish_control(&mut self, opcode: u8) -> Result<(), Violation> {
        match opcode {
            frame::OPCODE_PING => {
                // RFC 6455 5.5.2: "Upon receipt of a Ping frame, an endpoint MUST send a Pong frame
                // in response ... [with] identical Application data". websocket.h: the engine answers,
                // on the receive queue, without an application context.
                let payload = std::mem::take(&mut self.control);
                self.queue_internal(ActionQueue::Receive, BufferType::PingPong, frame::OPCODE_PONG, &payload);
                self.control = payload;
                self.control.clear();
            }
            frame::OPCODE_PONG => self.ready = Some(Ready::Pong),
            frame::OPCODE_CLOSE => {
                let status = parse_close_payload(&self.control, !self.config.disable_utf8_verification)?;
                self.receive_finished = true;
                self.state = match self.state {
                    State::CloseSent => State::Closed,
                    _ => State::CloseReceived,
                };
                self.ready = Some(Ready::Close { status });
            }
            // parse_header admits no other control opcode: 0xB-0xF are reserved.
            _ => {}
        }
        Ok(())
    }

    /// Queues a frame the engine sends on its own: on the receive queue (pong reply, failing
    /// close) or the send queue (keep-alive frames, the keep-alive timeout's close).
    fn queue_internal(&mut self, queue: ActionQueue, buffer_type: BufferType, opcode: u8, payload: &[u8]) {
        let mut frame = Vec::new();
        match self.append_frame(&mut frame, opcode, true, payload) {
            Ok(()) => {
                let frames = if queue == ActionQueue::Send { &mut self.timer_frames } else { &mut self.replies };
                frames.push_back(InternalFrame { buffer_type, frame })
            }
            // No mask key to be had: the frame cannot be sent safely, so it is not sent at all.
            Err(error) => {
                self.failure.get_or_insert(error);
            }
        }
    }

    /// RFC 6455 7.1.7 _Fail the WebSocket Connection_: send a close with the violation's code (if
    /// ours has not gone yet and the wire is between frames), stop receiving, and close.
    fn fail_connection(&mut self, violation: Violation) -> Error {
        let code = violation.close_code();
        let error = Error::ProtocolViolation(violation.clone());
        let may_send_close = matches!(self.state, State::Open | State::CloseReceived)
            && !self.send_op.as_ref().is_some_and(|op| !op.finished && op.written > 0);
        if may_send_close {
            let mut payload = code.to_be_bytes().to_vec();
            payload.extend_from_slice(violation.code().as_bytes());
            self.replies.clear();
            self.timer_frames.clear();
            self.queue_internal(ActionQueue::Receive, BufferType::Close, frame::OPCODE_CLOSE, &payload);
        }
        // The error is this receive's completion: no close indication follows it.
        self.receive_op = None;
        if self.state != State::Aborted {
            self.state = State::Closed;
        }
        self.failure = Some(error.clone());
        self.cancel_pending_work();
        error
    }

    /// A handshake failure: no frames may be sent, the handle is done.
    fn fail_without_frames(&mut self, error: Error) {
        self.state = State::Closed;
        self.failure = Some(error);
    }

    /// Stops receiving; a queued receive gets a 1006 close indication and a queued send completes.
    fn cancel_pending_work(&mut self) {
        if let Some(Outstanding::ReceiveFromNetwork { id, capacity }) = self.receive_slot {
            self.receive_slot = None;
            self.abandoned_read = Some((id, capacity));
        }
        self.receive_finished = true;
        self.frame = None;
        self.message = None;
        self.pending.clear();
        self.in_start = 0;
        self.in_end = 0;
        if matches!(self.ready, Some(Ready::Data { .. }) | Some(Ready::Pong)) {
            self.ready = None;
        }
        if self.receive_op.is_some() && self.ready.is_none() {
            self.ready = Some(Ready::Abnormal);
        }
        if let Some(op) = self.send_op.as_mut() {
            if !op.finished && op.handed_out == op.written {
                op.finished = true;
            }
        }
        self.sending_message = None;
    }

    // ----------------------------------------------------------------------------------------
    // Abort and time
    // ----------------------------------------------------------------------------------------

    /// WebSocketAbortHandle: new sends and receives fail; what was queued drains through
    /// `get_action` (a queued send completes unsent, a queued receive gets a 1006 close).
    pub fn abort(&mut self) {
        self.state = State::Aborted;
        self.replies.clear();
        self.timer_frames.clear();
        self.cancel_pending_work();
    }

    /// Tells the engine the time (milliseconds, any epoch, never decreasing) and fires the timers
    /// that are due. The first tick starts the clock; call it right after creating the handle.
    /// Then call it whenever `next_deadline` passes, and drain `get_action` after it.
    pub fn tick(&mut self, now_ms: u64) {
        let now = match self.now {
            Some(previous) => now_ms.max(previous),
            None => now_ms,
        };
        self.now = Some(now);
        self.handshake_started_at.get_or_insert(now);
        if self.state == State::CloseSent {
            self.close_sent_at.get_or_insert(now);
        }
        self.idle_since.get_or_insert(now);
        match self.state {
            State::Connecting => {
                let timeout = self.config.handshake_timeout_ms as u64;
                let started = self.handshake_started_at.unwrap_or(now);
                if timeout > 0 && now >= started + timeout {
                    self.fail_without_frames(Error::Timeout { timer: Timer::Handshake, waited_ms: now - started });
                }
            }
            State::CloseSent => {
                let timeout = self.config.close_timeout_ms as u64;
                let sent = self.close_sent_at.unwrap_or(now);
                if timeout > 0 && now >= sent + timeout {
                    self.failure = Some(Error::Timeout { timer: Timer::Close, waited_ms: now - sent });
                    self.state = State::Closed;
                    self.cancel_pending_work();
                }
            }
            State::Open => self.run_keepalive(now),
            _ => {}
        }
    }

    fn run_keepalive(&mut self, now: u64) {
        let interval = self.config.keepalive_interval_ms as u64;
        if interval == 0 {
            return;
        }
        if let Some(sent) = self.keepalive_ping_at {
            let timeout = self.config.keepalive_timeout_ms as u64;
            if timeout > 0 && now >= sent + timeout {
                let error = Error::Timeout { timer: Timer::KeepAlive, waited_ms: now - sent };
                if !self.send_op.as_ref().is_some_and(|op| !op.finished && op.written > 0) {
                    let mut payload = close_status::SERVER_ERROR.to_be_bytes().to_vec();
                    payload.extend_from_slice(b"keep-alive timeout");
                    self.replies.clear();
                    self.timer_frames.clear();
                    self.queue_internal(ActionQueue::Send, BufferType::Close, frame::OPCODE_CLOSE, &payload);
                }
                self.state = State::Closed;
                self.failure = Some(error);
                self.cancel_pending_work();
            }
            return;
        }
        let idle_since = self.idle_since.unwrap_or(now);
        if now >= idle_since + interval {
            let already_queued = self
                .timer_frames
                .iter()
                .any(|f| matches!(f.buffer_type, BufferType::PingPong | BufferType::UnsolicitedPong));
            if !already_queued {
                match self.config.keepalive_mode {
                    crate::config::KeepAliveMode::Ping => {
                        self.queue_internal(ActionQueue::Send, BufferType::PingPong, frame::OPCODE_PING, &[]);
                        self.keepalive_ping_at = Some(now);
                    }
                    crate::config::KeepAliveMode::UnsolicitedPong => {
                        self.queue_internal(ActionQueue::Send, BufferType::UnsolicitedPong, frame::OPCODE_PONG, &[]);
                    }
                }
            }
            self.idle_since = Some(now);
        }
    }

    /// The earliest time (same clock as `tick`) at which a timer fires, if any is armed.
    /// `None` before the first tick.
    pub fn next_deadline(&self) -> Option<u64> {
        let now = self.now?;
        match self.state {
            State::Connecting => {
                let timeout = self.config.handshake_timeout_ms as u64;
                (timeout > 0).then(|| self.handshake_started_at.unwrap_or(now) + timeout)
            }
            State::CloseSent => {
                let timeout = self.config.close_timeout_ms as u64;
                (timeout > 0).then(|| self.close_sent_at.unwrap_or(now) + timeout)
            }
            State::Open => {
                let interval = self.config.keepalive_interval_ms as u64;
                if interval == 0 {
                    return None;
                }
                match self.keepalive_ping_at {
                    Some(sent) => {
                        let timeout = self.config.keepalive_timeout_ms as u64;
                        (timeout > 0).then_some(sent + timeout)
                    }
                    None => Some(self.idle_since.unwrap_or(now) + interval),
                }
            }
            _ => None,
        }
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
