//! Negotiating permessage-deflate in the opening handshake (RFC 7692 sections 5, 7 and 7.1), both
//! roles: the client's offer, the server's choice among the offers and its response, and the
//! client's check of that response against its own offer.
//!
//! The parameters, and who may send which (RFC 7692 7.1):
//!
//! | parameter | in an offer | in a response |
//! | --- | --- | --- |
//! | `server_no_context_takeover` | no value: "server, reset your window per message" (a request) | no value: the server resets (MAY appear unasked) |
//! | `client_no_context_takeover` | no value: "I will reset anyway" (a hint) | no value: "client, reset per message" (the client MUST support it) |
//! | `server_max_window_bits` | 8..=15: "server, use at most 2^n" (a request) | 8..=15, at most the offer's: what the server uses (MAY appear unasked) |
//! | `client_max_window_bits` | no value: "I understand it in a response"; 8..=15: also a hint | 8..=15, only if offered: "client, use at most 2^n" |

use super::header::ExtensionElement;
use super::{zlib_window_bits, DeflateConfig};
use crate::config::Role;
use crate::constants::{close_status, hresult};
use crate::error::{Error, HandshakeRejection};
use crate::wire::handshake::same_name;

/// The registered extension name (RFC 7692 section 9.1).
pub const EXTENSION_NAME: &str = "permessage-deflate";

const SERVER_NO_CONTEXT_TAKEOVER: &str = "server_no_context_takeover";
const CLIENT_NO_CONTEXT_TAKEOVER: &str = "client_no_context_takeover";
const SERVER_MAX_WINDOW_BITS: &str = "server_max_window_bits";
const CLIENT_MAX_WINDOW_BITS: &str = "client_max_window_bits";

/// The smallest and largest LZ77 window, as base-2 logarithms (RFC 7692 7.1.2).
pub const MIN_WINDOW_BITS: u8 = 8;
pub const MAX_WINDOW_BITS: u8 = 15;

/// The "agreed parameters" (RFC 7692 section 5): exactly what the server's response element says.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AgreedParameters {
    pub server_no_context_takeover: bool,
    pub client_no_context_takeover: bool,
    pub server_max_window_bits: Option<u8>,
    pub client_max_window_bits: Option<u8>,
}

impl AgreedParameters {
    /// The response element that states these parameters (RFC 7692 7.1), parameters in the RFC's order.
    pub fn to_element(&self) -> ExtensionElement {
        let mut params = Vec::new();
        if self.server_no_context_takeover {
            params.push((SERVER_NO_CONTEXT_TAKEOVER.to_string(), None));
        }
        if self.client_no_context_takeover {
            params.push((CLIENT_NO_CONTEXT_TAKEOVER.to_string(), None));
        }
        if let Some(bits) = self.server_max_window_bits {
            params.push((SERVER_MAX_WINDOW_BITS.to_string(), Some(bits.to_string())));
        }
        if let Some(bits) = self.client_max_window_bits {
            params.push((CLIENT_MAX_WINDOW_BITS.to_string(), Some(bits.to_string())));
        }
        ExtensionElement { name: EXTENSION_NAME.to_string(), params }
    }

    /// The `Sec-WebSocket-Extensions` element text, e.g. `permessage-deflate; server_max_window_bits=10`.
    pub fn to_header_text(&self) -> String {
        self.to_element().to_header_text()
    }
}

/// How one direction of the connection compresses: the LZ77 window (8..=15, as agreed; see
/// `zlib_window_bits` for what zlib is given) and whether each message starts from an empty window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Direction {
    pub window_bits: u8,
    pub no_context_takeover: bool,
}

/// What one endpoint does after a successful negotiation: the agreed parameters as sent, and the
/// send and receive directions they imply for this endpoint's role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Negotiated {
    pub role: Role,
    pub agreed: AgreedParameters,
    /// How this endpoint compresses what it sends.
    pub send: Direction,
    /// How the peer compresses what this endpoint receives (what its inflater must hold).
    pub receive: Direction,
}

