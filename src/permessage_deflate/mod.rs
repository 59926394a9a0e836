//! permessage-deflate (RFC 7692): negotiation in the opening handshake and the per-message
//! transform, independent of the handle that will drive them.
//!
//! - [`header`]: the `Sec-WebSocket-Extensions` grammar (RFC 6455 9.1), for any extension.
//! - [`negotiation`]: the client's offer, the server's choice and response, the client's check
//!   of that response (RFC 7692 5, 7, 7.1).
//! - [`deflate`]: a compressor that turns one message (whole or in pieces) into the payload of a
//!   compressed message (RFC 7692 7.2.1).
//! - [`inflate`]: an inflater that turns the payloads of a compressed message back into the
//!   message as its frames arrive, with its output capped by the message budget (RFC 7692 7.2.2).
//!
//! - [`zlib`]: zlib-rs's streams, whose allocation failure is an error and not a panic.
//!
//! Deflate itself is zlib-rs (pure Rust, so the same code runs natively and in wasm32), behind the
//! cargo feature `permessage-deflate` (default on). Without it, negotiation and the header grammar
//! stay, `MessageCompressor` and `MessageInflater` have no values, and the configuration refuses
//! `PerMessageDeflate(true)` ([`not_built`]): a build for size (the npm package's default wasm).
//!
//! ## Window bits 8
//!
//! zlib refuses a raw deflate window of 2^8 (deflateInit2 returns Z_STREAM_ERROR for
//! windowBits = -8) and turns a zlib-wrapped 8 into 9, because of its "256-byte window bug"; zlib-rs
//! does the same. Node's zlib, and so ws, hands 9 to zlib when 8 was agreed (Node's docs: "passing
//! `windowBits = 9` to zlib actually results in a compressed stream that effectively uses an 8-bit
//! window only"). This module does too, in both directions (see [`zlib_window_bits`]). That stays
//! within the agreement: zlib's deflater never emits a distance beyond `window size - 262`
//! (MAX_DIST), 250 bytes for a 512-byte window, so a peer inflating with 2^8 reads what it sends
//! (`tests/permessage_deflate.rs` has C zlib inflate it with exactly 2^8); and inflating with 2^9
//! reads everything a 2^8 sender may send.
//!
//! ## Memory each connection holds
//!
//! Measured with a counting allocator by `tests/permessage_deflate.rs`
//! (`deflate_memory_per_connection`, run it with `--nocapture`), zlib-rs 0.6 on x86_64:
//!
//! - an inflater holds 47,552 bytes at every window size: zlib-rs (like zlib-ng) allocates its
//!   state and a full 2^15-byte window in one block whatever the window bits;
//! - a compressor holds 4 x 2^window_bits (window and hash chains) + 7 x 2^(mem_level+6)
//!   (literal and pending buffers) + 128 KiB (a hash table of fixed size, again as zlib-ng) +
//!   about 3 KiB of state: 380,032 bytes at ws's defaults (15 bits, memory level 8); 164,992 at
//!   Python websockets' server defaults (12 bits, memory level 5); 137,216 at the least (9 bits,
//!   memory level 1).
//!
//! So a connection that compresses both ways with context takeover at ws's defaults holds
//! 427,584 bytes for as long as it lives. With `no_context_takeover` negotiated for a direction,
//! that direction's state is freed when each message ends and allocated again by the next
//! compressed message, as ws and websockets do, so an idle connection holds nothing for it.
//! Dropping a compressor or inflater frees everything it holds (the test checks both).
//! State that cannot be allocated fails that connection with 1011 (`Error::OutOfMemory`, buffer
//! "compressor state" or "inflater state"), as the engine's other buffers do: the streams are made
//! through zlib's init functions, which return Z_MEM_ERROR (see [`zlib`]), and the compressor's
//! output grows with `try_reserve`.

pub mod deflate;
pub mod header;
pub mod inflate;
pub mod negotiation;
// The one module of the engine with unsafe code: calls into zlib-rs's C-shaped API (see its docs).
#[cfg(feature = "permessage-deflate")]
#[allow(unsafe_code)]
pub mod zlib;

pub use deflate::{CompressError, MessageCompressor};
pub use header::{parse_extension_headers, parse_extension_list, ExtensionElement, MalformedExtensions};
pub use inflate::{InflateError, InflateProgress, InflateState, MessageInflater};
pub use negotiation::{
    client_check_response, client_offer, server_accept, AcceptedOffer, AgreedParameters, DeclinedOffer, Direction,
    Negotiated, NegotiationError, ServerNegotiation, EXTENSION_NAME, MAX_WINDOW_BITS, MIN_WINDOW_BITS,
};

