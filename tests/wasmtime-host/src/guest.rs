//! Loading the component and calling it: `bindgen!` over `wit/`, wasi:random from wasmtime-wasi.
//!
//! Every call returns `Result<_, Trap>` on the outside (a trap or a host failure, which must never
//! happen: the fuzz test fails on one) and, where the WIT says so, the component's own
//! `result<_, error>` on the inside.

use anyhow::{anyhow, Context, Result};
use std::path::Path;
use wasmtime::component::{Component, Linker, ResourceAny};
use wasmtime::{Engine, Store, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::random::{WasiRandom, WasiRandomCtx};

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "wsaction",
    with: {
        "wasi:random/random": wasmtime_wasi::p2::bindings::random::random,
    },
});

pub use exports::wsaction::engine::types::*;

/// What the store holds: wasi:random's state, since that is all the component imports, and the
/// limits its memory may grow to.
pub struct HostState {
    random: WasiRandomCtx,
    limits: StoreLimits,
}

/// The compiled component, ready to instantiate (once per connection, or once for many handles).
#[derive(Clone)]
pub struct Runtime {
    pre: WsactionPre<HostState>,
    /// Each instance's memory may grow to this many bytes; growing past it traps (see
    /// `trap_past_memory`).
    memory_ceiling: Option<usize>,
}

impl Runtime {
    /// Compiles the component at `path` and links wasi:random/random, the one import it has.
    pub fn load(path: &Path) -> Result<Runtime> {
        let engine = Engine::default();
        let component = Component::from_file(&engine, path)
            .map_err(|e| anyhow!("{e:?}"))
            .with_context(|| format!("loading the component {}", path.display()))?;
        let mut linker: Linker<HostState> = Linker::new(&engine);
        wasmtime_wasi::p2::bindings::random::random::add_to_linker::<HostState, WasiRandom>(&mut linker, |state| {
            &mut state.random
        })
        .map_err(|e| anyhow!("{e:?}"))?;
        let pre = linker.instantiate_pre(&component).map_err(|e| anyhow!("{e:?}"))?;
        Ok(Runtime { pre: WsactionPre::new(pre).map_err(|e| anyhow!("{e:?}"))?, memory_ceiling: None })
    }

    /// A way to make an instance trap from outside, for the tests of what a host does after a
    /// trap: a `memory.grow` that would take an instance's memory past `bytes` traps (wasmtime's
    /// StoreLimits with trap_on_grow_failure) instead of failing in a way the component could
    /// answer with an out-of-memory error.
    pub fn trap_past_memory(mut self, bytes: usize) -> Runtime {
        self.memory_ceiling = Some(bytes);
        self
    }

    /// A fresh instance in a fresh store.
    pub fn instantiate(&self) -> Result<Guest> {
        let limits = match self.memory_ceiling {
            Some(bytes) => StoreLimitsBuilder::new().memory_size(bytes).trap_on_grow_failure(true).build(),
            None => StoreLimits::default(),
        };
        let mut store = Store::new(self.pre.engine(), HostState { random: WasiRandomCtx::default(), limits });
        store.limiter(|state| &mut state.limits);
        let api = self.pre.instantiate(&mut store).map_err(|e| anyhow!("{e:?}"))?;
        Ok(Guest { store, api, trapped: false })
    }
}

/// One instance of the component and its store. Handles are `ResourceAny`s owned by this store.
pub struct Guest {
    store: Store<HostState>,
    api: Wsaction,
    /// A call trapped (or failed in the host): the instance's state is whatever the trap left,
    /// so no call may go into it again.
    trapped: bool,
}

/// A trap or host-side failure (never a component `error`, which comes back as a value).
pub type Trap = anyhow::Error;

impl Guest {
    /// Remembers that a call trapped, and says so in the error.
    fn trap(&mut self, e: wasmtime::Error) -> Trap {
        self.trapped = true;
        anyhow!("trap or host failure: {e:?}")
    }

    /// True once a call into this instance trapped: a host drops it and calls it no more.
    pub fn trapped(&self) -> bool {
        self.trapped
    }
}

/// No properties: every one keeps its documented default.
pub fn default_properties() -> Properties {
    Vec::new()
}

pub fn header(name: &str, value: &str) -> Header {
    Header { name: name.to_string(), value: value.to_string() }
}

