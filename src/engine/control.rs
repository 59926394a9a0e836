//! Control frames (RFC 6455 5.5): a received ping is answered, a pong indicated, a close parsed
//! and indicated; and the frames the engine sends on its own (pong replies, keep-alives, the
//! close that fails a connection), each built here once.

use super::receive::Ready;
use super::Handle;
use crate::constants::{ActionQueue, BufferType};
use crate::error::Violation;
use crate::state::Event;
use crate::wire::close::parse_close_payload;
use crate::wire::frame;

/// A frame the engine sends on its own: a pong reply, a keep-alive, the close that fails a connection.
pub(super) struct InternalFrame {
    pub(super) buffer_type: BufferType,
    pub(super) frame: Vec<u8>,
}

impl Handle {
    /// A control frame's payload is in `control`: act on it.
    pub(super) fn finish_control(&mut self, opcode: u8) -> Result<(), Violation> {
        match opcode {
            frame::OPCODE_PING => {
                // RFC 6455 5.5.2: "Upon receipt of a Ping frame, an endpoint MUST send a Pong frame
                // in response ... [with] identical Application data". websocket.h: the engine answers,
                // on the receive queue, without an application context. With auto pong off the
                // application answers (config requires it then to be told of the ping).
                if self.config.auto_pong {
                    let payload = std::mem::take(&mut self.control);
                    self.queue_internal(ActionQueue::Receive, BufferType::PingPong, frame::OPCODE_PONG, &payload);
                    self.control = payload;
                }
                if self.config.indicate_pings {
                    // The payload stays in `control` for the indication (ws's 'ping' event).
                    self.ready = Some(Ready::Ping);
                } else {
                    self.control.clear();
                }
            }
            frame::OPCODE_PONG => self.ready = Some(Ready::Pong),
            frame::OPCODE_CLOSE => {
                // RFC 6455 5.5.1: a status code first (if any), then a UTF-8 reason.
                let status = parse_close_payload(&self.control, !self.config.disable_utf8_verification)?;
                // RFC 6455 5.5.1: no data frames follow a close; anything after it is dropped.
                self.stop_parsing();
                self.transition(Event::PeerClosed);
                self.ready = Some(Ready::Close { status });
            }
            // parse_header admits no other control opcode: 0xB-0xF are reserved.
            _ => {}
        }
        Ok(())
    }

    /// Queues the close the engine sends on its own (a failing close, a timer's close) after
    /// dropping its other frames not yet handed out: nothing of ours may follow a close.
    pub(super) fn queue_close(&mut self, queue: ActionQueue, code: u16, reason: &[u8]) {
        let mut payload = code.to_be_bytes().to_vec();
        payload.extend_from_slice(reason);
        self.drop_engine_frames();
        self.queue_internal(queue, BufferType::Close, frame::OPCODE_CLOSE, &payload);
    }

    /// Queues a frame the engine sends on its own: on the receive queue (pong reply, failing
    /// close) or the send queue (keep-alive frames, the keep-alive timeout's close).
    pub(super) fn queue_internal(&mut self, queue: ActionQueue, buffer_type: BufferType, opcode: u8, payload: &[u8]) {
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
}
