//! The wire codecs: bytes in, values out, and back. Nothing here knows about a handle, its state
//! or its queues; each codec is tested beside its code.
//!
//! - [`frame`]: frame headers (RFC 6455 5.2) and masking (5.3);
//! - [`close`]: close frame payloads, status codes and reasons (5.5.1, 7.4);
//! - [`utf8`]: incremental UTF-8 validation across pieces (8.1);
//! - [`handshake`]: the opening handshake's header checks and accept key (section 4);
//! - [`http`]: HTTP/1.1 request and response heads for the handshake;
//! - [`keys`]: SHA-1 and base64 for the handshake's keys (4.1, 4.2.2).

pub mod close;
pub mod frame;
pub mod handshake;
pub mod http;
pub(crate) mod keys;
pub mod utf8;
