//! HTTP/1.1 head helpers for hosts that hold raw sockets (Deno.listen, a wasmtime host): parse a
//! request or response head from bytes that may arrive in pieces, and serialize one. Parsing is
//! httparse's; this module adds the bounds (header bytes and count) and owned results.

use super::handshake::Header;
use crate::config::Limits;
use crate::error::{Error, Quoted};

/// A parsed request head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestHead {
    pub method: String,
    pub target: String,
    /// 1 for HTTP/1.1, 0 for HTTP/1.0.
    pub minor_version: u8,
    pub headers: Vec<Header>,
}

/// A parsed response head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResponseHead {
    pub status: u16,
    pub reason: String,
    pub minor_version: u8,
    pub headers: Vec<Header>,
}

/// A head parsed from the front of a buffer: the head and how many bytes it took. Bytes after
/// `consumed` already belong to the WebSocket stream and must be fed to the handle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed<T> {
    pub head: T,
    pub consumed: usize,
}

fn malformed(status: u16, problem: impl Into<String>) -> Error {
    Error::MalformedHttp { problem: problem.into(), status }
}

fn owned_headers(headers: &[httparse::Header<'_>]) -> Result<Vec<Header>, Error> {
    headers
        .iter()
        .map(|h| match std::str::from_utf8(h.value) {
            Ok(value) => Ok((h.name.to_string(), value.to_string())),
            Err(_) => Err(malformed(400, format!("header {} is not UTF-8", h.name))),
        })
        .collect()
}

fn check_size(buf: &[u8], limits: &Limits) -> Result<(), Error> {
    if buf.len() > limits.max_handshake_header_bytes as usize {
        // Only a problem if the head did not end within the limit.
        let window = &buf[..limits.max_handshake_header_bytes as usize];
        if !window.windows(4).any(|w| w == b"\r\n\r\n") {
            return Err(malformed(
                431,
                format!("the head is over {} bytes (max handshake header bytes)", limits.max_handshake_header_bytes),
            ));
        }
    }
    Ok(())
}

fn map_parse_error(e: httparse::Error, limits: &Limits) -> Error {
    match e {
        httparse::Error::TooManyHeaders => {
            malformed(431, format!("more than {} header fields (max handshake headers)", limits.max_handshake_headers))
        }
        other => malformed(400, format!("not an HTTP/1.x head: {other}")),
    }
}

/// Either head as parsed, before it is named: a request's method (in `first`) and target, or a
/// response's status and reason (in `first`). One function parses both kinds, so the bounds,
/// the owned copies and their errors are compiled once (issue 12's size target).
pub(crate) struct Head {
    pub first: String,
    pub target: String,
    pub status: u16,
    pub minor_version: u8,
    pub headers: Vec<Header>,
}

/// A request head (`request`) or a response head from the front of `buf`: `Ok(None)` means "need
/// more bytes"; an error carries the status to answer with (400, or 431 when the head is over the
/// limits).
pub(crate) fn parse_head(buf: &[u8], limits: &Limits, request: bool) -> Result<Option<Parsed<Head>>, Error> {
    let mut storage = vec![httparse::EMPTY_HEADER; limits.max_handshake_headers as usize];
    let window = &buf[..buf.len().min(limits.max_handshake_header_bytes as usize)];
    let (parsed, first, target, status, version, headers) = if request {
        let mut head = httparse::Request::new(&mut storage);
        let parsed = head.parse(window);
        (parsed, head.method, head.path, 0, head.version, head.headers)
    } else {
        let mut head = httparse::Response::new(&mut storage);
        let parsed = head.parse(window);
        (parsed, head.reason, None, head.code.unwrap_or(0), head.version, head.headers)
    };
    match parsed {
        Ok(httparse::Status::Complete(consumed)) => Ok(Some(Parsed {
            head: Head {
                first: first.unwrap_or_default().to_string(),
                target: target.unwrap_or_default().to_string(),
                status,
                minor_version: version.unwrap_or(1),
                headers: owned_headers(headers)?,
            },
            consumed,
        })),
        Ok(httparse::Status::Partial) => {
            check_size(buf, limits)?;
            Ok(None)
        }
        Err(e) => Err(map_parse_error(e, limits)),
    }
}

/// Parses a request head from the front of `buf`. `Ok(None)` means "need more bytes"; an error
/// carries the status to answer with (400, or 431 when the head is over the limits).
pub fn parse_request_head(buf: &[u8], limits: &Limits) -> Result<Option<Parsed<RequestHead>>, Error> {
    Ok(parse_head(buf, limits, true)?.map(|Parsed { head, consumed }| Parsed {
        head: RequestHead {
            method: head.first,
            target: head.target,
            minor_version: head.minor_version,
            headers: head.headers,
        },
        consumed,
    }))
}

/// Parses a response head from the front of `buf`. `Ok(None)` means "need more bytes".
pub fn parse_response_head(buf: &[u8], limits: &Limits) -> Result<Option<Parsed<ResponseHead>>, Error> {
    Ok(parse_head(buf, limits, false)?.map(|Parsed { head, consumed }| Parsed {
        head: ResponseHead {
            status: head.status,
            reason: head.first,
            minor_version: head.minor_version,
            headers: head.headers,
        },
        consumed,
    }))
}

fn check_field(name: &str, value: &str) -> Result<(), Error> {
    if !super::handshake::is_token(name) || value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
        return Err(Error::invalid_argument(
            "header",
            format!("{} is not a valid header field (token name, no CR/LF/NUL in value)", Quoted(name)),
        ));
    }
    Ok(())
}

