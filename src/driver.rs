//! The driver: the drain contract run for a host in one call.
//!
//! Every host of a [`Handle`] needs the same loop: call `get_action` until `NoAction`, write what
//! SendToNetwork hands out, pass indications to the application, receive again after each one,
//! keep going past a peer's violation until the failing close is out, and wait at a held
//! ReceiveFromNetwork for bytes. The driver is that loop, written once; the JS class's
//! `drain`/`sendAndDrain`/`sendMany`, the component's `drain`/`send-and-drain`, the wasmtime host,
//! the simulator and the test harnesses all call it. Hosts that port websocket.h code line by
//! line keep the plain `get_action` loop (the crate docs show it); nothing else may differ.
//!
//! What one call returns ([`Drained`]): the bytes to write, in order (each SendToNetwork is
//! completed as fully written: the host owns the copy); the indications, typed, with their
//! payloads; the ReceiveFromNetwork the handle holds (complete it when bytes come, or hand the
//! bytes to [`Driver::feed`]); the state; the first peer violation; the next deadline.
//!
//! The policies every host needs live here once:
//!
//! - **Keep receiving.** With [`DrainOptions::keep_receiving`], a receive is queued again after
//!   each receive indication while the state still receives (Open, CloseSent).
//! - **Replies before a failing close.** When the peer breaks the protocol after completing
//!   messages in the same read, the indications for those messages are delivered first, and the
//!   application's replies to them go out before the failing close (as ws orders them). The
//!   driver stops at the violation with the close still queued in the engine
//!   ([`Drained::failing_close_waits`]); the host delivers the indications, sends its replies
//!   (`send_and_drain`, `send_many_and_drain`, which leave the close waiting), then calls
//!   `drain`, which writes the close.
//! - **Batching.** A send framed straight into the output ([`Handle::send_now`]) skips its
//!   SendToNetwork and IndicateSendComplete round trips; a send that finds the wire busy is queued
//!   instead and completes through the loop.
//!
//! A trace hook ([`Driver::set_trace`]) sees each input the driver makes and each action it
//! performs, with its bytes, for all faces (the demo server streams it to the simulator page).

use crate::constants::{ActionQueue, BufferType};
use crate::engine::{Action, Buffer, Handle, Received, SendOptions};
use crate::error::Error;
use crate::state::State;
use crate::wire::frame;
use std::ops::Range;

/// How a drain runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DrainOptions {
    /// Queue a receive again after each receive indication while the state receives.
    pub keep_receiving: bool,
    /// Stop once this many output bytes are packed (backpressure: the host writes them and drains
    /// again). `usize::MAX` for no limit.
    pub max_out_bytes: usize,
}

impl Default for DrainOptions {
    fn default() -> Self {
        DrainOptions { keep_receiving: true, max_out_bytes: usize::MAX }
    }
}

/// What the application is told: a send completed, or a receive completed with a piece of a
/// message, a pong or a close. Payloads lie in [`Drained::payload`] at `payload`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Indication {
    /// A send finished (IndicateSendComplete, or a send the driver framed straight into `out`).
    SendComplete { buffer_type: BufferType, context: Option<u64> },
    /// A receive finished (IndicateReceiveComplete): data, a pong (`PingPong`) or a close
    /// (`Close`, with its status).
    Received { buffer_type: BufferType, close_status: Option<u16>, context: Option<u64>, payload: Range<usize> },
}

