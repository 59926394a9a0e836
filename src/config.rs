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

impl Role {
    /// 'client' or 'server', as messages and the JS class's `role` name it.
    pub fn name(self) -> &'static str {
        match self {
            Role::Client => "client",
            Role::Server => "server",
        }
    }
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
    /// 8..=15: the server's LZ77 window (client: asked of the server; server: the most it uses). Unset by default.
    DeflateServerMaxWindowBits(u8),
    /// 8..=15: the client's LZ77 window (client: promised; server: asked of the client). Unset by default.
    DeflateClientMaxWindowBits(u8),
    /// zlib compression level 0..=9. Default 6.
    DeflateLevel(u8),
    /// zlib memory level 1..=9 (2^(level+9) bytes of hash table and buffers). Default 8.
    DeflateMemLevel(u8),
    /// Indicate each received ping (buffer type `Ping`, with its payload). Default false:
    /// websocket.h answers pings without telling the application.
    IndicatePings(bool),
    /// Answer each received ping with a pong (RFC 6455 5.5.2). Default true. Off, the application
    /// answers (send an `UnsolicitedPong` with the ping's payload); it needs `IndicatePings`.
    AutoPong(bool),
}

/// What values a property takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PropertyKind {
    /// An integer in `min..=max`.
    Integer { min: u64, max: u64 },
    /// A boolean.
    Bool,
    /// `ping` (0) or `unsolicited-pong` (1).
    KeepAliveMode,
    /// websocket.h defines it; wsaction refuses it with `UnsupportedProperty`.
    Unsupported,
}

impl PropertyKind {
    /// What the property takes, as an error message names it.
    fn describe(&self) -> String {
        match self {
            PropertyKind::Integer { min, max } => format!("an integer in {min}..={max}"),
            PropertyKind::Bool => "a boolean".into(),
            PropertyKind::KeepAliveMode => "'ping' or 'unsolicited-pong'".into(),
            PropertyKind::Unsupported => "no value: wsaction does not support it".into(),
        }
    }
}

/// One row of the property table: every face (config, the JS class, the component, the typings,
/// the WIT) reads its names, numbers, ranges and defaults from here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PropertySpec {
    /// The JS name (the key in a properties object; pkg/types lists these).
    pub name: &'static str,
    /// The WIT name (a case of `property-value` in wit/types.wit).
    pub wit_name: &'static str,
    /// In errors and docs.
    pub label: &'static str,
    /// The WEB_SOCKET_PROPERTY_TYPE number.
    pub number: u32,
    /// True when websocket.h defines the number (0..=5); wsaction's own are from 0x1000.
    pub websocket_h: bool,
    pub kind: PropertyKind,
    /// The default, as the docs state it.
    pub default: &'static str,
    pub doc: &'static str,
}

const U32_ANY: PropertyKind = PropertyKind::Integer { min: 0, max: u32::MAX as u64 };

