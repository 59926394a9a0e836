//! Handle properties (websocket.h's WEB_SOCKET_PROPERTY, plus wsaction's timers and limits),
//! their documented defaults, and the checks that turn an out-of-range value into an error naming it.

use crate::constants::{property_type, DEFAULT_KEEPALIVE_INTERVAL_MS, SUPPORTED_VERSION};
use crate::error::Error;
use crate::permessage_deflate::{DeflateConfig, MAX_WINDOW_BITS, MIN_WINDOW_BITS};

/// Which side of the connection a handle plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    Client,
    Server,
}

/// What the keep-alive timer sends after an idle interval.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeepAliveMode {
    /// A ping; the peer must answer with a pong (RFC 6455 section 5.5.2). With a keep-alive
    /// timeout set, a peer that stays silent after the ping fails the connection (1011).
    Ping = 0,
    /// An unsolicited pong, as .NET does over websocket.dll (RFC 6455 section 5.5.3): keeps
    /// middleboxes awake, asks nothing of the peer.
    UnsolicitedPong = 1,
}

/// One handle property, as passed to `Handle::client` / `Handle::server`.
///
/// The first five are websocket.h's (WEB_SOCKET_PROPERTY_TYPE 0..4). `KeepAliveInterval` is
/// websocket.h's number 5, which websocket.h only reports globally; on a wsaction handle it arms
/// the engine's keep-alive timer. The rest are wsaction's own (numbers from 0x1000).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Property {
    /// Most bytes one receive indication (and one ReceiveFromNetwork) carries. 256..=16 MiB, default 4096.
    ReceiveBufferSize(u32),
    /// Most bytes one SendToNetwork action carries for a masked frame (websocket.dll masks into
    /// its send buffer; unmasked frames go out whole). 16..=16 MiB, default 4096 (client) / 16 (server).
    SendBufferSize(u32),
    /// Client: mask key 0 (frames still carry the mask bit). Server: accept unmasked client frames.
    DisableMasking(bool),
    /// websocket.h's caller-owned internal buffer. wsaction owns its memory, so this is rejected.
    AllocatedBuffer,
    /// Skip UTF-8 checks on received text and close reasons and on sent text.
    DisableUtf8Verification(bool),
    /// Milliseconds of receive silence before a keep-alive frame; 0 turns keep-alive off (the default).
    KeepAliveInterval(u32),
    /// What the keep-alive sends: a ping (default) or an unsolicited pong.
    KeepAliveMode(KeepAliveMode),
    /// Milliseconds to wait for any frame after a keep-alive ping before failing with 1011; 0 = wait forever (default 30000).
    KeepAliveTimeout(u32),
    /// Milliseconds to wait for the peer's close after ours before giving up (1006); 0 = forever. Default 30000.
    CloseTimeout(u32),
    /// Milliseconds from the first tick for the handshake to complete; 0 = forever. Default 0.
    HandshakeTimeout(u32),
    /// Largest frame payload accepted, in bytes. Default 16 MiB.
    MaxFrameSize(u64),
    /// Largest message accepted, summed over its fragments with a per-fragment charge. Default 64 MiB.
    MaxMessageSize(u64),
    /// Most frames one message may span. Default 1,048,576.
    MaxFragments(u32),
    /// Most bytes of HTTP head (request or response) accepted in a handshake. Default 16384.
    MaxHandshakeHeaderBytes(u32),
    /// Most header fields in a handshake head. Default 128.
    MaxHandshakeHeaders(u32),
    /// permessage-deflate (RFC 7692): a client offers it, a server accepts an offer of it. Default off.
    PerMessageDeflate(bool),
    /// Without context takeover on our side, messages shorter than this go out uncompressed. Default 1024.
    DeflateThreshold(u32),
    /// Client: ask the server to reset its window per message. Server: always reset ours. Default off.
    DeflateServerNoContextTakeover(bool),
    /// Client: reset our window per message. Server: ask the client to. Default off.
    DeflateClientNoContextTakeover(bool),
    /// 8..=15: the server's LZ77 window (client: asked of the server; server: the most it uses); 0 = unset.
    DeflateServerMaxWindowBits(u8),
    /// 8..=15: the client's LZ77 window (client: promised; server: asked of the client); 0 = unset.
    DeflateClientMaxWindowBits(u8),
    /// zlib compression level 0..=9. Default 6.
    DeflateLevel(u8),
    /// zlib memory level 1..=9 (2^(level+9) bytes of hash table and buffers). Default 8.
    DeflateMemLevel(u8),
}

