//! The WIT binding (`wit/`, package `wsaction:engine@0.3.0`): the engine as a WebAssembly
//! component. `make component` builds the crate with `--target wasm32-unknown-unknown
//! --no-default-features --features component,permessage-deflate` and wraps the module with
//! wit-component (tests/wit-tool); wasm32-wasip2 is not used because its std imports wasi:cli and wasi:io for
//! stdio. Thin: it converts WIT values to engine values and back, and brings randomness from
//! `wasi:random` (or a seed the host passes in). No protocol logic here.

use crate::config::{KeepAliveMode, Property, Role};
use crate::constants::{ActionQueue, BufferType};
use crate::driver::{DrainOptions, Drained, Driver, Indication, TraceEvent, TraceHook};
use crate::engine::{Action, Buffer, Handle, SendOptions};
use crate::error::{Error, Timer};
use crate::random::{PooledRandom, RandomSource, SeededRandom};
use crate::state::State;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

wit_bindgen::generate!({
    path: "wit",
    world: "wsaction",
    generate_all,
});

use exports::wsaction::engine::engine as wit_engine;
use exports::wsaction::engine::types as wit;

/// An engine action as the WIT variant (one case per websocket.h action, each with its fields).
fn action_to(action: &Action<'_>) -> wit::Action {
    match *action {
        Action::NoAction => wit::Action::NoAction,
        Action::SendToNetwork { id, queue, buffer_type, context, bytes } => {
            wit::Action::SendToNetwork(wit::NetworkSend {
                id,
                queue: queue_to(queue),
                buffer_type: buffer_type_to(buffer_type),
                context,
                bytes: bytes.to_vec(),
            })
        }
        Action::IndicateSendComplete { id, buffer_type, context } => {
            wit::Action::IndicateSendComplete(wit::SendCompletion {
                id,
                queue: wit::ActionQueue::Send,
                buffer_type: buffer_type_to(buffer_type),
                context,
            })
        }
        Action::ReceiveFromNetwork { id, context, capacity } => wit::Action::ReceiveFromNetwork(wit::NetworkReceive {
            id,
            queue: wit::ActionQueue::Receive,
            capacity: len_u32(capacity),
            context,
        }),
        Action::IndicateReceiveComplete { id, context, received } => {
            wit::Action::IndicateReceiveComplete(wit::ReceiveCompletion {
                id,
                queue: wit::ActionQueue::Receive,
                buffer_type: buffer_type_to(received.buffer_type()),
                context,
                bytes: received.bytes().to_vec(),
                close_status: received.close_status(),
            })
        }
    }
}

/// Randomness from the host's `wasi:random/random` (a CSPRNG by that interface's contract).
struct WasiRandom;

impl RandomSource for WasiRandom {
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), Error> {
        let bytes = wasi::random::random::get_random_bytes(buf.len() as u64);
        if bytes.len() != buf.len() {
            return Err(Error::RandomUnavailable {
                problem: format!("wasi:random returned {} bytes for {} asked", bytes.len(), buf.len()),
            });
        }
        buf.copy_from_slice(&bytes);
        Ok(())
    }
}

struct Component;

export!(Component);

// ------------------------------------------------------------------------------------ values

fn buffer_type_from(t: wit::BufferType) -> BufferType {
    match t {
        wit::BufferType::Utf8Message => BufferType::Utf8Message,
        wit::BufferType::Utf8Fragment => BufferType::Utf8Fragment,
        wit::BufferType::BinaryMessage => BufferType::BinaryMessage,
        wit::BufferType::BinaryFragment => BufferType::BinaryFragment,
        wit::BufferType::Close => BufferType::Close,
        wit::BufferType::PingPong => BufferType::PingPong,
        wit::BufferType::UnsolicitedPong => BufferType::UnsolicitedPong,
        wit::BufferType::Ping => BufferType::Ping,
    }
}