impl Negotiated {
    fn new(role: Role, agreed: AgreedParameters, client_resets_anyway: bool, client_window_hint: Option<u8>) -> Self {
        // RFC 7692 7.2.2: without a server_max_window_bits (client_max_window_bits) in the agreed
        // parameters, the receiver MUST use a 32,768-byte window.
        let server = Direction {
            window_bits: agreed.server_max_window_bits.unwrap_or(MAX_WINDOW_BITS),
            no_context_takeover: agreed.server_no_context_takeover,
        };
        let client = Direction {
            // RFC 7692 7.1.2.2: a client that offered a value promised not to exceed it, even if
            // the response leaves the parameter out.
            window_bits: agreed.client_max_window_bits.or(client_window_hint).unwrap_or(MAX_WINDOW_BITS),
            no_context_takeover: agreed.client_no_context_takeover,
        };
        match role {
            Role::Client => Negotiated {
                role,
                agreed,
                // RFC 7692 7.2.1: a client that offered client_no_context_takeover MAY still take
                // over when the response lacks it; resetting anyway keeps the promise of its hint.
                send: Direction { no_context_takeover: client.no_context_takeover || client_resets_anyway, ..client },
                receive: server,
            },
            Role::Server => Negotiated { role, agreed, send: server, receive: client },
        }
    }
}

/// The limit this endpoint asks the peer's compressor for: 8 is asked as 9. This endpoint inflates
/// a window of 8 with 9 anyway (see [`zlib_window_bits`]), so asking for 8 would save nothing here,
/// while a peer on zlib cannot compress with 8 (Python websockets declines rather than try).
fn peer_window_limit(configured: Option<u8>) -> Option<u8> {
    configured.map(zlib_window_bits)
}

/// What a client offers, from its configuration (RFC 7692 7.1): None when deflate is off.
///
/// `client_max_window_bits` is always offered, without a value unless one is configured, to say
/// the client understands it in a response (RFC 7692 7.1.2.2), as ws and websockets do.
pub fn client_offer(config: &DeflateConfig) -> Option<ExtensionElement> {
    if !config.is_on() {
        return None;
    }
    let mut params = Vec::new();
    if config.server_no_context_takeover {
        params.push((SERVER_NO_CONTEXT_TAKEOVER.to_string(), None));
    }
    if config.client_no_context_takeover {
        params.push((CLIENT_NO_CONTEXT_TAKEOVER.to_string(), None));
    }
    if let Some(bits) = peer_window_limit(config.server_max_window_bits) {
        params.push((SERVER_MAX_WINDOW_BITS.to_string(), Some(bits.to_string())));
    }
    params.push((CLIENT_MAX_WINDOW_BITS.to_string(), config.client_max_window_bits.map(|bits| bits.to_string())));
    Some(ExtensionElement { name: EXTENSION_NAME.to_string(), params })
}

/// The parameters of one offer or response, checked against RFC 7692 7.1 (names, values, duplicates).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Params {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    /// `Some(None)`: present without a value (allowed in an offer only).
    client_max_window_bits: Option<Option<u8>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sender {
    Client,
    Server,
}

/// RFC 7692 7.1.2.1 / 7.1.2.2: "a decimal integer value without leading zeroes between 8 to 15".
fn window_bits_value(value: &str) -> Option<u8> {
    let bits: u8 = match value.as_bytes() {
        [d @ b'8'..=b'9'] => d - b'0',
        [b'1', d @ b'0'..=b'5'] => 10 + (d - b'0'),
        _ => return None,
    };
    Some(bits)
}