impl Property {
    /// The WEB_SOCKET_PROPERTY_TYPE number (websocket.h's 0..5, wsaction's from 0x1000).
    pub fn type_number(&self) -> u32 {
        match self {
            Property::ReceiveBufferSize(_) => property_type::RECEIVE_BUFFER_SIZE,
            Property::SendBufferSize(_) => property_type::SEND_BUFFER_SIZE,
            Property::DisableMasking(_) => property_type::DISABLE_MASKING,
            Property::AllocatedBuffer => property_type::ALLOCATED_BUFFER,
            Property::DisableUtf8Verification(_) => property_type::DISABLE_UTF8_VERIFICATION,
            Property::KeepAliveInterval(_) => property_type::KEEPALIVE_INTERVAL,
            Property::KeepAliveMode(_) => property_type::KEEPALIVE_MODE,
            Property::KeepAliveTimeout(_) => property_type::KEEPALIVE_TIMEOUT,
            Property::CloseTimeout(_) => property_type::CLOSE_TIMEOUT,
            Property::HandshakeTimeout(_) => property_type::HANDSHAKE_TIMEOUT,
            Property::MaxFrameSize(_) => property_type::MAX_FRAME_SIZE,
            Property::MaxMessageSize(_) => property_type::MAX_MESSAGE_SIZE,
            Property::MaxFragments(_) => property_type::MAX_FRAGMENTS,
            Property::MaxHandshakeHeaderBytes(_) => property_type::MAX_HANDSHAKE_HEADER_BYTES,
            Property::MaxHandshakeHeaders(_) => property_type::MAX_HANDSHAKE_HEADERS,
            Property::PerMessageDeflate(_) => property_type::PER_MESSAGE_DEFLATE,
            Property::DeflateThreshold(_) => property_type::DEFLATE_THRESHOLD,
            Property::DeflateServerNoContextTakeover(_) => property_type::DEFLATE_SERVER_NO_CONTEXT_TAKEOVER,
            Property::DeflateClientNoContextTakeover(_) => property_type::DEFLATE_CLIENT_NO_CONTEXT_TAKEOVER,
            Property::DeflateServerMaxWindowBits(_) => property_type::DEFLATE_SERVER_MAX_WINDOW_BITS,
            Property::DeflateClientMaxWindowBits(_) => property_type::DEFLATE_CLIENT_MAX_WINDOW_BITS,
            Property::DeflateLevel(_) => property_type::DEFLATE_LEVEL,
            Property::DeflateMemLevel(_) => property_type::DEFLATE_MEM_LEVEL,
        }
    }
}

/// Receive buffer bounds: websocket.h documents the 256 floor; the ceiling bounds the memory one
/// handle may take for its receive side.
pub const MIN_RECEIVE_BUFFER_SIZE: u32 = 256;
pub const MAX_RECEIVE_BUFFER_SIZE: u32 = 16 * 1024 * 1024;
/// Send buffer bounds: websocket.h gives server handles 16 by default (so 16 must be accepted,
/// see CONSTANTS.md "Send buffer minimum").
pub const MIN_SEND_BUFFER_SIZE: u32 = 16;
pub const MAX_SEND_BUFFER_SIZE: u32 = 16 * 1024 * 1024;
pub const DEFAULT_RECEIVE_BUFFER_SIZE: u32 = 4096;
pub const DEFAULT_CLIENT_SEND_BUFFER_SIZE: u32 = 4096;
pub const DEFAULT_SERVER_SEND_BUFFER_SIZE: u32 = 16;