fn buffer_type_to(t: BufferType) -> wit::BufferType {
    match t {
        BufferType::Utf8Message => wit::BufferType::Utf8Message,
        BufferType::Utf8Fragment => wit::BufferType::Utf8Fragment,
        BufferType::BinaryMessage => wit::BufferType::BinaryMessage,
        BufferType::BinaryFragment => wit::BufferType::BinaryFragment,
        BufferType::Close => wit::BufferType::Close,
        BufferType::PingPong => wit::BufferType::PingPong,
        BufferType::UnsolicitedPong => wit::BufferType::UnsolicitedPong,
        BufferType::Ping => wit::BufferType::Ping,
    }
}

fn queue_from(q: wit::ActionQueue) -> ActionQueue {
    match q {
        wit::ActionQueue::Send => ActionQueue::Send,
        wit::ActionQueue::Receive => ActionQueue::Receive,
        wit::ActionQueue::All => ActionQueue::All,
    }
}

fn queue_to(q: ActionQueue) -> wit::ActionQueue {
    match q {
        ActionQueue::Send => wit::ActionQueue::Send,
        ActionQueue::Receive => wit::ActionQueue::Receive,
        ActionQueue::All => wit::ActionQueue::All,
    }
}

fn state_to(s: State) -> wit::State {
    match s {
        State::Connecting => wit::State::Connecting,
        State::Open => wit::State::Open,
        State::CloseSent => wit::State::CloseSent,
        State::CloseReceived => wit::State::CloseReceived,
        State::Closed => wit::State::Closed,
        State::Aborted => wit::State::Aborted,
    }
}

fn headers_from(headers: Vec<wit::Header>) -> Vec<(String, String)> {
    headers.into_iter().map(|h| (h.name, h.value)).collect()
}

fn headers_to(headers: Vec<(String, String)>) -> Vec<wit::Header> {
    headers.into_iter().map(|(name, value)| wit::Header { name, value }).collect()
}

/// The property list as the engine's properties, in the order given (a later value of one
/// property wins, as websocket.h's array does). Each case is a row of the property table.
fn properties_from(properties: Vec<wit::PropertyValue>) -> Vec<Property> {
    use wit::PropertyValue as P;
    properties
        .into_iter()
        .map(|property| match property {
            P::ReceiveBufferSize(v) => Property::ReceiveBufferSize(v),
            P::SendBufferSize(v) => Property::SendBufferSize(v),
            P::DisableMasking(v) => Property::DisableMasking(v),
            P::AllocatedBuffer => Property::AllocatedBuffer,
            P::DisableUtf8Verification(v) => Property::DisableUtf8Verification(v),
            P::KeepAliveInterval(v) => Property::KeepAliveInterval(v),
            P::KeepAliveMode(wit::KeepAliveMode::Ping) => Property::KeepAliveMode(KeepAliveMode::Ping),
            P::KeepAliveMode(wit::KeepAliveMode::UnsolicitedPong) => {
                Property::KeepAliveMode(KeepAliveMode::UnsolicitedPong)
            }
            P::KeepAliveTimeout(v) => Property::KeepAliveTimeout(v),
            P::CloseTimeout(v) => Property::CloseTimeout(v),
            P::HandshakeTimeout(v) => Property::HandshakeTimeout(v),
            P::MaxFrameSize(v) => Property::MaxFrameSize(v),
            P::MaxMessageSize(v) => Property::MaxMessageSize(v),
            P::MaxFragments(v) => Property::MaxFragments(v),
            P::MaxHandshakeHeaderBytes(v) => Property::MaxHandshakeHeaderBytes(v),
            P::MaxHandshakeHeaders(v) => Property::MaxHandshakeHeaders(v),
            P::PerMessageDeflate(v) => Property::PerMessageDeflate(v),
            P::DeflateThreshold(v) => Property::DeflateThreshold(v),
            P::DeflateServerNoContextTakeover(v) => Property::DeflateServerNoContextTakeover(v),
            P::DeflateClientNoContextTakeover(v) => Property::DeflateClientNoContextTakeover(v),
            P::DeflateServerMaxWindowBits(v) => Property::DeflateServerMaxWindowBits(v),
            P::DeflateClientMaxWindowBits(v) => Property::DeflateClientMaxWindowBits(v),
            P::DeflateLevel(v) => Property::DeflateLevel(v),
            P::DeflateMemLevel(v) => Property::DeflateMemLevel(v),
            P::IndicatePings(v) => Property::IndicatePings(v),
            P::AutoPong(v) => Property::AutoPong(v),
        })
        .collect()
}