fn parse_params(element: &ExtensionElement, sender: Sender) -> Result<Params, String> {
    let mut params = Params::default();
    let mut seen: Vec<&str> = Vec::new();
    for (name, value) in &element.params {
        let key =
            [SERVER_NO_CONTEXT_TAKEOVER, CLIENT_NO_CONTEXT_TAKEOVER, SERVER_MAX_WINDOW_BITS, CLIENT_MAX_WINDOW_BITS]
                .into_iter()
                .find(|known| same_name(known, name));
        let Some(key) = key else {
            // RFC 7692 7: "an extension parameter not defined for use in an offer / a response".
            return Err(format!("unknown parameter {name:?} (RFC 7692 7)"));
        };
        if seen.contains(&key) {
            // RFC 7692 7: "multiple extension parameters with the same name".
            return Err(format!("parameter {key} appears twice (RFC 7692 7)"));
        }
        seen.push(key);
        let invalid = |rule: &str| format!("invalid value {value:?} for {key} ({rule})");
        match key {
            SERVER_NO_CONTEXT_TAKEOVER | CLIENT_NO_CONTEXT_TAKEOVER => {
                // RFC 7692 7.1.1.1 / 7.1.1.2: "This extension parameter has no value."
                if value.is_some() {
                    return Err(invalid("RFC 7692 7.1.1: it has no value"));
                }
                if key == SERVER_NO_CONTEXT_TAKEOVER {
                    params.server_no_context_takeover = true;
                } else {
                    params.client_no_context_takeover = true;
                }
            }
            SERVER_MAX_WINDOW_BITS => {
                // RFC 7692 7.1.2.1: a value is required, in an offer and in a response.
                let bits = value.as_deref().and_then(window_bits_value);
                params.server_max_window_bits =
                    Some(bits.ok_or_else(|| invalid("RFC 7692 7.1.2.1: 8..=15 without leading zeroes"))?);
            }
            _ => {
                // RFC 7692 7.1.2.2: without a value in an offer; with one in a response.
                params.client_max_window_bits = Some(match value {
                    None if sender == Sender::Client => None,
                    None => return Err(invalid("RFC 7692 7.1.2.2: a response gives it a value")),
                    Some(text) => Some(
                        window_bits_value(text)
                            .ok_or_else(|| invalid("RFC 7692 7.1.2.2: 8..=15 without leading zeroes"))?,
                    ),
                });
            }
        }
    }
    Ok(params)
}

/// One offer the server declined, and why (RFC 7692 7 lists the reasons a server MUST decline).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeclinedOffer {
    /// Index of the offer among all elements of the request's `Sec-WebSocket-Extensions`.
    pub index: usize,
    pub reason: String,
}

/// The offer a server accepted: which one, the response element, and what it means for this server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AcceptedOffer {
    /// Index of the offer among all elements of the request's `Sec-WebSocket-Extensions`.
    pub index: usize,
    /// The element to put in the response's `Sec-WebSocket-Extensions`.
    pub response: ExtensionElement,
    pub negotiated: Negotiated,
}

/// A server's decision over a request's extension elements: the first permessage-deflate offer
/// it can accept (RFC 7692 5: the order is the client's preference), and why earlier ones failed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerNegotiation {
    pub accepted: Option<AcceptedOffer>,
    pub declined: Vec<DeclinedOffer>,
}

/// Picks the first permessage-deflate offer among `elements` that this server's configuration can
/// accept, and builds its response. Elements for other extensions are skipped. Declining is never
/// an error: the handshake proceeds without compression (RFC 7692 5, "A server declining all
/// offered PMCEs MUST NOT include any element with PMCE names").
pub fn server_accept(config: &DeflateConfig, elements: &[ExtensionElement]) -> ServerNegotiation {
    let mut decision = ServerNegotiation::default();
    for (index, element) in elements.iter().enumerate() {
        if !same_name(&element.name, EXTENSION_NAME) {
            continue;
        }
        if !config.is_on() {
            decision
                .declined
                .push(DeclinedOffer { index, reason: "this server does not accept permessage-deflate".into() });
            continue;
        }
        match server_answer(config, element) {
            Ok(agreed) => {
                let hint = None; // the hint matters to the client only; the server reads `agreed`
                decision.accepted = Some(AcceptedOffer {
                    index,
                    response: agreed.to_element(),
                    negotiated: Negotiated::new(Role::Server, agreed, false, hint),
                });
                return decision;
            }
            Err(reason) => decision.declined.push(DeclinedOffer { index, reason }),
        }
    }
    decision
}

