//! The opening handshake's header logic (RFC 6455 section 4): what a client adds, what it checks in
//! the response, what a server checks in the request and answers. HTTP framing itself is in `http`.

use super::keys;
use crate::constants::{hresult, SUPPORTED_VERSION};
use crate::error::{Error, HandshakeRejection, Quoted};

/// A header field as (name, value). Names compare case-insensitively.
pub type Header = (String, String);

/// RFC 6455 1.3: the GUID appended to the key before hashing.
const ACCEPT_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// `Sec-WebSocket-Accept` for a key: base64(SHA-1(key + GUID)) (RFC 6455 4.2.2 step 5.4).
pub fn accept_key(key: &str) -> String {
    keys::base64(&keys::sha1([key, ACCEPT_GUID].concat().as_bytes()))
}

/// ASCII case-insensitive equality, for header names, tokens and extension names (RFC 7230 3.2
/// and 3.2.6, RFC 6455 9.1). Out of line: inlined, each comparison with a constant name unrolled
/// into code of its own (issue 12's size target).
#[inline(never)]
pub(crate) fn same_name(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// All values of a header (repeated fields joined as RFC 7230 3.2.2 allows), or None if absent.
pub fn header_value(headers: &[Header], name: &str) -> Option<String> {
    let mut values = headers.iter().filter(|(n, _)| same_name(n, name)).map(|(_, v)| v.trim());
    let first = values.next()?;
    let mut joined = first.to_string();
    for more in values {
        joined.push_str(", ");
        joined.push_str(more);
    }
    Some(joined)
}

fn header_count(headers: &[Header], name: &str) -> usize {
    headers.iter().filter(|(n, _)| same_name(n, name)).count()
}

/// The comma-separated elements of a list header, trimmed, empty elements dropped (RFC 7230 7).
pub fn list_elements(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|s| !s.is_empty())
}

fn has_token(headers: &[Header], name: &str, token: &str) -> bool {
    header_value(headers, name).map(|v| list_elements(&v).any(|t| same_name(t, token))).unwrap_or(false)
}

/// RFC 7230 3.2.6 token characters (subprotocol names must be tokens, RFC 6455 4.1).
pub fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// The extension name: the first `;`-separated part of an offer (`permessage-deflate; x=1`).
pub fn extension_name(offer: &str) -> &str {
    offer.split(';').next().unwrap_or("").trim()
}

/// The subprotocols a client request offers, in its order (`Sec-WebSocket-Protocol`).
pub fn offered_subprotocols(request_headers: &[Header]) -> Vec<String> {
    header_value(request_headers, "sec-websocket-protocol")
        .map(|v| list_elements(&v).map(str::to_string).collect())
        .unwrap_or_default()
}

/// The extensions a client request offers, each with its parameters (`Sec-WebSocket-Extensions`).
pub fn offered_extensions(request_headers: &[Header]) -> Vec<String> {
    header_value(request_headers, "sec-websocket-extensions")
        .map(|v| list_elements(&v).map(str::to_string).collect())
        .unwrap_or_default()
}

fn check_header_text(argument: &'static str, name: &str, value: &str) -> Result<(), Error> {
    if !is_token(name) {
        return Err(Error::invalid_argument(argument, format!("header name {} is not an HTTP token", Quoted(name))));
    }
    if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
        return Err(Error::invalid_argument(argument, format!("header {name} has CR, LF or NUL in its value")));
    }
    Ok(())
}

