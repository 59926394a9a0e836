//! Errors say who broke what. A *local* error means the caller misused the API (wrong state,
//! unknown action id, bad argument); nothing was sent and the handle is unchanged. A *remote*
//! error means the peer broke the protocol and carries what to answer with: the close code the
//! engine has queued in its failing close frame, or the HTTP status (and headers) a server
//! rejects the handshake with.

use crate::constants::{close_status, hresult};
use crate::state::State;
use std::fmt;

/// A string from a peer or a caller, quoted for an error message: `"` and `\\` escaped, tab, CR
/// and LF as `\\t`, `\\r`, `\\n`, and every other character outside printable ASCII as `\\u{..}`,
/// so that a header cannot put control characters (or text that renders unlike its bytes) into a
/// log line. (`{:?}` of a `str` escapes control characters too, but links in core's Unicode
/// printability tables: about 4 KB of the npm package's wasm, issue 12.)
pub(crate) struct Quoted<'a>(pub &'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use fmt::Write as _;
        f.write_char('"')?;
        for c in self.0.chars() {
            match c {
                '"' | '\\' => {
                    f.write_char('\\')?;
                    f.write_char(c)?;
                }
                ' '..='~' => f.write_char(c)?,
                '\t' => f.write_str("\\t")?,
                '\r' => f.write_str("\\r")?,
                '\n' => f.write_str("\\n")?,
                _ => write!(f, "\\u{{{:x}}}", c as u32)?,
            }
        }
        f.write_char('"')
    }
}

/// A peer's violation of RFC 6455 found in the frames it sent, with the rule it broke.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Violation {
    /// RSV1-3 set without an extension that defines them.
    ReservedBitsSet { bits: u8 },
    /// Opcodes 0x3-0x7 and 0xB-0xF are reserved.
    ReservedOpcode { opcode: u8 },
    /// A control frame with a payload over 125 bytes.
    ControlFrameTooLong { length: u64 },
    /// A control frame without FIN.
    FragmentedControlFrame { opcode: u8 },
    /// A continuation frame with no message started.
    UnexpectedContinuation,
    /// A text or binary frame while a fragmented message is still open.
    DataFrameInsideMessage { opcode: u8 },
    /// A client frame without the mask bit, at a server.
    UnmaskedClientFrame,
    /// A server frame with the mask bit, at a client.
    MaskedServerFrame,
    /// A 64-bit payload length with its most significant bit set.
    LengthTopBitSet,
    /// A close frame whose payload is a single byte.
    CloseFrameOneByte,
    /// A close code that may not appear on the wire.
    InvalidCloseCode { code: u16 },
    /// A byte sequence that is not UTF-8 in a text message.
    InvalidUtf8InText,
    /// A byte sequence that is not UTF-8 in a close reason.
    InvalidUtf8InCloseReason,
    /// A frame payload over the handle's `max_frame_size`.
    FrameTooBig { length: u64, limit: u64 },
    /// A message over the handle's `max_message_size` (summed over fragments).
    MessageTooBig { limit: u64 },
    /// A message spanning more frames than `max_fragments`.
    TooManyFragments { limit: u32 },
    /// RSV1 (permessage-deflate's "Per-Message Compressed" bit) on a control frame.
    CompressedControlFrame { opcode: u8 },
    /// RSV1 on a continuation frame: only a message's first frame may carry it.
    CompressedContinuation,
    /// A compressed message that does not inflate (zlib's reason).
    InvalidCompressedData { detail: &'static str },
}

impl Violation {
    /// The close code to fail the connection with (RFC 6455 section 7.4.1).
    pub fn close_code(&self) -> u16 {
        match self {
            // ws closes with 1007 when a compressed message does not inflate.
            Violation::InvalidUtf8InText
            | Violation::InvalidUtf8InCloseReason
            | Violation::InvalidCompressedData { .. } => close_status::INVALID_PAYLOAD,
            Violation::FrameTooBig { .. } | Violation::MessageTooBig { .. } | Violation::TooManyFragments { .. } => {
                close_status::MESSAGE_TOO_BIG
            }
            _ => close_status::PROTOCOL_ERROR,
        }
    }

