//! The receive path (websocket.h WebSocketReceive), the frame reader: buffered bytes become frame
//! headers checked against the per-frame rules (RFC 6455 5.1-5.5) and payload moved, unmasked,
//! to `control` (control frames, see `control.rs`) or `pending` (data, see `assembler.rs`, which
//! turns it into message pieces). Also the receive slot's completions and the receive buffer.
//!
//! permessage-deflate: a message whose first frame has RSV1 set is compressed (RFC 7692 6); its
//! payload is inflated into `pending` as it arrives (`inflate_payload`), never past what the
//! message budget has left, before UTF-8 is checked and before the pieces are cut.

use super::send::RSV1;
use super::Handle;
use crate::config::Role;
use crate::constants::BufferType;
use crate::error::{Error, Violation};
use crate::permessage_deflate::InflateState;
use crate::state::{Event, State};
use crate::wire::frame::{self, FrameHeader, HeaderParse};

/// The frame being received.
#[derive(Clone, Copy, Debug)]
pub(super) struct InboundFrame {
    header: FrameHeader,
    /// Payload bytes consumed so far (the mask key's phase).
    consumed: u64,
}

impl InboundFrame {
    fn remaining(&self) -> u64 {
        self.header.payload_len - self.consumed
    }
}

/// What a step of the receive parser ended with.
pub(super) enum Progress {
    /// An indication is ready.
    Ready,
    /// A pong reply is queued; hand it out before parsing on (bounds memory under a ping flood).
    Blocked,
    /// The buffered bytes are used up.
    NeedBytes,
}

/// Why parsing stopped before an indication: the peer broke the protocol, or this connection
/// could not get memory (zlib's state for a compressed message). The first fails the connection
/// with the violation's close code, the second with 1011.
pub(super) enum ReceiveFailure {
    Violation(Violation),
    OutOfMemory(Error),
}

impl From<Violation> for ReceiveFailure {
    fn from(violation: Violation) -> Self {
        ReceiveFailure::Violation(violation)
    }
}

/// A receive indication ready to hand out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Ready {
    /// `len` bytes at the front of `pending`.
    Data { buffer_type: BufferType, len: usize },
    /// The pong payload in `control`.
    Pong,
    /// A received ping's payload in `control` (with the `IndicatePings` property).
    Ping,
    /// The close payload in `control` (status parsed and checked).
    Close { status: u16 },
    /// No close frame will come: the stream ended, a timer ran out, or the handle was aborted.
    Abnormal,
}

impl Handle {
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
    /// A ReceiveFromNetwork completed with `read` bytes, of which the last `buffered` are in the
    /// receive buffer (the others went straight into the message buffer, see
    /// `receive_payload_directly`).
    pub(super) fn complete_receive_from_network(&mut self, read: usize, buffered: usize) {
        if read == 0 {
            // websocket.h: 0 cancels the receive. The peer ended the stream without (or after) a close.
            self.stop_parsing();
            self.ready = Some(Ready::Abnormal);
            self.transition(Event::Failed);
            return;
        }
        self.in_end += buffered;
        // Activity is stamped with the last tick's time: a host that ticks only at deadlines makes
        // the idle interval start a little early, never late.
        if self.now.is_some() {
            self.idle_since = self.now;
        }
        self.keepalive_ping_at = None;
    }

    pub(super) fn complete_indication(&mut self, ready: Ready) {
        self.ready = None;
        self.receive_op = None;
        match ready {
            Ready::Data { len, .. } => {
                // `pending` may have been emptied meanwhile (abort, failure): nothing to keep then.
                let len = len.min(self.pending.len());
                self.pending.copy_within(len.., 0);
                let keep = self.pending.len() - len;
                self.pending.truncate(keep);
                if self.message.is_none() && self.in_start == self.in_end {
                    // The message is complete and nothing more is buffered: memory it needed
                    // beyond an idle handle's goes back. With more buffered (small messages, many
                    // to a read), the next message would take it again at once: a 64 KiB
                    // allocation and free per 16-byte message was a quarter of their parse time;
                    // `compact_inbound` gives it back once the read is parsed.
                    super::release_if_idle(&mut self.pending);
                    self.inflate_input.clear();
                    super::release_if_idle(&mut self.inflate_input);
                }
            }
            Ready::Pong | Ready::Ping | Ready::Close { .. } => self.control.clear(),
            Ready::Abnormal => {}
        }
    }
    // The frame reader and message assembler (RFC 6455 section 5).