fn error_to(e: &Error) -> wit::Error {
    let message = e.to_string();
    let hresult = e.hresult();
    let misuse = || wit::Misuse { message: message.clone(), hresult };
    match e {
        Error::InvalidState { .. } => wit::Error::InvalidState(misuse()),
        Error::InvalidArgument { .. } => wit::Error::InvalidArgument(misuse()),
        Error::PropertyOutOfRange { .. } => wit::Error::PropertyOutOfRange(misuse()),
        Error::UnsupportedProperty { .. } => wit::Error::UnsupportedProperty(misuse()),
        Error::UnknownAction { .. } => wit::Error::UnknownAction(misuse()),
        Error::OperationPending { .. } => wit::Error::OperationPending(misuse()),
        Error::RandomUnavailable { .. } => wit::Error::RandomUnavailable(misuse()),
        Error::OutOfMemory { .. } => wit::Error::OutOfMemory(misuse()),
        Error::ProtocolViolation(violation) => wit::Error::ProtocolViolation(wit::Violation {
            close_code: violation.close_code(),
            rule: violation.code().to_string(),
            message,
            hresult,
        }),
        Error::Handshake(_) => wit::Error::HandshakeFailed(wit::HandshakeRejection {
            http_status: e.http_status(),
            headers: headers_to(e.http_headers().to_vec()),
            message,
            hresult,
        }),
        Error::MalformedHttp { status, .. } => {
            wit::Error::MalformedHttp(wit::MalformedHttp { http_status: *status, message, hresult })
        }
        Error::Timeout { timer, waited_ms } => wit::Error::Timeout(wit::Timeout {
            timer: match timer {
                Timer::Handshake => wit::Timer::Handshake,
                Timer::Close => wit::Timer::Close,
                Timer::KeepAlive => wit::Timer::KeepAlive,
            },
            waited_ms: *waited_ms,
            close_code: e.close_code(),
            message,
            hresult,
        }),
    }
}

fn err(e: Error) -> wit::Error {
    error_to(&e)
}

/// Limits for the HTTP head parsers, checked with the same ranges as the handle properties.
fn limits_from(l: wit::HttpLimits) -> Result<crate::config::Limits, wit::Error> {
    crate::config::Limits::for_heads(l.max_header_bytes.map(u64::from), l.max_headers.map(u64::from)).map_err(err)
}

fn len_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

// ------------------------------------------------------------------------------------ handle

/// The `handle` resource: one engine handle. Calls into one component instance are never
/// concurrent, so a RefCell is enough.
pub struct ComponentHandle {
    inner: RefCell<Handle>,
    /// The id of the receive-from-network last handed out: WIT hosts cannot write into the
    /// engine's receive buffer, so that action is completed with complete-receive (bytes), and
    /// complete-action only takes 0 (end of stream) for it.
    receive_id: Cell<Option<u32>>,
    /// The core's drain loop behind `drain` and `send-and-drain`.
    driver: RefCell<Driver>,
    /// What the driver's trace hook saw since the last result (set-trace).
    trace: Rc<RefCell<Vec<wit::TraceEvent>>>,
}

/// A trace event as the WIT variant (bytes copied: they cross as list<u8>).
fn trace_to(event: &TraceEvent<'_>) -> wit::TraceEvent {
    match *event {
        TraceEvent::Input { call, id, buffer_type, bytes } => wit::TraceEvent::Input(wit::TracedInput {
            call: call.to_string(),
            id,
            buffer_type: buffer_type.map(buffer_type_to),
            bytes: bytes.to_vec(),
        }),
        TraceEvent::Action(action) => wit::TraceEvent::Action(action_to(&action)),
        TraceEvent::Violation(error) => wit::TraceEvent::Violation(error_to(error)),
    }
}

fn buffer_from(buffer: &wit::Buffer) -> Buffer<'_> {
    match buffer {
        wit::Buffer::Data(data) => Buffer::Data(data),
        wit::Buffer::CloseStatus(close) => Buffer::CloseStatus { status: close.status, reason: &close.reason },
    }
}