/// The agreed parameters a server answers one offer with, or why it declines it.
fn server_answer(config: &DeflateConfig, offer: &ExtensionElement) -> Result<AgreedParameters, String> {
    // RFC 7692 7: decline offers with unknown parameters, invalid values or duplicates.
    let offered = parse_params(offer, Sender::Client)?;
    let mut agreed = AgreedParameters {
        // RFC 7692 7.1.1.1: accept a requested server_no_context_takeover by echoing it; a server
        // MAY also include it unasked.
        server_no_context_takeover: offered.server_no_context_takeover || config.server_no_context_takeover,
        // RFC 7692 7.1.1.2: a server MAY include it; when the client hinted it will not take over
        // anyway, echoing it lets this server free its inflater between messages (as ws and
        // websockets echo it).
        client_no_context_takeover: offered.client_no_context_takeover || config.client_no_context_takeover,
        ..AgreedParameters::default()
    };
    // RFC 7692 7.1.2.1: answer a requested server_max_window_bits with "the same or smaller
    // value"; a server MAY include it unasked.
    agreed.server_max_window_bits = match (offered.server_max_window_bits, config.server_max_window_bits) {
        (Some(requested), Some(ours)) => Some(requested.min(ours)),
        (requested, ours) => requested.or(ours),
    };
    // RFC 7692 7.1.2.2: client_max_window_bits only in answer to an offer that has it, at most the
    // offered value (a hint the server may use to allocate less).
    agreed.client_max_window_bits = match (
        offered.client_max_window_bits,
        peer_window_limit(config.client_max_window_bits),
    ) {
        (None, Some(ours)) => {
            // The client cannot be told to use a smaller window, and this server is configured
            // not to hold a larger one: the configuration is unsupported (RFC 7692 7), as ws does.
            return Err(format!(
                "the offer lacks {CLIENT_MAX_WINDOW_BITS} and this server limits the client's window to {ours} bits (RFC 7692 7.1.2.2)"
            ));
        }
        (None, None) => None,
        (Some(hint), ours) => match (hint, ours) {
            (Some(hint), Some(ours)) => Some(hint.min(ours)),
            (hint, ours) => hint.or(ours),
        },
    };
    Ok(agreed)
}

/// Why a client fails the connection over the server's permessage-deflate response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NegotiationError {
    /// What was wrong, naming the parameter and the RFC 7692 rule.
    pub problem: String,
    /// 1002 when the response is malformed, 1010 when it is well formed but unacceptable
    /// (RFC 7692 5.1: "the client starts the closing handshake with close code 1010").
    pub close_code: u16,
}

impl NegotiationError {
    fn malformed(problem: String) -> Self {
        NegotiationError { problem, close_code: close_status::PROTOCOL_ERROR }
    }

    fn unacceptable(problem: String) -> Self {
        NegotiationError { problem, close_code: close_status::UNSUPPORTED_EXTENSIONS }
    }

    /// The handshake error a client handle reports (`Error::Handshake`, no HTTP status).
    pub fn into_error(self) -> Error {
        let hresult = if self.close_code == close_status::UNSUPPORTED_EXTENSIONS {
            hresult::E_PROTOCOL_EXTENSIONS_NOT_SUPPORTED
        } else {
            hresult::E_INVALID_PROTOCOL_FORMAT
        };
        Error::Handshake(HandshakeRejection {
            status: 0,
            headers: Vec::new(),
            problem: format!("permessage-deflate: {}", self.problem),
            hresult,
        })
    }
}

impl std::fmt::Display for NegotiationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The code written as u32: one integer formatter fewer in the wasm (see error.rs).
        write!(f, "permessage-deflate response rejected ({}): {}", u32::from(self.close_code), self.problem)
    }
}

