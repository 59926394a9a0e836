//! The `Sec-WebSocket-Extensions` grammar (RFC 6455 section 9.1), for every extension, not only
//! permessage-deflate:
//!
//! ```text
//! Sec-WebSocket-Extensions = extension-list
//! extension-list = 1#extension
//! extension = extension-token *( ";" extension-param )
//! extension-param = token [ "=" (token | quoted-string) ]
//!     ; When using the quoted-string syntax variant, the value after quoted-string
//!     ; unescaping MUST conform to the 'token' ABNF.
//! ```
//!
//! `1#` is RFC 7230 section 7's list rule: elements separated by commas with optional whitespace,
//! and a recipient MUST accept (and ignore) empty elements. The header may also appear several
//! times; RFC 7230 section 3.2.2 makes that the same as one header whose values are joined by
//! commas, so the elements of all of them form one list in order.

use crate::wire::handshake::{is_token, same_name, Header};

/// One element of the list: an extension name and its parameters in the order sent. A parameter
/// without `=` has no value (`server_no_context_takeover`); a quoted value arrives unescaped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtensionElement {
    pub name: String,
    pub params: Vec<(String, Option<String>)>,
}

impl ExtensionElement {
    /// The element as header text: `name; p1; p2=v` (values are tokens, so never quoted).
    pub fn to_header_text(&self) -> String {
        let mut text = self.name.clone();
        for (name, value) in &self.params {
            text.push_str("; ");
            text.push_str(name);
            if let Some(value) = value {
                text.push('=');
                text.push_str(value);
            }
        }
        text
    }
}

/// Why a `Sec-WebSocket-Extensions` value does not parse: the byte offset and what was expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MalformedExtensions {
    pub offset: usize,
    pub problem: &'static str,
}

impl std::fmt::Display for MalformedExtensions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sec-WebSocket-Extensions does not parse at byte {}: {} (RFC 6455 9.1)", self.offset, self.problem)
    }
}

/// The elements of every `Sec-WebSocket-Extensions` header in `headers`, in order (RFC 7230 3.2.2).
pub fn parse_extension_headers(headers: &[Header]) -> Result<Vec<ExtensionElement>, MalformedExtensions> {
    let mut elements = Vec::new();
    for (name, value) in headers {
        if same_name(name, "sec-websocket-extensions") {
            elements.extend(parse_extension_list(value)?);
        }
    }
    Ok(elements)
}

/// Parses one header value into its elements.
pub fn parse_extension_list(value: &str) -> Result<Vec<ExtensionElement>, MalformedExtensions> {
    let mut parser = Parser { bytes: value.as_bytes(), at: 0 };
    let mut elements = Vec::new();
    loop {
        parser.skip_whitespace();
        if parser.at_end() {
            return Ok(elements);
        }
        // RFC 7230 7: empty list elements (", ,") are accepted and ignored.
        if parser.eat(b',') {
            continue;
        }
        elements.push(parser.element()?);
        parser.skip_whitespace();
        if !parser.at_end() && !parser.eat(b',') {
            return Err(parser.error("a comma or ';' after an extension element"));
        }
    }
}

