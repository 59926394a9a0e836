//! The receive path (websocket.h WebSocketReceive): the frame reader (headers and the per-frame
//! rules of RFC 6455 5.1-5.5), the message assembler (fragments, limits, pieces no larger than the
//! receive buffer) and UTF-8 checked as each piece arrives (8.1). Control frames go to `control`.
//!
//! permessage-deflate on the receive path: a message whose first frame has RSV1 set is compressed
//! (RFC 7692 6); its payload is inflated into `pending` as it arrives (`inflate_payload`), never
//! past what the message budget has left, before UTF-8 is checked and before the pieces are cut.
//! Such a message is charged its inflated size (plus the per-frame overhead), not its wire size.

use super::send::RSV1;
use super::Handle;
use crate::config::Role;
use crate::config::FRAGMENT_OVERHEAD;
use crate::constants::BufferType;
use crate::error::{Error, Violation};
use crate::permessage_deflate::InflateState;
use crate::state::{Event, State};
use crate::wire::frame::{self, FrameHeader, HeaderParse};
use crate::wire::utf8::Utf8Validator;

/// A receive indication ready to hand out.
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

/// The data message being received.
pub(super) struct InboundMessage {
    text: bool,
    /// Its first frame had RSV1 set: the payload inflates (RFC 7692 6).
    compressed: bool,
    charged: u64,
    frames: u32,
    utf8: Utf8Validator,
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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Ready {
    /// `len` bytes at the front of `pending`.
    Data { buffer_type: BufferType, len: usize },
    /// The pong payload in `control`.
    Pong,
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
    pub(super) fn complete_receive_from_network(&mut self, count: usize) {
        if count == 0 {
            // websocket.h: 0 cancels the receive. The peer ended the stream without (or after) a close.
            self.receive_finished = true;
            self.ready = Some(Ready::Abnormal);
            self.transition(Event::Failed);
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
            }
            Ready::Pong | Ready::Close { .. } => self.control.clear(),
            Ready::Abnormal => {}
        }
    }
    // The frame reader and message assembler (RFC 6455 section 5).

    pub(super) fn compact_inbound(&mut self) {
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
    pub(super) fn advance_receive(&mut self) -> Result<Progress, Violation> {
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
            let compressed = self.message.as_ref().is_some_and(|m| m.compressed);
            let from = self.pending.len();
            let (frame_done, message_done) = if compressed {
                let inflated_all = self.inflate_payload(&mut inbound, available)?;
                // The last frame stays open while the inflater still has output for it.
                let frame_done = inbound.remaining() == 0 && (!inbound.header.fin || inflated_all);
                (frame_done, inflated_all)
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
                let verify = !self.config.disable_utf8_verification;
                if let Some(message) = self.message.as_mut() {
                    if message.text && verify && message.utf8.feed(&self.pending[from..]).is_err() {
                        // RFC 6455 8.1: fail at the first invalid byte, not at the message's end.
                        return Err(Violation::InvalidUtf8InText);
                    }
                }
            }
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
                // A compressed frame takes at most a receive buffer of input per step: go on while
                // more of it is buffered (each step consumes input, produces output, or fails).
                if compressed && self.in_start < self.in_end {
                    continue;
                }
                return Ok(Progress::NeedBytes);
            }
        }
    }

    /// Inflates the next buffered part of a compressed frame into `pending` (RFC 7692 7.2.2):
    /// at most a receive buffer of input, unmasked, and at most what `pending` and the message
    /// budget have room for. True when the message is complete.
    fn inflate_payload(&mut self, inbound: &mut InboundFrame, available: usize) -> Result<bool, Violation> {
        let capacity = self.config.receive_buffer_size as usize;
        let max_message_size = self.config.limits.max_message_size;
        let (Some(deflate), Some(message)) = (self.deflate.as_mut(), self.message.as_mut()) else {
            // The transform is freed only when the handle closes, and nothing is parsed after.
            return Ok(false);
        };
        let take = (inbound.remaining().min(available as u64) as usize).min(capacity);
        let src = &self.inbound[self.in_start..self.in_start + take];
        self.inflate_input.clear();
        match inbound.header.mask {
            Some(key) => {
                self.inflate_input.resize(take, 0);
                frame::copy_masked(&mut self.inflate_input, src, key, (inbound.consumed % 4) as usize);
            }
            None => self.inflate_input.extend_from_slice(src),
        }
        // RFC 7692 7.2.2: the tail 0x00 0x00 0xff 0xff follows the last frame's payload.
        let ends_message = inbound.header.fin && take as u64 == inbound.remaining();
        let from = self.pending.len();
        self.pending.resize(capacity, 0);
        let budget_left = max_message_size.saturating_sub(message.charged);
        let step = deflate.inflater.inflate(&self.inflate_input, ends_message, &mut self.pending[from..], budget_left);
        let step = match step {
            Ok(step) => step,
            Err(error) => {
                self.pending.truncate(from);
                // NotInMessage cannot happen: start_frame began the message.
                return Err(error
                    .violation(max_message_size)
                    .unwrap_or(Violation::InvalidCompressedData { detail: "no compressed message begun" }));
            }
        };
        self.pending.truncate(from + step.produced);
        message.charged += step.produced as u64;
        inbound.consumed += step.consumed as u64;
        self.in_start += step.consumed;
        Ok(step.state == InflateState::MessageDone)
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
        // With permessage-deflate, RSV1 marks a compressed message's first frame only (RFC 7692 6.1:
        // an endpoint receiving it on a control frame or a non-first fragment "MUST _Fail the
        // WebSocket Connection_").
        let compressed = header.rsv & RSV1 != 0;
        if compressed && frame::is_control(header.opcode) {
            return Err(Violation::CompressedControlFrame { opcode: header.opcode });
        }
        if compressed && header.opcode == frame::OPCODE_CONTINUATION {
            return Err(Violation::CompressedContinuation);
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
                    // A compressed message is charged what it inflates to, as it inflates.
                    message.charged += FRAGMENT_OVERHEAD + if message.compressed { 0 } else { header.payload_len };
                }
                // RFC 6455 5.4: "the fragments of one message MUST NOT be interleaved" with another's.
                (opcode, Some(_)) => return Err(Violation::DataFrameInsideMessage { opcode }),
                (opcode, None) => {
                    if compressed {
                        if let Some(deflate) = self.deflate.as_mut() {
                            deflate.inflater.begin_message();
                        }
                    }
                    self.message = Some(InboundMessage {
                        text: opcode == frame::OPCODE_TEXT,
                        compressed,
                        charged: if compressed { 0 } else { header.payload_len },
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
}
