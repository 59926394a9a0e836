//! zlib-rs through its zlib-compatible C API (`libz-rs-sys`), for what its Rust API cannot do:
//! say that the state could not be allocated. `zlib_rs::Deflate::new` and `Inflate::new` assert
//! that initialization succeeded, so an allocation they cannot get panics (a trap in wasm, a dead
//! process natively); `deflateInit2_` / `inflateInit2_` return `Z_MEM_ERROR` instead, with
//! zlib-rs's Rust allocator, which hands back the null pointer the global allocator returns. Each
//! connection's streams are allocated this way, so memory one connection cannot get fails that
//! connection (1011), as every other buffer of the engine does.
//!
//! The rest is the same zlib-rs code the Rust API runs; these two types only own a `z_stream`,
//! point it at the caller's slices for one call, and end it on drop.

use libz_rs_sys::{
    deflate, deflateEnd, deflateInit2_, inflate, inflateEnd, inflateInit2_, z_stream, zlibVersion, Z_BUF_ERROR,
    Z_DEFAULT_STRATEGY, Z_DEFLATED, Z_MEM_ERROR, Z_OK, Z_STREAM_END, Z_SYNC_FLUSH,
};
use std::ffi::{c_int, c_uint, CStr};

/// Why zlib refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ZlibError {
    /// It could not allocate its state (`Z_MEM_ERROR`).
    OutOfMemory,
    /// Any other refusal, with zlib's reason (for inflate, e.g. "invalid distance too far back").
    Refused(&'static str),
}

/// How a call that went through ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ZlibStatus {
    /// Progress was made (or, with the flush done, nothing was left to do).
    Ok,
    /// No progress was possible: no input, or no room for output (`Z_BUF_ERROR`, not an error).
    BufError,
    /// A block with BFINAL ended the stream.
    StreamEnd,
}

/// One call: how it ended, and how much input it took and output it wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ZlibStep {
    pub result: Result<ZlibStatus, ZlibError>,
    pub consumed: usize,
    pub produced: usize,
}

/// The size of `z_stream`, as `deflateInit2_`'s version check wants it.
const STREAM_SIZE: c_int = std::mem::size_of::<z_stream>() as c_int;

/// zlib's reason for a refusal: its message if it set one, else the return code's.
fn refusal(stream: &z_stream, code: c_int) -> ZlibError {
    if code == Z_MEM_ERROR {
        return ZlibError::OutOfMemory;
    }
    if !stream.msg.is_null() {
        // SAFETY: zlib-rs sets `msg` only to its own static, NUL-terminated messages (C string
        // literals), so the pointer is valid for the whole program.
        if let Ok(message) = unsafe { CStr::from_ptr(stream.msg) }.to_str() {
            return ZlibError::Refused(message);
        }
    }
    ZlibError::Refused(match code {
        libz_rs_sys::Z_STREAM_ERROR => "stream error",
        libz_rs_sys::Z_DATA_ERROR => "data error",
        libz_rs_sys::Z_NEED_DICT => "need dictionary",
        libz_rs_sys::Z_VERSION_ERROR => "incompatible version",
        _ => "unknown error",
    })
}

/// Runs one zlib call over `input` and `output`, leaving no pointer into them behind.
fn step(stream: &mut z_stream, input: &[u8], output: &mut [u8], call: impl FnOnce(&mut z_stream) -> c_int) -> ZlibStep {
    // zlib counts in c_uint: longer slices are handed over in part, and the caller comes back
    // for the rest, as it does whenever output runs out.
    let (avail_in, avail_out) = (input.len().min(c_uint::MAX as usize), output.len().min(c_uint::MAX as usize));
    stream.next_in = input.as_ptr();
    stream.avail_in = avail_in as c_uint;
    stream.next_out = output.as_mut_ptr();
    stream.avail_out = avail_out as c_uint;
    let code = call(stream);
    let consumed = avail_in - stream.avail_in as usize;
    let produced = avail_out - stream.avail_out as usize;
    stream.next_in = std::ptr::null();
    stream.avail_in = 0;
    stream.next_out = std::ptr::null_mut();
    stream.avail_out = 0;
    let result = match code {
        Z_OK => Ok(ZlibStatus::Ok),
        Z_BUF_ERROR => Ok(ZlibStatus::BufError),
        Z_STREAM_END => Ok(ZlibStatus::StreamEnd),
        code => Err(refusal(stream, code)),
    };
    ZlibStep { result, consumed, produced }
}

/// A raw-deflate compressor (no zlib header or checksum: RFC 7692 sends bare DEFLATE).
pub struct RawDeflate {
    stream: z_stream,
}

// SAFETY: the stream's state is owned by this value alone and used only through `&mut self`;
// zlib-rs keeps no thread-bound data in it (its own Rust API marks the same state Send).
unsafe impl Send for RawDeflate {}