/// Checks what a client asks to offer and builds the headers WebSocketBeginClientHandshake returns.
pub(crate) fn client_request_headers(
    key: &str,
    subprotocols: &[&str],
    extensions: &[&str],
    initial_headers: &[Header],
) -> Result<Vec<Header>, Error> {
    for (name, value) in initial_headers {
        check_header_text("initial header", name, value)?;
    }
    for (i, protocol) in subprotocols.iter().enumerate() {
        if !is_token(protocol) {
            return Err(Error::invalid_argument(
                "subprotocol",
                format!("{} is not a token (RFC 6455 4.1)", Quoted(protocol)),
            ));
        }
        if subprotocols[..i].contains(protocol) {
            return Err(Error::invalid_argument(
                "subprotocol",
                format!("{} is offered twice (RFC 6455 4.1: values MUST be unique)", Quoted(protocol)),
            ));
        }
    }
    for extension in extensions {
        if !is_token(extension_name(extension)) || extension.contains(',') {
            return Err(Error::invalid_argument(
                "extension",
                format!("{} is not one extension offer (RFC 6455 9.1)", Quoted(extension)),
            ));
        }
        check_header_text("extension", "Sec-WebSocket-Extensions", extension)?;
    }
    let mut headers = vec![
        ("Connection".to_string(), "Upgrade".to_string()),
        ("Upgrade".to_string(), "websocket".to_string()),
        ("Sec-WebSocket-Key".to_string(), key.to_string()),
        ("Sec-WebSocket-Version".to_string(), SUPPORTED_VERSION.to_string()),
    ];
    if !subprotocols.is_empty() {
        headers.push(("Sec-WebSocket-Protocol".to_string(), subprotocols.join(", ")));
    }
    if !extensions.is_empty() {
        headers.push(("Sec-WebSocket-Extensions".to_string(), extensions.join(", ")));
    }
    Ok(headers)
}

/// What WebSocketEndClientHandshake reports: indexes into what the client offered.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ClientHandshakeResult {
    /// Index of the subprotocol the server chose, if it chose one.
    pub selected_subprotocol: Option<u32>,
    /// Indexes of the extensions the server accepted, in the server's order.
    pub selected_extensions: Vec<u32>,
}

/// A server's response the client refuses. Out of line and taking a literal as it is: each
/// check's error is then its text and a call, not an allocation of its own (issue 12's size target).
#[inline(never)]
fn response_error(problem: impl Into<String>, hresult: u32) -> Error {
    Error::Handshake(HandshakeRejection { status: 0, headers: Vec::new(), problem: problem.into(), hresult })
}

/// Checks a server's response headers (RFC 6455 4.1, "the client MUST validate the server's response").
pub(crate) fn check_server_response(
    key: &str,
    subprotocols: &[String],
    extensions: &[String],
    response_headers: &[Header],
) -> Result<ClientHandshakeResult, Error> {
    let format = hresult::E_INVALID_PROTOCOL_FORMAT;
    // 4.1 step 2: Upgrade must be "websocket" (ASCII case-insensitive).
    if !has_token(response_headers, "upgrade", "websocket") {
        return Err(response_error(
            "the response's Upgrade header is missing or not \"websocket\" (RFC 6455 4.1)",
            format,
        ));
    }
    // 4.1 step 3: Connection must contain the token "Upgrade".
    if !has_token(response_headers, "connection", "upgrade") {
        return Err(response_error(
            "the response's Connection header lacks the \"Upgrade\" token (RFC 6455 4.1)",
            format,
        ));
    }
    // 4.1 step 4: Sec-WebSocket-Accept must be base64(SHA-1(key + GUID)).
    let expected = accept_key(key);
    match header_value(response_headers, "sec-websocket-accept") {
        Some(accept) if header_count(response_headers, "sec-websocket-accept") == 1 && accept == expected => {}
        Some(accept) => {
            return Err(response_error(
                format!(
                    "Sec-WebSocket-Accept {} does not match the key sent (expected {}, RFC 6455 4.1)",
                    Quoted(&accept),
                    Quoted(&expected)
                ),
                format,
            ))
        }
        None => return Err(response_error("the response has no Sec-WebSocket-Accept (RFC 6455 4.1)", format)),
    }
    // 4.1 step 5: only extensions the client offered.
    let mut selected_extensions = Vec::new();
    if let Some(value) = header_value(response_headers, "sec-websocket-extensions") {
        for accepted in list_elements(&value) {
            let name = extension_name(accepted);
            let index = extensions.iter().position(|offer| same_name(extension_name(offer), name));
            match index {
                Some(i) if !selected_extensions.contains(&(i as u32)) => selected_extensions.push(i as u32),
                _ => {
                    return Err(response_error(
                        format!("the server chose extension {}, which was not offered (RFC 6455 4.1)", Quoted(name)),
                        hresult::E_PROTOCOL_EXTENSIONS_NOT_SUPPORTED,
                    ))
                }
            }
        }
    }
    // 4.1 step 6: only a subprotocol the client offered.
    let selected_subprotocol = match header_value(response_headers, "sec-websocket-protocol") {
        None => None,
        Some(value) => {
            let chosen = value.trim();
            match subprotocols.iter().position(|p| p == chosen) {
                Some(i) if header_count(response_headers, "sec-websocket-protocol") == 1 => Some(i as u32),
                _ => {
                    return Err(response_error(
                        format!(
                            "the server chose subprotocol {}, which was not offered (RFC 6455 4.1)",
                            Quoted(chosen)
                        ),
                        hresult::E_SUBPROTOCOL_NOT_SUPPORTED,
                    ))
                }
            }
        }
    };
    Ok(ClientHandshakeResult { selected_subprotocol, selected_extensions })
}