/// The property table, in websocket.h order then wsaction's.
pub const PROPERTIES: [PropertySpec; 25] = [
    PropertySpec {
        name: "receiveBufferSize",
        wit_name: "receive-buffer-size",
        label: "receive buffer size",
        number: property_type::RECEIVE_BUFFER_SIZE,
        websocket_h: true,
        kind: PropertyKind::Integer { min: MIN_RECEIVE_BUFFER_SIZE as u64, max: MAX_RECEIVE_BUFFER_SIZE as u64 },
        default: "4096",
        doc: "Most bytes one receive indication (and one ReceiveFromNetwork) carries.",
    },
    PropertySpec {
        name: "sendBufferSize",
        wit_name: "send-buffer-size",
        label: "send buffer size",
        number: property_type::SEND_BUFFER_SIZE,
        websocket_h: true,
        kind: PropertyKind::Integer { min: MIN_SEND_BUFFER_SIZE as u64, max: MAX_SEND_BUFFER_SIZE as u64 },
        default: "4096 (client), 16 (server)",
        doc: "Most bytes one SendToNetwork carries for a masked frame (unmasked frames go out whole).",
    },
    PropertySpec {
        name: "disableMasking",
        wit_name: "disable-masking",
        label: "disable masking",
        number: property_type::DISABLE_MASKING,
        websocket_h: true,
        kind: PropertyKind::Bool,
        default: "false",
        doc: "Client: mask key 0 (frames still carry the mask bit). Server: accept unmasked client frames.",
    },
    PropertySpec {
        name: "allocatedBuffer",
        wit_name: "allocated-buffer",
        label: "allocated buffer",
        number: property_type::ALLOCATED_BUFFER,
        websocket_h: true,
        kind: PropertyKind::Unsupported,
        default: "none",
        doc: "websocket.h's caller-owned internal buffer: refused, wsaction owns its memory.",
    },
    PropertySpec {
        name: "disableUtf8Verification",
        wit_name: "disable-utf8-verification",
        label: "disable UTF-8 verification",
        number: property_type::DISABLE_UTF8_VERIFICATION,
        websocket_h: true,
        kind: PropertyKind::Bool,
        default: "false",
        doc: "Skip UTF-8 checks on received text and close reasons and on sent text.",
    },
    PropertySpec {
        name: "keepAliveInterval",
        wit_name: "keep-alive-interval",
        label: "keep-alive interval",
        number: property_type::KEEPALIVE_INTERVAL,
        websocket_h: true,
        kind: U32_ANY,
        default: "0 (off)",
        doc: "Milliseconds of receive silence before a keep-alive frame; 0 turns keep-alive off.",
    },
    PropertySpec {
        name: "keepAliveMode",
        wit_name: "keep-alive-mode",
        label: "keep-alive mode",
        number: property_type::KEEPALIVE_MODE,
        websocket_h: false,
        kind: PropertyKind::KeepAliveMode,
        default: "ping",
        doc: "What the keep-alive sends: a ping, or an unsolicited pong (as .NET does).",
    },
    PropertySpec {
        name: "keepAliveTimeout",
        wit_name: "keep-alive-timeout",
        label: "keep-alive timeout",
        number: property_type::KEEPALIVE_TIMEOUT,
        websocket_h: false,
        kind: U32_ANY,
        default: "30000",
        doc: "Milliseconds to wait for any frame after a keep-alive ping before failing with 1011; 0 waits forever.",
    },
    PropertySpec {
        name: "closeTimeout",
        wit_name: "close-timeout",
        label: "close timeout",
        number: property_type::CLOSE_TIMEOUT,
        websocket_h: false,
        kind: U32_ANY,
        default: "30000",
        doc: "Milliseconds to wait for the peer's close after ours (then 1006); 0 waits forever.",
    },
    PropertySpec {
        name: "handshakeTimeout",
        wit_name: "handshake-timeout",
        label: "handshake timeout",
        number: property_type::HANDSHAKE_TIMEOUT,
        websocket_h: false,
        kind: U32_ANY,
        default: "0 (none)",
        doc: "Milliseconds from the first tick for the handshake to complete; 0 waits forever.",
    },
    PropertySpec {
        name: "maxFrameSize",
        wit_name: "max-frame-size",
        label: "max frame size",
        number: property_type::MAX_FRAME_SIZE,
        websocket_h: false,
        kind: PropertyKind::Integer { min: 1, max: 1 << 62 },
        default: "16777216 (16 MiB)",
        doc: "Largest frame payload accepted, in bytes (1009 past it).",
    },
    PropertySpec {
        name: "maxMessageSize",
        wit_name: "max-message-size",
        label: "max message size",
        number: property_type::MAX_MESSAGE_SIZE,
        websocket_h: false,
        kind: PropertyKind::Integer { min: 1, max: 1 << 62 },
        default: "67108864 (64 MiB)",
        doc: "Largest message accepted, summed over its fragments with a per-fragment charge (1009 past it).",
    },
    PropertySpec {
        name: "maxFragments",
        wit_name: "max-fragments",
        label: "max fragments",
        number: property_type::MAX_FRAGMENTS,
        websocket_h: false,
        kind: PropertyKind::Integer { min: 1, max: u32::MAX as u64 },
        default: "1048576",
        doc: "Most frames one message may span (1009 past it).",
    },
    PropertySpec {
        name: "maxHandshakeHeaderBytes",
        wit_name: "max-handshake-header-bytes",
        label: "max handshake header bytes",
        number: property_type::MAX_HANDSHAKE_HEADER_BYTES,
        websocket_h: false,
        kind: PropertyKind::Integer { min: 256, max: 1 << 24 },
        default: "16384",
        doc: "Most bytes of HTTP head accepted in a handshake (431 past it on a server).",
    },
    PropertySpec {
        name: "maxHandshakeHeaders",
        wit_name: "max-handshake-headers",
        label: "max handshake headers",
        number: property_type::MAX_HANDSHAKE_HEADERS,
        websocket_h: false,
        kind: PropertyKind::Integer { min: 8, max: 4096 },
        default: "128",
        doc: "Most header fields in a handshake head (431 past it on a server).",
    },
    PropertySpec {
        name: "perMessageDeflate",
        wit_name: "per-message-deflate",
        label: "permessage-deflate",
        number: property_type::PER_MESSAGE_DEFLATE,
        websocket_h: false,
        kind: PropertyKind::Bool,
        default: "false",
        doc: "permessage-deflate (RFC 7692): a client offers it, a server accepts the first offer the deflate properties allow.",
    },
    PropertySpec {
        name: "deflateThreshold",
        wit_name: "deflate-threshold",
        label: "deflate threshold",
        number: property_type::DEFLATE_THRESHOLD,
        websocket_h: false,
        kind: U32_ANY,
        default: "1024",
        doc: "Without context takeover on our side, messages shorter than this go out uncompressed (ws's threshold).",
    },
    PropertySpec {
        name: "deflateServerNoContextTakeover",
        wit_name: "deflate-server-no-context-takeover",
        label: "deflate server_no_context_takeover",
        number: property_type::DEFLATE_SERVER_NO_CONTEXT_TAKEOVER,
        websocket_h: false,
        kind: PropertyKind::Bool,
        default: "false",
        doc: "Client: ask the server to reset its window per message. Server: always reset ours (ws's serverNoContextTakeover).",
    },
    PropertySpec {
        name: "deflateClientNoContextTakeover",
        wit_name: "deflate-client-no-context-takeover",
        label: "deflate client_no_context_takeover",
        number: property_type::DEFLATE_CLIENT_NO_CONTEXT_TAKEOVER,
        websocket_h: false,
        kind: PropertyKind::Bool,
        default: "false",
        doc: "Client: reset our window per message, and say so. Server: ask the client to (ws's clientNoContextTakeover).",
    },
    PropertySpec {
        name: "deflateServerMaxWindowBits",
        wit_name: "deflate-server-max-window-bits",
        label: "deflate server_max_window_bits",
        number: property_type::DEFLATE_SERVER_MAX_WINDOW_BITS,
        websocket_h: false,
        kind: PropertyKind::Integer { min: MIN_WINDOW_BITS as u64, max: MAX_WINDOW_BITS as u64 },
        default: "unset (15, or as offered)",
        doc: "Client: ask the server for at most 2^n (8 is asked as 9). Server: use at most 2^n (ws's serverMaxWindowBits).",
    },
    PropertySpec {
        name: "deflateClientMaxWindowBits",
        wit_name: "deflate-client-max-window-bits",
        label: "deflate client_max_window_bits",
        number: property_type::DEFLATE_CLIENT_MAX_WINDOW_BITS,
        websocket_h: false,
        kind: PropertyKind::Integer { min: MIN_WINDOW_BITS as u64, max: MAX_WINDOW_BITS as u64 },
        default: "unset (15)",
        doc: "Client: promise at most 2^n. Server: ask the client for at most 2^n, declining offers that cannot be limited (ws's clientMaxWindowBits).",
    },
    PropertySpec {
        name: "deflateLevel",
        wit_name: "deflate-level",
        label: "deflate level",
        number: property_type::DEFLATE_LEVEL,
        websocket_h: false,
        kind: PropertyKind::Integer { min: 0, max: 9 },
        default: "6",
        doc: "zlib compression level, 0 (store) to 9 (smallest).",
    },
    PropertySpec {
        name: "deflateMemLevel",
        wit_name: "deflate-mem-level",
        label: "deflate memory level",
        number: property_type::DEFLATE_MEM_LEVEL,
        websocket_h: false,
        kind: PropertyKind::Integer { min: 1, max: 9 },
        default: "8",
        doc: "zlib memory level: its buffers take 7 x 2^(level+6) bytes of the compressor's memory.",
    },
    PropertySpec {
        name: "indicatePings",
        wit_name: "indicate-pings",
        label: "indicate pings",
        number: property_type::INDICATE_PINGS,
        websocket_h: false,
        kind: PropertyKind::Bool,
        default: "false",
        doc: "Indicate each received ping (buffer type PING, with its payload); websocket.h answers them silently.",
    },
    PropertySpec {
        name: "autoPong",
        wit_name: "auto-pong",
        label: "auto pong",
        number: property_type::AUTO_PONG,
        websocket_h: false,
        kind: PropertyKind::Bool,
        default: "true",
        doc: "Answer each received ping with a pong; off, the application answers (needs indicate pings).",
    },
];

