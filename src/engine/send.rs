//! The send path (websocket.h WebSocketSend): what a send may carry in each state, framing and
//! masking (RFC 6455 5.2, 5.3), and the one queued send's frame until it is written.

use super::Handle;
use crate::config::Role;
use crate::constants::BufferType;
use crate::error::Error;
use crate::permessage_deflate::CompressError;
use crate::state::{Event, State};
use crate::wire::close::build_close_payload;
use crate::wire::frame::{self, FrameHeader};
use crate::wire::utf8::Utf8Validator;
use std::borrow::Cow;

/// Frame buffers up to this capacity are kept for reuse between sends; a larger message's
/// buffer goes back to the allocator when its send completes.
pub(super) const SPARE_FRAME_LIMIT: usize = super::IDLE_BUFFER_LIMIT;

/// The buffer of a send: websocket.h's WEB_SOCKET_BUFFER union.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Buffer<'a> {
    /// Payload for a data, ping or unsolicited pong send.
    Data(&'a [u8]),
    /// A close status (1005 for "no status") and a UTF-8 reason of at most 123 bytes.
    CloseStatus { status: u16, reason: &'a [u8] },
}

/// How one data send goes out: ws's per-send options.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SendOptions {
    /// Compress the message when permessage-deflate was negotiated (ws's `compress`, default
    /// true); ws's threshold rule still applies (see `PerMessageDeflate::compresses`). A
    /// fragmented message is compressed or not as a whole: its first piece decides.
    pub compress: bool,
    /// The caller has checked that this payload is valid UTF-8 (JS: Node's `buffer.isUtf8`, which
    /// runs several times faster than the engine's wasm SIMD check). Honoured for a whole
    /// `Utf8Message` outside a fragmented message, whose check then is the caller's; a fragment,
    /// or the last piece of a fragmented message, is checked by the engine as always (its
    /// validator carries the state between pieces). Default false. A caller that sets it for
    /// invalid text sends what RFC 6455 8.1 forbids, and the peer fails the connection with 1007.
    pub utf8_verified: bool,
}

impl Default for SendOptions {
    fn default() -> Self {
        SendOptions { compress: true, utf8_verified: false }
    }
}

/// RFC 7692 6: permessage-deflate's "Per-Message Compressed" bit, RSV1, as `FrameHeader::rsv` holds it.
pub(super) const RSV1: u8 = 0b100;

/// A send queued by `send`, framed at once (the payload is copied into the frame, masked in place).
pub(super) struct SendOp {
    pub(super) buffer_type: BufferType,
    pub(super) context: Option<u64>,
    pub(super) frame: Vec<u8>,
    /// Bytes already handed out in SendToNetwork actions.
    pub(super) handed_out: usize,
    /// Bytes the host reported written.
    pub(super) written: usize,
    /// Largest SendToNetwork for this frame: the send buffer size when the engine masks
    /// (websocket.dll masks into its send buffer), the whole frame otherwise.
    pub(super) chunk_limit: usize,
    /// All written, or cancelled: the next action on the send queue is IndicateSendComplete.
    pub(super) finished: bool,
}

/// What `send` checked: the frame to build and what the message being sent becomes.
struct CheckedSend<'a> {
    opcode: u8,
    fin: bool,
    payload: Cow<'a, [u8]>,
    next_message: Option<(bool, Utf8Validator)>,
}

impl Handle {
    /// WebSocketSend: queues one send. Data types send a message or a fragment of one
    /// (*_FRAGMENT then *_MESSAGE ends it; the type may not change mid-message). `Close` sends a
    /// close (`None` or status 1005: no status). `PingPong` sends a ping and `UnsolicitedPong` a
    /// pong, each with an optional payload of at most 125 bytes. One send may be outstanding.
    ///
    /// With permessage-deflate negotiated, data messages go out compressed by ws's rules; see
    /// [`Handle::send_with_options`] to choose per message.
    pub fn send(
        &mut self,
        buffer_type: BufferType,
        buffer: Option<Buffer<'_>>,
        context: Option<u64>,
    ) -> Result<(), Error> {
        self.send_with_options(buffer_type, buffer, context, SendOptions::default())
    }