/// A client's request the server rejects with `status` (out of line, as `response_error`).
#[inline(never)]
fn reject(status: u16, problem: impl Into<String>) -> Error {
    Error::Handshake(HandshakeRejection {
        status,
        headers: Vec::new(),
        problem: problem.into(),
        hresult: hresult::E_INVALID_PROTOCOL_FORMAT,
    })
}

/// Checks a client's request line (RFC 6455 4.1: "The method of the request MUST be GET, and the
/// HTTP version MUST be at least 1.1"). `http_minor_version` is 1 for HTTP/1.1.
pub fn check_request_line(method: &str, http_minor_version: u8) -> Result<(), Error> {
    if method != "GET" {
        let mut error = reject(405, format!("method {method} is not GET (RFC 6455 4.1)"));
        if let Error::Handshake(r) = &mut error {
            r.headers.push(("Allow".into(), "GET".into()));
        }
        return Err(error);
    }
    if http_minor_version < 1 {
        return Err(reject(505, "HTTP/1.0 cannot upgrade; HTTP/1.1 is required (RFC 6455 4.1)"));
    }
    Ok(())
}

/// Checks a client's request headers (RFC 6455 4.2.1) and returns its key.
pub(crate) fn check_client_request(request_headers: &[Header]) -> Result<String, Error> {
    // 4.2.1 item 2: a Host header field (its value may be empty, as .NET sends it).
    if header_count(request_headers, "host") != 1 {
        return Err(reject(400, "the request needs exactly one Host header (RFC 6455 4.2.1)"));
    }
    // 4.2.1 item 3: Upgrade containing "websocket".
    if !has_token(request_headers, "upgrade", "websocket") {
        return Err(reject(400, "the Upgrade header is missing or lacks \"websocket\" (RFC 6455 4.2.1)"));
    }
    // 4.2.1 item 4: Connection containing the token "Upgrade".
    if !has_token(request_headers, "connection", "upgrade") {
        return Err(reject(400, "the Connection header lacks the \"Upgrade\" token (RFC 6455 4.2.1)"));
    }
    // 4.2.1 item 6: Sec-WebSocket-Version 13, else 426 with the versions we speak (4.4).
    match header_value(request_headers, "sec-websocket-version") {
        None => return Err(reject(400, "the request has no Sec-WebSocket-Version (RFC 6455 4.2.1)")),
        Some(v) if v.trim() == "13" && header_count(request_headers, "sec-websocket-version") == 1 => {}
        Some(v) => {
            return Err(Error::Handshake(HandshakeRejection {
                status: 426,
                headers: vec![("Sec-WebSocket-Version".into(), SUPPORTED_VERSION.to_string())],
                problem: format!("Sec-WebSocket-Version {} is not supported; only 13 (RFC 6455 4.4)", Quoted(&v)),
                hresult: hresult::E_PROTOCOL_VERSION_NOT_SUPPORTED,
            }))
        }
    }
    // 4.2.1 item 5: Sec-WebSocket-Key, base64 that decodes to 16 bytes.
    let key = match header_value(request_headers, "sec-websocket-key") {
        Some(key) if header_count(request_headers, "sec-websocket-key") == 1 => key,
        Some(_) => return Err(reject(400, "the request has more than one Sec-WebSocket-Key (RFC 6455 4.2.1)")),
        None => return Err(reject(400, "the request has no Sec-WebSocket-Key (RFC 6455 4.2.1)")),
    };
    // Any other length, a character outside the alphabet, and padding or trailing bits out of
    // place are refused (RFC 4648 3.5: canonical encoding only).
    if keys::is_base64_of_16_bytes(&key) {
        Ok(key)
    } else {
        Err(reject(400, format!("Sec-WebSocket-Key {} is not base64 of 16 bytes (RFC 6455 4.2.1)", Quoted(&key))))
    }
}