use crate::constants::hresult;
use crate::error::{Error, HandshakeRejection};
use crate::wire::handshake::Header;

/// The four octets a sender strips from each compressed message and a receiver appends
/// (RFC 7692 7.2.1 step 3, 7.2.2 step 1): the end of an empty stored block.
pub const MESSAGE_TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// The window bits given to zlib for an agreed window: 8 becomes 9, as zlib itself does (see the
/// module docs); 9..=15 are unchanged.
pub fn zlib_window_bits(agreed: u8) -> u8 {
    agreed.clamp(9, MAX_WINDOW_BITS)
}

/// How an endpoint uses permessage-deflate, with the option names of ws's `perMessageDeflate`.
///
/// The same configuration serves both roles. A client offers what it asks for; a server answers
/// offers under it (see [`negotiation`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeflateConfig {
    /// Client: offer permessage-deflate. Server: accept an offer of it. Default true.
    pub enabled: bool,
    /// Without context takeover on our sending side, messages shorter than this many bytes are
    /// sent uncompressed (ws's rule and default, 1024). With takeover every message is compressed:
    /// a small message still feeds the window the next ones refer to.
    pub threshold: usize,
    /// Client: ask the server to reset its window per message. Server: always reset ours
    /// (`serverNoContextTakeover`). Default false.
    pub server_no_context_takeover: bool,
    /// Client: reset our window per message, and say so. Server: ask the client to
    /// (`clientNoContextTakeover`). Default false.
    pub client_no_context_takeover: bool,
    /// Client: ask the server to use at most 2^n (8 is asked as 9, see `negotiation`). Server:
    /// use at most 2^n (8..=15; None = as offered, else 15) (`serverMaxWindowBits`).
    pub server_max_window_bits: Option<u8>,
    /// Client: promise to use at most 2^n (None = 15). Server: ask the client for at most 2^n
    /// (8 is asked as 9), declining offers that cannot be limited (8..=15) (`clientMaxWindowBits`).
    pub client_max_window_bits: Option<u8>,
    /// zlib compression level, 0 (store) ..= 9 (smallest). Default 6, zlib's and so ws's default.
    pub level: u8,
    /// zlib memory level, 1..=9: the hash table and pending buffer take 2^(mem_level+9) bytes.
    /// Default 8, zlib's and so ws's default (Python websockets uses 5).
    pub mem_level: u8,
}

impl Default for DeflateConfig {
    fn default() -> Self {
        DeflateConfig {
            enabled: true,
            threshold: 1024,
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: None,
            client_max_window_bits: None,
            level: 6,
            mem_level: 8,
        }
    }
}

impl DeflateConfig {
    /// Whether permessage-deflate is on: `enabled`, in a build with the `permessage-deflate`
    /// feature. Without it this is the constant false (the configuration refuses `enabled`
    /// anyway), so the offer, the server's choice and the client's check are left out of the build.
    pub fn is_on(&self) -> bool {
        cfg!(feature = "permessage-deflate") && self.enabled
    }

    /// Checks every value against its documented range.
    pub fn validate(&self) -> Result<(), Error> {
        let window = |property: &'static str, bits: Option<u8>| match bits {
            Some(bits) if !(MIN_WINDOW_BITS..=MAX_WINDOW_BITS).contains(&bits) => Err(Error::PropertyOutOfRange {
                property,
                value: bits.into(),
                min: MIN_WINDOW_BITS.into(),
                max: MAX_WINDOW_BITS.into(),
            }),
            _ => Ok(()),
        };
        window("server_max_window_bits", self.server_max_window_bits)?;
        window("client_max_window_bits", self.client_max_window_bits)?;
        if self.level > 9 {
            return Err(Error::PropertyOutOfRange { property: "level", value: self.level.into(), min: 0, max: 9 });
        }
        if !(1..=9).contains(&self.mem_level) {
            return Err(Error::PropertyOutOfRange {
                property: "mem_level",
                value: self.mem_level.into(),
                min: 1,
                max: 9,
            });
        }
        Ok(())
    }
}

/// Both directions of one connection after a successful negotiation: the compressor for what it
/// sends and the inflater for what it receives.
#[derive(Debug)]
pub struct PerMessageDeflate {
    pub negotiated: Negotiated,
    pub threshold: usize,
    pub compressor: MessageCompressor,
    pub inflater: MessageInflater,
}

