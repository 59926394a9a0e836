//! The numbers websocket.h defines, with the values it gives them, so code written against
//! websocket.h ports line by line. Values are from `shared/reference/windows-websocket-api/CONSTANTS.md`.

/// WEB_SOCKET_BUFFER_TYPE: what a send carries or what an indication holds.
///
/// The values have the top bit set (0x80000000..); compare them as 32-bit patterns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum BufferType {
    /// The last (possibly only) piece of a UTF-8 (text) message.
    Utf8Message = 0x8000_0000,
    /// A piece of a UTF-8 message; more follow.
    Utf8Fragment = 0x8000_0001,
    /// The last (possibly only) piece of a binary message.
    BinaryMessage = 0x8000_0002,
    /// A piece of a binary message; more follow.
    BinaryFragment = 0x8000_0003,
    /// A close frame: status and reason.
    Close = 0x8000_0004,
    /// On send: a ping. On receive: a pong (websocket.h gives the one value both meanings).
    PingPong = 0x8000_0005,
    /// An unsolicited pong (a keep-alive that asks for no answer, RFC 6455 section 5.5.3).
    UnsolicitedPong = 0x8000_0006,
    /// wsaction's own, receive only: a ping arrived (indicated with the `IndicatePings` property;
    /// websocket.h answers pings without telling the application). Its payload is the ping's.
    Ping = 0x8000_1000,
}

impl BufferType {
    /// The enum for a websocket.h number, or `None` for any other number.
    pub fn from_u32(value: u32) -> Option<BufferType> {
        Some(match value {
            0x8000_0000 => BufferType::Utf8Message,
            0x8000_0001 => BufferType::Utf8Fragment,
            0x8000_0002 => BufferType::BinaryMessage,
            0x8000_0003 => BufferType::BinaryFragment,
            0x8000_0004 => BufferType::Close,
            0x8000_0005 => BufferType::PingPong,
            0x8000_0006 => BufferType::UnsolicitedPong,
            0x8000_1000 => BufferType::Ping,
            _ => return None,
        })
    }

    /// True for the four message and fragment types (the data frames of RFC 6455 section 5.6).
    pub fn is_data(self) -> bool {
        matches!(
            self,
            BufferType::Utf8Message | BufferType::Utf8Fragment | BufferType::BinaryMessage | BufferType::BinaryFragment
        )
    }

    /// True for the UTF-8 message and fragment types.
    pub fn is_utf8(self) -> bool {
        matches!(self, BufferType::Utf8Message | BufferType::Utf8Fragment)
    }

    /// True for the two *_FRAGMENT types (the message goes on).
    pub fn is_fragment(self) -> bool {
        matches!(self, BufferType::Utf8Fragment | BufferType::BinaryFragment)
    }

    /// The websocket.h name, for messages and logs.
    pub fn name(self) -> &'static str {
        match self {
            BufferType::Utf8Message => "UTF8_MESSAGE",
            BufferType::Utf8Fragment => "UTF8_FRAGMENT",
            BufferType::BinaryMessage => "BINARY_MESSAGE",
            BufferType::BinaryFragment => "BINARY_FRAGMENT",
            BufferType::Close => "CLOSE",
            BufferType::PingPong => "PING_PONG",
            BufferType::UnsolicitedPong => "UNSOLICITED_PONG",
            BufferType::Ping => "PING",
        }
    }
}

/// WEB_SOCKET_ACTION: what `get_action` asks the host to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum ActionKind {
    /// Nothing to do now (which may mean: complete the action you hold first).
    NoAction = 0,
    /// Write the action's bytes to the network, then complete it with the count written.
    SendToNetwork = 1,
    /// A queued send finished; its buffer may be reused.
    IndicateSendComplete = 2,
    /// Read up to `receive_capacity` bytes from the network and complete with them.
    ReceiveFromNetwork = 3,
    /// A queued receive finished: a message (or piece of one), a pong or a close arrived.
    IndicateReceiveComplete = 4,
}