    /// `send`, with ws's per-send options (`compress`).
    pub fn send_with_options(
        &mut self,
        buffer_type: BufferType,
        buffer: Option<Buffer<'_>>,
        context: Option<u64>,
        options: SendOptions,
    ) -> Result<(), Error> {
        if self.send_op.is_some() {
            return Err(Error::OperationPending { operation: "send" });
        }
        let prepared = self.check_send(buffer_type, buffer, options)?;
        // The last send's buffer, reused: no allocation per message.
        let mut frame_bytes = std::mem::take(&mut self.spare_frame);
        frame_bytes.clear();
        let compressed = self.frame_send(&mut frame_bytes, &prepared, options)?;
        let masked = self.masks_frames();
        self.commit_send(buffer_type, prepared.next_message, compressed);
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
    fn check_send<'a>(
        &self,
        buffer_type: BufferType,
        buffer: Option<Buffer<'a>>,
        options: SendOptions,
    ) -> Result<CheckedSend<'a>, Error> {
        match self.state {
            State::Open | State::CloseSent | State::CloseReceived => {}
            // The peer broke the protocol after completing messages the application may answer:
            // RFC 6455 7.1.7 lets an endpoint send before its close, so replies go out ahead of
            // the failing close until it is handed out (ws orders them the same way).
            State::Closed if self.failing_close_queued && buffer_type != BufferType::Close => {}
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
                        return Err(Error::invalid_argument(
                            "buffer",
                            format!("a close status buffer cannot carry {}", buffer_type.name()),
                        ))
                    }
                };
                let text = buffer_type.is_utf8();
                let mut utf8 = match self.sending_message {
                    Some((was_text, _)) if was_text != text => {
                        return Err(Error::invalid_argument(
                            "buffer type",
                            format!(
                                "{} inside a {} message: a message keeps its type until its *_MESSAGE piece",
                                buffer_type.name(),
                                if was_text { "UTF-8" } else { "binary" }
                            ),
                        ))
                    }
                    Some((_, utf8)) => utf8,
                    None => Utf8Validator::new(),
                };
                let last = !buffer_type.is_fragment();
                let verified_by_caller = options.utf8_verified && last && self.sending_message.is_none();
                if text && verify_utf8 && !verified_by_caller {
                    // Checked on a copy: a rejected send leaves the message as it was.
                    let valid = utf8.feed(data).and_then(|_| if last { utf8.finish() } else { Ok(()) });
                    if valid.is_err() {
                        return Err(Error::invalid_argument(
                            "buffer",
                            "the UTF-8 payload is not valid UTF-8 (RFC 6455 5.6)",
                        ));
                    }
                }
                let opcode = match self.sending_message {
                    Some(_) => frame::OPCODE_CONTINUATION,
                    None if text => frame::OPCODE_TEXT,
                    None => frame::OPCODE_BINARY,
                };
                next_message = if last { None } else { Some((text, utf8)) };
                // Permessage-deflate's seam on the send path (RFC 7692 6.1): a data payload is
                // transformed here, after its UTF-8 check and before framing (`payload` becomes
                // Cow::Owned), and the message's first frame claims RSV1 in `append_frame`.
                (opcode, last, Cow::Borrowed(data))
            }
            BufferType::Ping => {
                return Err(Error::invalid_argument(
                    "buffer type",
                    "PING is what a received ping is indicated as; send a ping with PING_PONG, and answer \
                              one with UNSOLICITED_PONG carrying its payload",
                ))
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
                        return Err(Error::invalid_argument("buffer", "a close takes a close status buffer (or none)"))
                    }
                };
                (frame::OPCODE_CLOSE, true, Cow::Owned(payload))
            }
            BufferType::PingPong | BufferType::UnsolicitedPong => {
                let data = match buffer {
                    None => &[][..],
                    Some(Buffer::Data(data)) => data,
                    Some(Buffer::CloseStatus { .. }) => {
                        return Err(Error::invalid_argument(
                            "buffer",
                            "a ping or pong takes data (or none), not a close status",
                        ))
                    }
                };
                if data.len() > frame::MAX_CONTROL_PAYLOAD {
                    return Err(Error::invalid_argument(
                        "buffer",
                        format!("{} bytes is over the 125-byte control frame limit (RFC 6455 5.5)", data.len()),
                    ));
                }
                let opcode = if buffer_type == BufferType::PingPong { frame::OPCODE_PING } else { frame::OPCODE_PONG };
                (opcode, true, Cow::Borrowed(data))
            }
        };
        Ok(CheckedSend { opcode, fin, payload, next_message })
    }

    /// The state changes of a send whose frame exists (so a failed send leaves the handle as it was).
    fn commit_send(&mut self, buffer_type: BufferType, next_message: Option<(bool, Utf8Validator)>, compressed: bool) {
        if buffer_type.is_data() {
            // A compressed message's continuation pieces follow its first (RFC 7692 6.1).
            self.sending_compressed = compressed && next_message.is_some();
        }
        self.sending_message = next_message;
        if buffer_type == BufferType::Close {
            self.transition(Event::CloseQueued);
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
        self.send_now_with_options(buffer_type, buffer, out, SendOptions::default())
    }

    /// `send_now`, with ws's per-send options (`compress`).
    pub fn send_now_with_options(
        &mut self,
        buffer_type: BufferType,
        buffer: Option<Buffer<'_>>,
        out: &mut Vec<u8>,
        options: SendOptions,
    ) -> Result<(), Error> {
        if self.send_op.is_some() || self.wire_busy() {
            return Err(Error::OperationPending { operation: "send" });
        }
        let prepared = self.check_send(buffer_type, buffer, options)?;
        let compressed = self.frame_send(out, &prepared, options)?;
        self.commit_send(buffer_type, prepared.next_message, compressed);
        Ok(())
    }

    /// Whether this send's frame carries compressed data (RFC 7692 6.1): a data message's first
    /// piece when permessage-deflate is on, the application allows it and ws's threshold rule
    /// agrees; its continuation pieces when its first piece was compressed; never a control frame.
    fn compresses(&self, prepared: &CheckedSend<'_>, options: SendOptions) -> bool {
        match (prepared.opcode, self.deflate.as_ref()) {
            (_, None) => false,
            (frame::OPCODE_CONTINUATION, Some(_)) => self.sending_compressed,
            (frame::OPCODE_TEXT | frame::OPCODE_BINARY, Some(deflate)) => {
                options.compress && deflate.compresses(prepared.payload.len())
            }
            _ => false,
        }
    }

    /// Frames a checked send into `out`, compressing its payload first when it should be (RFC 7692
    /// 6.1: "set the Per-Message Compressed bit of the first frame"). The mask key is drawn before
    /// compressing, so the compressor never runs for a frame that is not built. Returns whether
    /// the payload was compressed.
    fn frame_send(
        &mut self,
        out: &mut Vec<u8>,
        prepared: &CheckedSend<'_>,
        options: SendOptions,
    ) -> Result<bool, Error> {
        // The frame is built whole: memory for it that cannot be had fails this connection
        // (1011), not the process. A compressed frame is smaller than this.
        let frame_len = frame::MAX_HEADER_LEN + prepared.payload.len();
        if out.try_reserve(frame_len).is_err() {
            return Err(self.fail_out_of_memory(Error::OutOfMemory { buffer: "send frame", bytes: frame_len }));
        }
        let mask = self.mask_key()?;
        let compressed = self.compresses(prepared, options);
        let Some(deflate) = self.deflate.as_mut().filter(|_| compressed) else {
            write_frame(out, prepared.opcode, prepared.fin, 0, mask, &prepared.payload);
            return Ok(false);
        };
        let mut payload = std::mem::take(&mut self.spare_compressed);
        payload.clear();
        match deflate.compressor.compress(&prepared.payload, prepared.fin, &mut payload) {
            Ok(()) => {}
            // zlib's state or the compressed payload could not be allocated: like any buffer
            // this connection cannot get, it fails the connection with 1011.
            Err(CompressError::OutOfMemory { buffer, bytes }) => {
                return Err(self.fail_out_of_memory(Error::OutOfMemory { buffer, bytes }));
            }
            // Otherwise zlib refuses only a stream in an inconsistent state, which the compressor
            // then drops: report it as the handle's state.
            Err(CompressError::Refused { .. }) => {
                return Err(Error::InvalidState {
                    operation: "compressing a message (zlib-rs refused)",
                    state: self.state,
                })
            }
        }
        // A whole message that deflate did not shrink (random or already compressed data) goes
        // as it is when our compressor starts afresh per message (no context takeover): the
        // peer's inflater then resets too, so skipping the compressed form loses nothing
        // (RFC 7692 6: a message may be sent uncompressed, RSV1 clear). With takeover the
        // compressor's window already holds the message and the peer's must as well.
        let whole_message = prepared.fin && prepared.opcode != frame::OPCODE_CONTINUATION;
        let larger = payload.len() >= prepared.payload.len();
        let sent_compressed = !(whole_message && larger && deflate.negotiated.send.no_context_takeover);
        if sent_compressed {
            // Incompressible data comes out a little larger than it went in, past what was reserved.
            let frame_len = frame::MAX_HEADER_LEN + payload.len();
            if out.try_reserve(frame_len).is_err() {
                return Err(self.fail_out_of_memory(Error::OutOfMemory { buffer: "send frame", bytes: frame_len }));
            }
            let rsv = if prepared.opcode == frame::OPCODE_CONTINUATION { 0 } else { RSV1 };
            write_frame(out, prepared.opcode, prepared.fin, rsv, mask, &payload);
        } else {
            write_frame(out, prepared.opcode, prepared.fin, 0, mask, &prepared.payload);
        }
        if payload.capacity() <= SPARE_FRAME_LIMIT {
            self.spare_compressed = payload;
        }
        Ok(sent_compressed)
    }

    /// True when this handle applies a mask key to its frames (clients, unless masking is disabled).
    pub(super) fn masks_frames(&self) -> bool {
        self.config.role == Role::Client && !self.config.disable_masking
    }

    /// Appends a frame to `out`: header, then the payload masked (RFC 6455 5.2, 5.3). Client frames
    /// carry the mask bit; the key is fresh from the random source, or 0 with masking disabled. On
    /// error (no mask key to be had) `out` is as it was.
    pub(super) fn append_frame(
        &mut self,
        out: &mut Vec<u8>,
        opcode: u8,
        fin: bool,
        payload: &[u8],
    ) -> Result<(), Error> {
        let mask = self.mask_key()?;
        write_frame(out, opcode, fin, 0, mask, payload);
        Ok(())
    }

    /// The mask key for the next frame (RFC 6455 5.3): none from a server, fresh from the random
    /// source for a client, 0 with masking disabled.
    fn mask_key(&mut self) -> Result<Option<[u8; 4]>, Error> {
        Ok(match self.config.role {
            Role::Server => None,
            Role::Client if self.config.disable_masking => Some([0u8; 4]),
            Role::Client => {
                let mut key = [0u8; 4];
                self.random.fill(&mut key)?;
                Some(key)
            }
        })
    }
    pub(super) fn complete_send_chunk(&mut self, len: usize, bytes_transferred: usize) {
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
}

/// Appends a frame (header, then the payload masked) to `out`.
fn write_frame(out: &mut Vec<u8>, opcode: u8, fin: bool, rsv: u8, mask: Option<[u8; 4]>, payload: &[u8]) {
    let header = FrameHeader { fin, rsv, opcode, mask, payload_len: payload.len() as u64 };
    out.reserve(frame::header_len(payload.len() as u64, mask.is_some()) + payload.len());
    frame::write_header(out, &header);
    // The fused word loop, even with a zero key: the header shifts the payload's alignment.
    frame::extend_masked(out, payload, mask.unwrap_or([0; 4]), 0);
}