    pub(super) fn compact_inbound(&mut self) {
        if self.in_start == self.in_end {
            self.in_start = 0;
            self.in_end = 0;
            if self.frame.is_none() && self.message.is_none() {
                // Everything read is parsed and no message is under way: the receive buffer (and
                // what parsing reserved for a message, e.g. around a control frame) goes back
                // until the next read needs it.
                if self.inbound.capacity() > super::IDLE_BUFFER_LIMIT {
                    self.inbound = Vec::new();
                }
                super::release_if_idle(&mut self.pending);
                self.inflate_input.clear();
                super::release_if_idle(&mut self.inflate_input);
            }
        } else if self.in_start > 0 {
            self.inbound.copy_within(self.in_start..self.in_end, 0);
            self.in_end -= self.in_start;
            self.in_start = 0;
        }
    }

    /// Makes room in `pending` (and the inflater's input) for what parsing the buffered bytes can
    /// put there: the payload among them, at most a receive buffer's worth; a whole receive
    /// buffer for an inflated message (its output is bounded by the buffer, not by its input).
    pub(super) fn reserve_for_parsing(&mut self) -> Result<(), Error> {
        let capacity = self.config.receive_buffer_size as usize;
        let available = self.in_end - self.in_start;
        if available == 0 {
            return Ok(());
        }
        if self.deflate.is_some() {
            super::make_room(&mut self.inflate_input, available.min(capacity), capacity, "inflate input buffer")?;
            super::make_room(&mut self.pending, capacity, capacity, "message buffer")
        } else {
            let payload = (self.pending.len() + available).min(capacity);
            super::make_room(&mut self.pending, payload, capacity, "message buffer")
        }
    }