impl ActionKind {
    /// The websocket.h name, for messages and logs.
    pub fn name(self) -> &'static str {
        match self {
            ActionKind::NoAction => "NO_ACTION",
            ActionKind::SendToNetwork => "SEND_TO_NETWORK",
            ActionKind::IndicateSendComplete => "INDICATE_SEND_COMPLETE",
            ActionKind::ReceiveFromNetwork => "RECEIVE_FROM_NETWORK",
            ActionKind::IndicateReceiveComplete => "INDICATE_RECEIVE_COMPLETE",
        }
    }
}

/// WEB_SOCKET_ACTION_QUEUE: which queue `get_action` looks at (a bit mask).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum ActionQueue {
    /// Actions of queued sends (and of keep-alive frames).
    Send = 0x1,
    /// Actions of queued receives, and the engine's own answers (pong replies, the failing close).
    Receive = 0x2,
    /// Both queues.
    All = 0x3,
}

impl ActionQueue {
    /// The enum for a websocket.h number, or `None` for any other number.
    pub fn from_u32(value: u32) -> Option<ActionQueue> {
        match value {
            1 => Some(ActionQueue::Send),
            2 => Some(ActionQueue::Receive),
            3 => Some(ActionQueue::All),
            _ => None,
        }
    }

    pub(crate) fn includes(self, other: ActionQueue) -> bool {
        (self as u32) & (other as u32) != 0
    }
}

/// WEB_SOCKET_CLOSE_STATUS values, and the other close codes RFC 6455 section 7.4 names.
pub mod close_status {
    /// Normal closure.
    pub const SUCCESS: u16 = 1000;
    /// The endpoint is going away (server shutdown, page navigation).
    pub const ENDPOINT_UNAVAILABLE: u16 = 1001;
    /// The peer broke the protocol.
    pub const PROTOCOL_ERROR: u16 = 1002;
    /// A data type the endpoint cannot accept.
    pub const INVALID_DATA_TYPE: u16 = 1003;
    /// No status was in the close frame (never sent on the wire).
    pub const EMPTY: u16 = 1005;
    /// The connection ended without a close frame (never sent on the wire).
    pub const ABORTED: u16 = 1006;
    /// Data inconsistent with the message type (invalid UTF-8 in a text message).
    pub const INVALID_PAYLOAD: u16 = 1007;
    /// A policy was violated.
    pub const POLICY_VIOLATION: u16 = 1008;
    /// A message or frame exceeded a limit.
    pub const MESSAGE_TOO_BIG: u16 = 1009;
    /// The client expected an extension the server did not negotiate.
    pub const UNSUPPORTED_EXTENSIONS: u16 = 1010;
    /// The server met an unexpected condition.
    pub const SERVER_ERROR: u16 = 1011;
    /// The TLS handshake failed (never sent on the wire).
    pub const SECURE_HANDSHAKE_ERROR: u16 = 1015;
}

