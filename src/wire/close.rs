//! Close frame payloads (RFC 6455 5.5.1) and which close codes may cross the wire (7.4).

use super::utf8;
use crate::constants::{close_status, MAX_CLOSE_REASON_LENGTH};
use crate::error::{Error, Violation};

/// May `code` appear in a close frame? RFC 6455 7.4.1/7.4.2: 0-999 are unused; 1004 is reserved;
/// 1005, 1006 and 1015 "MUST NOT be set as a status code in a Close control frame"; 1016-2999 are
/// for future revisions of the protocol (unassigned); 3000-4999 are for libraries and applications;
/// nothing above 4999 is defined. 1012-1014 were registered with IANA after the RFC.
pub fn is_sendable_close_code(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// A received close payload: RFC 6455 5.5.1 "If there is a body, the first two bytes of the body
/// MUST be a 2-byte unsigned integer ... Following the 2-byte integer, the body MAY contain UTF-8
/// encoded data". Returns the status (1005 when absent, as websocket.h reports it).
pub fn parse_close_payload(payload: &[u8], verify_utf8: bool) -> Result<u16, Violation> {
    match payload.len() {
        0 => Ok(close_status::EMPTY),
        1 => Err(Violation::CloseFrameOneByte),
        _ => {
            let code = u16::from_be_bytes([payload[0], payload[1]]);
            if !is_sendable_close_code(code) {
                return Err(Violation::InvalidCloseCode { code });
            }
            if verify_utf8 && !utf8::is_valid(&payload[2..]) {
                return Err(Violation::InvalidUtf8InCloseReason);
            }
            Ok(code)
        }
    }
}

/// Checks a close the application wants to send and returns its payload. `None` or 1005 (EMPTY)
/// sends a close without a status, as websocket.h does for a NULL buffer.
pub fn build_close_payload(status: Option<u16>, reason: &[u8], verify_utf8: bool) -> Result<Vec<u8>, Error> {
    let status = match status {
        None | Some(close_status::EMPTY) => {
            if !reason.is_empty() {
                return Err(Error::invalid_argument(
                    "close reason",
                    "a reason needs a status code (RFC 6455 5.5.1: the body starts with the code)",
                ));
            }
            return Ok(Vec::new());
        }
        Some(code) => code,
    };
    // The code written as u32: one integer formatter fewer in the wasm (see error.rs).
    if !is_sendable_close_code(status) {
        return Err(Error::invalid_argument(
            "close status",
            format!("{} may not be sent (RFC 6455 7.4: use 1000-1003, 1007-1014 or 3000-4999)", u32::from(status)),
        ));
    }
    if reason.len() > MAX_CLOSE_REASON_LENGTH {
        return Err(Error::invalid_argument(
            "close reason",
            format!(
                "{} bytes is over the {MAX_CLOSE_REASON_LENGTH}-byte limit (WEB_SOCKET_MAX_CLOSE_REASON_LENGTH)",
                reason.len()
            ),
        ));
    }
    if verify_utf8 && !utf8::is_valid(reason) {
        return Err(Error::invalid_argument("close reason", "not valid UTF-8 (RFC 6455 5.5.1)"));
    }
    let mut payload = Vec::with_capacity(2 + reason.len());
    payload.extend_from_slice(&status.to_be_bytes());
    payload.extend_from_slice(reason);
    Ok(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_code_table() {
        for code in 0..=5000u16 {
            let expected = matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999);
            assert_eq!(is_sendable_close_code(code), expected, "{code}");
        }
        for bad in [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535] {
            assert!(!is_sendable_close_code(bad));
        }
    }

    #[test]
    fn parses_received_payloads() {
        assert_eq!(parse_close_payload(&[], true), Ok(1005));
        assert_eq!(parse_close_payload(&[3], true), Err(Violation::CloseFrameOneByte));
        assert_eq!(parse_close_payload(&[0x03, 0xE8, b'o', b'k'], true), Ok(1000));
        assert_eq!(parse_close_payload(&[0x03, 0xED], true), Err(Violation::InvalidCloseCode { code: 1005 }));
        assert_eq!(parse_close_payload(&[0x03, 0xE8, 0xFF], true), Err(Violation::InvalidUtf8InCloseReason));
        assert_eq!(parse_close_payload(&[0x03, 0xE8, 0xFF], false), Ok(1000));
    }

    #[test]
    fn builds_sent_payloads() {
        assert_eq!(build_close_payload(None, b"", true), Ok(vec![]));
        assert_eq!(build_close_payload(Some(1005), b"", true), Ok(vec![]));
        assert_eq!(build_close_payload(Some(1000), b"bye", true), Ok(vec![0x03, 0xE8, b'b', b'y', b'e']));
        assert!(build_close_payload(None, b"why", true).is_err());
        assert!(build_close_payload(Some(1006), b"", true).is_err());
        assert!(build_close_payload(Some(1000), &[b'x'; 124], true).is_err());
        assert!(build_close_payload(Some(1000), &[b'x'; 123], true).is_ok());
        assert!(build_close_payload(Some(1000), &[0xC0], true).is_err());
    }
}
