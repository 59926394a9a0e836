//! SHA-1 (RFC 3174) and base64 (RFC 4648 4) for the handshake's keys only: the client's nonce (16
//! bytes), the server's check of it, and `Sec-WebSocket-Accept` (a SHA-1 digest, 20 bytes).
//!
//! Written here rather than taken from the `sha1` and `base64ct` crates for the npm package's
//! size (issue 12): their code is unrolled and constant-time, 4.4 KB and 2 KB of the wasm, where
//! this runs once per handshake on public values (RFC 6455 10.3: the key is no secret, and SHA-1
//! is used for no security property here). The tests check both against those crates.

/// SHA-1 of `message` (RFC 3174 section 6.1).
pub(crate) fn sha1(message: &[u8]) -> [u8; 20] {
    let mut state: [u32; 5] = [0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0];
    let mut blocks = message.chunks_exact(64);
    for block in &mut blocks {
        compress(&mut state, block);
    }
    // RFC 3174 4: the rest, a 1 bit, zeros, and the message's length in bits as 64 bits.
    let rest = blocks.remainder();
    let mut last = [0u8; 128];
    last[..rest.len()].copy_from_slice(rest);
    last[rest.len()] = 0x80;
    let end = if rest.len() < 56 { 64 } else { 128 };
    last[end - 8..end].copy_from_slice(&((message.len() as u64) << 3).to_be_bytes());
    for block in last[..end].chunks_exact(64) {
        compress(&mut state, block);
    }
    let mut digest = [0u8; 20];
    for (out, word) in digest.chunks_exact_mut(4).zip(state) {
        out.copy_from_slice(&word.to_be_bytes());
    }
    digest
}

/// One 64-byte block (RFC 3174 6.1, method 1), as a loop: the handshake hashes two blocks.
fn compress(state: &mut [u32; 5], block: &[u8]) {
    let mut w = [0u32; 80];
    for (word, bytes) in w.iter_mut().zip(block.chunks_exact(4)) {
        *word = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    }
    for t in 16..80 {
        w[t] = (w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16]).rotate_left(1);
    }
    let [mut a, mut b, mut c, mut d, mut e] = *state;
    for (t, &word) in w.iter().enumerate() {
        let (f, k) = match t / 20 {
            0 => ((b & c) | (!b & d), 0x5A82_7999),
            1 => (b ^ c ^ d, 0x6ED9_EBA1),
            2 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
            _ => (b ^ c ^ d, 0xCA62_C1D6),
        };
        let temp = a.rotate_left(5).wrapping_add(f).wrapping_add(e).wrapping_add(k).wrapping_add(word);
        e = d;
        d = c;
        c = b.rotate_left(30);
        b = a;
        a = temp;
    }
    for (word, add) in state.iter_mut().zip([a, b, c, d, e]) {
        *word = word.wrapping_add(add);
    }
}

/// RFC 4648 4: the base64 alphabet.
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Base64 with padding (RFC 4648 4): character `j` is the 6 bits at bit `6j` of the bytes, or `=`
/// once those start past the end.
pub(crate) fn base64(bytes: &[u8]) -> String {
    let mut out = Vec::with_capacity(bytes.len().div_ceil(3) * 4);
    for bit in (0..bytes.len().div_ceil(3) * 24).step_by(6) {
        let at = bit / 8;
        out.push(match bytes.get(at) {
            Some(&byte) => {
                let pair = (byte as usize) << 8 | bytes.get(at + 1).copied().unwrap_or(0) as usize;
                ALPHABET[pair >> (10 - bit % 8) & 63]
            }
            None => b'=',
        });
    }
    // Only ASCII was pushed: never the empty default.
    String::from_utf8(out).unwrap_or_default()
}

/// The value of a base64 character (RFC 4648 4), or None outside the alphabet.
fn sextet(c: u8) -> Option<u8> {
    Some(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    })
}

/// Whether `text` is base64 of exactly 16 bytes in its one canonical form (RFC 4648 3.5): 22
/// characters of the alphabet, the last with its low 4 bits zero (they are past the 128 bits),
/// then `==`.
pub(crate) fn is_base64_of_16_bytes(text: &str) -> bool {
    let mut last = 0;
    for (i, &c) in text.as_bytes().iter().enumerate() {
        match sextet(c) {
            Some(value) if i < 22 => last = value,
            None if i >= 22 && c == b'=' => {}
            _ => return false,
        }
    }
    text.len() == 24 && last & 0xF == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64ct::{Base64, Encoding as _};
    use proptest::prelude::*;
    use sha1::{Digest, Sha1};

    #[test]
    fn sha1_vectors() {
        // RFC 3174 7.3's tests 1 and 2, and the empty message.
        let hex = |d: [u8; 20]| d.iter().map(|b| format!("{b:02x}")).collect::<String>();
        assert_eq!(hex(sha1(b"abc")), "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(
            hex(sha1(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        );
        assert_eq!(hex(sha1(b"")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    }

    #[test]
    fn sha1_at_every_length_around_the_block_edges() {
        let message: Vec<u8> = (0..300u32).map(|i| (i * 7 + 3) as u8).collect();
        for len in 0..message.len() {
            assert_eq!(sha1(&message[..len])[..], Sha1::digest(&message[..len])[..], "{len}");
        }
    }

    #[test]
    fn key_vectors() {
        // RFC 4648 10, and RFC 6455 1.3's nonce.
        for (bytes, text) in [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foobar", "Zm9vYmFy")] {
            assert_eq!(base64(bytes.as_bytes()), text);
        }
        assert_eq!(base64(b"the sample nonce"), "dGhlIHNhbXBsZSBub25jZQ==");
        assert!(is_base64_of_16_bytes("dGhlIHNhbXBsZSBub25jZQ=="));
    }

    proptest! {
        #[test]
        fn sha1_and_base64_agree_with_the_crates(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            prop_assert_eq!(&sha1(&bytes)[..], &Sha1::digest(&bytes)[..]);
            prop_assert_eq!(base64(&bytes), Base64::encode_string(&bytes));
        }

        /// The server's key check takes exactly what base64ct's strict decoder decodes to 16 bytes.
        #[test]
        fn key_check_agrees_with_base64ct(text in "[A-Za-z0-9+/=\\- ]{20,28}", nonce in any::<[u8; 16]>()) {
            let mut out = [0u8; 16];
            let strict = matches!(Base64::decode(text.as_bytes(), &mut out), Ok(bytes) if bytes.len() == 16);
            prop_assert_eq!(is_base64_of_16_bytes(&text), strict, "{:?}", text);
            prop_assert!(is_base64_of_16_bytes(&base64(&nonce)));
        }

        /// The same near valid keys: one character of a valid one replaced, or the key cut.
        #[test]
        fn key_check_agrees_with_base64ct_near_valid_keys(
            nonce in any::<[u8; 16]>(),
            at in 0usize..24,
            c in proptest::sample::select(b"AQgw/+=Zz09-_ .".to_vec()),
            cut in 0usize..26,
        ) {
            let mut text = base64(&nonce).into_bytes();
            text[at] = c;
            text.truncate(cut);
            let text = String::from_utf8(text).unwrap();
            let mut out = [0u8; 16];
            let strict = matches!(Base64::decode(text.as_bytes(), &mut out), Ok(bytes) if bytes.len() == 16);
            prop_assert_eq!(is_base64_of_16_bytes(&text), strict, "{:?}", text);
        }
    }
}
