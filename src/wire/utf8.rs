//! Incremental UTF-8 validation: text arrives in pieces split anywhere, even inside a code point,
//! and an invalid byte must fail the connection when it arrives (RFC 6455 8.1, "Fail fast" in
//! Autobahn's terms), not at the end of the message. Whole runs are checked with simdutf8.

// For the 1-4 bytes of a code point cut between pieces: says whether they are a valid prefix.
use core::str::from_utf8;

/// Validates a byte stream piece by piece, carrying an incomplete trailing code point over.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Utf8Validator {
    carry: [u8; 4],
    carry_len: u8,
}

/// The stream is not UTF-8.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidUtf8;

impl Utf8Validator {
    pub fn new() -> Self {
        Self::default()
    }

    /// Bytes of an incomplete code point held at the end of what was fed so far (0..=3).
    pub fn incomplete_len(&self) -> usize {
        self.carry_len as usize
    }

    /// Feeds the next piece. Fails as soon as the bytes so far cannot begin a valid UTF-8 string.
    pub fn feed(&mut self, mut bytes: &[u8]) -> Result<(), InvalidUtf8> {
        if self.carry_len > 0 {
            let have = self.carry_len as usize;
            let need = sequence_len(self.carry[0]).saturating_sub(have);
            let take = need.min(bytes.len());
            let mut joined = [0u8; 4];
            joined[..have].copy_from_slice(&self.carry[..have]);
            joined[have..have + take].copy_from_slice(&bytes[..take]);
            let joined = &joined[..have + take];
            if take < need {
                // Still incomplete: it must at least be a valid prefix.
                match from_utf8(joined) {
                    Err(e) if e.error_len().is_none() && e.valid_up_to() == 0 => {}
                    _ => return Err(InvalidUtf8),
                }
                self.carry[..joined.len()].copy_from_slice(joined);
                self.carry_len = joined.len() as u8;
                return Ok(());
            }
            if from_utf8(joined).is_err() {
                return Err(InvalidUtf8);
            }
            self.carry_len = 0;
            bytes = &bytes[take..];
        }
        // The fast whole-run check (simdutf8's `basic`) on the complete code points; a piece cut
        // inside one (most are: pieces split anywhere) keeps its last 1-3 bytes to carry over.
        // The run ends at a code point boundary (or holds a byte that cannot start one), so it
        // cannot be a valid string cut short: `basic` rejecting it is the stream's failure, with
        // no need to know where (simdutf8's `compat` would say, at 2.7 KB more of the wasm).
        let complete = complete_prefix_len(bytes);
        if simdutf8::basic::from_utf8(&bytes[..complete]).is_ok() {
            let tail = &bytes[complete..];
            if tail.is_empty() {
                return Ok(());
            }
            // A lead byte and fewer continuation bytes than it needs: valid only as a prefix.
            return match from_utf8(tail) {
                Err(e) if e.error_len().is_none() && e.valid_up_to() == 0 => {
                    self.carry[..tail.len()].copy_from_slice(tail);
                    self.carry_len = tail.len() as u8;
                    Ok(())
                }
                _ => Err(InvalidUtf8),
            };
        }
        Err(InvalidUtf8)
    }

    /// The message ended: an incomplete code point left over is invalid.
    pub fn finish(&mut self) -> Result<(), InvalidUtf8> {
        let complete = self.carry_len == 0;
        *self = Self::default();
        if complete {
            Ok(())
        } else {
            Err(InvalidUtf8)
        }
    }
}

/// Where the last code point of `bytes` starts when it is incomplete (its lead byte, within the
/// last three bytes, announces more bytes than follow it); otherwise the whole length.
fn complete_prefix_len(bytes: &[u8]) -> usize {
    let len = bytes.len();
    for start in (len.saturating_sub(3)..len).rev() {
        if bytes[start] & 0xC0 != 0x80 {
            return if sequence_len(bytes[start]) > len - start { start } else { len };
        }
    }
    len
}

