//! The receiving side of the transform (RFC 7692 7.2.2): inflate the payloads of a compressed
//! message as its frames arrive, in pieces of the caller's buffer size, never producing more than
//! the message budget has left.
//!
//! A deflate stream can expand about 1032 times (a 258-byte match in two bits), so a 1 MiB message
//! can inflate to a gigabyte. The caller lends the output buffer and passes the budget left on
//! every call; the inflater writes at most `budget + 1` bytes before failing with
//! [`InflateError::MessageTooBig`] (1009), and holds nothing but zlib's window and state itself.
//! Output comes in pieces no larger than the buffer, so text can be UTF-8-checked as it arrives.
//!
//! The driving loop, for each frame payload (or part of one) of a compressed message:
//!
//! ```
//! use wsaction::permessage_deflate::{Direction, InflateState, MessageInflater, MessageCompressor};
//!
//! let direction = Direction { window_bits: 15, no_context_takeover: false };
//! let mut payload = Vec::new();
//! MessageCompressor::new(direction, 6, 8).compress_message(&[b'a'; 10_000], &mut payload).unwrap();
//!
//! let mut inflater = MessageInflater::new(direction);
//! inflater.begin_message();
//! let (mut buffer, mut message, mut budget_left) = ([0u8; 4096], Vec::new(), 64 * 1024u64);
//! let (mut input, last_frame) = (&payload[..], true);
//! loop {
//!     let step = inflater.inflate(input, last_frame, &mut buffer, budget_left).unwrap();
//!     input = &input[step.consumed..];
//!     message.extend_from_slice(&buffer[..step.produced]); // indicate, UTF-8-check, ...
//!     budget_left -= step.produced as u64;
//!     match step.state {
//!         InflateState::OutputFull => continue,    // more output is waiting
//!         InflateState::NeedsInput => break,       // the next frame's payload, please
//!         InflateState::MessageDone => break,      // the message is complete
//!     }
//! }
//! assert_eq!(message, vec![b'a'; 10_000]);
//! ```

#[cfg(feature = "permessage-deflate")]
use super::zlib::{RawInflate, ZlibError, ZlibStatus};
#[cfg(feature = "permessage-deflate")]
use super::{zlib_window_bits, Direction, MESSAGE_TAIL};
use crate::constants::close_status;
use crate::error::{Error, Violation};

/// What zlib-rs allocates for an inflater, whatever the window bits (its state and a 2^15 window
/// in one block; see the module docs of `permessage_deflate`).
pub const INFLATER_STATE_BYTES: usize = 47_552;

/// What went wrong while inflating a compressed message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InflateError {
    /// The message inflated past the budget the caller gave; `inflated` bytes of it were produced
    /// (at most the budget plus one). Close with 1009 (RFC 6455 7.4.1).
    MessageTooBig { inflated: u64 },
    /// The payload is not a DEFLATE stream (zlib's reason, e.g. "invalid distance too far back"
    /// when the peer used a larger window than agreed). Close with 1007, as ws does.
    InvalidData { detail: &'static str },
    /// `inflate` was called with no compressed message begun (a caller bug, not the peer's).
    NotInMessage,
    /// zlib's state for the message could not be allocated: neither side's fault, the connection
    /// fails with 1011 as for any buffer it cannot get.
    OutOfMemory { bytes: usize },
}

impl InflateError {
    /// The close code to fail the connection with; None for the caller's own mistake.
    pub fn close_code(&self) -> Option<u16> {
        match self {
            InflateError::MessageTooBig { .. } => Some(close_status::MESSAGE_TOO_BIG),
            InflateError::InvalidData { .. } => Some(close_status::INVALID_PAYLOAD),
            InflateError::OutOfMemory { .. } => Some(close_status::SERVER_ERROR),
            InflateError::NotInMessage => None,
        }
    }

    /// The engine's violation, `limit` being its max message size; None for the caller's mistake.
    pub fn violation(&self, limit: u64) -> Option<Violation> {
        match self {
            InflateError::MessageTooBig { .. } => Some(Violation::MessageTooBig { limit }),
            InflateError::InvalidData { detail } => Some(Violation::InvalidCompressedData { detail }),
            InflateError::OutOfMemory { .. } | InflateError::NotInMessage => None,
        }
    }

    /// The engine's error for memory the inflater could not get; None for the others.
    pub fn out_of_memory(&self) -> Option<Error> {
        match *self {
            InflateError::OutOfMemory { bytes } => Some(Error::OutOfMemory { buffer: "inflater state", bytes }),
            _ => None,
        }
    }
}