fn options_from(options: wit::DrainOptions) -> DrainOptions {
    DrainOptions {
        keep_receiving: options.keep_receiving,
        max_out_bytes: options.max_out_bytes.map_or(usize::MAX, |n| n as usize),
    }
}

/// A driver result as the WIT record (bytes copied out: they cross as list<u8>).
fn drained_to(drained: &Drained<'_>) -> wit::DrainResult {
    let indications = drained
        .indications
        .iter()
        .map(|indication| match indication {
            Indication::SendComplete { buffer_type, context } => wit::Indication::SendComplete(wit::Sent {
                buffer_type: buffer_type_to(*buffer_type),
                context: *context,
            }),
            Indication::Received { buffer_type, close_status, context, .. } => {
                wit::Indication::ReceiveComplete(wit::Received {
                    buffer_type: buffer_type_to(*buffer_type),
                    context: *context,
                    bytes: drained.payload_of(indication).to_vec(),
                    close_status: *close_status,
                })
            }
        })
        .collect();
    wit::DrainResult {
        out: drained.out.to_vec(),
        indications,
        consumed: len_u32(drained.consumed),
        receive: drained.receive.map(|(id, capacity)| wit::HeldReceive { id, capacity: len_u32(capacity) }),
        state: state_to(drained.state),
        violation: drained.violation.map(error_to),
        failing_close_waits: drained.failing_close_waits,
        next_deadline: drained.next_deadline,
        trace: Vec::new(),
    }
}

impl ComponentHandle {
    fn create(role: Role, properties: wit::Properties, seed: Option<u64>) -> Result<wit_engine::Handle, wit::Error> {
        let random: Box<dyn RandomSource> = match seed {
            Some(seed) => Box::new(SeededRandom::new(seed)),
            // One wasi:random host call per 64 mask keys, not one per frame.
            None => Box::new(PooledRandom::new(WasiRandom)),
        };
        let handle = Handle::with_random(role, &properties_from(properties), random).map_err(err)?;
        Ok(wit_engine::Handle::new(ComponentHandle {
            inner: RefCell::new(handle),
            receive_id: Cell::new(None),
            driver: RefCell::new(Driver::new()),
            trace: Rc::default(),
        }))
    }
}

impl wit_engine::GuestHandle for ComponentHandle {
    fn create_client(properties: wit::Properties, seed: Option<u64>) -> Result<wit_engine::Handle, wit::Error> {
        ComponentHandle::create(Role::Client, properties, seed)
    }

    fn create_server(properties: wit::Properties, seed: Option<u64>) -> Result<wit_engine::Handle, wit::Error> {
        ComponentHandle::create(Role::Server, properties, seed)
    }

    fn role(&self) -> wit::Role {
        match self.inner.borrow().role() {
            Role::Client => wit::Role::Client,
            Role::Server => wit::Role::Server,
        }
    }

    fn state(&self) -> wit::State {
        state_to(self.inner.borrow().state())
    }

    fn failure(&self) -> Option<wit::Error> {
        self.inner.borrow().failure().map(error_to)
    }

    fn subprotocol(&self) -> Option<String> {
        self.inner.borrow().subprotocol().map(str::to_string)
    }

    fn extensions(&self) -> Vec<String> {
        self.inner.borrow().extensions().to_vec()
    }

    fn begin_client_handshake(
        &self,
        subprotocols: Vec<String>,
        extensions: Vec<String>,
        initial_headers: Vec<wit::Header>,
    ) -> Result<Vec<wit::Header>, wit::Error> {
        let subprotocols: Vec<&str> = subprotocols.iter().map(String::as_str).collect();
        let extensions: Vec<&str> = extensions.iter().map(String::as_str).collect();
        self.inner
            .borrow_mut()
            .begin_client_handshake(&subprotocols, &extensions, &headers_from(initial_headers))
            .map(headers_to)
            .map_err(err)
    }