/// A client's check of the server's response elements against the offer `client_offer(config)`
/// made (RFC 7692 5 and 7): Ok(None) when the server declined, Ok(Some) with what to do, or the
/// reason to fail the connection.
pub fn client_check_response(
    config: &DeflateConfig,
    response: &[ExtensionElement],
) -> Result<Option<Negotiated>, NegotiationError> {
    let mut ours = response.iter().filter(|e| same_name(&e.name, EXTENSION_NAME));
    let Some(element) = ours.next() else {
        return Ok(None);
    };
    if !config.is_on() {
        // RFC 7692 5: "such as accepting a PMCE that the client did not offer".
        return Err(NegotiationError::malformed(
            "the server accepted permessage-deflate, which was not offered (RFC 7692 5)".into(),
        ));
    }
    if ours.next().is_some() {
        // This client made one offer, so it can be accepted once (RFC 7692 5: one element per accepted PMCE).
        return Err(NegotiationError::malformed("the response accepts permessage-deflate twice (RFC 7692 5)".into()));
    }
    // RFC 7692 7: fail on unknown parameters, invalid values, duplicates.
    let answered = parse_params(element, Sender::Server).map_err(NegotiationError::malformed)?;
    let client_max_window_bits = answered.client_max_window_bits.flatten();

    // RFC 7692 7.1.1.1: a server accepts a requested server_no_context_takeover by including it.
    if config.server_no_context_takeover && !answered.server_no_context_takeover {
        return Err(NegotiationError::unacceptable(
            "the offer requested server_no_context_takeover and the response lacks it (RFC 7692 7.1.1.1)".into(),
        ));
    }
    // RFC 7692 7.1.2.1: a requested server_max_window_bits is answered with the same or smaller value.
    if let Some(requested) = peer_window_limit(config.server_max_window_bits) {
        match answered.server_max_window_bits {
            None => {
                return Err(NegotiationError::unacceptable(format!(
                "the offer requested server_max_window_bits={requested} and the response lacks it (RFC 7692 7.1.2.1)"
            )))
            }
            Some(bits) if bits > requested => {
                return Err(NegotiationError::unacceptable(format!(
                    "server_max_window_bits={bits} exceeds the {requested} requested (RFC 7692 7.1.2.1)"
                )))
            }
            Some(_) => {}
        }
    }
    // RFC 7692 7.1.2.2: at most the value offered (this client always offers the parameter).
    if let (Some(bits), Some(offered)) = (client_max_window_bits, config.client_max_window_bits) {
        if bits > offered {
            return Err(NegotiationError::unacceptable(format!(
                "client_max_window_bits={bits} exceeds the {offered} offered (RFC 7692 7.1.2.2)"
            )));
        }
    }
    // RFC 7692 7.1.1.2: "A client MUST support the client_no_context_takeover extension parameter
    // in an extension negotiation response", so its presence is always acceptable.
    let agreed = AgreedParameters {
        server_no_context_takeover: answered.server_no_context_takeover,
        client_no_context_takeover: answered.client_no_context_takeover,
        server_max_window_bits: answered.server_max_window_bits,
        client_max_window_bits,
    };
    Ok(Some(Negotiated::new(Role::Client, agreed, config.client_no_context_takeover, config.client_max_window_bits)))
}

// The negotiation rules need a configuration that can turn permessage-deflate on.
#[cfg(all(test, feature = "permessage-deflate"))]
mod tests {
    use super::super::header::parse_extension_list;
    use super::*;

    fn config() -> DeflateConfig {
        DeflateConfig::default()
    }

    fn accept(config: &DeflateConfig, request: &str) -> Option<String> {
        let elements = parse_extension_list(request).unwrap();
        server_accept(config, &elements).accepted.map(|a| a.response.to_header_text())
    }

    #[test]
    fn client_offers_follow_the_configuration() {
        let cases: &[(DeflateConfig, Option<&str>)] = &[
            (config(), Some("permessage-deflate; client_max_window_bits")),
            (DeflateConfig { enabled: false, ..config() }, None),
            (
                DeflateConfig {
                    server_no_context_takeover: true,
                    client_no_context_takeover: true,
                    server_max_window_bits: Some(10),
                    client_max_window_bits: Some(9),
                    ..config()
                },
                Some("permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=9"),
            ),
            // The peer's window is asked for as zlib runs it: 8 as 9. A promise about our own
            // window (client_max_window_bits) stays 8: we compress with 9 and reach back at most 250.
            (
                DeflateConfig { server_max_window_bits: Some(8), client_max_window_bits: Some(8), ..config() },
                Some("permessage-deflate; server_max_window_bits=9; client_max_window_bits=8"),
            ),
        ];
        for (config, expected) in cases {
            assert_eq!(client_offer(config).map(|e| e.to_header_text()).as_deref(), *expected);
        }
    }