    /// The RFC rule broken, with its section, as the text of the failing close frame and logs.
    pub fn rule(&self) -> &'static str {
        match self {
            Violation::ReservedBitsSet { .. } => {
                "RFC 6455 5.2: RSV1-3 MUST be 0 unless an extension is negotiated that defines them"
            }
            Violation::ReservedOpcode { .. } => "RFC 6455 5.2: reserved opcodes MUST NOT be used",
            Violation::ControlFrameTooLong { .. } => {
                "RFC 6455 5.5: control frames MUST have a payload of 125 bytes or less"
            }
            Violation::FragmentedControlFrame { .. } => "RFC 6455 5.5: control frames MUST NOT be fragmented",
            Violation::UnexpectedContinuation => {
                "RFC 6455 5.4: a continuation frame needs a started fragmented message"
            }
            Violation::DataFrameInsideMessage { .. } => {
                "RFC 6455 5.4: fragments of one message MUST NOT be interleaved with another message"
            }
            Violation::UnmaskedClientFrame => {
                "RFC 6455 5.1: a server MUST close the connection on an unmasked client frame"
            }
            Violation::MaskedServerFrame => "RFC 6455 5.1: a client MUST close the connection on a masked server frame",
            Violation::LengthTopBitSet => "RFC 6455 5.2: the most significant bit of a 64-bit length MUST be 0",
            Violation::CloseFrameOneByte => "RFC 6455 5.5.1: a close payload starts with a 2-byte status code",
            Violation::InvalidCloseCode { .. } => "RFC 6455 7.4.1: the close code may not be sent on the wire",
            Violation::InvalidUtf8InText => "RFC 6455 8.1: text data MUST be valid UTF-8",
            Violation::InvalidUtf8InCloseReason => "RFC 6455 5.5.1: a close reason MUST be valid UTF-8",
            Violation::FrameTooBig { .. } => "RFC 6455 10.4: frame larger than this endpoint's limit",
            Violation::MessageTooBig { .. } => "RFC 6455 10.4: message larger than this endpoint's limit",
            Violation::TooManyFragments { .. } => {
                "RFC 6455 10.4: message split into more frames than this endpoint's limit"
            }
            Violation::CompressedControlFrame { .. } => {
                "RFC 7692 6.1: the Per-Message Compressed bit (RSV1) MUST NOT be set on control frames"
            }
            Violation::CompressedContinuation => {
                "RFC 7692 6.1: the Per-Message Compressed bit (RSV1) MUST NOT be set on non-first fragments"
            }
            Violation::InvalidCompressedData { .. } => {
                "RFC 7692 7.2.2: a compressed message MUST inflate as DEFLATE data"
            }
        }
    }

    /// A stable identifier for the violation.
    pub fn code(&self) -> &'static str {
        match self {
            Violation::ReservedBitsSet { .. } => "RESERVED_BITS_SET",
            Violation::ReservedOpcode { .. } => "RESERVED_OPCODE",
            Violation::ControlFrameTooLong { .. } => "CONTROL_FRAME_TOO_LONG",
            Violation::FragmentedControlFrame { .. } => "FRAGMENTED_CONTROL_FRAME",
            Violation::UnexpectedContinuation => "UNEXPECTED_CONTINUATION",
            Violation::DataFrameInsideMessage { .. } => "DATA_FRAME_INSIDE_MESSAGE",
            Violation::UnmaskedClientFrame => "UNMASKED_CLIENT_FRAME",
            Violation::MaskedServerFrame => "MASKED_SERVER_FRAME",
            Violation::LengthTopBitSet => "LENGTH_TOP_BIT_SET",
            Violation::CloseFrameOneByte => "CLOSE_FRAME_ONE_BYTE",
            Violation::InvalidCloseCode { .. } => "INVALID_CLOSE_CODE",
            Violation::InvalidUtf8InText => "INVALID_UTF8",
            Violation::InvalidUtf8InCloseReason => "INVALID_UTF8_CLOSE_REASON",
            Violation::FrameTooBig { .. } => "FRAME_TOO_BIG",
            Violation::MessageTooBig { .. } => "MESSAGE_TOO_BIG",
            Violation::TooManyFragments { .. } => "TOO_MANY_FRAGMENTS",
            Violation::CompressedControlFrame { .. } => "COMPRESSED_CONTROL_FRAME",
            Violation::CompressedContinuation => "COMPRESSED_CONTINUATION",
            Violation::InvalidCompressedData { .. } => "INVALID_COMPRESSED_DATA",
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Written straight into `f`: a detail String per variant was 0.9 KB of the npm wasm.
        f.write_str(self.rule())?;
        match self {
            Violation::ReservedBitsSet { bits } => {
                // `0b` and at least three binary digits (RSV1-3), as `{:03b}` writes them.
                f.write_str(" (RSV bits 0b")?;
                for digit in (0..(u8::BITS - bits.leading_zeros()).max(3)).rev() {
                    f.write_str(if bits >> digit & 1 == 1 { "1" } else { "0" })?;
                }
                f.write_str(")")
            }
            // As u32, whose hex formatter core's panics keep in the wasm anyway (u8's is one more).
            Violation::ReservedOpcode { opcode }
            | Violation::FragmentedControlFrame { opcode }
            | Violation::DataFrameInsideMessage { opcode }
            | Violation::CompressedControlFrame { opcode } => write!(f, " (opcode 0x{:X})", u32::from(*opcode)),
            Violation::ControlFrameTooLong { length } => write!(f, " ({length} bytes)"),
            Violation::InvalidCloseCode { code } => write!(f, " ({})", u32::from(*code)),
            Violation::FrameTooBig { length, limit } => write!(f, " ({length} > {limit} bytes)"),
            Violation::MessageTooBig { limit } => write!(f, " (limit {limit} bytes)"),
            Violation::TooManyFragments { limit } => write!(f, " (limit {limit} frames)"),
            Violation::InvalidCompressedData { detail } => write!(f, " ({detail})"),
            _ => Ok(()),
        }
    }
}

