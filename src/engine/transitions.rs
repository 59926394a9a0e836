//! Every change of a handle's state, and every teardown, in one place. The table of which event
//! leads where is [`State::after`]; `transition` is the only assignment to the handle's state.
//! Failing a connection is written once here for each way it fails: a peer violation (with a
//! close frame), a failed handshake (no frames), a timer, an abort, a write cut short.

use super::action::Outstanding;
use super::receive::Ready;
use super::Handle;
use crate::constants::{close_status, ActionQueue};
use crate::error::{Error, Violation};
use crate::state::{Event, State};

impl Handle {
    /// Moves the handle along the state table.
    pub(super) fn transition(&mut self, event: Event) {
        self.state = self.state.after(event);
        if matches!(self.state, State::Closed | State::Aborted) {
            // Nothing compressed arrives any more, and replies still allowed go out uncompressed:
            // give permessage-deflate's windows back now, not when the handle is dropped.
            self.deflate = None;
            self.sending_compressed = false;
        }
    }

    /// The handshake succeeded: messages may flow, and the idle clock starts.
    pub(super) fn open(&mut self) {
        self.transition(Event::HandshakeSucceeded);
        self.idle_since = self.now;
    }

    /// RFC 6455 7.1.7 _Fail the WebSocket Connection_: send a close with the violation's code (if
    /// ours has not gone yet and the wire is between frames), stop receiving, and close.
    ///
    /// The failing close waits on the receive queue; until it is handed out the application may
    /// still send its replies to the messages indicated before the violation, and they go first
    /// (the ordering the driver keeps for every host).
    pub(super) fn fail_connection(&mut self, violation: Violation) -> Error {
        let (code, reason) = (violation.close_code(), violation.code());
        self.fail_connection_with(Error::ProtocolViolation(violation), code, reason)
    }

    /// This connection could not get memory for a buffer: it fails with 1011 (RFC 6455 7.4.1,
    /// "an unexpected condition") the way a violation fails it; other handles are untouched.
    pub(super) fn fail_out_of_memory(&mut self, error: Error) -> Error {
        let code = error.close_code().unwrap_or(close_status::SERVER_ERROR);
        self.fail_connection_with(error, code, "OUT_OF_MEMORY")
    }

    fn fail_connection_with(&mut self, error: Error, code: u16, reason: &'static str) -> Error {
        let may_send_close = matches!(self.state, State::Open | State::CloseReceived) && !self.mid_frame_write();
        // A reply may not start while our own fragmented message is unfinished on the wire.
        let replies_allowed = may_send_close && self.sending_message.is_none();
        if may_send_close {
            self.queue_close(ActionQueue::Receive, code, reason.as_bytes());
        }
        // The error is this receive's completion: no close indication follows it.
        self.receive_op = None;
        self.transition(Event::Failed);
        self.failure = Some(error.clone());
        self.cancel_pending_work();
        self.failing_close_queued = replies_allowed && !self.replies.is_empty();
        error
    }

    /// A handshake failure: no frames may be sent, the handle is done.
    pub(super) fn fail_without_frames(&mut self, error: Error) {
        self.transition(Event::Failed);
        self.failure = Some(error);
    }

    /// A timer ran out (`error` says which): the close it sends, if any (on the send queue, where
    /// timer frames go), then the handle is done.
    pub(super) fn fail_on_timer(&mut self, error: Error, close: Option<(u16, &[u8])>) {
        if let Some((code, reason)) = close {
            if !self.mid_frame_write() {
                self.queue_close(ActionQueue::Send, code, reason);
            }
        }
        self.transition(Event::Failed);
        self.failure = Some(error);
        self.cancel_pending_work();
    }

    /// WebSocketAbortHandle: new sends and receives fail; what was queued drains through
    /// `get_action` (a queued send completes unsent, a queued receive gets a 1006 close).
    pub fn abort(&mut self) {
        self.transition(Event::Aborted);
        self.drop_engine_frames();
        self.cancel_pending_work();
    }

    /// A frame went out in part: the byte stream to the peer is beyond repair.
    pub(super) fn break_outbound(&mut self) {
        self.drop_engine_frames();
        self.transition(Event::WriteCutShort);
        self.cancel_pending_work();
    }

    /// Drops the engine's own frames not yet handed out (pong replies, keep-alives, a failing close).
    pub(super) fn drop_engine_frames(&mut self) {
        self.replies.clear();
        self.timer_frames.clear();
        self.failing_close_queued = false;
    }

    /// Nothing more is parsed (the peer's close arrived, the stream ended, or the engine gave up):
    /// a message under way is dropped, and the receive buffers' memory goes back now, not when
    /// the handle is freed (hosts keep a closed handle until its socket is gone). The control
    /// buffer stays: it holds the close indication's payload until it is handed out. A read the
    /// host still holds gets fresh space from `receive_buffer`.
    pub(super) fn stop_parsing(&mut self) {
        self.receive_finished = true;
        self.frame = None;
        self.message = None;
        self.pending = Vec::new();
        self.inflate_input = Vec::new();
        self.inbound = Vec::new();
        self.in_start = 0;
        self.in_end = 0;
    }

    /// True while the queued send's frame is partly written: no other frame may start.
    fn mid_frame_write(&self) -> bool {
        self.send_op.as_ref().is_some_and(|op| !op.finished && op.written > 0)
    }

    /// Stops receiving; a queued receive gets a 1006 close indication and a queued send completes.
    fn cancel_pending_work(&mut self) {
        if let Some(Outstanding::ReceiveFromNetwork { id, capacity }) = self.receive_slot {
            self.receive_slot = None;
            self.abandoned_read = Some((id, capacity));
        }
        self.stop_parsing();
        if matches!(self.ready, Some(Ready::Data { .. }) | Some(Ready::Pong) | Some(Ready::Ping)) {
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
}
