//! SHA-1 and base64 for the handshake's keys only: the client's nonce (16 bytes), the server's
//! check of it, and `Sec-WebSocket-Accept` (a SHA-1 digest, 20 bytes, RFC 6455 4.2.2).
//!
//! From `hmac-sha1-compact` and `ct-codecs`, the compact ones of the crates made for the job: the
//! `sha1` and `base64ct` crates' code is unrolled for throughput, 4.4 KB and 2 KB of the npm
//! package's wasm (issue 12's size target), where this runs once per handshake on public values
//! (RFC 6455 10.3: the key is no secret). The tests check both against those crates.

use base64ct::{Base64, Encoding as _};

/// SHA-1 of `message` (RFC 3174).
pub(crate) fn sha1(message: &[u8]) -> [u8; 20] {
    hmac_sha1_compact::Hash::hash(message)
}

/// Base64 with padding (RFC 4648 4).
pub(crate) fn base64(bytes: &[u8]) -> String {
    Base64::encode_string(bytes)
}

/// Whether `text` is base64 of exactly 16 bytes in its one canonical form (RFC 4648 3.5): any
/// other length, a character outside the alphabet, and padding or trailing bits out of place
/// fail to decode into 16 bytes.
pub(crate) fn is_base64_of_16_bytes(text: &str) -> bool {
    let mut nonce = [0u8; 16];
    matches!(Base64::decode(text.as_bytes(), &mut nonce), Ok(bytes) if bytes.len() == 16)
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
