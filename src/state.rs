//! Where a handle is in its life, and the one table of how it moves. A leaf module: it imports
//! nothing from the crate, so the error types can name a state without a module cycle. The
//! handle applies the table in `engine::transitions`, the only place its state is assigned.

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
/// | any | `abort` | Aborted |
/// | any but Closed | a write cut short mid-frame | Aborted |
///
/// [`State::after`] is this table as code.
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

/// What moves a handle from one state to the next (the rows of the table on [`State`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Event {
    /// The opening handshake's checks passed.
    HandshakeSucceeded,
    /// Our close frame is queued.
    CloseQueued,
    /// The peer's close frame is parsed.
    PeerClosed,
    /// The connection failed: a peer violation, a failed handshake check, the stream ended, or a
    /// timer ran out.
    Failed,
    /// `abort` was called.
    Aborted,
    /// A frame went out in part: nothing sent after it can be parsed by the peer.
    WriteCutShort,
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

    /// The state after `event` (the table above). Events the handle's checks rule out in a state
    /// (a close queued twice, say) leave it where it is.
    pub fn after(self, event: Event) -> State {
        use State::*;
        match (self, event) {
            (_, Event::Aborted) => Aborted,
            (Aborted, _) => Aborted,
            (Closed, _) => Closed,
            (_, Event::WriteCutShort) => Aborted,
            (_, Event::Failed) => Closed,
            (Connecting, Event::HandshakeSucceeded) => Open,
            (Open, Event::CloseQueued) => CloseSent,
            (CloseReceived, Event::CloseQueued) => Closed,
            (Open, Event::PeerClosed) => CloseReceived,
            (CloseSent, Event::PeerClosed) => Closed,
            (state, _) => state,
        }
    }

    /// True while the connection is up: messages may be sent in some direction.
    pub fn is_open(self) -> bool {
        matches!(self, State::Open | State::CloseSent | State::CloseReceived)
    }

    /// True once the handle is done: close the transport after draining.
    pub fn is_finished(self) -> bool {
        matches!(self, State::Closed | State::Aborted)
    }

    /// True while the peer may still send frames this handle reads (receive again after an
    /// indication in these states: the rule every host's loop needs, kept by the driver).
    pub fn receives(self) -> bool {
        matches!(self, State::Open | State::CloseSent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [State; 6] =
        [State::Connecting, State::Open, State::CloseSent, State::CloseReceived, State::Closed, State::Aborted];

    #[test]
    fn the_table_rows() {
        use State::*;
        let rows = [
            (Connecting, Event::HandshakeSucceeded, Open),
            (Connecting, Event::Failed, Closed),
            (Open, Event::CloseQueued, CloseSent),
            (Open, Event::PeerClosed, CloseReceived),
            (CloseSent, Event::PeerClosed, Closed),
            (CloseSent, Event::Failed, Closed),
            (CloseReceived, Event::CloseQueued, Closed),
            (Open, Event::Failed, Closed),
            (CloseReceived, Event::Failed, Closed),
            (Open, Event::WriteCutShort, Aborted),
            (CloseSent, Event::WriteCutShort, Aborted),
        ];
        for (from, event, to) in rows {
            assert_eq!(from.after(event), to, "{from:?} on {event:?}");
        }
    }

    #[test]
    fn abort_wins_from_anywhere_and_nothing_leaves_aborted() {
        for state in ALL {
            assert_eq!(state.after(Event::Aborted), State::Aborted);
        }
        for event in
            [Event::HandshakeSucceeded, Event::CloseQueued, Event::PeerClosed, Event::Failed, Event::WriteCutShort]
        {
            assert_eq!(State::Aborted.after(event), State::Aborted);
        }
    }

    #[test]
    fn closed_stays_closed_except_for_abort() {
        for event in
            [Event::HandshakeSucceeded, Event::CloseQueued, Event::PeerClosed, Event::Failed, Event::WriteCutShort]
        {
            assert_eq!(State::Closed.after(event), State::Closed, "{event:?}");
        }
    }

    #[test]
    fn events_a_state_rules_out_change_nothing() {
        assert_eq!(State::Open.after(Event::HandshakeSucceeded), State::Open);
        assert_eq!(State::CloseSent.after(Event::CloseQueued), State::CloseSent);
        assert_eq!(State::CloseReceived.after(Event::PeerClosed), State::CloseReceived);
        assert_eq!(State::Connecting.after(Event::CloseQueued), State::Connecting);
    }

    #[test]
    fn receiving_states() {
        let receiving: Vec<State> = ALL.into_iter().filter(|s| s.receives()).collect();
        assert_eq!(receiving, vec![State::Open, State::CloseSent]);
        assert!(ALL.iter().all(|s| s.is_finished() != (s.is_open() || *s == State::Connecting)));
    }
}