macro_rules! handle_call {
    ($self:ident, $method:ident $(, $arg:expr)*) => {{
        let handle = $self.api.wsaction_engine_engine().handle();
        handle.$method(&mut $self.store $(, $arg)*).map_err(|e| $self.trap(e))
    }};
}

macro_rules! free_call {
    ($self:ident, $method:ident $(, $arg:expr)*) => {{
        let result = $self.api.wsaction_engine_engine().$method(&mut $self.store $(, $arg)*);
        result.map_err(|e| $self.trap(e))
    }};
}

impl Guest {
    pub fn create_client(
        &mut self,
        properties: Properties,
        seed: Option<u64>,
    ) -> Result<Result<ResourceAny, Error>, Trap> {
        handle_call!(self, call_create_client, &properties, seed)
    }

    pub fn create_server(
        &mut self,
        properties: Properties,
        seed: Option<u64>,
    ) -> Result<Result<ResourceAny, Error>, Trap> {
        handle_call!(self, call_create_server, &properties, seed)
    }

    /// WebSocketDeleteHandle: drops the resource.
    pub fn drop_handle(&mut self, h: ResourceAny) -> Result<(), Trap> {
        h.resource_drop(&mut self.store).map_err(|e| self.trap(e))
    }

    pub fn role(&mut self, h: ResourceAny) -> Result<Role, Trap> {
        handle_call!(self, call_role, h)
    }

    pub fn state(&mut self, h: ResourceAny) -> Result<State, Trap> {
        handle_call!(self, call_state, h)
    }

    pub fn failure(&mut self, h: ResourceAny) -> Result<Option<Error>, Trap> {
        handle_call!(self, call_failure, h)
    }

    pub fn subprotocol(&mut self, h: ResourceAny) -> Result<Option<String>, Trap> {
        handle_call!(self, call_subprotocol, h)
    }

    pub fn extensions(&mut self, h: ResourceAny) -> Result<Vec<String>, Trap> {
        handle_call!(self, call_extensions, h)
    }

    pub fn begin_client_handshake(
        &mut self,
        h: ResourceAny,
        subprotocols: &[String],
        extensions: &[String],
        initial: &[Header],
    ) -> Result<Result<Vec<Header>, Error>, Trap> {
        handle_call!(self, call_begin_client_handshake, h, subprotocols, extensions, initial)
    }

    pub fn end_client_handshake(
        &mut self,
        h: ResourceAny,
        response: &[Header],
    ) -> Result<Result<ClientHandshakeResult, Error>, Trap> {
        handle_call!(self, call_end_client_handshake, h, response)
    }

    pub fn begin_server_handshake(
        &mut self,
        h: ResourceAny,
        subprotocol: Option<&str>,
        extensions: &[String],
        request: &[Header],
    ) -> Result<Result<Vec<Header>, Error>, Trap> {
        handle_call!(self, call_begin_server_handshake, h, subprotocol, extensions, request)
    }

    pub fn end_server_handshake(&mut self, h: ResourceAny) -> Result<Result<(), Error>, Trap> {
        handle_call!(self, call_end_server_handshake, h)
    }

    pub fn send(
        &mut self,
        h: ResourceAny,
        buffer_type: BufferType,
        buffer: Option<&Buffer>,
        context: Option<u64>,
    ) -> Result<Result<(), Error>, Trap> {
        handle_call!(self, call_send, h, buffer_type, buffer, context)
    }

    pub fn receive(&mut self, h: ResourceAny, context: Option<u64>) -> Result<Result<(), Error>, Trap> {
        handle_call!(self, call_receive, h, context)
    }

    pub fn get_action(&mut self, h: ResourceAny, queue: ActionQueue) -> Result<Result<Action, Error>, Trap> {
        handle_call!(self, call_get_action, h, queue)
    }

    pub fn complete_action(&mut self, h: ResourceAny, id: u32, bytes: u32) -> Result<Result<(), Error>, Trap> {
        handle_call!(self, call_complete_action, h, id, bytes)
    }

    pub fn complete_receive(&mut self, h: ResourceAny, id: u32, data: &[u8]) -> Result<Result<(), Error>, Trap> {
        handle_call!(self, call_complete_receive, h, id, data)
    }

    pub fn abort(&mut self, h: ResourceAny) -> Result<(), Trap> {
        handle_call!(self, call_abort, h)
    }