    /// RFC 7692 7.1.3's examples, then every rule of section 7 for a server, as (config, request, response).
    #[test]
    fn server_accepts_the_first_offer_its_configuration_allows() {
        let limited_server = DeflateConfig { server_max_window_bits: Some(10), ..config() };
        let limited_client = DeflateConfig { client_max_window_bits: Some(10), ..config() };
        let limited_client_8 = DeflateConfig { client_max_window_bits: Some(8), ..config() };
        let resets = DeflateConfig { server_no_context_takeover: true, client_no_context_takeover: true, ..config() };
        let off = DeflateConfig { enabled: false, ..config() };
        let cases: &[(&DeflateConfig, &str, Option<&str>)] = &[
            // RFC 7692 7.1.3: the simplest offer and response.
            (&config(), "permessage-deflate", Some("permessage-deflate")),
            // RFC 7692 7.1.3: the two-offer example; this server accepts the first.
            (
                &config(),
                "permessage-deflate; client_max_window_bits; server_max_window_bits=10, permessage-deflate; client_max_window_bits",
                Some("permessage-deflate; server_max_window_bits=10"),
            ),
            // Other extensions are skipped; the order is the client's preference (RFC 7692 5).
            (&config(), "x-foo, permessage-deflate; server_max_window_bits=12", Some("permessage-deflate; server_max_window_bits=12")),
            // Quoted values unescape to tokens (RFC 6455 9.1).
            (&config(), "permessage-deflate; server_max_window_bits=\"9\"", Some("permessage-deflate; server_max_window_bits=9")),
            // Parameter names compare case-insensitively; the response uses the registered spelling.
            (&config(), "permessage-deflate; Server_No_Context_Takeover", Some("permessage-deflate; server_no_context_takeover")),
            // 7: unknown parameter, duplicates, a value on a no-value parameter, bad window values:
            // that offer is declined and the next one is tried.
            (&config(), "permessage-deflate; x=1, permessage-deflate", Some("permessage-deflate")),
            (&config(), "permessage-deflate; server_no_context_takeover; server_no_context_takeover", None),
            (&config(), "permessage-deflate; client_max_window_bits=10; client_max_window_bits=10", None),
            (&config(), "permessage-deflate; server_no_context_takeover=1", None),
            (&config(), "permessage-deflate; client_no_context_takeover=\"true\"", None),
            (&config(), "permessage-deflate; server_max_window_bits", None),
            (&config(), "permessage-deflate; server_max_window_bits=7", None),
            (&config(), "permessage-deflate; server_max_window_bits=16", None),
            (&config(), "permessage-deflate; server_max_window_bits=010", None),
            (&config(), "permessage-deflate; client_max_window_bits=08", None),
            (&config(), "permessage-deflate; client_max_window_bits=abc", None),
            // 7.1.1.1: a requested server_no_context_takeover is echoed.
            (&config(), "permessage-deflate; server_no_context_takeover", Some("permessage-deflate; server_no_context_takeover")),
            // 7.1.1.2: the client's hint is echoed, so this server can drop its window between messages.
            (&config(), "permessage-deflate; client_no_context_takeover", Some("permessage-deflate; client_no_context_takeover")),
            // 7.1.1.1 / 7.1.1.2: the server MAY include both unasked.
            (&resets, "permessage-deflate", Some("permessage-deflate; server_no_context_takeover; client_no_context_takeover")),
            // 7.1.2.1: same or smaller than requested; included unasked when configured.
            (&limited_server, "permessage-deflate; server_max_window_bits=12", Some("permessage-deflate; server_max_window_bits=10")),
            (&limited_server, "permessage-deflate; server_max_window_bits=8", Some("permessage-deflate; server_max_window_bits=8")),
            (&limited_server, "permessage-deflate", Some("permessage-deflate; server_max_window_bits=10")),
            // 7.1.2.2: client_max_window_bits only when offered; at most the offered value.
            (&config(), "permessage-deflate; client_max_window_bits", Some("permessage-deflate")),
            (&config(), "permessage-deflate; client_max_window_bits=11", Some("permessage-deflate; client_max_window_bits=11")),
            (&limited_client, "permessage-deflate; client_max_window_bits", Some("permessage-deflate; client_max_window_bits=10")),
            (&limited_client, "permessage-deflate; client_max_window_bits=9", Some("permessage-deflate; client_max_window_bits=9")),
            (&limited_client, "permessage-deflate; client_max_window_bits=14", Some("permessage-deflate; client_max_window_bits=10")),
            // A limit of 8 on the client is asked as 9, unless the client itself offered 8.
            (&limited_client_8, "permessage-deflate; client_max_window_bits", Some("permessage-deflate; client_max_window_bits=9")),
            (&limited_client_8, "permessage-deflate; client_max_window_bits=8", Some("permessage-deflate; client_max_window_bits=8")),
            // A server that limits the client's window declines an offer that cannot be limited (as ws).
            (&limited_client, "permessage-deflate", None),
            (&limited_client, "permessage-deflate, permessage-deflate; client_max_window_bits", Some("permessage-deflate; client_max_window_bits=10")),
            // A server with deflate off accepts nothing.
            (&off, "permessage-deflate", None),
            (&config(), "x-webkit-deflate-frame", None),
        ];
        for (config, request, expected) in cases {
            assert_eq!(accept(config, request).as_deref(), *expected, "request {request:?}");
        }
    }