impl PerMessageDeflate {
    /// Whether a message whose first piece is `first_piece_len` bytes goes out compressed, when
    /// the application did not ask otherwise: ws's rule (its `Sender.send`), the threshold
    /// applying only without context takeover on our sending side.
    pub fn compresses(&self, first_piece_len: usize) -> bool {
        !self.negotiated.send.no_context_takeover || first_piece_len >= self.threshold
    }

    /// The transform for a negotiated connection; `config` gives the level, memory level and
    /// threshold (checked by [`DeflateConfig::validate`]; out-of-range values are clamped).
    #[cfg(feature = "permessage-deflate")]
    pub fn new(negotiated: Negotiated, config: &DeflateConfig) -> Result<Self, Error> {
        Ok(PerMessageDeflate {
            negotiated,
            threshold: config.threshold,
            compressor: MessageCompressor::new(negotiated.send, config.level, config.mem_level),
            inflater: MessageInflater::new(negotiated.receive),
        })
    }

    /// Without the `permessage-deflate` cargo feature there is no transform to make: the
    /// configuration refuses `PerMessageDeflate(true)`, so no negotiation gets here.
    #[cfg(not(feature = "permessage-deflate"))]
    pub fn new(_negotiated: Negotiated, _config: &DeflateConfig) -> Result<Self, Error> {
        Err(not_built())
    }
}

/// The error for turning permessage-deflate on in a build without it.
pub fn not_built() -> Error {
    Error::UnsupportedProperty {
        property: "permessage-deflate",
        why: "this build of wsaction leaves permessage-deflate out (cargo feature `permessage-deflate`; \
              in JS, handles asking for it are made by the package's deflate build)",
    }
}

impl MalformedExtensions {
    /// A server rejects a request whose `Sec-WebSocket-Extensions` does not parse with 400, as ws
    /// does (RFC 6455 4.2.1: "the server MUST stop processing the client's handshake").
    pub fn into_server_error(self) -> Error {
        Error::Handshake(HandshakeRejection {
            status: 400,
            headers: Vec::new(),
            problem: self.to_string(),
            hresult: hresult::E_INVALID_PROTOCOL_FORMAT,
        })
    }

    /// A client fails the connection over a response whose `Sec-WebSocket-Extensions` does not parse.
    pub fn into_client_error(self) -> Error {
        Error::Handshake(HandshakeRejection {
            status: 0,
            headers: Vec::new(),
            problem: self.to_string(),
            hresult: hresult::E_INVALID_PROTOCOL_FORMAT,
        })
    }
}

/// The server's half of the handshake for permessage-deflate: reads every `Sec-WebSocket-Extensions`
/// header of the request, accepts the first offer `config` allows, and returns the response element
/// (for the response's `Sec-WebSocket-Extensions`) with the transform. Ok(None) when deflate is off
/// or every offer was declined (RFC 7692 5: the response then names no PMCE); Err (400) when the
/// header does not parse.
pub fn negotiate_as_server(
    config: &DeflateConfig,
    request_headers: &[Header],
) -> Result<Option<(ExtensionElement, PerMessageDeflate)>, Error> {
    if !config.is_on() {
        return Ok(None);
    }
    let elements = parse_extension_headers(request_headers).map_err(MalformedExtensions::into_server_error)?;
    server_accept(config, &elements)
        .accepted
        .map(|accepted| Ok((accepted.response, PerMessageDeflate::new(accepted.negotiated, config)?)))
        .transpose()
}

/// The client's half: checks the response's `Sec-WebSocket-Extensions` against the offer
/// [`client_offer`] made. Ok(None) when the server declined; Err when the client must fail the
/// connection (the error's problem names the rule; [`NegotiationError::close_code`] is in it).
pub fn negotiate_as_client(
    config: &DeflateConfig,
    response_headers: &[Header],
) -> Result<Option<PerMessageDeflate>, Error> {
    let elements = parse_extension_headers(response_headers).map_err(MalformedExtensions::into_client_error)?;
    let negotiated = client_check_response(config, &elements).map_err(NegotiationError::into_error)?;
    negotiated.map(|negotiated| PerMessageDeflate::new(negotiated, config)).transpose()
}