    /// The component's driver: the drain contract in one crossing.
    pub fn drain(
        &mut self,
        h: ResourceAny,
        input: &[u8],
        end_of_stream: bool,
        options: DrainOptions,
    ) -> Result<Result<DrainResult, Error>, Trap> {
        handle_call!(self, call_drain, h, input, end_of_stream, options)
    }

    /// The driver's trace: with on, each drain-result carries what the driver did.
    pub fn set_trace(&mut self, h: ResourceAny, on: bool) -> Result<(), Trap> {
        handle_call!(self, call_set_trace, h, on)
    }

    /// send and drain in one crossing; `send_options` are ws's per-send options (compress).
    pub fn send_and_drain(
        &mut self,
        h: ResourceAny,
        buffer_type: BufferType,
        buffer: Option<&Buffer>,
        send_options: SendOptions,
        options: DrainOptions,
    ) -> Result<Result<DrainResult, Error>, Trap> {
        handle_call!(self, call_send_and_drain, h, buffer_type, buffer, send_options, options)
    }

    pub fn tick(&mut self, h: ResourceAny, now_ms: u64) -> Result<(), Trap> {
        handle_call!(self, call_tick, h, now_ms)
    }

    pub fn next_deadline(&mut self, h: ResourceAny) -> Result<Option<u64>, Trap> {
        handle_call!(self, call_next_deadline, h)
    }

    pub fn get_global_property(&mut self, property_type: u32) -> Result<Result<GlobalProperty, Error>, Trap> {
        free_call!(self, call_get_global_property, property_type)
    }

    pub fn accept_key(&mut self, key: &str) -> Result<String, Trap> {
        free_call!(self, call_accept_key, key)
    }

    pub fn offered_subprotocols(&mut self, headers: &[Header]) -> Result<Vec<String>, Trap> {
        free_call!(self, call_offered_subprotocols, headers)
    }

    pub fn offered_extensions(&mut self, headers: &[Header]) -> Result<Vec<String>, Trap> {
        free_call!(self, call_offered_extensions, headers)
    }

    pub fn check_request_line(&mut self, method: &str, minor: u8) -> Result<Result<(), Error>, Trap> {
        free_call!(self, call_check_request_line, method, minor)
    }

    pub fn parse_request_head(
        &mut self,
        bytes: &[u8],
        limits: HttpLimits,
    ) -> Result<Result<Option<ParsedRequest>, Error>, Trap> {
        free_call!(self, call_parse_request_head, bytes, limits)
    }

    pub fn parse_response_head(
        &mut self,
        bytes: &[u8],
        limits: HttpLimits,
    ) -> Result<Result<Option<ParsedResponse>, Error>, Trap> {
        free_call!(self, call_parse_response_head, bytes, limits)
    }

    pub fn serialize_request_head(
        &mut self,
        method: &str,
        target: &str,
        headers: &[Header],
    ) -> Result<Result<Vec<u8>, Error>, Trap> {
        free_call!(self, call_serialize_request_head, method, target, headers)
    }

    pub fn serialize_response_head(
        &mut self,
        status: u16,
        reason: &str,
        headers: &[Header],
    ) -> Result<Result<Vec<u8>, Error>, Trap> {
        free_call!(self, call_serialize_response_head, status, reason, headers)
    }

    pub fn reason_phrase(&mut self, status: u16) -> Result<String, Trap> {
        free_call!(self, call_reason_phrase, status)
    }
}

impl Error {
    /// The WIT case name (kebab-case), for logs, counts and scenario results.
    pub fn case(&self) -> &'static str {
        match self {
            Error::InvalidState(_) => "invalid-state",
            Error::InvalidArgument(_) => "invalid-argument",
            Error::PropertyOutOfRange(_) => "property-out-of-range",
            Error::UnsupportedProperty(_) => "unsupported-property",
            Error::UnknownAction(_) => "unknown-action",
            Error::OperationPending(_) => "operation-pending",
            Error::RandomUnavailable(_) => "random-unavailable",
            Error::ProtocolViolation(_) => "protocol-violation",
            Error::HandshakeFailed(_) => "handshake-failed",
            Error::MalformedHttp(_) => "malformed-http",
            Error::Timeout(_) => "timeout",
            Error::OutOfMemory(_) => "out-of-memory",
        }
    }
}
