//! The action queues (websocket.h WebSocketGetAction / WebSocketCompleteAction): what is handed
//! out next on each queue, the one slot per queue that holds it until the host completes it, and
//! the typed [`Action`] with its websocket.h view [`ActionRecord`] for the bindings.

use super::receive::{Progress, Ready, ReceiveFailure};
use super::send::SPARE_FRAME_LIMIT;
use super::Handle;
use crate::constants::{close_status, ActionKind, ActionQueue, BufferType};
use crate::error::Error;

/// One action from `get_action`: what the host must do, with what it needs to do it.
///
/// Bytes borrow the handle's memory: write them (SendToNetwork) or copy them out
/// (IndicateReceiveComplete) before calling the handle again. Complete every action but
/// `NoAction` with its `id`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action<'a> {
    /// Nothing to do now, which includes "complete the action you hold first".
    NoAction,
    /// Write `bytes` to the network, in the order the actions are handed out, then complete with
    /// the count written (any other count than `bytes.len()` cancels the send).
    SendToNetwork {
        id: u32,
        /// The queue it came from: Send for the application's sends and keep-alive frames,
        /// Receive for the engine's pong replies and failing close.
        queue: ActionQueue,
        buffer_type: BufferType,
        /// The application context given to `send`; `None` for the engine's own frames.
        context: Option<u64>,
        bytes: &'a [u8],
    },
    /// Read at most `capacity` bytes and complete with them (`complete_receive`); no bytes means
    /// the peer ended the stream.
    ReceiveFromNetwork { id: u32, context: Option<u64>, capacity: usize },
    /// A send finished (or was cancelled).
    IndicateSendComplete { id: u32, buffer_type: BufferType, context: Option<u64> },
    /// A receive finished with this piece of a message, a pong, or a close.
    IndicateReceiveComplete { id: u32, context: Option<u64>, received: Received<'a> },
}