/// What the trace hook sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TraceEvent<'a> {
    /// An input to the handle: `call` names it (`send`, `send_now`, `receive`,
    /// `complete_receive`, `complete_action`, or a binding's own call), `id` is the action id it
    /// completes (0 when none), `buffer_type` what a send carries, `bytes` what it carried.
    Input { call: &'static str, id: u32, buffer_type: Option<BufferType>, bytes: &'a [u8] },
    /// An action `get_action` handed out (`.record()` gives websocket.h's view of it).
    Action(Action<'a>),
    /// A peer violation `get_action` reported.
    Violation(&'a Error),
}

/// The trace hook: called for each input and action, in order.
pub type TraceHook = Box<dyn FnMut(&TraceEvent<'_>)>;

/// The result of one driver call. Everything borrows the driver's buffers, reused by the next call.
#[derive(Clone, Copy, Debug)]
pub struct Drained<'a> {
    /// Bytes to write to the network, in order. Already completed as written.
    pub out: &'a [u8],
    /// The indications, in the order the engine produced them.
    pub indications: &'a [Indication],
    /// The indications' payloads, back to back.
    pub payload: &'a [u8],
    /// The ReceiveFromNetwork the handle holds: (action id, most bytes it takes).
    pub receive: Option<(u32, usize)>,
    /// The handle's state after the call.
    pub state: State,
    /// The first error that failed the connection in this call: a peer violation, or memory the
    /// connection could not get (`Error::fails_connection`; the handle's failure says why it
    /// closed later).
    pub violation: Option<&'a Error>,
    /// A failing close waits behind the application's replies: deliver the indications, send the
    /// replies, then drain again (which writes the close).
    pub failing_close_waits: bool,
    /// When to tick next (the handle's next deadline).
    pub next_deadline: Option<u64>,
    /// `send_many_and_drain`: how many messages were sent; `send_and_drain`: 1.
    pub sent: usize,
    /// `send_many_and_drain`: the refusal that stopped the batch after its first message.
    pub send_error: Option<&'a Error>,
    /// `feed`: how many input bytes the handle took (keep the rest for the next call).
    pub consumed: usize,
}

impl<'a> Drained<'a> {
    /// The payload bytes of an indication (empty for a send completion).
    pub fn payload_of(&self, indication: &Indication) -> &'a [u8] {
        match indication {
            Indication::Received { payload, .. } => &self.payload[payload.clone()],
            Indication::SendComplete { .. } => &[],
        }
    }

    /// True when the host is done with the connection: close the transport after writing `out`.
    pub fn finished(&self) -> bool {
        self.state.is_finished() && !self.failing_close_waits
    }
}

/// Whether the loop goes on after an action.
enum Step {
    Continue,
    Stop,
}

/// Runs the drain contract for one handle; keep one per handle (it reuses its buffers).
#[derive(Default)]
pub struct Driver {
    out: Vec<u8>,
    payload: Vec<u8>,
    indications: Vec<Indication>,
    violation: Option<Error>,
    sent: usize,
    send_error: Option<Error>,
    consumed: usize,
    /// This call may write a failing close that waits (drain, feed, end_of_stream: the host has
    /// delivered the last result's indications); the send calls may not (more replies may follow).
    releases_close: bool,
    trace: Option<TraceHook>,
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("out", &self.out.len())
            .field("indications", &self.indications.len())
            .field("traced", &self.trace.is_some())
            .finish_non_exhaustive()
    }
}

/// Output buffers that grew past this are given back at the call after the one that grew them
/// (its result borrows them until then): an idle connection's driver holds a few KiB at most.
const KEEP_CAPACITY: usize = crate::engine::IDLE_BUFFER_LIMIT;

impl Driver {
    pub fn new() -> Driver {
        Driver::default()
    }

    /// Sets (or with `None` removes) the trace hook.
    pub fn set_trace(&mut self, hook: Option<TraceHook>) {
        self.trace = hook;
    }

    /// Reports an input a host made on the handle directly (a handshake call, `tick`, `abort`)
    /// to the trace hook, so the trace tells the whole story.
    pub fn trace_input(&mut self, call: &'static str, id: u32, buffer_type: Option<BufferType>, bytes: &[u8]) {
        if let Some(trace) = self.trace.as_mut() {
            trace(&TraceEvent::Input { call, id, buffer_type, bytes });
        }
    }