/// The limits budget. Exceeding a frame or message limit fails the connection with 1009;
/// exceeding a handshake limit rejects the handshake (431 on a server). No limit lets memory grow:
/// payload streams through the receive buffer, so these bound what a peer may make us *process*,
/// and what an application that reassembles messages would have to hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest frame payload, in bytes (RFC 6455 section 10.4). Default 16 MiB, as tungstenite.
    pub max_frame_size: u64,
    /// Largest message, in bytes, summed over its frames, each frame also charged
    /// `FRAGMENT_OVERHEAD` bytes so that floods of empty fragments hit the budget (the fix ws made
    /// after GHSA-96hv-2xvq-fx4p). Default 64 MiB: a 4 MiB message in 65,536 fragments of 64 bytes
    /// costs 8 MiB and passes.
    pub max_message_size: u64,
    /// Most frames in one message. Default 1,048,576.
    pub max_fragments: u32,
    /// Most bytes in a handshake's HTTP head. Default 16384 (Node's http default).
    pub max_handshake_header_bytes: u32,
    /// Most header fields in a handshake's HTTP head. Default 128 (Python websockets' default).
    pub max_handshake_headers: u32,
}

/// What each frame of a message costs against `max_message_size` beyond its payload.
pub const FRAGMENT_OVERHEAD: u64 = 64;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_frame_size: 16 * 1024 * 1024,
            max_message_size: 64 * 1024 * 1024,
            max_fragments: 1 << 20,
            max_handshake_header_bytes: 16 * 1024,
            max_handshake_headers: 128,
        }
    }
}

/// Everything a handle is configured with, after defaults and checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    pub role: Role,
    pub receive_buffer_size: u32,
    pub send_buffer_size: u32,
    pub disable_masking: bool,
    pub disable_utf8_verification: bool,
    /// 0 = keep-alive off.
    pub keepalive_interval_ms: u32,
    pub keepalive_mode: KeepAliveMode,
    /// 0 = no timeout.
    pub keepalive_timeout_ms: u32,
    /// 0 = no timeout.
    pub close_timeout_ms: u32,
    /// 0 = no timeout.
    pub handshake_timeout_ms: u32,
    pub limits: Limits,
    /// permessage-deflate; `deflate.enabled` is false unless `PerMessageDeflate(true)` is given.
    pub deflate: DeflateConfig,
}

impl Config {
    /// The documented defaults for a role.
    pub fn defaults(role: Role) -> Config {
        Config {
            role,
            receive_buffer_size: DEFAULT_RECEIVE_BUFFER_SIZE,
            send_buffer_size: match role {
                Role::Client => DEFAULT_CLIENT_SEND_BUFFER_SIZE,
                Role::Server => DEFAULT_SERVER_SEND_BUFFER_SIZE,
            },
            disable_masking: false,
            disable_utf8_verification: false,
            keepalive_interval_ms: 0,
            keepalive_mode: KeepAliveMode::Ping,
            keepalive_timeout_ms: 30_000,
            close_timeout_ms: 30_000,
            handshake_timeout_ms: 0,
            limits: Limits::default(),
            deflate: DeflateConfig { enabled: false, ..DeflateConfig::default() },
        }
    }

    /// The defaults for `role` with `properties` applied in order; the first bad one is the error.
    pub fn from_properties(role: Role, properties: &[Property]) -> Result<Config, Error> {
        let mut config = Config::defaults(role);
        for property in properties {
            config.apply(*property)?;
        }
        Ok(config)
    }

