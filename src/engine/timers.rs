//! Time comes in through `tick`; nothing here reads a clock. One table says which timer the
//! handle's state arms and when it fires ([`Handle::armed_timer`]); `tick` fires it and
//! `next_deadline` reports it, so the two cannot disagree.

use super::Handle;
use crate::config::KeepAliveMode;
use crate::constants::{close_status, ActionQueue, BufferType};
use crate::error::{Error, Timer};
use crate::state::State;
use crate::wire::frame;

/// The timer a state arms: what fires, when (tick's clock), and since when it has been running.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Armed {
    timer: ArmedTimer,
    deadline: u64,
    since: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ArmedTimer {
    /// Connecting: the handshake must complete in time.
    Handshake,
    /// CloseSent: the peer's close must come in time.
    Close,
    /// Open and idle: a keep-alive frame is due.
    KeepAliveIdle,
    /// Open, a keep-alive ping sent: some frame must come in time.
    KeepAliveAnswer,
}

impl Handle {
    /// The timer table: at most one timer is armed in each state.
    ///
    /// | state | timer | fires at | then |
    /// | --- | --- | --- | --- |
    /// | Connecting | handshake timeout | first tick + timeout | Closed, no frames |
    /// | CloseSent | close timeout | our close + timeout | Closed |
    /// | Open, idle | keep-alive interval | last activity + interval | ping (or unsolicited pong) |
    /// | Open, ping out | keep-alive timeout | ping + timeout | close 1011, Closed |
    fn armed_timer(&self) -> Option<Armed> {
        let now = self.now?;
        let armed = |timer, since: u64, ms: u32| (ms > 0).then(|| Armed { timer, deadline: since + ms as u64, since });
        match self.state {
            State::Connecting => {
                armed(ArmedTimer::Handshake, self.handshake_started_at.unwrap_or(now), self.config.handshake_timeout_ms)
            }
            State::CloseSent => {
                armed(ArmedTimer::Close, self.close_sent_at.unwrap_or(now), self.config.close_timeout_ms)
            }
            State::Open if self.config.keepalive_interval_ms > 0 => match self.keepalive_ping_at {
                Some(sent) => armed(ArmedTimer::KeepAliveAnswer, sent, self.config.keepalive_timeout_ms),
                None => {
                    armed(ArmedTimer::KeepAliveIdle, self.idle_since.unwrap_or(now), self.config.keepalive_interval_ms)
                }
            },
            _ => None,
        }
    }

    /// Tells the engine the time (milliseconds, any epoch, never decreasing) and fires the timer
    /// that is due. The first tick starts the clock; call it right after creating the handle.
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
        let Some(armed) = self.armed_timer() else { return };
        if now < armed.deadline {
            return;
        }
        let waited_ms = now - armed.since;
        match armed.timer {
            ArmedTimer::Handshake => {
                self.fail_without_frames(Error::Timeout { timer: Timer::Handshake, waited_ms });
            }
            ArmedTimer::Close => self.fail_on_timer(Error::Timeout { timer: Timer::Close, waited_ms }, None),
            ArmedTimer::KeepAliveAnswer => {
                // websockets (Python) and ws fail a silent peer with 1011 after a missed keep-alive.
                let close = (close_status::SERVER_ERROR, &b"keep-alive timeout"[..]);
                self.fail_on_timer(Error::Timeout { timer: Timer::KeepAlive, waited_ms }, Some(close));
            }
            ArmedTimer::KeepAliveIdle => {
                let already_queued = self
                    .timer_frames
                    .iter()
                    .any(|f| matches!(f.buffer_type, BufferType::PingPong | BufferType::UnsolicitedPong));
                if !already_queued {
                    match self.config.keepalive_mode {
                        KeepAliveMode::Ping => {
                            self.queue_internal(ActionQueue::Send, BufferType::PingPong, frame::OPCODE_PING, &[]);
                            self.keepalive_ping_at = Some(now);
                        }
                        KeepAliveMode::UnsolicitedPong => {
                            self.queue_internal(
                                ActionQueue::Send,
                                BufferType::UnsolicitedPong,
                                frame::OPCODE_PONG,
                                &[],
                            );
                        }
                    }
                }
                self.idle_since = Some(now);
            }
        }
    }

    /// The earliest time (same clock as `tick`) at which a timer fires, if any is armed.
    /// `None` before the first tick.
    pub fn next_deadline(&self) -> Option<u64> {
        self.armed_timer().map(|armed| armed.deadline)
    }
}