fn write_headers(out: &mut Vec<u8>, headers: &[Header]) -> Result<(), Error> {
    for (name, value) in headers {
        check_field(name, value)?;
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    Ok(())
}

/// Serializes `METHOD target HTTP/1.1`, the headers and the blank line.
pub fn serialize_request_head(method: &str, target: &str, headers: &[Header]) -> Result<Vec<u8>, Error> {
    if !super::handshake::is_token(method) || target.is_empty() || target.bytes().any(|b| b <= b' ' || b == 0x7F) {
        return Err(Error::invalid_argument(
            "request line",
            format!("{} {} is not a valid method and request target", Quoted(method), Quoted(target)),
        ));
    }
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(format!("{method} {target} HTTP/1.1\r\n").as_bytes());
    write_headers(&mut out, headers)?;
    Ok(out)
}

/// Serializes `HTTP/1.1 status reason`, the headers and the blank line.
pub fn serialize_response_head(status: u16, reason: &str, headers: &[Header]) -> Result<Vec<u8>, Error> {
    // The status written as u32: one integer formatter fewer in the wasm (see error.rs).
    if !(100..=999).contains(&status) || reason.bytes().any(|b| b == b'\r' || b == b'\n') {
        return Err(Error::invalid_argument(
            "status line",
            format!("{} {} is not a valid status and reason", u32::from(status), Quoted(reason)),
        ));
    }
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(format!("HTTP/1.1 {} {reason}\r\n", u32::from(status)).as_bytes());
    write_headers(&mut out, headers)?;
    Ok(out)
}

/// The standard reason phrase for the statuses a handshake uses.
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        101 => "Switching Protocols",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        426 => "Upgrade Required",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n\x81\x00";

    #[test]
    fn a_header_value_that_is_not_utf8_is_a_documented_400() {
        // RFC 9110 obs-text (here Latin-1 0xE9) is legal HTTP, but header values cross the
        // bindings as strings: wit/types.wit documents this rejection.
        let head = b"GET / HTTP/1.1\r\nHost: x\r\nX-Name: caf\xE9\r\n\r\n";
        let error = parse_request_head(head, &Limits::default()).unwrap_err();
        assert_eq!((error.code(), error.http_status()), ("MALFORMED_HTTP", Some(400)));
        assert!(error.to_string().contains("X-Name"), "{error}");
        let response = b"HTTP/1.1 101 Switching Protocols\r\nX-Name: caf\xE9\r\n\r\n";
        assert_eq!(parse_response_head(response, &Limits::default()).unwrap_err().http_status(), Some(400));
    }

    #[test]
    fn parses_request_in_any_split() {
        let limits = Limits::default();
        let head_len = REQUEST.len() - 2;
        for cut in 0..head_len {
            assert_eq!(parse_request_head(&REQUEST[..cut], &limits).unwrap(), None, "cut {cut}");
        }
        let parsed = parse_request_head(REQUEST, &limits).unwrap().unwrap();
        assert_eq!(parsed.consumed, head_len);
        assert_eq!(parsed.head.method, "GET");
        assert_eq!(parsed.head.target, "/chat");
        assert_eq!(parsed.head.headers.len(), 5);
    }

    #[test]
    fn bounds_and_garbage() {
        let limits = Limits { max_handshake_header_bytes: 256, max_handshake_headers: 8, ..Limits::default() };
        let mut long = b"GET / HTTP/1.1\r\nX: ".to_vec();
        long.extend(std::iter::repeat_n(b'a', 300));
        assert_eq!(parse_request_head(&long, &limits).unwrap_err().http_status(), Some(431));
        let mut many = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..9 {
            many.extend(format!("H{i}: v\r\n").as_bytes());
        }
        many.extend(b"\r\n");
        assert_eq!(parse_request_head(&many, &limits).unwrap_err().http_status(), Some(431));
        assert_eq!(parse_request_head(b"\x00\x01garbage\r\n\r\n", &limits).unwrap_err().http_status(), Some(400));
    }

    #[test]
    fn round_trips_response() {
        let headers = vec![("Upgrade".to_string(), "websocket".to_string())];
        let bytes = serialize_response_head(101, "Switching Protocols", &headers).unwrap();
        let parsed = parse_response_head(&bytes, &Limits::default()).unwrap().unwrap();
        assert_eq!(parsed.head.status, 101);
        assert_eq!(parsed.head.headers, headers);
        assert_eq!(parsed.consumed, bytes.len());
        assert!(serialize_response_head(101, "x", &[("Bad Name".into(), "v".into())]).is_err());
        assert!(serialize_request_head("GET", "/ x", &[]).is_err());
        assert!(serialize_response_head(101, "x", &[("X".into(), "a\r\nInjected: 1".into())]).is_err());
    }
}