#[cfg(all(test, feature = "permessage-deflate"))]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> Vec<Header> {
        pairs.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
    }

    #[test]
    fn a_server_and_a_client_negotiate_through_headers_and_exchange_a_message() {
        let client_config = DeflateConfig { client_max_window_bits: Some(10), ..Default::default() };
        let server_config = DeflateConfig { server_no_context_takeover: true, ..Default::default() };
        let offer = client_offer(&client_config).unwrap().to_header_text();
        let request = headers(&[
            ("Host", "x"),
            ("Sec-WebSocket-Extensions", "x-unknown; a=1"),
            ("Sec-WebSocket-Extensions", &offer),
        ]);
        let (response, mut server) = negotiate_as_server(&server_config, &request).unwrap().unwrap();
        assert_eq!(
            response.to_header_text(),
            "permessage-deflate; server_no_context_takeover; client_max_window_bits=10"
        );
        let mut client =
            negotiate_as_client(&client_config, &headers(&[("Sec-WebSocket-Extensions", &response.to_header_text())]))
                .unwrap()
                .unwrap();
        assert_eq!(client.negotiated.send, server.negotiated.receive);
        assert_eq!(server.negotiated.send, client.negotiated.receive);

        let mut payload = Vec::new();
        server.compressor.compress_message(b"Hello, Hello", &mut payload).unwrap();
        client.inflater.begin_message();
        let mut buffer = [0u8; 64];
        let step = client.inflater.inflate(&payload, true, &mut buffer, 1000).unwrap();
        assert_eq!((&buffer[..step.produced], step.state), (&b"Hello, Hello"[..], InflateState::MessageDone));
    }

    #[test]
    fn malformed_headers_reject_the_handshake() {
        let bad = headers(&[("Sec-WebSocket-Extensions", "permessage-deflate; x=\"a b\"")]);
        let error = negotiate_as_server(&DeflateConfig::default(), &bad).err().unwrap();
        assert_eq!(error.http_status(), Some(400));
        // With deflate off the header is not this module's business.
        assert!(negotiate_as_server(&DeflateConfig { enabled: false, ..Default::default() }, &bad).unwrap().is_none());
        let error = negotiate_as_client(&DeflateConfig::default(), &bad).err().unwrap();
        assert!(error.is_remote() && error.http_status().is_none());
        // A response that breaks RFC 7692 7 is a handshake failure too.
        let error = negotiate_as_client(
            &DeflateConfig::default(),
            &headers(&[("Sec-WebSocket-Extensions", "permessage-deflate; x")]),
        )
        .err()
        .unwrap();
        assert_eq!(error.hresult(), hresult::E_INVALID_PROTOCOL_FORMAT);
        // Declined: no element, no transform.
        assert!(negotiate_as_client(&DeflateConfig::default(), &headers(&[])).unwrap().is_none());
    }

    #[test]
    fn the_configuration_checks_its_ranges() {
        assert_eq!(DeflateConfig::default().validate(), Ok(()));
        let bad = [
            DeflateConfig { server_max_window_bits: Some(7), ..Default::default() },
            DeflateConfig { client_max_window_bits: Some(16), ..Default::default() },
            DeflateConfig { level: 10, ..Default::default() },
            DeflateConfig { mem_level: 0, ..Default::default() },
            DeflateConfig { mem_level: 10, ..Default::default() },
        ];
        for config in bad {
            assert!(matches!(config.validate(), Err(Error::PropertyOutOfRange { .. })), "{config:?}");
        }
        for bits in 8..=15 {
            let config = DeflateConfig {
                server_max_window_bits: Some(bits),
                client_max_window_bits: Some(bits),
                ..Default::default()
            };
            assert_eq!(config.validate(), Ok(()));
        }
    }

    #[test]
    fn window_bits_8_is_given_to_zlib_as_9() {
        assert_eq!(zlib_window_bits(8), 9);
        for bits in 9..=15 {
            assert_eq!(zlib_window_bits(bits), bits);
        }
    }

    #[test]
    fn the_threshold_applies_without_context_takeover_as_in_ws() {
        let config = DeflateConfig::default();
        let taking_over = client_check_response(&config, &parse_extension_list("permessage-deflate").unwrap()).unwrap();
        let transform = PerMessageDeflate::new(taking_over.unwrap(), &config).unwrap();
        assert!(transform.compresses(0) && transform.compresses(1023));
        let resetting = client_check_response(
            &config,
            &parse_extension_list("permessage-deflate; client_no_context_takeover").unwrap(),
        )
        .unwrap();
        let transform = PerMessageDeflate::new(resetting.unwrap(), &config).unwrap();
        assert!(!transform.compresses(1023));
        assert!(transform.compresses(1024));
    }
}