/// The row for a WEB_SOCKET_PROPERTY_TYPE number.
pub fn property_spec(number: u32) -> Option<&'static PropertySpec> {
    PROPERTIES.iter().find(|spec| spec.number == number)
}

/// What the engine and the bindings read of a row at run time: the names, the number and the
/// range, without the docs (default texts and descriptions). Built from [`PROPERTIES`] at compile
/// time, so the table stays the one place a property is written down, while a binary that only
/// checks properties carries no documentation text (3.4 KB of the npm package's wasm).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PropertyRule {
    /// The JS name (the key in a properties object).
    pub name: &'static str,
    /// In errors.
    pub label: &'static str,
    /// The WEB_SOCKET_PROPERTY_TYPE number.
    pub number: u32,
    pub kind: PropertyKind,
}

/// [`PROPERTIES`] as rules, in the same order.
pub const PROPERTY_RULES: [PropertyRule; PROPERTIES.len()] = {
    let mut rules = [PropertyRule { name: "", label: "", number: 0, kind: PropertyKind::Bool }; PROPERTIES.len()];
    let mut i = 0;
    while i < PROPERTIES.len() {
        let spec = &PROPERTIES[i];
        rules[i] = PropertyRule { name: spec.name, label: spec.label, number: spec.number, kind: spec.kind };
        i += 1;
    }
    rules
};