/// What a receive indication carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Received<'a> {
    /// A piece of a message: `*_FRAGMENT` (more follow) or `*_MESSAGE` (the last piece).
    Data { buffer_type: BufferType, bytes: &'a [u8] },
    /// A pong (websocket.h's PING_PONG on receive).
    Pong { bytes: &'a [u8] },
    /// A ping (wsaction's `Ping` buffer type; only with the `IndicatePings` property). With auto
    /// pong on, the engine's pong reply is already queued.
    Ping { bytes: &'a [u8] },
    /// The peer's close (1005 when its frame had no status), or 1006 with no reason when the
    /// stream ended or the handle gave up without a close frame.
    Close { status: u16, reason: &'a [u8] },
}

impl<'a> Received<'a> {
    /// The websocket.h buffer type of the indication.
    pub fn buffer_type(&self) -> BufferType {
        match *self {
            Received::Data { buffer_type, .. } => buffer_type,
            Received::Pong { .. } => BufferType::PingPong,
            Received::Ping { .. } => BufferType::Ping,
            Received::Close { .. } => BufferType::Close,
        }
    }

    /// The payload: data, the pong's, or the close reason.
    pub fn bytes(&self) -> &'a [u8] {
        match *self {
            Received::Data { bytes, .. } | Received::Pong { bytes } | Received::Ping { bytes } => bytes,
            Received::Close { reason, .. } => reason,
        }
    }

    /// The close status, for a close.
    pub fn close_status(&self) -> Option<u16> {
        match *self {
            Received::Close { status, .. } => Some(status),
            _ => None,
        }
    }

    /// True for the last piece of a data message.
    pub fn ends_message(&self) -> bool {
        matches!(self, Received::Data { buffer_type: BufferType::Utf8Message | BufferType::BinaryMessage, .. })
    }
}

impl<'a> Action<'a> {
    /// The websocket.h WEB_SOCKET_ACTION number's enum.
    pub fn kind(&self) -> ActionKind {
        match self {
            Action::NoAction => ActionKind::NoAction,
            Action::SendToNetwork { .. } => ActionKind::SendToNetwork,
            Action::ReceiveFromNetwork { .. } => ActionKind::ReceiveFromNetwork,
            Action::IndicateSendComplete { .. } => ActionKind::IndicateSendComplete,
            Action::IndicateReceiveComplete { .. } => ActionKind::IndicateReceiveComplete,
        }
    }

    /// The action context to complete it with (0 for NoAction, whose completion is ignored).
    pub fn id(&self) -> u32 {
        match *self {
            Action::NoAction => 0,
            Action::SendToNetwork { id, .. }
            | Action::ReceiveFromNetwork { id, .. }
            | Action::IndicateSendComplete { id, .. }
            | Action::IndicateReceiveComplete { id, .. } => id,
        }
    }

    /// websocket.h's out-parameters in one flat value: what the bindings hand across (a JS
    /// object, the numbers of the drain report) and what ports of websocket.h code read.
    pub fn record(&self) -> ActionRecord<'a> {
        let mut record = ActionRecord { kind: self.kind(), id: self.id(), ..ActionRecord::none() };
        match *self {
            Action::NoAction => {}
            Action::SendToNetwork { queue, buffer_type, context, bytes, .. } => {
                record.queue = queue;
                record.buffer_type = Some(buffer_type);
                record.context = context;
                record.bytes = bytes;
            }
            Action::ReceiveFromNetwork { context, capacity, .. } => {
                record.queue = ActionQueue::Receive;
                record.context = context;
                record.receive_capacity = capacity;
            }
            Action::IndicateSendComplete { buffer_type, context, .. } => {
                record.queue = ActionQueue::Send;
                record.buffer_type = Some(buffer_type);
                record.context = context;
            }
            Action::IndicateReceiveComplete { context, received, .. } => {
                record.queue = ActionQueue::Receive;
                record.buffer_type = Some(received.buffer_type());
                record.context = context;
                record.bytes = received.bytes();
                record.close_status = received.close_status();
            }
        }
        record
    }
}

/// websocket.h's view of an [`Action`]: WebSocketGetAction's out-parameters in one value, with
/// the fields an action kind does not use left empty.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ActionRecord<'a> {
    pub kind: ActionKind,
    /// The action context to pass to `complete_action` (0 for NoAction).
    pub id: u32,
    /// The queue the action came from (Send or Receive; All for NoAction).
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

impl ActionRecord<'_> {
    fn none() -> ActionRecord<'static> {
        ActionRecord {
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

/// An action handed out and not yet completed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Outstanding {
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
    pub(super) fn id(&self) -> u32 {
        match *self {
            Outstanding::SendChunk { id, .. }
            | Outstanding::InternalSend { id, .. }
            | Outstanding::SendComplete { id }
            | Outstanding::ReceiveFromNetwork { id, .. }
            | Outstanding::Indication { id, .. } => id,
        }
    }

    pub(super) fn is_network_write(&self) -> bool {
        matches!(self, Outstanding::SendChunk { .. } | Outstanding::InternalSend { .. })
    }
}

impl Handle {
    /// WebSocketGetAction: the next thing the host must do for `queue`. `NoAction` means nothing
    /// now, which includes "complete the action you hold first". A peer's protocol violation comes
    /// back as `Err(ProtocolViolation)` from here; the engine has then queued the failing close
    /// frame, so keep calling until NoAction and close the transport. Replies to the messages
    /// indicated before the violation may still be sent until that close is handed out, and go
    /// out ahead of it.
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
        Ok(Action::NoAction)
    }

    pub(super) fn take_id(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id = self.next_id.checked_add(1).unwrap_or(1);
        id
    }

    /// True while bytes of a frame are out with the host, or a frame is partly written: another
    /// frame's bytes would interleave with it on the wire.
    pub(super) fn wire_busy(&self) -> bool {
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
                    if internal.buffer_type == BufferType::Close {
                        // The failing close is on its way: nothing may follow it now.
                        self.failing_close_queued = false;
                    }
                    let id = self.take_id();
                    return Ok(Some(Outstanding::InternalSend { id, len }));
                }
            }
            if self.receive_op.is_none() {
                return Ok(None);
            }
            if self.ready.is_none() {
                if let Err(error) = self.reserve_for_parsing() {
                    return Err(self.fail_out_of_memory(error));
                }
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
                        // websocket.h: the read offers the receive buffer less what it holds
                        // (see `read_capacity`), whether or not its memory is allocated yet.
                        let capacity = self.read_capacity();
                        let id = self.take_id();
                        return Ok(Some(Outstanding::ReceiveFromNetwork { id, capacity }));
                    }
                    Err(ReceiveFailure::Violation(violation)) => return Err(self.fail_connection(violation)),
                    Err(ReceiveFailure::OutOfMemory(error)) => return Err(self.fail_out_of_memory(error)),
                }
            }
            let ready = self.ready.expect("ready was just set");
            let id = self.take_id();
            return Ok(Some(Outstanding::Indication { id, ready }));
        }
    }

    fn view(&self, queue: ActionQueue, planned: Outstanding) -> Action<'_> {
        match planned {
            Outstanding::SendChunk { id, len } => {
                let op = self.send_op.as_ref().expect("a chunk belongs to the queued send");
                Action::SendToNetwork {
                    id,
                    queue,
                    buffer_type: op.buffer_type,
                    context: op.context,
                    bytes: &op.frame[op.handed_out - len..op.handed_out],
                }
            }
            Outstanding::InternalSend { id, .. } => {
                let frames = if queue == ActionQueue::Send { &self.timer_frames } else { &self.replies };
                let internal = frames.front().expect("an internal send is queued");
                Action::SendToNetwork {
                    id,
                    queue,
                    buffer_type: internal.buffer_type,
                    context: None,
                    bytes: &internal.frame,
                }
            }
            Outstanding::SendComplete { id } => {
                let op = self.send_op.as_ref().expect("the completed send is still held");
                Action::IndicateSendComplete { id, buffer_type: op.buffer_type, context: op.context }
            }
            Outstanding::ReceiveFromNetwork { id, capacity } => {
                Action::ReceiveFromNetwork { id, context: self.receive_op.flatten(), capacity }
            }
            Outstanding::Indication { id, ready } => {
                let received = match ready {
                    Ready::Data { buffer_type, len } => Received::Data { buffer_type, bytes: &self.pending[..len] },
                    Ready::Pong => Received::Pong { bytes: &self.control },
                    Ready::Ping => Received::Ping { bytes: &self.control },
                    Ready::Close { status } => Received::Close { status, reason: self.control.get(2..).unwrap_or(&[]) },
                    Ready::Abnormal => Received::Close { status: close_status::ABORTED, reason: &[] },
                };
                Action::IndicateReceiveComplete { id, context: self.receive_op.flatten(), received }
            }
        }
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
        if self.complete_abandoned_read(id) {
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
                    return Err(Error::invalid_argument(
                        "bytes transferred",
                        format!("{bytes_transferred} is more than the {capacity} bytes offered"),
                    ));
                }
                let end = self.in_end + bytes_transferred;
                if self.inbound.len() < end {
                    // Completed without `receive_buffer` (or `complete_receive`): the space was
                    // never lent, so the bytes are what it would have held (zeros).
                    let limit = self.config.receive_buffer_size as usize;
                    if let Err(error) = super::make_room(&mut self.inbound, end, limit, "receive buffer") {
                        return Err(self.fail_out_of_memory(error));
                    }
                    self.inbound.resize(end, 0);
                }
                self.complete_receive_from_network(bytes_transferred, bytes_transferred);
            }
            Outstanding::Indication { ready, .. } => self.complete_indication(ready),
        }
        Ok(())
    }

    /// Completes a ReceiveFromNetwork action with the bytes the host read (at most
    /// `receive_capacity`; empty means the peer ended the stream). The usual way for hosts that
    /// read into their own buffers (JS, WIT). Payload that continues (or a whole header that
    /// begins) a data message goes straight into the message buffer, unmasked as it is copied; the
    /// rest is copied into the receive buffer, which `receive_buffer` + `complete_action` avoids.
    pub fn complete_receive(&mut self, id: u32, data: &[u8]) -> Result<(), Error> {
        if self.complete_abandoned_read(id) {
            return Ok(());
        }
        let capacity = match self.receive_slot {
            Some(Outstanding::ReceiveFromNetwork { id: held, capacity }) if held == id && id != 0 => capacity,
            _ => return Err(Error::UnknownAction { id }),
        };
        if data.len() > capacity {
            return Err(Error::invalid_argument(
                "data",
                format!("{} bytes is more than the {} bytes offered", data.len(), capacity),
            ));
        }
        if data.is_empty() {
            // The peer ended the stream.
            return self.complete_action(id, 0);
        }
        // Payload continuing the data frame under way goes straight into the message buffer.
        let direct = self.receive_payload_directly(data);
        let rest = &data[direct..];
        // The rest is appended: the receive buffer grows only as far as it reaches.
        let (start, end) = (self.in_end, self.in_end + rest.len());
        let limit = self.config.receive_buffer_size as usize;
        if let Err(error) = super::make_room(&mut self.inbound, end, limit, "receive buffer") {
            return Err(self.fail_out_of_memory(error));
        }
        if self.inbound.len() < end {
            self.inbound.truncate(start);
            self.inbound.extend_from_slice(rest);
        } else {
            self.inbound[start..end].copy_from_slice(rest);
        }
        self.receive_slot = None;
        self.complete_receive_from_network(data.len(), rest.len());
        Ok(())
    }

    /// The space an outstanding ReceiveFromNetwork action offers, to read into directly
    /// (websocket.h's zero-copy receive), allocated now if the handle holds no receive buffer.
    /// Complete with the count read.
    pub fn receive_buffer(&mut self, id: u32) -> Result<&mut [u8], Error> {
        self.read_space(id, None)
    }

    /// The first `bytes` of the space `receive_buffer` offers, for a host that already holds what
    /// it read and copies it in (the JS class's `completeReceive`): the receive buffer grows only
    /// as far as those bytes reach, not to the whole size the action offers. More than the action
    /// offers is an InvalidArgument. Complete with the count written.
    pub fn receive_buffer_for(&mut self, id: u32, bytes: usize) -> Result<&mut [u8], Error> {
        self.read_space(id, Some(bytes))
    }

    fn read_space(&mut self, id: u32, bytes: Option<usize>) -> Result<&mut [u8], Error> {
        let (start, offered, abandoned) = match self.receive_slot {
            Some(Outstanding::ReceiveFromNetwork { id: held, capacity }) if held == id && id != 0 => {
                (self.in_end, capacity, false)
            }
            // The engine gave up on this read: the host may still read into the space it was
            // offered, and what it reads is dropped.
            _ => match self.abandoned_read {
                Some((held, capacity)) if held == id && id != 0 => (0, capacity, true),
                _ => return Err(Error::UnknownAction { id }),
            },
        };
        let length = match bytes {
            Some(bytes) if bytes > offered => {
                return Err(Error::invalid_argument(
                    "bytes",
                    format!("{bytes} bytes is more than the {offered} bytes offered"),
                ))
            }
            Some(bytes) => bytes,
            None => offered,
        };
        if abandoned {
            // Nothing is parsed any more: the receive buffer holds only this read's bytes, and
            // `complete_abandoned_read` gives it back.
            self.inbound.clear();
        }
        let end = start + length;
        let limit = self.config.receive_buffer_size as usize;
        if let Err(error) = super::make_room(&mut self.inbound, end, limit, "receive buffer") {
            return Err(if abandoned { error } else { self.fail_out_of_memory(error) });
        }
        if self.inbound.len() < end {
            self.inbound.resize(end, 0);
        }
        Ok(&mut self.inbound[start..end])
    }

    /// Completes a read the engine gave up on (abort, failure, timeout), if `id` is that read:
    /// its bytes are dropped, and the space they were read into goes back (a closed handle keeps
    /// no receive buffer while the host keeps the handle).
    fn complete_abandoned_read(&mut self, id: u32) -> bool {
        if self.abandoned_read.is_none_or(|(held, _)| held != id) {
            return false;
        }
        self.abandoned_read = None;
        self.inbound = Vec::new();
        true
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
}