/// Builds the 101 response headers, after checking the application's choices against the offer.
pub(crate) fn server_response_headers(
    key: &str,
    request_headers: &[Header],
    selected_subprotocol: Option<&str>,
    selected_extensions: &[&str],
) -> Result<Vec<Header>, Error> {
    if let Some(protocol) = selected_subprotocol {
        if !offered_subprotocols(request_headers).iter().any(|p| p == protocol) {
            return Err(Error::invalid_argument(
                "selected subprotocol",
                format!("{} was not offered by the client (RFC 6455 4.2.2)", Quoted(protocol)),
            ));
        }
    }
    let offered = offered_extensions(request_headers);
    for extension in selected_extensions {
        let name = extension_name(extension);
        if !offered.iter().any(|o| same_name(extension_name(o), name)) {
            return Err(Error::invalid_argument(
                "selected extension",
                format!("{} was not offered by the client (RFC 6455 4.2.2)", Quoted(name)),
            ));
        }
        check_header_text("selected extension", "Sec-WebSocket-Extensions", extension)?;
    }
    let mut headers = vec![
        ("Upgrade".to_string(), "websocket".to_string()),
        ("Connection".to_string(), "Upgrade".to_string()),
        ("Sec-WebSocket-Accept".to_string(), accept_key(key)),
    ];
    if let Some(protocol) = selected_subprotocol {
        headers.push(("Sec-WebSocket-Protocol".to_string(), protocol.to_string()));
    }
    if !selected_extensions.is_empty() {
        headers.push(("Sec-WebSocket-Extensions".to_string(), selected_extensions.join(", ")));
    }
    Ok(headers)
}