    fn end_client_handshake(
        &self,
        response_headers: Vec<wit::Header>,
    ) -> Result<wit::ClientHandshakeResult, wit::Error> {
        self.inner
            .borrow_mut()
            .end_client_handshake(&headers_from(response_headers))
            .map(|r| wit::ClientHandshakeResult {
                selected_subprotocol: r.selected_subprotocol,
                selected_extensions: r.selected_extensions,
            })
            .map_err(err)
    }

    fn begin_server_handshake(
        &self,
        selected_subprotocol: Option<String>,
        selected_extensions: Vec<String>,
        request_headers: Vec<wit::Header>,
    ) -> Result<Vec<wit::Header>, wit::Error> {
        let extensions: Vec<&str> = selected_extensions.iter().map(String::as_str).collect();
        self.inner
            .borrow_mut()
            .begin_server_handshake(selected_subprotocol.as_deref(), &extensions, &headers_from(request_headers))
            .map(headers_to)
            .map_err(err)
    }

    fn end_server_handshake(&self) -> Result<(), wit::Error> {
        self.inner.borrow_mut().end_server_handshake().map_err(err)
    }

    fn send(
        &self,
        buffer_type: wit::BufferType,
        buffer: Option<wit::Buffer>,
        context: Option<u64>,
    ) -> Result<(), wit::Error> {
        let buffer = buffer.as_ref().map(buffer_from);
        self.inner.borrow_mut().send(buffer_type_from(buffer_type), buffer, context).map_err(err)
    }

    fn receive(&self, context: Option<u64>) -> Result<(), wit::Error> {
        self.inner.borrow_mut().receive(context).map_err(err)
    }

    fn get_action(&self, queue: wit::ActionQueue) -> Result<wit::Action, wit::Error> {
        let mut handle = self.inner.borrow_mut();
        let action = handle.get_action(queue_from(queue)).map_err(err)?;
        if let Action::ReceiveFromNetwork { id, .. } = action {
            self.receive_id.set(Some(id));
        }
        Ok(action_to(&action))
    }

    fn complete_action(&self, id: u32, bytes_transferred: u32) -> Result<(), wit::Error> {
        if bytes_transferred > 0 && id != 0 && self.receive_id.get() == Some(id) {
            return Err(err(Error::InvalidArgument {
                argument: "bytes transferred",
                problem: format!(
                    "action {id} is a receive-from-network: complete it with complete-receive(id, bytes); complete-action takes only 0 (the peer ended the stream) for it"
                ),
            }));
        }
        self.inner.borrow_mut().complete_action(id, bytes_transferred as usize).map_err(err)
    }

    fn complete_receive(&self, id: u32, data: Vec<u8>) -> Result<(), wit::Error> {
        self.inner.borrow_mut().complete_receive(id, &data).map_err(err)
    }

    fn abort(&self) {
        self.inner.borrow_mut().abort()
    }

    fn tick(&self, now_ms: u64) {
        self.inner.borrow_mut().tick(now_ms)
    }

    fn next_deadline(&self) -> Option<u64> {
        self.inner.borrow().next_deadline()
    }

    fn drain(
        &self,
        input: Vec<u8>,
        end_of_stream: bool,
        options: wit::DrainOptions,
    ) -> Result<wit::DrainResult, wit::Error> {
        let mut handle = self.inner.borrow_mut();
        let mut driver = self.driver.borrow_mut();
        let options = options_from(options);
        let mut result = drained_to(&driver.feed(&mut handle, &input, options).map_err(err)?);
        if end_of_stream && result.consumed as usize == input.len() {
            let ended = drained_to(&driver.end_of_stream(&mut handle, options).map_err(err)?);
            result.out.extend_from_slice(&ended.out);
            result.indications.extend(ended.indications);
            result.violation = result.violation.or(ended.violation);
            result.receive = ended.receive;
            result.state = ended.state;
            result.failing_close_waits = ended.failing_close_waits;
            result.next_deadline = ended.next_deadline;
        }
        self.receive_id.set(result.receive.as_ref().map(|held| held.id));
        result.trace = std::mem::take(&mut *self.trace.borrow_mut());
        Ok(result)
    }