/// The rule for a WEB_SOCKET_PROPERTY_TYPE number.
pub fn property_rule(number: u32) -> Option<&'static PropertyRule> {
    PROPERTY_RULES.iter().find(|rule| rule.number == number)
}

/// A property's value as the bindings carry it, before it is checked against the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PropertyValue {
    Integer(u64),
    Bool(bool),
    KeepAliveMode(KeepAliveMode),
    /// A property that carries no value (allocated buffer).
    Present,
}

impl PropertyValue {
    /// The value as an error message names it.
    fn describe(&self) -> String {
        match self {
            PropertyValue::Integer(n) => format!("the integer {n}"),
            PropertyValue::Bool(b) => format!("the boolean {b}"),
            PropertyValue::KeepAliveMode(KeepAliveMode::Ping) => "keep-alive mode 'ping'".into(),
            PropertyValue::KeepAliveMode(KeepAliveMode::UnsolicitedPong) => "keep-alive mode 'unsolicited-pong'".into(),
            PropertyValue::Present => "no value".into(),
        }
    }
}

impl Property {
    /// The property a binding passed as (number, value): the value's type must be the table's,
    /// and its range is checked when the handle is configured.
    pub fn from_value(number: u32, value: PropertyValue) -> Result<Property, Error> {
        let spec = property_rule(number).ok_or_else(|| {
            Error::invalid_argument(
                "property type",
                format!("{number} is not a property type (see the property table)"),
            )
        })?;
        let wrong = || {
            Error::invalid_argument(
                "property value",
                format!("{} is not a value for {} ({})", value.describe(), spec.label, spec.kind.describe()),
            )
        };
        // The value's type must be the row's kind (the unsupported allocated buffer takes any, to
        // be refused as unsupported when applied); the value is then one number for every row.
        let n = match (spec.kind, value) {
            (PropertyKind::Integer { .. }, PropertyValue::Integer(n)) => n,
            (PropertyKind::Bool, PropertyValue::Bool(on)) => on as u64,
            // The mode itself is taken from `value` below.
            (PropertyKind::KeepAliveMode, PropertyValue::KeepAliveMode(_)) => 0,
            (PropertyKind::Unsupported, _) => 0,
            _ => return Err(wrong()),
        };
        let on = n != 0;
        // Out of the field's type is out of the row's range (checked in full when applied): u32
        // fields report u32's range, the deflate numbers (u8) their row's.
        let out_of_range = |max: u64| {
            let (min, max) = match spec.kind {
                PropertyKind::Integer { min, max: row_max } if max == u8::MAX as u64 => (min, row_max),
                _ => (0, max),
            };
            Error::PropertyOutOfRange { property: spec.label, value: n, min, max }
        };
        let wide = u32::try_from(n).map_err(|_| out_of_range(u32::MAX as u64));
        let small = u8::try_from(n).map_err(|_| out_of_range(u8::MAX as u64));
        Ok(match number {
            property_type::RECEIVE_BUFFER_SIZE => Property::ReceiveBufferSize(wide?),
            property_type::SEND_BUFFER_SIZE => Property::SendBufferSize(wide?),
            property_type::DISABLE_MASKING => Property::DisableMasking(on),
            property_type::ALLOCATED_BUFFER => Property::AllocatedBuffer,
            property_type::DISABLE_UTF8_VERIFICATION => Property::DisableUtf8Verification(on),
            property_type::KEEPALIVE_INTERVAL => Property::KeepAliveInterval(wide?),
            property_type::KEEPALIVE_MODE => match value {
                PropertyValue::KeepAliveMode(mode) => Property::KeepAliveMode(mode),
                _ => return Err(wrong()),
            },
            property_type::KEEPALIVE_TIMEOUT => Property::KeepAliveTimeout(wide?),
            property_type::CLOSE_TIMEOUT => Property::CloseTimeout(wide?),
            property_type::HANDSHAKE_TIMEOUT => Property::HandshakeTimeout(wide?),
            property_type::MAX_FRAME_SIZE => Property::MaxFrameSize(n),
            property_type::MAX_MESSAGE_SIZE => Property::MaxMessageSize(n),
            property_type::MAX_FRAGMENTS => Property::MaxFragments(wide?),
            property_type::MAX_HANDSHAKE_HEADER_BYTES => Property::MaxHandshakeHeaderBytes(wide?),
            property_type::MAX_HANDSHAKE_HEADERS => Property::MaxHandshakeHeaders(wide?),
            property_type::PER_MESSAGE_DEFLATE => Property::PerMessageDeflate(on),
            property_type::DEFLATE_THRESHOLD => Property::DeflateThreshold(wide?),
            property_type::DEFLATE_SERVER_NO_CONTEXT_TAKEOVER => Property::DeflateServerNoContextTakeover(on),
            property_type::DEFLATE_CLIENT_NO_CONTEXT_TAKEOVER => Property::DeflateClientNoContextTakeover(on),
            property_type::DEFLATE_SERVER_MAX_WINDOW_BITS => Property::DeflateServerMaxWindowBits(small?),
            property_type::DEFLATE_CLIENT_MAX_WINDOW_BITS => Property::DeflateClientMaxWindowBits(small?),
            property_type::DEFLATE_LEVEL => Property::DeflateLevel(small?),
            property_type::DEFLATE_MEM_LEVEL => Property::DeflateMemLevel(small?),
            property_type::INDICATE_PINGS => Property::IndicatePings(on),
            property_type::AUTO_PONG => Property::AutoPong(on),
            _ => return Err(wrong()),
        })
    }