impl std::fmt::Display for InflateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InflateError::MessageTooBig { inflated } => write!(
                f,
                "peer error: a compressed message inflated past this endpoint's limit (stopped after {inflated} bytes); closing with 1009"
            ),
            InflateError::InvalidData { detail } => {
                write!(f, "peer error: the compressed message is not valid DEFLATE data ({detail}) (RFC 7692 7.2.2); closing with 1007")
            }
            InflateError::NotInMessage => write!(f, "caller error: inflate called without begin_message"),
            InflateError::OutOfMemory { bytes } => {
                write!(f, "permessage-deflate: no memory for the inflater's state ({bytes} bytes); closing with 1011")
            }
        }
    }
}

impl std::error::Error for InflateError {}

/// Where the message stands after an `inflate` call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InflateState {
    /// The output buffer is full and more may follow: take it and call again with the input left.
    OutputFull,
    /// All input was consumed and this was not the last frame: call again with the next payload.
    NeedsInput,
    /// The message is complete; the inflater is ready for the next `begin_message`.
    MessageDone,
}

/// The result of one `inflate` call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InflateProgress {
    /// Input bytes used; pass the rest again.
    pub consumed: usize,
    /// Bytes written at the start of the output buffer.
    pub produced: usize,
    pub state: InflateState,
}

/// Where the current message stands.
#[derive(Clone, Copy, Debug)]
#[cfg(feature = "permessage-deflate")]
struct Message {
    /// How many octets of the appended tail (RFC 7692 7.2.2 step 1) zlib has taken.
    tail_fed: usize,
    /// Bytes this message has inflated to so far.
    inflated: u64,
    /// A block with BFINAL set ended the stream within this message (see `inflate`).
    stream_restarted: bool,
}

/// Inflates the compressed messages one endpoint receives, keeping or resetting the LZ77 window
/// between messages as negotiated (RFC 7692 7.2.2).
#[cfg(feature = "permessage-deflate")]
pub struct MessageInflater {
    direction: Direction,
    /// Allocated by the first compressed message; freed after each message when the peer does not
    /// take its window over, so an idle connection holds nothing.
    stream: Option<RawInflate>,
    message: Option<Message>,
}

#[cfg(feature = "permessage-deflate")]
impl MessageInflater {
    /// An inflater for what the peer compresses as `direction` (window bits 8..=15, 8 run as 9).
    pub fn new(direction: Direction) -> Self {
        MessageInflater { direction, stream: None, message: None }
    }

    pub fn direction(&self) -> Direction {
        self.direction
    }

    /// Whether a compressed message is open (begun and not done).
    pub fn in_message(&self) -> bool {
        self.message.is_some()
    }

    /// Whether zlib state is allocated now.
    pub fn holds_state(&self) -> bool {
        self.stream.is_some()
    }

    fn new_stream(&self) -> Result<RawInflate, InflateError> {
        // Raw deflate (no zlib header), RFC 7692 7.2.2.
        RawInflate::new(zlib_window_bits(self.direction.window_bits)).map_err(|error| match error {
            ZlibError::OutOfMemory => InflateError::OutOfMemory { bytes: INFLATER_STATE_BYTES },
            // zlib refuses only window bits outside 8..=15, which negotiation never agrees to.
            ZlibError::Refused(detail) => InflateError::InvalidData { detail },
        })
    }

    /// Starts a compressed message (its first frame had RSV1 set, RFC 7692 6). A message left
    /// unfinished before (the connection failed mid-message) is abandoned with its window, since
    /// the peer's and our windows no longer agree. Allocates nothing: a stream the message needs
    /// is made by its first `inflate`, where a failure to allocate it can be reported.
    pub fn begin_message(&mut self) {
        if self.message.is_some() {
            self.stream = None;
        }
        self.message = Some(Message { tail_fed: 0, inflated: 0, stream_restarted: false });
    }

