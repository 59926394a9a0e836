//! The opening handshake's steps on a handle (RFC 6455 section 4, websocket.h's
//! Begin/End Client/Server Handshake): the header checks themselves are `wire::handshake`'s; this
//! module holds the phase, the limits, and what a success or failure does to the handle.

use super::send::RSV1;
use super::Handle;
use crate::config::Role;
use crate::error::{Error, Quoted};
use crate::permessage_deflate::{self, PerMessageDeflate, EXTENSION_NAME};
use crate::state::State;
use crate::wire::handshake::{self, extension_name, same_name, ClientHandshakeResult, Header};

/// How far the opening handshake has come.
pub(super) enum HandshakePhase {
    NotStarted,
    ClientBegun { key: String, subprotocols: Vec<String>, extensions: Vec<String> },
    ServerBegun,
    Done,
}

impl Handle {
    /// WebSocketBeginClientHandshake: checks the offer and returns the headers to add to the
    /// request (Connection, Upgrade, a fresh Sec-WebSocket-Key, Sec-WebSocket-Version: 13, and
    /// Sec-WebSocket-Protocol / -Extensions when offered). Replace any of these the initial
    /// headers also carry. The host adds Host and writes the request.
    pub fn begin_client_handshake(
        &mut self,
        subprotocols: &[&str],
        extensions: &[&str],
        initial_headers: &[Header],
    ) -> Result<Vec<Header>, Error> {
        self.require_phase(
            "begin_client_handshake",
            Role::Client,
            matches!(self.handshake, HandshakePhase::NotStarted),
        )?;
        refuse_deflate_by_name("extension", extensions)?;
        let mut nonce = [0u8; 16];
        self.random.fill(&mut nonce)?;
        let key = handshake::encode_key(&nonce);
        // The application's offers first, then permessage-deflate's when the handle has it on.
        let deflate_offer = permessage_deflate::client_offer(&self.config.deflate).map(|offer| offer.to_header_text());
        let mut offers: Vec<&str> = extensions.to_vec();
        offers.extend(deflate_offer.as_deref());
        let headers = handshake::client_request_headers(&key, subprotocols, &offers, initial_headers)?;
        self.handshake = HandshakePhase::ClientBegun {
            key,
            subprotocols: subprotocols.iter().map(|s| s.to_string()).collect(),
            extensions: extensions.iter().map(|s| s.to_string()).collect(),
        };
        Ok(headers)
    }

    /// WebSocketEndClientHandshake: checks the response headers (the host has checked for status
    /// 101) and returns the indexes of the chosen subprotocol and extensions. A failed check
    /// closes the handle: close the transport.
    pub fn end_client_handshake(&mut self, response_headers: &[Header]) -> Result<ClientHandshakeResult, Error> {
        let begun = matches!(self.handshake, HandshakePhase::ClientBegun { .. });
        self.require_phase("end_client_handshake", Role::Client, begun)?;
        let HandshakePhase::ClientBegun { key, subprotocols, extensions } = &self.handshake else {
            return Err(self.invalid_state("end_client_handshake"));
        };
        let deflate_config = self.config.deflate;
        let mut offered = extensions.clone();
        offered.extend(permessage_deflate::client_offer(&deflate_config).map(|offer| offer.to_header_text()));
        let checked = self
            .check_header_limits(response_headers, 0)
            .and_then(|_| handshake::check_server_response(key, subprotocols, &offered, response_headers))
            // RFC 7692 5 and 7: the client checks the server's permessage-deflate response against its offer.
            .and_then(|result| {
                Ok((result, permessage_deflate::negotiate_as_client(&deflate_config, response_headers)?))
            });
        match checked {
            Ok((mut result, deflate)) => {
                // permessage-deflate is the engine's, not among the application's offers.
                result.selected_extensions.retain(|&i| (i as usize) < extensions.len());
                self.subprotocol = result.selected_subprotocol.map(|i| subprotocols[i as usize].clone());
                self.extensions = result.selected_extensions.iter().map(|&i| extensions[i as usize].clone()).collect();
                self.set_deflate(deflate);
                self.handshake = HandshakePhase::Done;
                self.open();
                Ok(result)
            }
            Err(error) => Err(self.fail_handshake(error)),
        }
    }