    #[test]
    fn a_server_reports_which_offers_it_declined_and_why() {
        let elements = parse_extension_list(
            "permessage-deflate; x=1, x-other, permessage-deflate; server_max_window_bits=99, permessage-deflate",
        )
        .unwrap();
        let decision = server_accept(&config(), &elements);
        let declined: Vec<usize> = decision.declined.iter().map(|d| d.index).collect();
        assert_eq!(declined, [0, 2]);
        assert!(decision.declined[0].reason.contains("unknown parameter \"x\""), "{:?}", decision.declined);
        assert!(decision.declined[1].reason.contains("server_max_window_bits"), "{:?}", decision.declined);
        assert_eq!(decision.accepted.unwrap().index, 3);
    }

    #[test]
    fn a_server_derives_its_directions_from_the_agreed_parameters() {
        let elements = parse_extension_list(
            "permessage-deflate; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=12",
        )
        .unwrap();
        let negotiated = server_accept(&config(), &elements).accepted.unwrap().negotiated;
        assert_eq!(negotiated.send, Direction { window_bits: 9, no_context_takeover: false });
        assert_eq!(negotiated.receive, Direction { window_bits: 12, no_context_takeover: true });
    }

    fn check(config: &DeflateConfig, response: &str) -> Result<Option<Negotiated>, NegotiationError> {
        client_check_response(config, &parse_extension_list(response).unwrap())
    }