    /// Inflates the next `input` of the current message into `output`.
    ///
    /// An empty `output` takes nothing (`OutputFull`).
    ///
    /// `last_frame` says `input` ends the message's last frame (FIN); the inflater then appends
    /// the tail 0x00 0x00 0xff 0xff itself. `budget_left` is how many more bytes the message may
    /// inflate to; past it the call fails with [`InflateError::MessageTooBig`] after writing at
    /// most `budget_left + 1` bytes. After an error the message (and, for `InvalidData`, the
    /// window) is gone: the connection is failing.
    pub fn inflate(
        &mut self,
        input: &[u8],
        last_frame: bool,
        output: &mut [u8],
        budget_left: u64,
    ) -> Result<InflateProgress, InflateError> {
        let Some(mut message) = self.message else {
            return Err(InflateError::NotInMessage);
        };
        if output.is_empty() {
            // Nothing can come out; zlib could still take input into its state, and then the
            // message would look complete while its output waits inside.
            return Ok(InflateProgress { consumed: 0, produced: 0, state: InflateState::OutputFull });
        }
        if self.stream.is_none() {
            match self.new_stream() {
                Ok(stream) => self.stream = Some(stream),
                Err(error) => {
                    self.message = None;
                    return Err(error);
                }
            }
        }
        // At most one byte past the budget, so overflow shows without a byte more.
        let cap = output.len().min(usize::try_from(budget_left.saturating_add(1)).unwrap_or(usize::MAX));
        let (mut consumed, mut produced) = (0usize, 0usize);
        let outcome = loop {
            let from_tail = consumed == input.len();
            let source: &[u8] = match (from_tail, last_frame) {
                (false, _) => &input[consumed..],
                (true, true) => &MESSAGE_TAIL[message.tail_fed..],
                (true, false) => &[],
            };
            let Some(stream) = self.stream.as_mut() else {
                break Err(InflateError::NotInMessage);
            };
            let step = stream.inflate_sync_flush(source, &mut output[produced..cap]);
            let (used, made) = (step.consumed, step.produced);
            if from_tail {
                message.tail_fed += used;
            } else {
                consumed += used;
            }
            produced += made;
            message.inflated += made as u64;
            if produced as u64 > budget_left {
                break Err(InflateError::MessageTooBig { inflated: message.inflated });
            }
            match step.result {
                Ok(ZlibStatus::Ok | ZlibStatus::BufError) => {}
                // A block with BFINAL set ended the DEFLATE stream; RFC 7692 7.2.1 lets a sender
                // go on with more blocks after it (7.2.3.4 ends such a message with 0x00, an
                // empty stored block's start). They form a new stream: the window starts empty.
                Ok(ZlibStatus::StreamEnd) => {
                    match self.new_stream() {
                        Ok(stream) => self.stream = Some(stream),
                        Err(error) => break Err(error),
                    }
                    message.stream_restarted = true;
                    continue;
                }
                // zlib-rs allocates an inflater's window with its state, at init: a memory error
                // here would be an inconsistent stream, reported as zlib words it.
                Err(ZlibError::OutOfMemory) => break Err(InflateError::InvalidData { detail: "insufficient memory" }),
                Err(ZlibError::Refused(detail)) => break Err(InflateError::InvalidData { detail }),
            }
            if used == 0 && made == 0 {
                if !source.is_empty() && produced < cap {
                    // zlib took nothing with input and room to spare: it cannot go on.
                    break Err(InflateError::InvalidData { detail: "inflate made no progress" });
                }
                break Ok(());
            }
        };
        if let Err(error) = outcome {
            self.message = None;
            self.stream = None;
            return Err(error);
        }
        let all_fed = consumed == input.len() && (!last_frame || message.tail_fed == MESSAGE_TAIL.len());
        // With room left and input left, zlib would have gone on (or failed): so "not all fed"
        // means the output filled up.
        let state = if produced == output.len() || !all_fed {
            InflateState::OutputFull
        } else if last_frame {
            InflateState::MessageDone
        } else {
            InflateState::NeedsInput
        };
        if state == InflateState::MessageDone {
            self.message = None;
            // RFC 7692 7.2.2: with no context takeover the next message starts with an empty
            // window; free the state until then. After a BFINAL block the stream that took the
            // tail may sit inside a block the peer never finished (it did not pad with 0x00 as
            // 7.2.3.4 does), so the next message starts a clean stream too.
            if self.direction.no_context_takeover || message.stream_restarted {
                self.stream = None;
            }
        } else {
            self.message = Some(message);
        }
        Ok(InflateProgress { consumed, produced, state })
    }
}

#[cfg(feature = "permessage-deflate")]
impl std::fmt::Debug for MessageInflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessageInflater")
            .field("direction", &self.direction)
            .field("holds_state", &self.stream.is_some())
            .field("in_message", &self.message.is_some())
            .finish()
    }
}

/// Without the `permessage-deflate` cargo feature no inflater can exist (see
/// `MessageCompressor`'s twin in `deflate`): the receive path keeps its shape, zlib-rs is left out.
#[cfg(not(feature = "permessage-deflate"))]
#[derive(Debug)]
pub enum MessageInflater {}

#[cfg(not(feature = "permessage-deflate"))]
impl MessageInflater {
    pub fn begin_message(&mut self) {
        match *self {}
    }

    pub fn inflate(
        &mut self,
        _input: &[u8],
        _last_frame: bool,
        _output: &mut [u8],
        _budget_left: u64,
    ) -> Result<InflateProgress, InflateError> {
        match *self {}
    }
}

#[cfg(all(test, feature = "permessage-deflate"))]
mod tests {
    use super::*;

    fn inflater(window_bits: u8, no_context_takeover: bool) -> MessageInflater {
        MessageInflater::new(Direction { window_bits, no_context_takeover })
    }