    /// The drain contract: performs every action until `NoAction`, a held ReceiveFromNetwork, a
    /// peer violation whose failing close waits for replies, or `max_out_bytes`. An `Err` is a
    /// local error that stopped the loop (a peer's violation is in [`Drained::violation`]).
    pub fn drain(&mut self, handle: &mut Handle, options: DrainOptions) -> Result<Drained<'_>, Error> {
        self.begin(true);
        self.run(handle, options)?;
        Ok(self.result(handle))
    }

    /// Hands `input` (bytes read from the network) to the held ReceiveFromNetwork, as much as it
    /// takes at a time, draining after each: one call per read. `consumed` says how much was
    /// taken; the rest waits for a receive (the application stopped receiving, or backpressure).
    pub fn feed(&mut self, handle: &mut Handle, input: &[u8], options: DrainOptions) -> Result<Drained<'_>, Error> {
        self.begin(true);
        self.run(handle, options)?;
        while self.consumed < input.len() && !self.stopped(handle, options) {
            let Some((id, capacity)) = handle.outstanding_receive() else { break };
            let take = (input.len() - self.consumed).min(capacity);
            let bytes = &input[self.consumed..self.consumed + take];
            self.trace_input("complete_receive", id, None, bytes);
            match handle.complete_receive(id, bytes) {
                Ok(()) => self.consumed += take,
                // The connection failed taking them (out of memory): its close goes out below.
                Err(error) if error.fails_connection() => {
                    self.violation.get_or_insert(error);
                    self.run(handle, options)?;
                    break;
                }
                Err(error) => return Err(error),
            }
            self.run(handle, options)?;
        }
        Ok(self.result(handle))
    }

    /// The peer ended the stream: completes the held ReceiveFromNetwork with no bytes, then drains.
    pub fn end_of_stream(&mut self, handle: &mut Handle, options: DrainOptions) -> Result<Drained<'_>, Error> {
        self.begin(true);
        self.run(handle, options)?;
        if let Some((id, _)) = handle.outstanding_receive() {
            self.trace_input("complete_receive", id, None, &[]);
            handle.complete_receive(id, &[])?;
            self.run(handle, options)?;
        }
        Ok(self.result(handle))
    }

    /// One send, then the drain: one call (one boundary crossing for the bindings) per message.
    /// The send is framed straight into `out` and reported as a SendComplete indication; if a
    /// frame holds the wire (a host holding a SendToNetwork from `get_action`), it is queued as
    /// `send` queues it and completes through the loop. A refusal is the `Err` (nothing sent).
    pub fn send_and_drain(
        &mut self,
        handle: &mut Handle,
        buffer_type: BufferType,
        buffer: Option<Buffer<'_>>,
        options: DrainOptions,
    ) -> Result<Drained<'_>, Error> {
        self.send_and_drain_with_options(handle, buffer_type, buffer, SendOptions::default(), options)
    }

    /// `send_and_drain` with ws's per-send options (`compress`: whether a data message goes out
    /// compressed when permessage-deflate was negotiated).
    pub fn send_and_drain_with_options(
        &mut self,
        handle: &mut Handle,
        buffer_type: BufferType,
        buffer: Option<Buffer<'_>>,
        send_options: SendOptions,
        options: DrainOptions,
    ) -> Result<Drained<'_>, Error> {
        self.begin(false);
        self.trace_input("send", 0, Some(buffer_type), buffer_bytes(buffer));
        match handle.send_now_with_options(buffer_type, buffer, &mut self.out, send_options) {
            Ok(()) => self.indications.push(Indication::SendComplete { buffer_type, context: None }),
            Err(Error::OperationPending { .. }) => handle.send_with_options(buffer_type, buffer, None, send_options)?,
            Err(error) => return Err(error),
        }
        self.sent = 1;
        self.run(handle, options)?;
        Ok(self.result(handle))
    }

    /// Several whole messages of one type, each framed straight into `out`, then one drain. They
    /// are reported by count (`sent`), not as indications. A refusal of the first is the `Err`
    /// (nothing sent); a later one stops the batch and is [`Drained::send_error`] (the frames
    /// already in `out` must still be written).
    pub fn send_many_and_drain<'m>(
        &mut self,
        handle: &mut Handle,
        buffer_type: BufferType,
        messages: impl IntoIterator<Item = &'m [u8]>,
        options: DrainOptions,
    ) -> Result<Drained<'_>, Error> {
        self.send_many_and_drain_with_options(handle, buffer_type, messages, SendOptions::default(), options)
    }

    /// `send_many_and_drain` with ws's per-send options, the same for every message.
    pub fn send_many_and_drain_with_options<'m>(
        &mut self,
        handle: &mut Handle,
        buffer_type: BufferType,
        messages: impl IntoIterator<Item = &'m [u8]>,
        send_options: SendOptions,
        options: DrainOptions,
    ) -> Result<Drained<'_>, Error> {
        self.begin(false);
        for message in messages {
            self.trace_input("send_now", 0, Some(buffer_type), message);
            let sent =
                handle.send_now_with_options(buffer_type, Some(Buffer::Data(message)), &mut self.out, send_options);
            if let Err(error) = sent {
                if self.sent == 0 {
                    return Err(error);
                }
                self.send_error = Some(error);
                break;
            }
            self.sent += 1;
        }
        self.run(handle, options)?;
        Ok(self.result(handle))
    }

    fn begin(&mut self, releases_close: bool) {
        self.releases_close = releases_close;
        for buffer in [&mut self.out, &mut self.payload] {
            if buffer.capacity() > KEEP_CAPACITY {
                *buffer = Vec::new();
            }
            buffer.clear();
        }
        self.indications.clear();
        self.violation = None;
        self.sent = 0;
        self.send_error = None;
        self.consumed = 0;
    }

    fn stopped(&self, handle: &Handle, options: DrainOptions) -> bool {
        self.out.len() >= options.max_out_bytes || handle.failing_close_waits()
    }

    /// The loop. Stops at NoAction, a held ReceiveFromNetwork, `max_out_bytes`, or a peer
    /// violation whose failing close waits for the application's replies.
    fn run(&mut self, handle: &mut Handle, options: DrainOptions) -> Result<(), Error> {
        if self.out.len() >= options.max_out_bytes {
            return Ok(());
        }
        if handle.failing_close_waits() && !self.releases_close {
            // A reply to a message indicated before the violation: more replies may follow, so
            // only the send queue moves; the host's next `drain` writes the close.
            return self.run_send_queue(handle);
        }
        loop {
            match self.step(handle, ActionQueue::All, options) {
                Ok(Step::Continue) => {}
                Ok(Step::Stop) => return Ok(()),
                Err(error) if error.fails_connection() => {
                    if let Some(trace) = self.trace.as_mut() {
                        trace(&TraceEvent::Violation(&error));
                    }
                    self.violation.get_or_insert(error);
                    if handle.failing_close_waits() {
                        // The ordering rule: the indications before the violation reach the
                        // application, and its replies go out, before the failing close.
                        return self.run_send_queue(handle);
                    }
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// Drains the send queue only (the application's queued send, keep-alive frames), leaving
    /// the receive queue's failing close where it is.
    fn run_send_queue(&mut self, handle: &mut Handle) -> Result<(), Error> {
        let options = DrainOptions { keep_receiving: false, max_out_bytes: usize::MAX };
        while let Step::Continue = self.step(handle, ActionQueue::Send, options)? {}
        Ok(())
    }

    /// Takes the next action from `queue`, performs it and completes it (a ReceiveFromNetwork is
    /// held for the host). A peer's violation is the `Err`, as `get_action` reports it.
    fn step(&mut self, handle: &mut Handle, queue: ActionQueue, options: DrainOptions) -> Result<Step, Error> {
        let action = handle.get_action(queue)?;
        if let (Some(trace), false) = (self.trace.as_mut(), action == Action::NoAction) {
            trace(&TraceEvent::Action(action));
        }
        match action {
            Action::SendToNetwork { id, bytes, .. } => {
                self.out.extend_from_slice(bytes);
                let written = bytes.len();
                handle.complete_action(id, written)?;
                if self.out.len() >= options.max_out_bytes {
                    return Ok(Step::Stop);
                }
            }
            Action::IndicateSendComplete { id, buffer_type, context } => {
                self.indications.push(Indication::SendComplete { buffer_type, context });
                handle.complete_action(id, 0)?;
            }
            Action::IndicateReceiveComplete { id, context, received } => {
                self.push_received(context, received);
                handle.complete_action(id, 0)?;
                // The keep-receiving rule, for every host: the peer may still send while we receive.
                if options.keep_receiving && handle.state().receives() {
                    handle.receive(None)?;
                }
            }
            // Held: the host completes it when bytes arrive (or `feed` does).
            Action::ReceiveFromNetwork { .. } => return Ok(Step::Stop),
            Action::NoAction => return Ok(Step::Stop),
        }
        Ok(Step::Continue)
    }

    fn push_received(&mut self, context: Option<u64>, received: Received<'_>) {
        let start = self.payload.len();
        // Copied by the word loop of `extend_masked` with a zero key rather than a memcpy. In
        // wasm, V8 runs memory.copy as libc's memmove, which between these two buffers (unrelated
        // alignments, in one memory) took half of a 1 MiB parse on the benchmarks' AMD EPYC; the
        // word loop made drainView of 1 MiB messages 2.5-3x faster (the send and receive paths
        // copy this way for the same reason).
        frame::extend_masked(&mut self.payload, received.bytes(), [0; 4], 0);
        self.indications.push(Indication::Received {
            buffer_type: received.buffer_type(),
            close_status: received.close_status(),
            context,
            payload: start..self.payload.len(),
        });
    }

    fn result(&self, handle: &Handle) -> Drained<'_> {
        Drained {
            out: &self.out,
            indications: &self.indications,
            payload: &self.payload,
            receive: handle.outstanding_receive(),
            state: handle.state(),
            violation: self.violation.as_ref(),
            failing_close_waits: handle.failing_close_waits(),
            next_deadline: handle.next_deadline(),
            sent: self.sent,
            send_error: self.send_error.as_ref(),
            consumed: self.consumed,
        }
    }
}

fn buffer_bytes<'b>(buffer: Option<Buffer<'b>>) -> &'b [u8] {
    match buffer {
        Some(Buffer::Data(bytes)) => bytes,
        Some(Buffer::CloseStatus { reason, .. }) => reason,
        None => &[],
    }
}
