//! The sending side of the transform (RFC 7692 7.2.1): compress a message, whole or in pieces
//! (one piece per frame of a fragmented send), into the payload of a compressed message.
//!
//! Every piece ends with a zlib sync flush, so it ends on a byte boundary with an empty stored
//! block (0x00 0x00 0xff 0xff) and can go out as a frame at once. The last piece of a message has
//! those four octets removed (7.2.1 step 3); earlier pieces keep them ("for non-final fragments,
//! the removal of 0x00 0x00 0xff 0xff MUST NOT be done").

#[cfg(feature = "permessage-deflate")]
use super::zlib::{RawDeflate, ZlibError, ZlibStatus};
#[cfg(feature = "permessage-deflate")]
use super::{zlib_window_bits, Direction, MESSAGE_TAIL};

/// Why a message could not be compressed. Neither is the peer's doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompressError {
    /// Memory for zlib's state (`buffer` "compressor state") or for the compressed payload
    /// ("compressed payload") could not be had: the connection fails with 1011, as for any buffer.
    OutOfMemory { buffer: &'static str, bytes: usize },
    /// zlib refused (its state is inconsistent), with its reason.
    Refused { detail: &'static str },
}

impl std::fmt::Display for CompressError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CompressError::OutOfMemory { buffer, bytes } => {
                write!(f, "permessage-deflate: no memory for the {buffer} ({bytes} bytes)")
            }
            CompressError::Refused { detail } => write!(f, "permessage-deflate: compression failed: {detail}"),
        }
    }
}

impl std::error::Error for CompressError {}

/// What zlib-rs allocates for a compressor's state, for the error that says it could not: 4 x
/// 2^window_bits (window and hash chains), 7 x 2^(mem_level + 6) (literal and pending buffers),
/// a 128 KiB hash table and 3,200 bytes of state, in one allocation (the figures the module docs
/// of `permessage_deflate` give, measured).
#[cfg(feature = "permessage-deflate")]
fn compressor_state_bytes(window_bits: u8, mem_level: u8) -> usize {
    4 * (1 << window_bits) + 7 * (1 << (mem_level + 6)) + 128 * 1024 + 3_200
}

/// Compresses the messages one endpoint sends, keeping or resetting the LZ77 window between
/// messages as negotiated (RFC 7692 7.2.1).
#[cfg(feature = "permessage-deflate")]
pub struct MessageCompressor {
    direction: Direction,
    level: u8,
    mem_level: u8,
    /// Allocated by the first compressed message; freed after each message when the window is
    /// not taken over (see the module docs of `permessage_deflate` for the sizes).
    stream: Option<RawDeflate>,
    in_message: bool,
}

#[cfg(feature = "permessage-deflate")]
impl MessageCompressor {
    /// A compressor for `direction` (window bits 8..=15, 8 run as 9). `level` 0..=9 and
    /// `mem_level` 1..=9 are clamped into range.
    pub fn new(direction: Direction, level: u8, mem_level: u8) -> Self {
        MessageCompressor {
            direction,
            level: level.min(9),
            mem_level: mem_level.clamp(1, 9),
            stream: None,
            in_message: false,
        }
    }

    pub fn direction(&self) -> Direction {
        self.direction
    }

    /// Whether a message was started with `last = false` and not finished yet.
    pub fn in_message(&self) -> bool {
        self.in_message
    }

    /// Whether zlib state is allocated now (false between messages without context takeover).
    pub fn holds_state(&self) -> bool {
        self.stream.is_some()
    }

    /// Compresses a whole message, appending its payload to `out`.
    pub fn compress_message(&mut self, message: &[u8], out: &mut Vec<u8>) -> Result<(), CompressError> {
        self.compress(message, true, out)
    }