    /// The integer a property carries, for the range check of its row.
    fn integer(&self) -> Option<u64> {
        Some(match *self {
            Property::ReceiveBufferSize(n)
            | Property::SendBufferSize(n)
            | Property::KeepAliveInterval(n)
            | Property::KeepAliveTimeout(n)
            | Property::CloseTimeout(n)
            | Property::HandshakeTimeout(n)
            | Property::MaxFragments(n)
            | Property::MaxHandshakeHeaderBytes(n)
            | Property::MaxHandshakeHeaders(n)
            | Property::DeflateThreshold(n) => n as u64,
            Property::MaxFrameSize(n) | Property::MaxMessageSize(n) => n,
            Property::DeflateServerMaxWindowBits(n)
            | Property::DeflateClientMaxWindowBits(n)
            | Property::DeflateLevel(n)
            | Property::DeflateMemLevel(n) => n as u64,
            _ => return None,
        })
    }

    /// The property's row in the table.
    pub fn spec(&self) -> &'static PropertySpec {
        property_spec(self.type_number()).expect("every property has a row in the table")
    }

    /// The property's rule (its row without the docs).
    pub fn rule(&self) -> &'static PropertyRule {
        property_rule(self.type_number()).expect("every property has a rule in the table")
    }

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
            Property::IndicatePings(_) => property_type::INDICATE_PINGS,
            Property::AutoPong(_) => property_type::AUTO_PONG,
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
    /// Received pings are indicated (buffer type `Ping`).
    pub indicate_pings: bool,
    /// Received pings are answered by the engine.
    pub auto_pong: bool,
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
            indicate_pings: false,
            auto_pong: true,
        }
    }

    /// The defaults for `role` with `properties` applied in order; the first bad one is the error.
    pub fn from_properties(role: Role, properties: &[Property]) -> Result<Config, Error> {
        let mut config = Config::defaults(role);
        for property in properties {
            config.apply(*property)?;
        }
        // RFC 6455 5.5.2: a ping MUST be answered. With the engine not answering, only an
        // application that is told of pings can.
        if !config.auto_pong && !config.indicate_pings {
            return Err(Error::invalid_argument(
                "auto pong",
                "auto pong off needs indicate pings on: the application must see each ping to answer it \
                          (RFC 6455 5.5.2)",
            ));
        }
        Ok(config)
    }

    fn apply(&mut self, property: Property) -> Result<(), Error> {
        let spec = property.rule();
        // Every integer is checked against its row's range: one table, one check.
        if let (Some(value), PropertyKind::Integer { min, max }) = (property.integer(), spec.kind) {
            if value < min || value > max {
                return Err(Error::PropertyOutOfRange { property: spec.label, value, min, max });
            }
        }
        match property {
            Property::ReceiveBufferSize(size) => self.receive_buffer_size = size,
            Property::SendBufferSize(size) => self.send_buffer_size = size,
            Property::DisableMasking(on) => self.disable_masking = on,
            Property::AllocatedBuffer => {
                return Err(Error::UnsupportedProperty {
                    property: spec.label,
                    why: "wsaction owns its memory; a caller-supplied internal buffer has no meaning here",
                })
            }
            Property::DisableUtf8Verification(on) => self.disable_utf8_verification = on,
            Property::KeepAliveInterval(ms) => self.keepalive_interval_ms = ms,
            Property::KeepAliveMode(mode) => self.keepalive_mode = mode,
            Property::KeepAliveTimeout(ms) => self.keepalive_timeout_ms = ms,
            Property::CloseTimeout(ms) => self.close_timeout_ms = ms,
            Property::HandshakeTimeout(ms) => self.handshake_timeout_ms = ms,
            Property::MaxFrameSize(n) => self.limits.max_frame_size = n,
            Property::MaxMessageSize(n) => self.limits.max_message_size = n,
            Property::MaxFragments(n) => self.limits.max_fragments = n,
            Property::MaxHandshakeHeaderBytes(n) => self.limits.max_handshake_header_bytes = n,
            Property::MaxHandshakeHeaders(n) => self.limits.max_handshake_headers = n,
            #[cfg(not(feature = "permessage-deflate"))]
            Property::PerMessageDeflate(true) => return Err(crate::permessage_deflate::not_built()),
            Property::PerMessageDeflate(on) => self.deflate.enabled = on,
            Property::DeflateThreshold(bytes) => self.deflate.threshold = bytes as usize,
            Property::DeflateServerNoContextTakeover(on) => self.deflate.server_no_context_takeover = on,
            Property::DeflateClientNoContextTakeover(on) => self.deflate.client_no_context_takeover = on,
            Property::DeflateServerMaxWindowBits(bits) => self.deflate.server_max_window_bits = Some(bits),
            Property::DeflateClientMaxWindowBits(bits) => self.deflate.client_max_window_bits = Some(bits),
            Property::DeflateLevel(level) => self.deflate.level = level,
            Property::DeflateMemLevel(level) => self.deflate.mem_level = level,
            Property::IndicatePings(on) => self.indicate_pings = on,
            Property::AutoPong(on) => self.auto_pong = on,
        }
        Ok(())
    }
}