/// The length of the sequence a lead byte starts (1 for anything that cannot lead, which the
/// validator then rejects).
fn sequence_len(lead: u8) -> usize {
    match lead {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => 1,
    }
}

/// Whole-buffer validation.
pub fn is_valid(bytes: &[u8]) -> bool {
    simdutf8::basic::from_utf8(bytes).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed_split(bytes: &[u8], cuts: &[usize]) -> Result<(), InvalidUtf8> {
        let mut v = Utf8Validator::new();
        let mut at = 0;
        for &cut in cuts {
            v.feed(&bytes[at..cut])?;
            at = cut;
        }
        v.feed(&bytes[at..])?;
        v.finish()
    }

    #[test]
    fn valid_text_passes_split_at_every_point() {
        let text = "héllo wörld € 𝄞 κόσμε".as_bytes();
        for a in 0..=text.len() {
            for b in a..=text.len() {
                assert_eq!(feed_split(text, &[a, b]), Ok(()), "cuts {a} {b}");
            }
        }
    }

    #[test]
    fn fails_at_the_first_invalid_byte() {
        // Autobahn 6.4.x style: valid prefix, then 0xF4 0x90 (beyond U+10FFFF) must fail at 0x90.
        let mut v = Utf8Validator::new();
        assert!(v.feed("κόσμε".as_bytes()).is_ok());
        assert!(v.feed(&[0xF4]).is_ok());
        assert_eq!(v.feed(&[0x90]), Err(InvalidUtf8));
        let mut v = Utf8Validator::new();
        assert_eq!(v.feed(&[0xED, 0xA0]), Err(InvalidUtf8)); // surrogate half
        let mut v = Utf8Validator::new();
        assert_eq!(v.feed(&[0xC0]), Err(InvalidUtf8)); // overlong lead
        let mut v = Utf8Validator::new();
        assert_eq!(v.feed(&[0xFF]), Err(InvalidUtf8));
    }

    /// Pieces cut anywhere agree with the standard library on the whole, and a piece fails exactly
    /// when the bytes so far can no longer begin valid UTF-8 (RFC 6455 8.1, fail fast).
    #[test]
    fn any_cuts_agree_with_std_and_fail_fast() {
        let samples: [&[u8]; 8] = [
            "aé€𝄞z".as_bytes(),
            b"ab\xE0\xA0\x80cd\xF0\x9F\x98\x80",
            b"ab\xE0\x80\x80cd",     // overlong three-byte form
            b"x\xED\xA0\x80y",       // surrogate half
            b"x\xF4\x90\x80\x80y",   // beyond U+10FFFF
            b"x\xF5\x80y",           // never a lead byte
            b"ok \xE2\x82",          // cut short at the end
            b"\xC2\xA9\xC2\xA9\x80", // a stray continuation byte
        ];
        for bytes in samples {
            let whole_ok = std::str::from_utf8(bytes).is_ok();
            for a in 0..=bytes.len() {
                for b in a..=bytes.len() {
                    assert_eq!(feed_split(bytes, &[a, b]).is_ok(), whole_ok, "{bytes:x?} cuts {a} {b}");
                }
                // Fed up to `a`: an error exactly when std finds an invalid byte (not just an
                // incomplete end) in the first `a` bytes.
                let invalid_so_far = matches!(std::str::from_utf8(&bytes[..a]), Err(e) if e.error_len().is_some());
                let mut v = Utf8Validator::new();
                let fed = (0..a).try_for_each(|i| v.feed(&bytes[i..i + 1])).and_then(|_| {
                    let mut w = Utf8Validator::new();
                    w.feed(&bytes[..a])
                });
                assert_eq!(fed.is_err(), invalid_so_far, "{bytes:x?} prefix {a}");
            }
        }
    }

    #[test]
    fn incomplete_at_end_is_invalid() {
        let mut v = Utf8Validator::new();
        assert!(v.feed(&[0xE2, 0x82]).is_ok());
        assert_eq!(v.incomplete_len(), 2);
        assert_eq!(v.finish(), Err(InvalidUtf8));
    }
}