    /// Compresses the next piece of a message and appends the bytes for its frame to `out`;
    /// `last` marks the final piece. An empty last piece gives the one octet 0x00 (RFC 7692
    /// 7.2.3.6), which inflates to nothing.
    pub fn compress(&mut self, piece: &[u8], last: bool, out: &mut Vec<u8>) -> Result<(), CompressError> {
        let window_bits = zlib_window_bits(self.direction.window_bits);
        let stream = match self.stream.take() {
            Some(stream) => stream,
            None => RawDeflate::new(self.level, window_bits, self.mem_level).map_err(|error| match error {
                ZlibError::OutOfMemory => CompressError::OutOfMemory {
                    buffer: "compressor state",
                    bytes: compressor_state_bytes(window_bits, self.mem_level),
                },
                ZlibError::Refused(detail) => CompressError::Refused { detail },
            })?,
        };
        let stream = self.stream.insert(stream);
        self.in_message = true;
        let start = out.len();
        let mut consumed = 0;
        loop {
            // Room in steps of at most 64 KiB (zeroed before zlib writes, so not much more than
            // it will use: 1 MiB of text compresses to a few KiB), at least block headers and the flush.
            let room = ((piece.len() - consumed) / 2 + 64).min(64 * 1024);
            let written_before = out.len();
            if out.try_reserve(room).is_err() {
                let bytes = written_before + room;
                return Err(self.fail(out, start, CompressError::OutOfMemory { buffer: "compressed payload", bytes }));
            }
            out.resize(written_before + room, 0);
            let step = stream.compress_sync_flush(&piece[consumed..], &mut out[written_before..]);
            out.truncate(written_before + step.produced);
            consumed += step.consumed;
            match step.result {
                Ok(ZlibStatus::Ok | ZlibStatus::BufError) => {}
                Ok(ZlibStatus::StreamEnd) => {
                    let detail = "zlib ended the stream without being asked";
                    return Err(self.fail(out, start, CompressError::Refused { detail }));
                }
                // deflate allocates nothing after init: any refusal is an inconsistent state.
                Err(ZlibError::OutOfMemory) => {
                    return Err(self.fail(out, start, CompressError::Refused { detail: "insufficient memory" }))
                }
                Err(ZlibError::Refused(detail)) => {
                    return Err(self.fail(out, start, CompressError::Refused { detail }))
                }
            }
            // zlib: a sync flush is complete when deflate returns with output space left over.
            if consumed == piece.len() && step.produced < room {
                break;
            }
        }
        if last {
            if out.len() == start {
                // zlib writes nothing for a flush with no new input, and the previous piece already
                // ended with an empty stored block. RFC 7692 7.2.3.6: an empty stored block's first
                // octet, 0x00, is a last fragment "which contains 0 bytes of data" (the receiver's
                // appended tail completes it).
                out.push(0x00);
                self.end_message();
                return Ok(());
            }
            // RFC 7692 7.2.1 step 3. A sync flush that wrote anything ends with the empty stored block.
            if !out[start..].ends_with(&MESSAGE_TAIL) {
                let detail = "a sync flush did not end with 0x00 0x00 0xff 0xff";
                return Err(self.fail(out, start, CompressError::Refused { detail }));
            }
            out.truncate(out.len() - MESSAGE_TAIL.len());
            self.end_message();
        }
        Ok(())
    }

    fn end_message(&mut self) {
        self.in_message = false;
        if self.direction.no_context_takeover {
            // RFC 7692 7.2.1: the next message starts with an empty window. Freeing the state
            // (rather than resetting it) gives the memory back while the connection idles.
            self.stream = None;
        }
    }

    /// Drops a failed stream and what it wrote, so the next message starts clean.
    fn fail(&mut self, out: &mut Vec<u8>, start: usize, error: CompressError) -> CompressError {
        out.truncate(start);
        self.stream = None;
        self.in_message = false;
        error
    }
}

#[cfg(feature = "permessage-deflate")]
impl std::fmt::Debug for MessageCompressor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessageCompressor")
            .field("direction", &self.direction)
            .field("level", &self.level)
            .field("mem_level", &self.mem_level)
            .field("holds_state", &self.stream.is_some())
            .field("in_message", &self.in_message)
            .finish()
    }
}