    fn apply(&mut self, property: Property) -> Result<(), Error> {
        match property {
            Property::ReceiveBufferSize(size) => {
                self.receive_buffer_size = in_range(
                    "receive buffer size",
                    size as u64,
                    MIN_RECEIVE_BUFFER_SIZE as u64,
                    MAX_RECEIVE_BUFFER_SIZE as u64,
                )? as u32
            }
            Property::SendBufferSize(size) => {
                self.send_buffer_size =
                    in_range("send buffer size", size as u64, MIN_SEND_BUFFER_SIZE as u64, MAX_SEND_BUFFER_SIZE as u64)?
                        as u32
            }
            Property::DisableMasking(on) => self.disable_masking = on,
            Property::AllocatedBuffer => {
                return Err(Error::UnsupportedProperty {
                    property: "allocated buffer",
                    why: "wsaction owns its memory; a caller-supplied internal buffer has no meaning here",
                })
            }
            Property::DisableUtf8Verification(on) => self.disable_utf8_verification = on,
            Property::KeepAliveInterval(ms) => self.keepalive_interval_ms = ms,
            Property::KeepAliveMode(mode) => self.keepalive_mode = mode,
            Property::KeepAliveTimeout(ms) => self.keepalive_timeout_ms = ms,
            Property::CloseTimeout(ms) => self.close_timeout_ms = ms,
            Property::HandshakeTimeout(ms) => self.handshake_timeout_ms = ms,
            Property::MaxFrameSize(n) => self.limits.max_frame_size = in_range("max frame size", n, 1, 1 << 62)?,
            Property::MaxMessageSize(n) => self.limits.max_message_size = in_range("max message size", n, 1, 1 << 62)?,
            Property::MaxFragments(n) => {
                self.limits.max_fragments = in_range("max fragments", n as u64, 1, u32::MAX as u64)? as u32
            }
            Property::MaxHandshakeHeaderBytes(n) => {
                self.limits.max_handshake_header_bytes =
                    in_range("max handshake header bytes", n as u64, 256, 1 << 24)? as u32
            }
            Property::MaxHandshakeHeaders(n) => {
                self.limits.max_handshake_headers = in_range("max handshake headers", n as u64, 8, 4096)? as u32
            }
            Property::PerMessageDeflate(on) => self.deflate.enabled = on,
            Property::DeflateThreshold(bytes) => self.deflate.threshold = bytes as usize,
            Property::DeflateServerNoContextTakeover(on) => self.deflate.server_no_context_takeover = on,
            Property::DeflateClientNoContextTakeover(on) => self.deflate.client_no_context_takeover = on,
            Property::DeflateServerMaxWindowBits(bits) => {
                self.deflate.server_max_window_bits = window_bits("deflate server max window bits", bits)?
            }
            Property::DeflateClientMaxWindowBits(bits) => {
                self.deflate.client_max_window_bits = window_bits("deflate client max window bits", bits)?
            }
            Property::DeflateLevel(level) => self.deflate.level = in_range("deflate level", level as u64, 0, 9)? as u8,
            Property::DeflateMemLevel(level) => {
                self.deflate.mem_level = in_range("deflate memory level", level as u64, 1, 9)? as u8
            }
        }
        Ok(())
    }
}

/// RFC 7692 7.1.2: 8..=15; 0 leaves the parameter out.
fn window_bits(property: &'static str, bits: u8) -> Result<Option<u8>, Error> {
    if bits == 0 {
        return Ok(None);
    }
    in_range(property, bits as u64, MIN_WINDOW_BITS as u64, MAX_WINDOW_BITS as u64).map(|bits| Some(bits as u8))
}

fn in_range(property: &'static str, value: u64, min: u64, max: u64) -> Result<u64, Error> {
    if value < min || value > max {
        Err(Error::PropertyOutOfRange { property, value, min, max })
    } else {
        Ok(value)
    }
}

/// A global property's value (WebSocketGetGlobalProperty).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum GlobalProperty {
    /// WEB_SOCKET_KEEPALIVE_INTERVAL_PROPERTY_TYPE: the default keep-alive interval, 30000 ms.
    KeepAliveInterval(u32),
    /// WEB_SOCKET_SUPPORTED_VERSIONS_PROPERTY_TYPE: the protocol versions spoken, `[13]`.
    SupportedVersions(Vec<u32>),
}

/// WebSocketGetGlobalProperty: only the keep-alive interval (5) and the supported versions (6)
/// are global; any other number is an invalid argument.
pub fn global_property(property_type_number: u32) -> Result<GlobalProperty, Error> {
    match property_type_number {
        property_type::KEEPALIVE_INTERVAL => Ok(GlobalProperty::KeepAliveInterval(DEFAULT_KEEPALIVE_INTERVAL_MS)),
        property_type::SUPPORTED_VERSIONS => Ok(GlobalProperty::SupportedVersions(vec![SUPPORTED_VERSION])),
        other => Err(Error::InvalidArgument {
            argument: "property type",
            problem: format!(
                "{other} is not a global property (only 5, keep-alive interval, and 6, supported versions)"
            ),
        }),
    }
}