/// Base64 of 16 random bytes (RFC 6455 4.1: "a nonce consisting of a randomly selected 16-byte value").
pub(crate) fn encode_key(nonce: &[u8; 16]) -> String {
    keys::base64(nonce)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(name: &str, value: &str) -> Header {
        (name.to_string(), value.to_string())
    }

    #[test]
    fn rfc_accept_example() {
        // RFC 6455 1.3.
        assert_eq!(accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    fn good_request() -> Vec<Header> {
        vec![
            h("Host", "example.com"),
            h("Upgrade", "WebSocket"),
            h("Connection", "keep-alive, Upgrade"),
            h("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
            h("Sec-WebSocket-Version", "13"),
            h("Sec-WebSocket-Protocol", "chat, superchat"),
        ]
    }

    #[test]
    fn server_checks_each_request_header() {
        assert_eq!(check_client_request(&good_request()).unwrap(), "dGhlIHNhbXBsZSBub25jZQ==");
        let without = |name: &str| good_request().into_iter().filter(|(n, _)| n != name).collect::<Vec<_>>();
        for missing in ["Host", "Upgrade", "Connection", "Sec-WebSocket-Key", "Sec-WebSocket-Version"] {
            assert_eq!(check_client_request(&without(missing)).unwrap_err().http_status(), Some(400), "{missing}");
        }
        let mut v8 = without("Sec-WebSocket-Version");
        v8.push(h("Sec-WebSocket-Version", "8"));
        let e = check_client_request(&v8).unwrap_err();
        assert_eq!(e.http_status(), Some(426));
        assert_eq!(e.http_headers(), &[h("Sec-WebSocket-Version", "13")]);
        let mut short_key = without("Sec-WebSocket-Key");
        short_key.push(h("Sec-WebSocket-Key", "c2hvcnQ="));
        assert_eq!(check_client_request(&short_key).unwrap_err().http_status(), Some(400));
        assert_eq!(check_request_line("POST", 1).unwrap_err().http_status(), Some(405));
        assert_eq!(check_request_line("GET", 0).unwrap_err().http_status(), Some(505));
    }

    /// RFC 6455 4.2.1 item 5: base64 that decodes to 16 bytes, in its one canonical form (RFC 4648
    /// 3.5: padding and trailing bits as the encoder writes them).
    #[test]
    fn server_takes_only_base64_of_16_bytes_as_the_key() {
        let with_key = |key: &str| {
            let mut request: Vec<Header> =
                good_request().into_iter().filter(|(n, _)| n != "Sec-WebSocket-Key").collect();
            request.push(h("Sec-WebSocket-Key", key));
            check_client_request(&request)
        };
        for good in [
            "AAAAAAAAAAAAAAAAAAAAAA==",
            "/////////////////////w==",
            "dGhlIHNhbXBsZSBub25jZQ==",
            " 1234567890abcdefghijkQ== ",
        ] {
            assert!(with_key(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "dGhlIHNhbXBsZSBub25jZQ",        // no padding
            "dGhlIHNhbXBsZSBub25jZQ=",       // half the padding
            "dGhlIHNhbXBsZSBub25jZR==",      // trailing bits set (not canonical)
            "dGhlIHNhbXBsZSBub25jZQ==AAAA",  // 19 bytes
            "dGhlIHNhbXBsZSBub25j",          // 15 bytes
            "dGhlIHNhbXBsZSBub25jZQ-_",      // the URL-safe alphabet
            "dGhlIHNhbXBs ZSBub25jZQ==",     // a space inside
            "dGhlIHNhbXBsZSBub25jZQ==\u{0}", // a control character after it
        ] {
            let error = with_key(bad).unwrap_err();
            assert_eq!(error.http_status(), Some(400), "{bad:?}");
            assert!(error.to_string().contains("is not base64 of 16 bytes"), "{error}");
        }
    }

    #[test]
    fn server_response_only_with_offered_choices() {
        let req = good_request();
        let headers = server_response_headers("dGhlIHNhbXBsZSBub25jZQ==", &req, Some("superchat"), &[]).unwrap();
        assert!(headers.contains(&h("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")));
        assert!(headers.contains(&h("Sec-WebSocket-Protocol", "superchat")));
        assert!(server_response_headers("k", &req, Some("other"), &[]).is_err());
        assert!(server_response_headers("k", &req, None, &["permessage-deflate"]).is_err());
    }

    #[test]
    fn client_checks_response() {
        let key = "dGhlIHNhbXBsZSBub25jZQ==";
        let protocols = vec!["chat".to_string(), "superchat".to_string()];
        let extensions = vec!["x-a".to_string(), "x-b; p=1".to_string()];
        let good = vec![
            h("upgrade", "websocket"),
            h("connection", "Upgrade"),
            h("sec-websocket-accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
            h("sec-websocket-protocol", "superchat"),
            h("sec-websocket-extensions", "x-b; p=1"),
        ];
        let result = check_server_response(key, &protocols, &extensions, &good).unwrap();
        assert_eq!(result, ClientHandshakeResult { selected_subprotocol: Some(1), selected_extensions: vec![1] });
        let with = |name: &str, value: &str| {
            let mut r: Vec<Header> = good.iter().filter(|(n, _)| n != name).cloned().collect();
            r.push(h(name, value));
            r
        };
        let e = check_server_response(key, &protocols, &extensions, &with("sec-websocket-accept", "AAAA")).unwrap_err();
        assert_eq!(e.hresult(), hresult::E_INVALID_PROTOCOL_FORMAT);
        let e =
            check_server_response(key, &protocols, &extensions, &with("sec-websocket-protocol", "mqtt")).unwrap_err();
        assert_eq!(e.hresult(), hresult::E_SUBPROTOCOL_NOT_SUPPORTED);
        let e =
            check_server_response(key, &protocols, &extensions, &with("sec-websocket-extensions", "x-c")).unwrap_err();
        assert_eq!(e.hresult(), hresult::E_PROTOCOL_EXTENSIONS_NOT_SUPPORTED);
        assert!(check_server_response(key, &protocols, &extensions, &with("upgrade", "h2c")).is_err());
        assert!(check_server_response(key, &protocols, &extensions, &with("connection", "close")).is_err());
    }
}