/// Without the `permessage-deflate` cargo feature no compressor can exist: the type has no
/// values ([`super::PerMessageDeflate::new`] refuses), so the engine's send path keeps its shape
/// and zlib-rs is not compiled in.
#[cfg(not(feature = "permessage-deflate"))]
#[derive(Debug)]
pub enum MessageCompressor {}

#[cfg(not(feature = "permessage-deflate"))]
impl MessageCompressor {
    pub fn compress(&mut self, _piece: &[u8], _last: bool, _out: &mut Vec<u8>) -> Result<(), CompressError> {
        match *self {}
    }
}

#[cfg(all(test, feature = "permessage-deflate"))]
mod tests {
    use super::*;

    fn compressor(window_bits: u8, no_context_takeover: bool) -> MessageCompressor {
        MessageCompressor::new(Direction { window_bits, no_context_takeover }, 6, 8)
    }

    #[test]
    fn the_rfc_7692_hello_examples() {
        // 7.2.3.1: "Hello" in one compressed block, tail stripped.
        let mut out = Vec::new();
        let mut c = compressor(15, false);
        c.compress_message(b"Hello", &mut out).unwrap();
        assert_eq!(out, [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]);
        // 7.2.3.2: the same message again with context takeover references the window.
        out.clear();
        c.compress_message(b"Hello", &mut out).unwrap();
        assert_eq!(out, [0xf2, 0x00, 0x11, 0x00, 0x00]);
        // 7.2.3.2: without takeover, the same bytes each time.
        let mut c = compressor(15, true);
        for _ in 0..2 {
            out.clear();
            c.compress_message(b"Hello", &mut out).unwrap();
            assert_eq!(out, [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]);
        }
        // 7.2.3.6: an empty message is the single octet 0x00.
        out.clear();
        c.compress_message(b"", &mut out).unwrap();
        assert_eq!(out, [0x00]);
    }

    #[test]
    fn non_final_pieces_keep_the_tail_and_the_last_loses_it() {
        let mut c = compressor(15, false);
        let mut first = Vec::new();
        c.compress(b"He", false, &mut first).unwrap();
        assert!(first.ends_with(&MESSAGE_TAIL), "{first:02x?}");
        assert!(c.in_message());
        let mut last = Vec::new();
        c.compress(b"llo", true, &mut last).unwrap();
        assert!(!c.in_message());
        assert_eq!(*last.last().unwrap(), 0x00);
        // An empty last piece after a flushed one: zlib writes nothing, so the 0x00 of 7.2.3.6.
        c.compress(b"abc", false, &mut Vec::new()).unwrap();
        let mut empty_last = Vec::new();
        c.compress(b"", true, &mut empty_last).unwrap();
        assert_eq!(empty_last, [0x00]);
    }

    #[test]
    fn without_takeover_the_state_is_freed_between_messages() {
        let mut c = compressor(10, true);
        assert!(!c.holds_state());
        c.compress(b"abc", false, &mut Vec::new()).unwrap();
        assert!(c.holds_state());
        c.compress(b"abc", true, &mut Vec::new()).unwrap();
        assert!(!c.holds_state());
        let mut c = compressor(10, false);
        c.compress_message(b"abc", &mut Vec::new()).unwrap();
        assert!(c.holds_state());
    }

    #[test]
    fn compressing_large_incompressible_input_grows_the_output_as_needed() {
        let mut x: u32 = 1;
        let noise: Vec<u8> = (0..300_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect();
        for window_bits in [8, 15] {
            let mut out = Vec::new();
            compressor(window_bits, false).compress_message(&noise, &mut out).unwrap();
            assert!(out.len() > noise.len() && out.len() < noise.len() + noise.len() / 100, "{}", out.len());
        }
    }
}