impl RawDeflate {
    /// A compressor with `window_bits` 9..=15, `level` 0..=9 and `mem_level` 1..=9.
    pub fn new(level: u8, window_bits: u8, mem_level: u8) -> Result<RawDeflate, ZlibError> {
        let mut stream = z_stream::default();
        // SAFETY: `stream` is a valid, default-initialized z_stream (zlib-rs's Rust allocator
        // configured); the version string is libz-rs-sys's own. zlib-rs keeps no pointer to the
        // z_stream itself, so it may move afterwards (its Rust API moves it the same way).
        let code = unsafe {
            deflateInit2_(
                &mut stream,
                c_int::from(level),
                Z_DEFLATED,
                // Negative: raw deflate.
                -c_int::from(window_bits),
                c_int::from(mem_level),
                Z_DEFAULT_STRATEGY,
                zlibVersion(),
                STREAM_SIZE,
            )
        };
        if code != Z_OK {
            return Err(refusal(&stream, code));
        }
        Ok(RawDeflate { stream })
    }

    /// Compresses what it can of `input` into `output` and sync-flushes (the output ends on a
    /// byte boundary with an empty stored block once the flush is complete).
    pub fn compress_sync_flush(&mut self, input: &[u8], output: &mut [u8]) -> ZlibStep {
        // SAFETY: `step` points the stream at `input` and `output` for this call only; the
        // stream was initialized by deflateInit2_.
        step(&mut self.stream, input, output, |stream| unsafe { deflate(stream, Z_SYNC_FLUSH) })
    }
}

impl Drop for RawDeflate {
    fn drop(&mut self) {
        // SAFETY: initialized by deflateInit2_ and ended only here.
        unsafe { deflateEnd(&mut self.stream) };
    }
}

/// A raw-deflate inflater (RFC 7692 7.2.2: bare DEFLATE).
pub struct RawInflate {
    stream: z_stream,
}

// SAFETY: as RawDeflate's.
unsafe impl Send for RawInflate {}

impl RawInflate {
    /// An inflater for a window of `window_bits` 9..=15.
    pub fn new(window_bits: u8) -> Result<RawInflate, ZlibError> {
        let mut stream = z_stream::default();
        // SAFETY: as in RawDeflate::new.
        let code = unsafe { inflateInit2_(&mut stream, -c_int::from(window_bits), zlibVersion(), STREAM_SIZE) };
        if code != Z_OK {
            return Err(refusal(&stream, code));
        }
        Ok(RawInflate { stream })
    }

    /// Inflates what it can of `input` into `output`, flushing as much output as fits.
    pub fn inflate_sync_flush(&mut self, input: &[u8], output: &mut [u8]) -> ZlibStep {
        // SAFETY: as in compress_sync_flush; the stream was initialized by inflateInit2_.
        step(&mut self.stream, input, output, |stream| unsafe { inflate(stream, Z_SYNC_FLUSH) })
    }
}

impl Drop for RawInflate {
    fn drop(&mut self) {
        // SAFETY: initialized by inflateInit2_ and ended only here.
        unsafe { inflateEnd(&mut self.stream) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_round_trip_through_both_streams() {
        let message = b"Hello, Hello, Hello, Hello".repeat(100);
        let mut compressor = RawDeflate::new(6, 15, 8).unwrap();
        let mut compressed = vec![0u8; 1024];
        let step = compressor.compress_sync_flush(&message, &mut compressed);
        assert_eq!((step.result, step.consumed), (Ok(ZlibStatus::Ok), message.len()));
        compressed.truncate(step.produced);
        assert!(compressed.ends_with(&[0x00, 0x00, 0xff, 0xff]), "a sync flush ends with an empty stored block");
        let mut inflater = RawInflate::new(15).unwrap();
        let mut out = vec![0u8; message.len() + 16];
        let step = inflater.inflate_sync_flush(&compressed, &mut out);
        assert_eq!((step.result, step.consumed, step.produced), (Ok(ZlibStatus::Ok), compressed.len(), message.len()));
        assert_eq!(&out[..step.produced], &message[..]);
    }

    #[test]
    fn bad_data_is_refused_with_zlibs_reason() {
        let mut inflater = RawInflate::new(15).unwrap();
        // BTYPE 11 (reserved) in the first block header.
        let step = inflater.inflate_sync_flush(&[0xff, 0xff, 0xff], &mut [0u8; 64]);
        assert_eq!(step.result, Err(ZlibError::Refused("invalid block type")));
    }

    #[test]
    fn parameters_out_of_range_are_refused_not_panicked_on() {
        assert!(matches!(RawDeflate::new(6, 16, 8), Err(ZlibError::Refused(_))));
        assert!(matches!(RawDeflate::new(6, 15, 0), Err(ZlibError::Refused(_))));
        assert!(matches!(RawInflate::new(16), Err(ZlibError::Refused(_))));
    }
}