    /// WebSocketBeginServerHandshake: checks the request headers (RFC 6455 4.2.1) and returns the
    /// 101 response headers carrying the application's choice of subprotocol and extensions
    /// (which must be among those offered). A failed check carries the status and headers to
    /// reject with (400, or 426 with `Sec-WebSocket-Version: 13`). Messages may flow once the
    /// response is written; `end_server_handshake` is optional.
    pub fn begin_server_handshake(
        &mut self,
        selected_subprotocol: Option<&str>,
        selected_extensions: &[&str],
        request_headers: &[Header],
    ) -> Result<Vec<Header>, Error> {
        self.require_phase(
            "begin_server_handshake",
            Role::Server,
            matches!(self.handshake, HandshakePhase::NotStarted),
        )?;
        refuse_deflate_by_name("selected extension", selected_extensions)?;
        let checked = self
            .check_header_limits(request_headers, 431)
            .and_then(|_| handshake::check_client_request(request_headers))
            // RFC 7692 5: the first permessage-deflate offer this handle's configuration accepts.
            .and_then(|key| Ok((key, permessage_deflate::negotiate_as_server(&self.config.deflate, request_headers)?)));
        let (key, deflate) = match checked {
            Ok(checked) => checked,
            Err(error) => return Err(self.fail_handshake(error)),
        };
        let deflate_response = deflate.as_ref().map(|(response, _)| response.to_header_text());
        let mut selected: Vec<&str> = selected_extensions.to_vec();
        selected.extend(deflate_response.as_deref());
        // A bad selection is the application's mistake: report it and let it choose again.
        let headers = handshake::server_response_headers(&key, request_headers, selected_subprotocol, &selected)?;
        self.subprotocol = selected_subprotocol.map(str::to_string);
        self.extensions = selected_extensions.iter().map(|s| s.to_string()).collect();
        self.set_deflate(deflate.map(|(_, transform)| transform));
        self.handshake = HandshakePhase::ServerBegun;
        self.open();
        Ok(headers)
    }

    /// WebSocketEndServerHandshake: optional, as in websocket.h (the first session call ends the
    /// handshake too). Allowed once after a successful `begin_server_handshake`.
    pub fn end_server_handshake(&mut self) -> Result<(), Error> {
        if self.config.role != Role::Server {
            return Err(Error::invalid_argument(
                "handle",
                "end_server_handshake needs a server handle, this is a client handle",
            ));
        }
        if !matches!(self.handshake, HandshakePhase::ServerBegun) {
            return Err(self.invalid_state("end_server_handshake"));
        }
        self.handshake = HandshakePhase::Done;
        Ok(())
    }

    /// Turns permessage-deflate on for the connection: RSV1 becomes its "Per-Message Compressed"
    /// bit (RFC 7692 6), and `extensions()` shows the agreed parameters.
    fn set_deflate(&mut self, deflate: Option<PerMessageDeflate>) {
        if let Some(deflate) = &deflate {
            self.allowed_rsv |= RSV1;
            self.extensions.push(deflate.negotiated.agreed.to_header_text());
        }
        self.deflate = deflate;
    }

    /// The role and state checks of each handshake step; `phase_ok` says whether the handshake is
    /// where `operation` may run (a bool, not a closure: one copy of this function, not three).
    fn require_phase(&self, operation: &'static str, role: Role, phase_ok: bool) -> Result<(), Error> {
        if self.config.role != role {
            return Err(Error::invalid_argument(
                "handle",
                format!("{operation} needs a {} handle, this is a {} handle", role.name(), self.config.role.name()),
            ));
        }
        if self.state != State::Connecting || !phase_ok {
            return Err(self.invalid_state(operation));
        }
        Ok(())
    }

    /// A peer's bad handshake fails the handle (close the transport) and is returned too.
    fn fail_handshake(&mut self, error: Error) -> Error {
        self.fail_without_frames(error.clone());
        error
    }

    fn check_header_limits(&self, headers: &[Header], status: u16) -> Result<(), Error> {
        let limits = &self.config.limits;
        let bytes: usize = headers.iter().map(|(n, v)| n.len() + v.len() + 4).sum();
        if headers.len() > limits.max_handshake_headers as usize || bytes > limits.max_handshake_header_bytes as usize {
            return Err(Error::MalformedHttp {
                problem: format!(
                    "{} header fields, {bytes} bytes: over the limits ({} fields, {} bytes)",
                    headers.len(),
                    limits.max_handshake_headers,
                    limits.max_handshake_header_bytes
                ),
                status: if status == 0 { 400 } else { status },
            });
        }
        Ok(())
    }
}

/// permessage-deflate is negotiated by the engine (`Property::PerMessageDeflate`): offered or
/// selected by the application as a string, it would claim RSV1 that nothing here would inflate.
fn refuse_deflate_by_name(argument: &'static str, extensions: &[&str]) -> Result<(), Error> {
    match extensions.iter().find(|e| same_name(extension_name(e), EXTENSION_NAME)) {
        Some(extension) => Err(Error::invalid_argument(
            argument,
            format!(
                "{}: permessage-deflate is negotiated by the engine; set Property::PerMessageDeflate instead",
                Quoted(extension)
            ),
        )),
        None => Ok(()),
    }
}