    /// Parses buffered bytes until an indication is ready, a pong reply waits, or bytes run out.
    /// Indications depend only on the bytes, never on how they were split into reads.
    pub(super) fn advance_receive(&mut self) -> Result<Progress, ReceiveFailure> {
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
            // RFC 7692 6.2: a compressed message's payload is inflated where `pending` is filled,
            // before UTF-8 is checked and the pieces are cut.
            let compressed = self.receiving_compressed();
            let from = self.pending.len();
            let (frame_done, message_done) = if compressed {
                let inflated_all = self.inflate_payload(&mut inbound, available)?;
                // The last frame stays open while the inflater still has output for it.
                (inbound.remaining() == 0 && (!inbound.header.fin || inflated_all), inflated_all)
            } else {
                let space = capacity - self.pending.len();
                let take = (inbound.remaining().min(available as u64) as usize).min(space);
                if take > 0 {
                    self.copy_payload(&mut inbound, take, false);
                }
                let frame_done = inbound.remaining() == 0;
                (frame_done, frame_done && inbound.header.fin)
            };
            if self.pending.len() > from {
                self.check_arrived(from)?;
            }
            self.frame = if frame_done { None } else { Some(inbound) };
            if let Some(piece) = self.cut_piece(message_done)? {
                self.ready = Some(piece);
                continue;
            }
            if !frame_done {
                // A compressed frame takes at most a receive buffer of input per step: go on while
                // more of it is buffered (each step consumes input, produces output, or fails).
                if compressed && self.in_start < self.in_end {
                    continue;
                }
                return Ok(Progress::NeedBytes);
            }
        }
    }

    /// Moves `take` payload bytes from the inbound buffer to `control` or `pending`, unmasking.
    fn copy_payload(&mut self, inbound: &mut InboundFrame, take: usize, control: bool) {
        let src = &self.inbound[self.in_start..self.in_start + take];
        let target = if control { &mut self.control } else { &mut self.pending };
        append_payload(target, src, inbound);
        self.in_start += take;
    }

    /// How many bytes of a read can go straight into `pending` (see `receive_payload_directly`):
    /// while an uncompressed data frame's payload is under way, nothing else is buffered, no
    /// indication waits and the piece being assembled has room. None otherwise.
    fn direct_payload_room(&self) -> Option<usize> {
        if self.in_start != self.in_end || self.ready.is_some() || self.receive_finished || self.failure.is_some() {
            return None;
        }
        let inbound = self.frame.filter(|inbound| !frame::is_control(inbound.header.opcode))?;
        if self.message.is_none() || self.receiving_compressed() {
            return None;
        }
        let piece_room = (self.config.receive_buffer_size as usize).checked_sub(self.pending.len())?;
        let room = (inbound.remaining().min(piece_room as u64)) as usize;
        (room > 0).then_some(room)
    }

    /// What a ReceiveFromNetwork offers: the receive buffer less what it holds. While a data
    /// frame's payload goes straight into the message buffer, what it holds is the piece being
    /// assembled there: a larger read would only wait in the receive buffer for that piece to be
    /// indicated, and cost a second pass over it (a frame header shifts a large message's pieces
    /// against the reads; this keeps the reads in step with the pieces after the first).
    pub(super) fn read_capacity(&self) -> usize {
        let size = self.config.receive_buffer_size as usize;
        match self.direct_payload_room() {
            Some(_) => size - self.pending.len(),
            None => size - self.in_end,
        }
    }

    /// The first bytes of a read that continue the data frame under way (or begin a new message
    /// with a whole header, see `start_message_directly`) go straight into `pending`, unmasked in
    /// the same pass that copies them: one pass over a large message's payload instead of a copy
    /// into the receive buffer and another out of it. Returns how many bytes it took (the rest of
    /// the read is buffered as usual). Indications are the same as on the buffered path (the same
    /// bytes reach `pending` in the same order, and pieces are cut by its length); text is
    /// checked here, and bytes that fail are put back for the buffered path to fail the
    /// connection the usual way, from `get_action`.
    pub(super) fn receive_payload_directly(&mut self, data: &[u8]) -> usize {
        let header_len = self.start_message_directly(data);
        let data = &data[header_len..];
        let Some(room) = self.direct_payload_room() else { return header_len };
        let Some(mut inbound) = self.frame else { return header_len };
        let take = room.min(data.len());
        let capacity = self.config.receive_buffer_size as usize;
        let from = self.pending.len();
        if super::make_room(&mut self.pending, from + take, capacity, "message buffer").is_err() {
            // The buffered path runs into the same shortage and fails the connection for it.
            return header_len;
        }
        append_payload(&mut self.pending, &data[..take], &mut inbound);
        if !self.check_arrived_or_keep(from) {
            self.pending.truncate(from);
            return header_len;
        }
        self.frame = Some(inbound);
        header_len + take
    }

    /// A read that begins with the first frame of a new message (text or binary, no RSV bits)
    /// while nothing is buffered and no message is under way: its header is taken here, with the
    /// same checks as on the buffered path, so that its payload can follow straight into `pending`.
    /// Returns the header's length, or 0 when the read starts otherwise or the header breaks a
    /// rule: then nothing changed, and the buffered path parses it (and fails the connection).
    fn start_message_directly(&mut self, data: &[u8]) -> usize {
        if self.frame.is_some() || self.message.is_some() || self.in_start != self.in_end || self.ready.is_some() {
            return 0;
        }
        if self.receive_finished || self.failure.is_some() {
            return 0;
        }
        let Ok(HeaderParse::Complete(header, used)) = frame::parse_header(data) else { return 0 };
        if header.rsv != 0 || !matches!(header.opcode, frame::OPCODE_TEXT | frame::OPCODE_BINARY) {
            return 0;
        }
        if self.start_frame(header).is_err() {
            // With no message under way, a data frame's header sets only these two.
            self.message = None;
            self.frame = None;
            return 0;
        }
        used
    }

    /// Inflates the next buffered part of a compressed frame into `pending` (RFC 7692 7.2.2):
    /// at most a receive buffer of input, unmasked, and at most what `pending` and the message
    /// budget have room for. True when the message is complete.
    fn inflate_payload(&mut self, inbound: &mut InboundFrame, available: usize) -> Result<bool, ReceiveFailure> {
        let capacity = self.config.receive_buffer_size as usize;
        let max_message_size = self.config.limits.max_message_size;
        let budget_left = max_message_size.saturating_sub(self.message_charged());
        let Some(deflate) = self.deflate.as_mut() else {
            // The transform is freed only when the handle closes, and nothing is parsed after.
            return Ok(false);
        };
        let take = (inbound.remaining().min(available as u64) as usize).min(capacity);
        let src = &self.inbound[self.in_start..self.in_start + take];
        self.inflate_input.clear();
        match inbound.header.mask {
            Some(key) => frame::extend_masked(&mut self.inflate_input, src, key, (inbound.consumed % 4) as usize),
            None => self.inflate_input.extend_from_slice(src),
        }
        // RFC 7692 7.2.2: the tail 0x00 0x00 0xff 0xff follows the last frame's payload.
        let ends_message = inbound.header.fin && take as u64 == inbound.remaining();
        let from = self.pending.len();
        self.pending.resize(capacity, 0);
        let step = deflate.inflater.inflate(&self.inflate_input, ends_message, &mut self.pending[from..], budget_left);
        let step = match step {
            Ok(step) => step,
            Err(error) => {
                self.pending.truncate(from);
                if let Some(out_of_memory) = error.out_of_memory() {
                    return Err(ReceiveFailure::OutOfMemory(out_of_memory));
                }
                // NotInMessage cannot happen: admit_data_frame began the message.
                return Err(error
                    .violation(max_message_size)
                    .unwrap_or(Violation::InvalidCompressedData { detail: "no compressed message begun" })
                    .into());
            }
        };
        self.pending.truncate(from + step.produced);
        self.charge_inflated(step.produced as u64);
        inbound.consumed += step.consumed as u64;
        self.in_start += step.consumed;
        Ok(step.state == InflateState::MessageDone)
    }

    /// Checks a frame header against the connection's state (RFC 6455 5.1-5.5) and the limits.
    fn start_frame(&mut self, header: FrameHeader) -> Result<(), Violation> {
        // RFC 6455 5.2: RSV bits "MUST be 0 unless an extension is negotiated that defines meanings".
        if header.rsv & !self.allowed_rsv != 0 {
            return Err(Violation::ReservedBitsSet { bits: header.rsv });
        }
        // With permessage-deflate, RSV1 marks a compressed message's first frame only (RFC 7692 6.1:
        // an endpoint receiving it on a control frame or a non-first fragment "MUST _Fail the
        // WebSocket Connection_").
        if header.rsv & RSV1 != 0 {
            if frame::is_control(header.opcode) {
                return Err(Violation::CompressedControlFrame { opcode: header.opcode });
            }
            if header.opcode == frame::OPCODE_CONTINUATION {
                return Err(Violation::CompressedContinuation);
            }
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
            let limit = self.config.limits.max_frame_size;
            if header.payload_len > limit {
                return Err(Violation::FrameTooBig { length: header.payload_len, limit });
            }
            self.admit_data_frame(&header)?;
        }
        self.frame = Some(InboundFrame { header, consumed: 0 });
        Ok(())
    }
}

/// Appends payload bytes to `target`, unmasking them (RFC 6455 5.3) from the frame's mask phase.
fn append_payload(target: &mut Vec<u8>, src: &[u8], inbound: &mut InboundFrame) {
    match inbound.header.mask {
        Some(key) => frame::extend_masked(target, src, key, (inbound.consumed % 4) as usize),
        None => target.extend_from_slice(src),
    }
    inbound.consumed += src.len() as u64;
}