impl Limits {
    /// The handshake limits of the free HTTP head helpers, checked against the same rows of the
    /// property table a handle's are (so every face accepts exactly the same values).
    pub fn for_heads(max_header_bytes: Option<u64>, max_headers: Option<u64>) -> Result<Limits, Error> {
        let mut properties = Vec::new();
        if let Some(n) = max_header_bytes {
            properties
                .push(Property::from_value(property_type::MAX_HANDSHAKE_HEADER_BYTES, PropertyValue::Integer(n))?);
        }
        if let Some(n) = max_headers {
            properties.push(Property::from_value(property_type::MAX_HANDSHAKE_HEADERS, PropertyValue::Integer(n))?);
        }
        Config::from_properties(Role::Server, &properties).map(|config| config.limits)
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
        other => Err(Error::invalid_argument(
            "property type",
            format!("{other} is not a global property (only 5, keep-alive interval, and 6, supported versions)"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The build for size (the npm package's default wasm) refuses permessage-deflate rather than
    /// ignoring it: a handle never looks as if it negotiated what it cannot run.
    #[cfg(not(feature = "permessage-deflate"))]
    #[test]
    fn without_the_feature_permessage_deflate_is_refused() {
        for role in [Role::Client, Role::Server] {
            let error = Config::from_properties(role, &[Property::PerMessageDeflate(true)]).unwrap_err();
            assert_eq!(error.code(), "UNSUPPORTED_PROPERTY");
            assert!(error.to_string().contains("cargo feature `permessage-deflate`"), "{error}");
            let off = Config::from_properties(role, &[Property::PerMessageDeflate(false)]).unwrap();
            assert!(!off.deflate.is_on());
        }
    }

    /// The leading number of a row's documented default ("4096 (client), ..." gives 4096).
    fn documented(spec: &PropertySpec) -> Option<u64> {
        spec.default.split(|c: char| !c.is_ascii_digit()).next().and_then(|n| n.parse().ok())
    }

    /// A row's configured value (None when unset).
    fn configured(config: &Config, spec: &PropertySpec) -> Option<u64> {
        Some(match spec.number {
            property_type::RECEIVE_BUFFER_SIZE => config.receive_buffer_size as u64,
            property_type::SEND_BUFFER_SIZE => config.send_buffer_size as u64,
            property_type::KEEPALIVE_INTERVAL => config.keepalive_interval_ms as u64,
            property_type::KEEPALIVE_TIMEOUT => config.keepalive_timeout_ms as u64,
            property_type::CLOSE_TIMEOUT => config.close_timeout_ms as u64,
            property_type::HANDSHAKE_TIMEOUT => config.handshake_timeout_ms as u64,
            property_type::MAX_FRAME_SIZE => config.limits.max_frame_size,
            property_type::MAX_MESSAGE_SIZE => config.limits.max_message_size,
            property_type::MAX_FRAGMENTS => config.limits.max_fragments as u64,
            property_type::MAX_HANDSHAKE_HEADER_BYTES => config.limits.max_handshake_header_bytes as u64,
            property_type::MAX_HANDSHAKE_HEADERS => config.limits.max_handshake_headers as u64,
            property_type::DEFLATE_THRESHOLD => config.deflate.threshold as u64,
            property_type::DEFLATE_SERVER_MAX_WINDOW_BITS => {
                return config.deflate.server_max_window_bits.map(u64::from)
            }
            property_type::DEFLATE_CLIENT_MAX_WINDOW_BITS => {
                return config.deflate.client_max_window_bits.map(u64::from)
            }
            property_type::DEFLATE_LEVEL => config.deflate.level as u64,
            property_type::DEFLATE_MEM_LEVEL => config.deflate.mem_level as u64,
            other => panic!("not an integer property: {other}"),
        })
    }

    #[test]
    fn the_defaults_are_the_documented_ones() {
        let client = Config::defaults(Role::Client);
        for spec in PROPERTIES.iter().filter(|s| matches!(s.kind, PropertyKind::Integer { .. })) {
            assert_eq!(configured(&client, spec), documented(spec), "{}", spec.name);
        }
        assert_eq!(Config::defaults(Role::Server).send_buffer_size, DEFAULT_SERVER_SEND_BUFFER_SIZE);
    }

    #[test]
    fn every_integer_row_is_enforced_at_both_ends() {
        for spec in &PROPERTIES {
            let PropertyKind::Integer { min, max } = spec.kind else { continue };
            for (value, ok) in [(min, true), (max, true), (min.wrapping_sub(1), false), (max + 1, false)] {
                if value == u64::MAX {
                    continue; // below a minimum of 0
                }
                let property = match Property::from_value(spec.number, PropertyValue::Integer(value)) {
                    Ok(property) => property,
                    // A value the property's type cannot carry is out of range before the table.
                    Err(Error::PropertyOutOfRange { .. }) if !ok => continue,
                    Err(other) => panic!("{}: {other}", spec.name),
                };
                let result = Config::from_properties(Role::Client, &[property]);
                assert_eq!(result.is_ok(), ok, "{} = {value}: {result:?}", spec.name);
                if let Err(error) = result {
                    assert_eq!(error.code(), "PROPERTY_OUT_OF_RANGE");
                    assert!(error.to_string().contains(spec.label), "{error}");
                }
            }
        }
    }

    #[test]
    fn a_value_of_the_wrong_type_or_an_unknown_number_is_refused() {
        let wrong = Property::from_value(property_type::DISABLE_MASKING, PropertyValue::Integer(1));
        assert_eq!(wrong.unwrap_err().code(), "INVALID_ARGUMENT");
        let unknown = Property::from_value(0x0FFF, PropertyValue::Bool(true));
        assert_eq!(unknown.unwrap_err().code(), "INVALID_ARGUMENT");
        let allocated = Property::from_value(property_type::ALLOCATED_BUFFER, PropertyValue::Present).unwrap();
        let refused = Config::from_properties(Role::Server, &[allocated]).unwrap_err();
        assert_eq!(refused.code(), "UNSUPPORTED_PROPERTY");
    }

    #[test]
    fn booleans_and_keep_alive_modes_arrive_as_given() {
        for mode in [KeepAliveMode::Ping, KeepAliveMode::UnsolicitedPong] {
            let property = Property::from_value(property_type::KEEPALIVE_MODE, PropertyValue::KeepAliveMode(mode));
            assert_eq!(property.unwrap(), Property::KeepAliveMode(mode));
        }
        let wrong = Property::from_value(property_type::KEEPALIVE_MODE, PropertyValue::Bool(true));
        assert_eq!(wrong.unwrap_err().code(), "INVALID_ARGUMENT");
        for on in [false, true] {
            let property = Property::from_value(property_type::AUTO_PONG, PropertyValue::Bool(on));
            assert_eq!(property.unwrap(), Property::AutoPong(on));
        }
    }

    #[test]
    fn every_property_has_its_row() {
        let all = [
            Property::ReceiveBufferSize(4096),
            Property::SendBufferSize(16),
            Property::DisableMasking(true),
            Property::AllocatedBuffer,
            Property::DisableUtf8Verification(true),
            Property::KeepAliveInterval(1),
            Property::KeepAliveMode(KeepAliveMode::UnsolicitedPong),
            Property::KeepAliveTimeout(1),
            Property::CloseTimeout(1),
            Property::HandshakeTimeout(1),
            Property::MaxFrameSize(1),
            Property::MaxMessageSize(1),
            Property::MaxFragments(1),
            Property::MaxHandshakeHeaderBytes(256),
            Property::MaxHandshakeHeaders(8),
            Property::PerMessageDeflate(true),
            Property::DeflateThreshold(0),
            Property::DeflateServerNoContextTakeover(true),
            Property::DeflateClientNoContextTakeover(true),
            Property::DeflateServerMaxWindowBits(8),
            Property::DeflateClientMaxWindowBits(15),
            Property::DeflateLevel(0),
            Property::DeflateMemLevel(9),
            Property::IndicatePings(true),
            Property::AutoPong(false),
        ];
        assert_eq!(all.len(), PROPERTIES.len());
        for property in all {
            assert_eq!(property.spec().number, property.type_number());
        }
    }

    #[test]
    fn auto_pong_off_needs_indicated_pings() {
        let alone = Config::from_properties(Role::Client, &[Property::AutoPong(false)]).unwrap_err();
        assert_eq!(alone.code(), "INVALID_ARGUMENT");
        assert!(alone.to_string().contains("indicate pings"), "{alone}");
        let both = Config::from_properties(Role::Client, &[Property::AutoPong(false), Property::IndicatePings(true)]);
        assert!(both.is_ok());
    }

    #[test]
    fn head_limits_use_the_same_rows_as_a_handle() {
        // The drift the table removed: 0 header fields was accepted by one face and refused by another.
        assert_eq!(Limits::for_heads(None, Some(0)).unwrap_err().code(), "PROPERTY_OUT_OF_RANGE");
        assert_eq!(Limits::for_heads(Some(255), None).unwrap_err().code(), "PROPERTY_OUT_OF_RANGE");
        let limits = Limits::for_heads(Some(256), Some(8)).unwrap();
        assert_eq!((limits.max_handshake_header_bytes, limits.max_handshake_headers), (256, 8));
        assert_eq!(Limits::for_heads(None, None).unwrap(), Limits::default());
    }

    #[test]
    fn global_properties() {
        assert_eq!(global_property(5).unwrap(), GlobalProperty::KeepAliveInterval(30_000));
        assert_eq!(global_property(6).unwrap(), GlobalProperty::SupportedVersions(vec![13]));
        assert_eq!(global_property(0).unwrap_err().code(), "INVALID_ARGUMENT");
    }
}
