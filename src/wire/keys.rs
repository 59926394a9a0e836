//! SHA-1 and base64 for the handshake's keys only: the client's nonce (16 bytes), the server's
//! check of it, and `Sec-WebSocket-Accept` (a SHA-1 digest, 20 bytes, RFC 6455 4.2.2).
//!
//! From `hmac-sha1-compact` and `base64ct`: the `sha1` crate's code is unrolled for throughput,
//! 4.4 KB of the npm package's wasm (issue 12's size target) where hmac-sha1-compact's loop is
//! 1.8 KB, and this runs once per handshake on public values (RFC 6455 10.3: the key is no
//! secret). The tests check SHA-1 against the `sha1` crate and base64 against RFC 4648's rules.

use base64ct::{Base64, Base64Unpadded, Encoding as _};

/// SHA-1 of `message` (RFC 3174).
pub(crate) fn sha1(message: &[u8]) -> [u8; 20] {
    hmac_sha1_compact::Hash::hash(message)
}

/// Base64 with padding (RFC 4648 4).
pub(crate) fn base64(bytes: &[u8]) -> String {
    Base64::encode_string(bytes)
}

/// Whether `text` is base64 of exactly 16 bytes in its one canonical form (RFC 4648 3.5): 24
/// characters, the last two the padding "==" (RFC 4648 4: 16 bytes leave one byte over), and
/// before them 22 characters that base64ct's strict unpadded decoder decodes to 16 bytes, which
/// refuses a character outside the alphabet and trailing bits that are not zero. (Decoding the
/// padded text whole with `Base64::decode` accepts the same texts, but its padding logic cost
/// ~1 KB of the npm wasm, 0.6 KB gzipped.)
pub(crate) fn is_base64_of_16_bytes(text: &str) -> bool {
    let mut nonce = [0u8; 16];
    text.len() == 24
        && text.ends_with("==")
        && matches!(Base64Unpadded::decode(&text.as_bytes()[..22], &mut nonce), Ok(bytes) if bytes.len() == 16)
}

#[cfg(test)]
mod tests {
    use super::*;
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

    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    /// RFC 4648 4 spelled out bit by bit, independent of base64ct: each 6 bits of the input (the
    /// last group filled with zero bits) is one character, then "=" up to a multiple of 4.
    fn reference_base64(bytes: &[u8]) -> String {
        let bit = |i: usize| bytes.get(i / 8).map_or(0, |b| (b >> (7 - i % 8)) & 1);
        let mut text: String = (0..(bytes.len() * 8).div_ceil(6))
            .map(|c| ALPHABET[(0..6).fold(0, |v, i| v << 1 | bit(c * 6 + i)) as usize] as char)
            .collect();
        while text.len() % 4 != 0 {
            text.push('=');
        }
        text
    }

    /// The canonical base64 of 16 bytes by RFC 4648's rules, independent of base64ct: 22
    /// characters of the alphabet, the last carrying 2 bits of data and 4 zero bits (3.5), then
    /// "==" (4).
    fn reference_is_key(text: &str) -> bool {
        let index = |c: &u8| ALPHABET.iter().position(|a| a == c);
        let b = text.as_bytes();
        b.len() == 24
            && b[..22].iter().all(|c| index(c).is_some())
            && index(&b[21]).is_some_and(|i| i % 16 == 0)
            && &b[22..] == b"=="
    }

    proptest! {
        #[test]
        fn sha1_agrees_with_the_sha1_crate_and_base64_with_rfc_4648(
            bytes in proptest::collection::vec(any::<u8>(), 0..200),
        ) {
            prop_assert_eq!(&sha1(&bytes)[..], &Sha1::digest(&bytes)[..]);
            prop_assert_eq!(base64(&bytes), reference_base64(&bytes));
        }

        /// The server's key check takes exactly RFC 4648's canonical base64 of 16 bytes (and
        /// exactly what base64ct's padded decoder decodes to 16 bytes).
        #[test]
        fn key_check_follows_the_rule(text in "[A-Za-z0-9+/=\\- ]{20,28}", nonce in any::<[u8; 16]>()) {
            prop_assert_eq!(is_base64_of_16_bytes(&text), reference_is_key(&text), "{:?}", text);
            prop_assert_eq!(is_base64_of_16_bytes(&text), padded_decodes_to_16(&text), "{:?}", text);
            prop_assert!(is_base64_of_16_bytes(&base64(&nonce)));
        }

        /// The same near valid keys: one character of a valid one replaced, or the key cut.
        #[test]
        fn key_check_follows_the_rule_near_valid_keys(
            nonce in any::<[u8; 16]>(),
            at in 0usize..24,
            c in proptest::sample::select(b"AQgw/+=Zz09-_ .".to_vec()),
            cut in 0usize..26,
        ) {
            let mut text = base64(&nonce).into_bytes();
            text[at] = c;
            text.truncate(cut);
            let text = String::from_utf8(text).unwrap();
            prop_assert_eq!(is_base64_of_16_bytes(&text), reference_is_key(&text), "{:?}", text);
            prop_assert_eq!(is_base64_of_16_bytes(&text), padded_decodes_to_16(&text), "{:?}", text);
        }
    }

    fn padded_decodes_to_16(text: &str) -> bool {
        let mut out = [0u8; 16];
        matches!(Base64::decode(text.as_bytes(), &mut out), Ok(bytes) if bytes.len() == 16)
    }

    #[test]
    fn the_references_hold_for_rfc_4648_vectors() {
        for (bytes, text) in [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foobar", "Zm9vYmFy")] {
            assert_eq!(reference_base64(bytes.as_bytes()), text);
        }
        assert!(reference_is_key("dGhlIHNhbXBsZSBub25jZQ=="));
        assert!(!reference_is_key("dGhlIHNhbXBsZSBub25jZR=="));
    }
}