/// Why a handshake failed. On a server it carries the HTTP response to reject with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HandshakeRejection {
    /// The HTTP status to answer with (server), or 0 when the peer is a server whose response was wrong.
    pub status: u16,
    /// Header fields to send with the rejection (for instance `Sec-WebSocket-Version: 13` with 426).
    pub headers: Vec<(String, String)>,
    /// What was wrong, naming the header and the RFC 6455 section 4 rule.
    pub problem: String,
    /// The websocket.h HRESULT for this failure.
    pub hresult: u32,
}

/// The engine's timers (see `Handle::tick`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Timer {
    /// The handshake did not complete within the handshake timeout.
    Handshake,
    /// The peer did not answer our close within the close timeout.
    Close,
    /// The peer sent nothing within the keep-alive timeout after a keep-alive ping.
    KeepAlive,
}

impl Timer {
    pub fn name(self) -> &'static str {
        match self {
            Timer::Handshake => "handshake",
            Timer::Close => "close",
            Timer::KeepAlive => "keep-alive",
        }
    }
}

/// Every failure a handle or a helper reports.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    // --- local: the caller misused the API ---
    /// The operation is not allowed in the handle's current state.
    InvalidState { operation: &'static str, state: State },
    /// An argument is wrong (its name and the problem).
    InvalidArgument { argument: &'static str, problem: String },
    /// A property value outside its documented range.
    PropertyOutOfRange { property: &'static str, value: u64, min: u64, max: u64 },
    /// A property websocket.h defines but that has no meaning here.
    UnsupportedProperty { property: &'static str, why: &'static str },
    /// `complete_action` with an id the handle is not waiting for (stale, repeated or invented).
    UnknownAction { id: u32 },
    /// A second send (or receive) while one is outstanding: websocket.h allows one of each.
    OperationPending { operation: &'static str },
    /// The randomness source failed (no CSPRNG on this platform).
    RandomUnavailable { problem: String },
    // --- resources: this connection needed memory the process could not give ---
    /// A buffer of this connection could not grow to `bytes`: the connection fails with 1011
    /// (its other work is cancelled) and every other connection goes on.
    OutOfMemory { buffer: &'static str, bytes: usize },
    // --- remote: the peer broke the protocol ---
    /// A frame broke RFC 6455; the engine has queued a close frame with `violation.close_code()`.
    ProtocolViolation(Violation),
    /// The handshake failed: a server answers with `status` and `headers`; a client fails the connection.
    Handshake(HandshakeRejection),
    /// An HTTP head that could not be parsed or that exceeded the header limits.
    MalformedHttp { problem: String, status: u16 },
    /// The peer let a timer run out (reported by `Handle::failure` after `tick`).
    Timeout { timer: Timer, waited_ms: u64 },
}

impl Error {
    /// `InvalidArgument`, out of line and taking a literal problem as it is: each of the many
    /// argument checks is then its text and a call (issue 12's size target).
    #[inline(never)]
    pub(crate) fn invalid_argument(argument: &'static str, problem: impl Into<String>) -> Error {
        Error::InvalidArgument { argument, problem: problem.into() }
    }

    /// True when the caller, not the peer, is at fault (memory the process could not give is
    /// neither's fault: `OutOfMemory` is neither local nor remote).
    pub fn is_local(&self) -> bool {
        !self.is_remote() && !matches!(self, Error::OutOfMemory { .. })
    }

    /// True when the peer is at fault (a protocol violation, a bad handshake, bad HTTP).
    pub fn is_remote(&self) -> bool {
        matches!(
            self,
            Error::ProtocolViolation(_) | Error::Handshake(_) | Error::MalformedHttp { .. } | Error::Timeout { .. }
        )
    }

    /// True when the handle failed its connection for this error (a peer's violation, a bad
    /// handshake, a timer, or memory the connection could not get): the close it queued, if any,
    /// is still to be written, and the handle takes no more work.
    pub fn fails_connection(&self) -> bool {
        self.is_remote() || matches!(self, Error::OutOfMemory { .. })
    }

    /// A stable string naming the error, for bindings (`err.code` in JS).
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidState { .. } => "INVALID_STATE",
            Error::InvalidArgument { .. } => "INVALID_ARGUMENT",
            Error::PropertyOutOfRange { .. } => "PROPERTY_OUT_OF_RANGE",
            Error::UnsupportedProperty { .. } => "UNSUPPORTED_PROPERTY",
            Error::UnknownAction { .. } => "UNKNOWN_ACTION",
            Error::OperationPending { .. } => "OPERATION_PENDING",
            Error::RandomUnavailable { .. } => "RANDOM_UNAVAILABLE",
            Error::OutOfMemory { .. } => "OUT_OF_MEMORY",
            Error::ProtocolViolation(_) => "PROTOCOL_VIOLATION",
            Error::Handshake(_) => "HANDSHAKE_FAILED",
            Error::MalformedHttp { .. } => "MALFORMED_HTTP",
            Error::Timeout { .. } => "TIMEOUT",
        }
    }

    /// The websocket.h HRESULT for this error.
    pub fn hresult(&self) -> u32 {
        match self {
            Error::InvalidState { .. } | Error::OperationPending { .. } => hresult::E_INVALID_PROTOCOL_OPERATION,
            Error::InvalidArgument { .. } | Error::PropertyOutOfRange { .. } | Error::UnsupportedProperty { .. } => {
                hresult::E_INVALIDARG
            }
            Error::UnknownAction { .. } => hresult::E_HANDLE,
            Error::RandomUnavailable { .. } => hresult::E_INVALID_STATE,
            Error::OutOfMemory { .. } => hresult::E_OUTOFMEMORY,
            Error::ProtocolViolation(_) | Error::MalformedHttp { .. } => hresult::E_INVALID_PROTOCOL_FORMAT,
            Error::Handshake(rejection) => rejection.hresult,
            Error::Timeout { .. } => hresult::E_TIMEOUT,
        }
    }

    /// The close code to answer with, for a peer's violation of the framing rules.
    pub fn close_code(&self) -> Option<u16> {
        match self {
            Error::ProtocolViolation(violation) => Some(violation.close_code()),
            // websockets (Python) and ws fail a silent peer with 1011 after a missed keep-alive.
            Error::Timeout { timer: Timer::KeepAlive, .. } => Some(close_status::SERVER_ERROR),
            // RFC 6455 7.4.1: 1011, "an unexpected condition that prevented it from fulfilling the request".
            Error::OutOfMemory { .. } => Some(close_status::SERVER_ERROR),
            _ => None,
        }
    }

    /// The HTTP status a server answers a failed handshake with.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Error::Handshake(rejection) if rejection.status != 0 => Some(rejection.status),
            Error::MalformedHttp { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The header fields to send with a server's rejection (empty when none are needed).
    pub fn http_headers(&self) -> &[(String, String)] {
        match self {
            Error::Handshake(rejection) => &rejection.headers,
            _ => &[],
        }
    }

    /// The violation, when the peer broke the framing rules.
    pub fn violation(&self) -> Option<&Violation> {
        match self {
            Error::ProtocolViolation(violation) => Some(violation),
            _ => None,
        }
    }
}

// Close codes and HTTP statuses (u16) are written as u32, here and at every other u16 in a message
// (close.rs, http.rs, negotiation.rs): u32's Display is in the wasm anyway (core's panics write
// usize with it), u16's was 0.26 KB of its own (issue 12's size target).
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidState { operation, state } => {
                write!(f, "caller error: {operation} is not allowed while the handle is {}", state.name())
            }
            Error::InvalidArgument { argument, problem } => {
                write!(f, "caller error: bad {argument}: {problem}")
            }
            Error::PropertyOutOfRange { property, value, min, max } => write!(
                f,
                "caller error: {property} {value} is out of range ({min}..={max})"
            ),
            Error::UnsupportedProperty { property, why } => {
                write!(f, "caller error: {property} is not supported: {why}")
            }
            Error::UnknownAction { id } => write!(
                f,
                "caller error: action {id} is not outstanding (completed already, stale, or never handed out)"
            ),
            Error::OperationPending { operation } => write!(
                f,
                "caller error: a {operation} is already outstanding; websocket.h allows one send and one receive at a time"
            ),
            Error::OutOfMemory { buffer, bytes } => write!(
                f,
                "out of memory: the connection's {buffer} could not get {bytes} bytes (the connection fails with 1011, or its upgrade is answered 503)"
            ),
            Error::RandomUnavailable { problem } => {
                write!(f, "platform error: no randomness source: {problem}")
            }
            Error::ProtocolViolation(violation) => write!(
                f,
                "peer error: {violation}; closing with {}",
                u32::from(violation.close_code())
            ),
            Error::Handshake(rejection) => {
                if rejection.status != 0 {
                    write!(f, "peer error: handshake rejected with HTTP {}: {}", u32::from(rejection.status), rejection.problem)
                } else {
                    write!(f, "peer error: handshake response rejected: {}", rejection.problem)
                }
            }
            Error::MalformedHttp { problem, status } => {
                write!(f, "peer error: malformed HTTP head ({}): {problem}", u32::from(*status))
            }
            Error::Timeout { timer, waited_ms } => {
                write!(f, "peer error: the {} timer ran out after {waited_ms} ms", timer.name())
            }
        }
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_keeps_printable_ascii_and_escapes_the_rest() {
        assert_eq!(Quoted("chat.v2").to_string(), r#""chat.v2""#);
        assert_eq!(Quoted(r#"a "b" \c"#).to_string(), r#""a \"b\" \\c""#);
        assert_eq!(Quoted("x\r\nSet-Cookie: y\t\0").to_string(), r#""x\r\nSet-Cookie: y\t\u{0}""#);
        // Anything outside printable ASCII, so a bidi override or a lookalike shows as what it is.
        assert_eq!(Quoted("caf\u{e9}\u{202e}\u{7f}").to_string(), r#""caf\u{e9}\u{202e}\u{7f}""#);
    }

    fn one_of_each() -> Vec<Error> {
        vec![
            Error::InvalidState { operation: "send", state: State::Closed },
            Error::InvalidArgument { argument: "buffer", problem: "bad".into() },
            Error::PropertyOutOfRange { property: "receive buffer size", value: 1, min: 256, max: 1 << 24 },
            Error::UnsupportedProperty { property: "allocated buffer", why: "owned" },
            Error::UnknownAction { id: 7 },
            Error::OperationPending { operation: "send" },
            Error::RandomUnavailable { problem: "none".into() },
            Error::ProtocolViolation(Violation::InvalidUtf8InText),
            Error::Handshake(HandshakeRejection {
                status: 426,
                headers: vec![("Sec-WebSocket-Version".into(), "13".into())],
                problem: "version".into(),
                hresult: hresult::E_PROTOCOL_VERSION_NOT_SUPPORTED,
            }),
            Error::MalformedHttp { problem: "garbage".into(), status: 400 },
            Error::Timeout { timer: Timer::KeepAlive, waited_ms: 10 },
        ]
    }

    #[test]
    fn errors_say_who_broke_what() {
        for error in one_of_each() {
            let text = error.to_string();
            if error.is_local() {
                assert!(text.starts_with("caller error") || text.starts_with("platform error"), "{text}");
                assert_eq!(error.close_code(), None);
                assert_eq!(error.http_status(), None);
            } else {
                assert!(text.starts_with("peer error"), "{text}");
            }
            assert_ne!(error.is_local(), error.is_remote());
        }
    }

    #[test]
    fn codes_are_stable_and_distinct() {
        let codes: Vec<&str> = one_of_each().iter().map(Error::code).collect();
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), codes.len(), "{codes:?}");
        assert!(codes.iter().all(|c| c.chars().all(|c| c.is_ascii_uppercase() || c == '_')));
    }

    #[test]
    fn what_a_remote_error_answers_with() {
        let errors = one_of_each();
        let violation = errors.iter().find(|e| e.violation().is_some()).unwrap();
        assert_eq!(violation.close_code(), Some(close_status::INVALID_PAYLOAD));
        assert_eq!(violation.hresult(), hresult::E_INVALID_PROTOCOL_FORMAT);
        let rejection = errors.iter().find(|e| e.code() == "HANDSHAKE_FAILED").unwrap();
        assert_eq!(rejection.http_status(), Some(426));
        assert_eq!(rejection.http_headers(), &[("Sec-WebSocket-Version".to_string(), "13".to_string())]);
        let keepalive = errors.iter().find(|e| e.code() == "TIMEOUT").unwrap();
        assert_eq!(keepalive.close_code(), Some(close_status::SERVER_ERROR));
    }

    #[test]
    fn reserved_bits_show_as_binary() {
        for bits in [0u8, 1, 4, 7, 8, 0x80, 0xFF] {
            let text = Violation::ReservedBitsSet { bits }.to_string();
            assert!(text.ends_with(&format!(" (RSV bits 0b{bits:03b})")), "{text}");
        }
    }

    #[test]
    fn every_violation_names_its_rule_and_close_code() {
        let violations = [
            Violation::ReservedBitsSet { bits: 4 },
            Violation::ReservedOpcode { opcode: 3 },
            Violation::ControlFrameTooLong { length: 126 },
            Violation::FragmentedControlFrame { opcode: 9 },
            Violation::UnexpectedContinuation,
            Violation::DataFrameInsideMessage { opcode: 1 },
            Violation::UnmaskedClientFrame,
            Violation::MaskedServerFrame,
            Violation::LengthTopBitSet,
            Violation::CloseFrameOneByte,
            Violation::InvalidCloseCode { code: 1005 },
            Violation::InvalidUtf8InText,
            Violation::InvalidUtf8InCloseReason,
            Violation::FrameTooBig { length: 2, limit: 1 },
            Violation::MessageTooBig { limit: 1 },
            Violation::TooManyFragments { limit: 1 },
        ];
        for violation in violations {
            assert!(violation.rule().starts_with("RFC 6455"), "{violation:?}");
            assert!([1002, 1007, 1009].contains(&violation.close_code()), "{violation:?}");
            // The failing close's reason is the code: at most 123 bytes with the status.
            assert!(violation.code().len() <= 123);
        }
    }
}
