//! The message assembler: data frames become a message (RFC 6455 5.4: a first frame, then
//! continuations, never interleaved), charged against the limits, checked as UTF-8 as each byte
//! arrives (8.1), and cut into pieces no larger than the receive buffer (`*_FRAGMENT` pieces, then
//! the `*_MESSAGE` piece), whatever the framing on the wire. A compressed message (permessage-deflate,
//! RFC 7692 6) is charged what it inflates to, as it inflates, plus the per-frame overhead.

use super::receive::Ready;
use super::send::RSV1;
use super::Handle;
use crate::config::FRAGMENT_OVERHEAD;
use crate::constants::BufferType;
use crate::error::Violation;
use crate::wire::frame::{self, FrameHeader};
use crate::wire::utf8::Utf8Validator;

/// The data message being received.
pub(super) struct InboundMessage {
    text: bool,
    /// Its first frame had RSV1 set: the payload inflates (RFC 7692 6).
    compressed: bool,
    /// Bytes charged against `max_message_size`: payload (inflated, when compressed) plus
    /// `FRAGMENT_OVERHEAD` per later frame.
    charged: u64,
    frames: u32,
    utf8: Utf8Validator,
}

impl Handle {
    /// A data frame's header: it starts a message or continues the open one, within the limits.
    pub(super) fn admit_data_frame(&mut self, header: &FrameHeader) -> Result<(), Violation> {
        let limits = self.config.limits;
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
                // start_frame let RSV1 through only with permessage-deflate negotiated.
                let compressed = header.rsv & RSV1 != 0;
                if let Some(deflate) = self.deflate.as_mut().filter(|_| compressed) {
                    deflate.inflater.begin_message();
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
        Ok(())
    }

    /// Whether the message being received is compressed.
    pub(super) fn receiving_compressed(&self) -> bool {
        self.message.as_ref().is_some_and(|message| message.compressed)
    }

    /// What the message being received has been charged so far.
    pub(super) fn message_charged(&self) -> u64 {
        self.message.as_ref().map_or(0, |message| message.charged)
    }

    /// Charges bytes a compressed message inflated to.
    pub(super) fn charge_inflated(&mut self, bytes: u64) {
        if let Some(message) = self.message.as_mut() {
            message.charged += bytes;
        }
    }

    /// Payload just moved into `pending` from `from` on: text is checked as it arrives.
    pub(super) fn check_arrived(&mut self, from: usize) -> Result<(), Violation> {
        let verify = !self.config.disable_utf8_verification;
        if let Some(message) = self.message.as_mut() {
            if message.text && verify && message.utf8.feed(&self.pending[from..]).is_err() {
                // RFC 6455 8.1: fail at the first invalid byte, not at the message's end.
                return Err(Violation::InvalidUtf8InText);
            }
        }
        Ok(())
    }

    /// `check_arrived` for bytes that can still be put back: when they fail, the UTF-8 state is
    /// left as it was before them (so parsing them again fails the same way) and false returned.
    pub(super) fn check_arrived_or_keep(&mut self, from: usize) -> bool {
        let before = self.message.as_ref().map(|message| message.utf8);
        if self.check_arrived(from).is_ok() {
            return true;
        }
        if let (Some(message), Some(utf8)) = (self.message.as_mut(), before) {
            message.utf8 = utf8;
        }
        false
    }

    /// The piece `pending` makes now: the message's last piece once its final frame ended, a
    /// fragment piece once `pending` holds a receive buffer's worth, or nothing yet.
    pub(super) fn cut_piece(&mut self, message_done: bool) -> Result<Option<Ready>, Violation> {
        let capacity = self.config.receive_buffer_size as usize;
        if message_done {
            let message = self.message.take().expect("a data frame belongs to a message");
            let mut utf8 = message.utf8;
            if message.text && !self.config.disable_utf8_verification && utf8.finish().is_err() {
                return Err(Violation::InvalidUtf8InText);
            }
            let buffer_type = if message.text { BufferType::Utf8Message } else { BufferType::BinaryMessage };
            return Ok(Some(Ready::Data { buffer_type, len: self.pending.len() }));
        }
        if self.pending.len() == capacity {
            let message = self.message.as_ref().expect("a data frame belongs to a message");
            let (buffer_type, held_back) = if message.text {
                // Hold back an incomplete code point so each UTF-8 piece is valid on its own.
                (BufferType::Utf8Fragment, message.utf8.incomplete_len())
            } else {
                (BufferType::BinaryFragment, 0)
            };
            return Ok(Some(Ready::Data { buffer_type, len: capacity - held_back }));
        }
        Ok(None)
    }
}