    /// Inflates one message given as frame payloads, with an output buffer of `chunk` bytes.
    fn inflate_frames(
        inflater: &mut MessageInflater,
        frames: &[&[u8]],
        chunk: usize,
        limit: u64,
    ) -> Result<Vec<u8>, InflateError> {
        inflater.begin_message();
        let mut buffer = vec![0u8; chunk];
        let mut message = Vec::new();
        for (i, frame) in frames.iter().enumerate() {
            let last = i + 1 == frames.len();
            let mut input = *frame;
            loop {
                let step = inflater.inflate(input, last, &mut buffer, limit - message.len() as u64)?;
                assert!(step.produced <= chunk);
                input = &input[step.consumed..];
                message.extend_from_slice(&buffer[..step.produced]);
                match step.state {
                    InflateState::OutputFull => continue,
                    InflateState::NeedsInput => {
                        assert!(!last && input.is_empty());
                        break;
                    }
                    InflateState::MessageDone => {
                        assert!(last && input.is_empty());
                        return Ok(message);
                    }
                }
            }
        }
        unreachable!("the last frame ends the message")
    }

    #[test]
    fn the_rfc_7692_examples_inflate_to_hello() {
        let cases: &[(&str, &[&[u8]])] = &[
            ("7.2.3.1 one block", &[&[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]]),
            ("7.2.3.1 in two fragments", &[&[0xf2, 0x48, 0xcd], &[0xc9, 0xc9, 0x07, 0x00]]),
            ("7.2.3.3 a stored block", &[&[0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00]]),
            ("7.2.3.4 BFINAL set", &[&[0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00]]),
            ("7.2.3.5 two blocks", &[&[0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00]]),
        ];
        for (name, frames) in cases {
            for chunk in [1, 2, 5, 4096] {
                let mut i = inflater(15, false);
                assert_eq!(inflate_frames(&mut i, frames, chunk, 100).unwrap(), b"Hello", "{name}, chunk {chunk}");
            }
        }
        // 7.2.3.6: the single octet 0x00 is an empty message.
        assert_eq!(inflate_frames(&mut inflater(15, false), &[&[0x00]], 16, 0).unwrap(), b"");
        // An empty final frame after data frames is fine too.
        assert_eq!(
            inflate_frames(&mut inflater(15, false), &[&[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00], &[]], 16, 5)
                .unwrap(),
            b"Hello"
        );
    }

    #[test]
    fn context_takeover_reads_the_previous_message() {
        // 7.2.3.2: the second "Hello" references the first.
        let mut i = inflater(15, false);
        assert_eq!(inflate_frames(&mut i, &[&[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]], 64, 100).unwrap(), b"Hello");
        assert!(i.holds_state());
        assert_eq!(inflate_frames(&mut i, &[&[0xf2, 0x00, 0x11, 0x00, 0x00]], 64, 100).unwrap(), b"Hello");
        // Without takeover the window is gone (and the state freed), so the reference fails.
        let mut i = inflater(15, true);
        inflate_frames(&mut i, &[&[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]], 64, 100).unwrap();
        assert!(!i.holds_state());
        let e = inflate_frames(&mut i, &[&[0xf2, 0x00, 0x11, 0x00, 0x00]], 64, 100).unwrap_err();
        assert!(matches!(e, InflateError::InvalidData { .. }), "{e:?}");
        assert_eq!(e.close_code(), Some(1007));
    }

    #[test]
    fn the_budget_is_exact() {
        let hello: &[&[u8]] = &[&[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]];
        assert_eq!(inflate_frames(&mut inflater(15, false), hello, 64, 5).unwrap(), b"Hello");
        let e = inflate_frames(&mut inflater(15, false), hello, 64, 4).unwrap_err();
        assert_eq!(e, InflateError::MessageTooBig { inflated: 5 });
        assert_eq!(e.close_code(), Some(1009));
        assert_eq!(e.violation(4), Some(Violation::MessageTooBig { limit: 4 }));
    }

    #[test]
    fn garbage_fails_with_1007_and_misuse_is_local() {
        // BTYPE 11 is reserved (RFC 1951 3.2.3).
        let e = inflate_frames(&mut inflater(15, false), &[&[0xff, 0xff, 0xff]], 64, 100).unwrap_err();
        assert!(matches!(e, InflateError::InvalidData { .. }), "{e:?}");
        assert_eq!(e.violation(10).map(|v| v.close_code()), Some(1007));
        let mut i = inflater(15, false);
        assert_eq!(i.inflate(&[0], true, &mut [0; 8], 10), Err(InflateError::NotInMessage));
        // No room: nothing is taken, and the message is not taken for complete.
        i.begin_message();
        let step = i.inflate(&[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00], true, &mut [], 10).unwrap();
        assert_eq!(step, InflateProgress { consumed: 0, produced: 0, state: InflateState::OutputFull });
        assert!(i.in_message());
        assert_eq!(InflateError::NotInMessage.close_code(), None);
    }
}