struct Parser<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn at_end(&self) -> bool {
        self.at >= self.bytes.len()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    /// RFC 7230 3.2.3 OWS: spaces and horizontal tabs.
    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.at += 1;
        }
    }

    fn error(&self, problem: &'static str) -> MalformedExtensions {
        MalformedExtensions { offset: self.at, problem }
    }

    fn token(&mut self, what: &'static str) -> Result<String, MalformedExtensions> {
        let start = self.at;
        while let Some(byte) = self.peek() {
            if byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte) {
                self.at += 1;
            } else {
                break;
            }
        }
        if self.at == start {
            return Err(self.error(what));
        }
        // Token bytes are ASCII, so this is UTF-8 (and never the empty fallback). `from_utf8`, not
        // `from_utf8_lossy`: the lossy one's code (1.1 KB of the npm wasm) would replace nothing.
        Ok(std::str::from_utf8(&self.bytes[start..self.at]).unwrap_or_default().to_string())
    }

    /// RFC 7230 3.2.6 quoted-string, unescaped; RFC 6455 9.1 then requires a token inside.
    fn quoted_value(&mut self) -> Result<String, MalformedExtensions> {
        let open = self.at;
        self.at += 1; // the opening quote
        let mut value = Vec::new();
        loop {
            match self.peek() {
                None => {
                    self.at = open;
                    return Err(self.error("a closing '\"' for this quoted value"));
                }
                Some(b'"') => {
                    self.at += 1;
                    break;
                }
                Some(b'\\') => {
                    self.at += 1;
                    match self.peek() {
                        Some(escaped) if escaped == b'\t' || (b' '..=b'~').contains(&escaped) || escaped >= 0x80 => {
                            value.push(escaped);
                            self.at += 1;
                        }
                        _ => return Err(self.error("a visible character after '\\' in a quoted value")),
                    }
                }
                Some(byte) if byte == b'\t' || byte == b' ' || (0x21..=0x7e).contains(&byte) || byte >= 0x80 => {
                    value.push(byte);
                    self.at += 1;
                }
                Some(_) => return Err(self.error("no control characters inside a quoted value")),
            }
        }
        // Only ASCII backslashes were taken out of the header's UTF-8, so this is UTF-8; the empty
        // fallback (never taken) would fail the token check below, as non-ASCII does.
        let value = String::from_utf8(value).unwrap_or_default();
        if !is_token(&value) {
            self.at = open;
            return Err(self.error("a token inside the quotes (a quoted value must unescape to a token)"));
        }
        Ok(value)
    }

    fn element(&mut self) -> Result<ExtensionElement, MalformedExtensions> {
        let name = self.token("an extension name (a token)")?;
        let mut params = Vec::new();
        loop {
            self.skip_whitespace();
            if !self.eat(b';') {
                return Ok(ExtensionElement { name, params });
            }
            self.skip_whitespace();
            let param = self.token("a parameter name (a token) after ';'")?;
            self.skip_whitespace();
            let value = if self.eat(b'=') {
                self.skip_whitespace();
                if self.peek() == Some(b'"') {
                    Some(self.quoted_value()?)
                } else {
                    Some(self.token("a parameter value (a token or a quoted string) after '='")?)
                }
            } else {
                None
            };
            params.push((param, value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn element(name: &str, params: &[(&str, Option<&str>)]) -> ExtensionElement {
        ExtensionElement {
            name: name.into(),
            params: params.iter().map(|(n, v)| (n.to_string(), v.map(str::to_string))).collect(),
        }
    }

    #[test]
    fn parses_the_rfc_7692_section_5_2_and_7_1_3_examples() {
        let cases: &[(&str, Vec<ExtensionElement>)] = &[
            ("permessage-foo", vec![element("permessage-foo", &[])]),
            ("permessage-foo; x=10", vec![element("permessage-foo", &[("x", Some("10"))])]),
            ("permessage-foo; x=\"10\"", vec![element("permessage-foo", &[("x", Some("10"))])]),
            ("permessage-foo, permessage-bar", vec![element("permessage-foo", &[]), element("permessage-bar", &[])]),
            (
                "permessage-foo; use_y, permessage-foo",
                vec![element("permessage-foo", &[("use_y", None)]), element("permessage-foo", &[])],
            ),
            (
                "permessage-deflate;\r\n client_max_window_bits; server_max_window_bits=10,\r\n permessage-deflate;\r\n client_max_window_bits"
                    .replace("\r\n", "")
                    .leak(),
                vec![
                    element("permessage-deflate", &[("client_max_window_bits", None), ("server_max_window_bits", Some("10"))]),
                    element("permessage-deflate", &[("client_max_window_bits", None)]),
                ],
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(&parse_extension_list(text).unwrap(), expected, "{text}");
        }
    }

    #[test]
    fn whitespace_empty_elements_and_escapes() {
        assert_eq!(
            parse_extension_list(" ,\tx ;a = \"b\\c\" ;d ,, y ,").unwrap(),
            vec![element("x", &[("a", Some("bc")), ("d", None)]), element("y", &[])]
        );
        assert_eq!(parse_extension_list("").unwrap(), vec![]);
    }

    #[test]
    fn rejects_what_the_grammar_does_not_allow() {
        let bad = [
            ("x; a=\"1 0\"", "a quoted value that is not a token"),
            ("x; a=\"10", "an unclosed quote"),
            ("x; a=", "a missing value"),
            ("x;", "a missing parameter name"),
            ("x y", "two tokens without a separator"),
            ("x; a=1 2", "a value followed by a stray token"),
            ("; a", "a missing extension name"),
            ("x; a=\"\"", "an empty quoted value"),
            ("x; a=\"1\u{1}\"", "a control character in quotes"),
            ("x; a=b=c", "two '='"),
            ("\"x\"", "a quoted extension name"),
        ];
        for (text, why) in bad {
            assert!(parse_extension_list(text).is_err(), "{why}: {text:?} parsed");
        }
    }

    #[test]
    fn several_headers_form_one_list_in_order() {
        let headers = vec![
            ("Sec-WebSocket-Extensions".to_string(), "a; p=1".to_string()),
            ("Host".to_string(), "x".to_string()),
            ("sec-websocket-extensions".to_string(), "b, c".to_string()),
        ];
        let names: Vec<String> = parse_extension_headers(&headers).unwrap().into_iter().map(|e| e.name).collect();
        assert_eq!(names, ["a", "b", "c"]);
    }

    #[test]
    fn writes_elements_back_as_header_text() {
        let e = element(
            "permessage-deflate",
            &[("server_no_context_takeover", None), ("client_max_window_bits", Some("10"))],
        );
        assert_eq!(e.to_header_text(), "permessage-deflate; server_no_context_takeover; client_max_window_bits=10");
        assert_eq!(parse_extension_list(&e.to_header_text()).unwrap(), vec![e]);
    }
}