    #[test]
    fn a_client_accepts_valid_responses_and_reads_its_directions() {
        let n = check(&config(), "permessage-deflate").unwrap().unwrap();
        assert_eq!(n.send, Direction { window_bits: 15, no_context_takeover: false });
        assert_eq!(n.receive, Direction { window_bits: 15, no_context_takeover: false });

        let n = check(&config(), "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=8")
            .unwrap()
            .unwrap();
        assert_eq!(n.send, Direction { window_bits: 8, no_context_takeover: true });
        assert_eq!(n.receive, Direction { window_bits: 10, no_context_takeover: true });

        // Declined: no element, the connection proceeds uncompressed (RFC 7692 5).
        assert_eq!(check(&config(), "x-other").unwrap(), None);
        assert_eq!(check(&config(), "").unwrap(), None);

        // The client's own hints bind it even when the response leaves them out (7.1.2.2, 7.2.1).
        let hinting = DeflateConfig { client_max_window_bits: Some(11), client_no_context_takeover: true, ..config() };
        let n = check(&hinting, "permessage-deflate").unwrap().unwrap();
        assert_eq!(n.send, Direction { window_bits: 11, no_context_takeover: true });
        assert_eq!(n.agreed, AgreedParameters::default());

        // A requested server window answered with the same or smaller value (7.1.2.1).
        let requesting =
            DeflateConfig { server_max_window_bits: Some(12), server_no_context_takeover: true, ..config() };
        let n = check(&requesting, "permessage-deflate; server_max_window_bits=9; server_no_context_takeover")
            .unwrap()
            .unwrap();
        assert_eq!(n.receive, Direction { window_bits: 9, no_context_takeover: true });

        // A request for 8 went out as 9, so 9 is a valid answer (and 8 too).
        let requesting_8 = DeflateConfig { server_max_window_bits: Some(8), ..config() };
        assert_eq!(
            check(&requesting_8, "permessage-deflate; server_max_window_bits=9").unwrap().unwrap().receive.window_bits,
            9
        );
        assert_eq!(
            check(&requesting_8, "permessage-deflate; server_max_window_bits=8").unwrap().unwrap().receive.window_bits,
            8
        );
        assert!(check(&requesting_8, "permessage-deflate; server_max_window_bits=10").is_err());
    }

    #[test]
    fn a_client_fails_the_connection_on_responses_that_break_the_rules() {
        let requesting =
            DeflateConfig { server_max_window_bits: Some(10), server_no_context_takeover: true, ..config() };
        let offering_11 = DeflateConfig { client_max_window_bits: Some(11), ..config() };
        let off = DeflateConfig { enabled: false, ..config() };
        let cases: &[(&DeflateConfig, &str, u16, &str)] = &[
            (&off, "permessage-deflate", 1002, "not offered"),
            (&config(), "permessage-deflate, permessage-deflate", 1002, "twice"),
            (&config(), "permessage-deflate; foo", 1002, "unknown parameter"),
            (
                &config(),
                "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
                1002,
                "appears twice",
            ),
            (&config(), "permessage-deflate; client_no_context_takeover=1", 1002, "has no value"),
            (&config(), "permessage-deflate; server_max_window_bits=7", 1002, "8..=15"),
            (&config(), "permessage-deflate; server_max_window_bits", 1002, "8..=15"),
            (&config(), "permessage-deflate; client_max_window_bits", 1002, "a response gives it a value"),
            (&config(), "permessage-deflate; client_max_window_bits=16", 1002, "8..=15"),
            (&requesting, "permessage-deflate; server_max_window_bits=10", 1010, "lacks it"),
            (&requesting, "permessage-deflate; server_no_context_takeover", 1010, "server_max_window_bits=10"),
            (&requesting, "permessage-deflate; server_no_context_takeover; server_max_window_bits=11", 1010, "exceeds"),
            (&offering_11, "permessage-deflate; client_max_window_bits=12", 1010, "exceeds"),
        ];
        for (config, response, code, words) in cases {
            let error = check(config, response).unwrap_err();
            assert_eq!(error.close_code, *code, "{response}: {error}");
            assert!(error.problem.contains(words), "{response}: {error}");
            let as_error = error.clone().into_error();
            assert!(as_error.is_remote());
            assert_eq!(as_error.http_status(), None);
        }
    }

    #[test]
    fn window_values_are_exactly_8_to_15_without_leading_zeroes() {
        let valid: Vec<u8> = (0..=255u16).filter_map(|n| window_bits_value(&n.to_string())).collect();
        assert_eq!(valid, (8..=15).collect::<Vec<u8>>());
        for bad in ["", "08", "+9", "9 ", "0xF", "1e1", "15.0", "-8"] {
            assert_eq!(window_bits_value(bad), None, "{bad:?}");
        }
    }
}