/// WEB_SOCKET_PROPERTY_TYPE numbers (0..6 are websocket.h's), and wsaction's own from 0x1000.
pub mod property_type {
    pub const RECEIVE_BUFFER_SIZE: u32 = 0;
    pub const SEND_BUFFER_SIZE: u32 = 1;
    pub const DISABLE_MASKING: u32 = 2;
    pub const ALLOCATED_BUFFER: u32 = 3;
    pub const DISABLE_UTF8_VERIFICATION: u32 = 4;
    pub const KEEPALIVE_INTERVAL: u32 = 5;
    pub const SUPPORTED_VERSIONS: u32 = 6;
    // wsaction's own properties (beyond websocket.h).
    pub const KEEPALIVE_MODE: u32 = 0x1000;
    pub const KEEPALIVE_TIMEOUT: u32 = 0x1001;
    pub const CLOSE_TIMEOUT: u32 = 0x1002;
    pub const HANDSHAKE_TIMEOUT: u32 = 0x1003;
    pub const MAX_FRAME_SIZE: u32 = 0x1004;
    pub const MAX_MESSAGE_SIZE: u32 = 0x1005;
    pub const MAX_FRAGMENTS: u32 = 0x1006;
    pub const MAX_HANDSHAKE_HEADER_BYTES: u32 = 0x1007;
    pub const MAX_HANDSHAKE_HEADERS: u32 = 0x1008;
    // permessage-deflate (RFC 7692), with ws's option names beside each.
    /// `perMessageDeflate`: offer (client) or accept (server) permessage-deflate.
    pub const PER_MESSAGE_DEFLATE: u32 = 0x1009;
    /// `threshold`
    pub const DEFLATE_THRESHOLD: u32 = 0x100A;
    /// `serverNoContextTakeover`
    pub const DEFLATE_SERVER_NO_CONTEXT_TAKEOVER: u32 = 0x100B;
    /// `clientNoContextTakeover`
    pub const DEFLATE_CLIENT_NO_CONTEXT_TAKEOVER: u32 = 0x100C;
    /// `serverMaxWindowBits`
    pub const DEFLATE_SERVER_MAX_WINDOW_BITS: u32 = 0x100D;
    /// `clientMaxWindowBits`
    pub const DEFLATE_CLIENT_MAX_WINDOW_BITS: u32 = 0x100E;
    /// `zlibDeflateOptions.level`
    pub const DEFLATE_LEVEL: u32 = 0x100F;
    /// `zlibDeflateOptions.memLevel`
    pub const DEFLATE_MEM_LEVEL: u32 = 0x1010;
    /// `indicatePings`: received pings are indicated (ws's 'ping' event).
    pub const INDICATE_PINGS: u32 = 0x1011;
    /// `autoPong`
    pub const AUTO_PONG: u32 = 0x1012;
}

/// HRESULTs from winerror.h (FACILITY_WEB_SOCKET = 886) and the general ones wsaction returns.
pub mod hresult {
    pub const S_OK: u32 = 0x0000_0000;
    pub const E_INVALID_PROTOCOL_OPERATION: u32 = 0x8376_0001;
    pub const E_INVALID_PROTOCOL_FORMAT: u32 = 0x8376_0002;
    pub const E_PROTOCOL_EXTENSIONS_NOT_SUPPORTED: u32 = 0x8376_0003;
    pub const E_SUBPROTOCOL_NOT_SUPPORTED: u32 = 0x8376_0004;
    pub const E_PROTOCOL_VERSION_NOT_SUPPORTED: u32 = 0x8376_0005;
    pub const E_INVALIDARG: u32 = 0x8007_0057;
    pub const E_OUTOFMEMORY: u32 = 0x8007_000E;
    /// HRESULT_FROM_WIN32(ERROR_INVALID_STATE)
    pub const E_INVALID_STATE: u32 = 0x8007_139F;
    /// HRESULT_FROM_WIN32(ERROR_INVALID_HANDLE): an action id the handle does not hold.
    pub const E_HANDLE: u32 = 0x8007_0006;
    /// HRESULT_FROM_WIN32(ERROR_TIMEOUT)
    pub const E_TIMEOUT: u32 = 0x8007_05B4;
}

/// WEB_SOCKET_MAX_CLOSE_REASON_LENGTH: a close reason is at most 123 bytes of UTF-8
/// (125, the control-frame payload limit of RFC 6455 section 5.5, less the 2-byte status).
pub const MAX_CLOSE_REASON_LENGTH: usize = 123;

/// The protocol version this engine speaks (RFC 6455 section 4.1, `Sec-WebSocket-Version: 13`).
pub const SUPPORTED_VERSION: u32 = 13;

/// WEB_SOCKET_KEEPALIVE_INTERVAL_PROPERTY_TYPE's documented default, in milliseconds.
pub const DEFAULT_KEEPALIVE_INTERVAL_MS: u32 = 30_000;