    fn set_trace(&self, on: bool) {
        let hook: Option<TraceHook> = on.then(|| {
            let sink = Rc::clone(&self.trace);
            Box::new(move |event: &TraceEvent<'_>| sink.borrow_mut().push(trace_to(event))) as TraceHook
        });
        self.driver.borrow_mut().set_trace(hook);
        self.trace.borrow_mut().clear();
    }

    fn send_and_drain(
        &self,
        buffer_type: wit::BufferType,
        buffer: Option<wit::Buffer>,
        send_options: wit::SendOptions,
        options: wit::DrainOptions,
    ) -> Result<wit::DrainResult, wit::Error> {
        let mut handle = self.inner.borrow_mut();
        let mut driver = self.driver.borrow_mut();
        let buffer = buffer.as_ref().map(buffer_from);
        let send_options = SendOptions { compress: send_options.compress, ..SendOptions::default() };
        let drained = driver
            .send_and_drain_with_options(
                &mut handle,
                buffer_type_from(buffer_type),
                buffer,
                send_options,
                options_from(options),
            )
            .map_err(err)?;
        let mut result = drained_to(&drained);
        self.receive_id.set(result.receive.as_ref().map(|held| held.id));
        result.trace = std::mem::take(&mut *self.trace.borrow_mut());
        Ok(result)
    }
}

// ------------------------------------------------------------------------------------ free functions

impl wit_engine::Guest for Component {
    type Handle = ComponentHandle;

    fn get_global_property(property_type: u32) -> Result<wit::GlobalProperty, wit::Error> {
        match crate::config::global_property(property_type).map_err(err)? {
            crate::config::GlobalProperty::KeepAliveInterval(ms) => Ok(wit::GlobalProperty::KeepAliveInterval(ms)),
            crate::config::GlobalProperty::SupportedVersions(v) => Ok(wit::GlobalProperty::SupportedVersions(v)),
        }
    }

    fn accept_key(key: String) -> String {
        crate::handshake::accept_key(&key)
    }

    fn offered_subprotocols(request_headers: Vec<wit::Header>) -> Vec<String> {
        crate::handshake::offered_subprotocols(&headers_from(request_headers))
    }

    fn offered_extensions(request_headers: Vec<wit::Header>) -> Vec<String> {
        crate::handshake::offered_extensions(&headers_from(request_headers))
    }

    fn check_request_line(method: String, http_minor_version: u8) -> Result<(), wit::Error> {
        crate::handshake::check_request_line(&method, http_minor_version).map_err(err)
    }

    fn parse_request_head(bytes: Vec<u8>, limits: wit::HttpLimits) -> Result<Option<wit::ParsedRequest>, wit::Error> {
        let limits = limits_from(limits)?;
        Ok(crate::http::parse_request_head(&bytes, &limits).map_err(err)?.map(|parsed| wit::ParsedRequest {
            head: wit::RequestHead {
                method: parsed.head.method,
                target: parsed.head.target,
                minor_version: parsed.head.minor_version,
                headers: headers_to(parsed.head.headers),
            },
            consumed: len_u32(parsed.consumed),
        }))
    }

    fn parse_response_head(bytes: Vec<u8>, limits: wit::HttpLimits) -> Result<Option<wit::ParsedResponse>, wit::Error> {
        let limits = limits_from(limits)?;
        Ok(crate::http::parse_response_head(&bytes, &limits).map_err(err)?.map(|parsed| wit::ParsedResponse {
            head: wit::ResponseHead {
                status: parsed.head.status,
                reason: parsed.head.reason,
                minor_version: parsed.head.minor_version,
                headers: headers_to(parsed.head.headers),
            },
            consumed: len_u32(parsed.consumed),
        }))
    }

    fn serialize_request_head(
        method: String,
        target: String,
        headers: Vec<wit::Header>,
    ) -> Result<Vec<u8>, wit::Error> {
        crate::http::serialize_request_head(&method, &target, &headers_from(headers)).map_err(err)
    }

    fn serialize_response_head(status: u16, reason: String, headers: Vec<wit::Header>) -> Result<Vec<u8>, wit::Error> {
        crate::http::serialize_response_head(status, &reason, &headers_from(headers)).map_err(err)
    }

    fn reason_phrase(status: u16) -> String {
        crate::http::reason_phrase(status).to_string()
    }
}
