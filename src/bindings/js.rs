//! The JS class (wasm-bindgen, cargo feature `js`): `WebSocketHandle`, a thin shell over
//! [`Handle`] that checks every JS argument before it reaches the engine, turns engine errors into
//! `WsActionError` (an `Error` subclass with a stable `code`), and hands actions out as plain
//! objects. No protocol logic lives here; the module only translates values.
//!
//! Argument checks: a value of the wrong JS type is a `TypeError`, a number outside its range (or
//! not an integer) a `RangeError`, and everything the engine refuses a `WsActionError`. Nothing in
//! this module panics, so no JS input can reach a wasm trap.
//!
//! Bytes: data passed in is copied once into wasm memory. `bytes` of an action from `getAction`
//! is a copy the caller owns. The batched fast paths (`drain`, `sendAndDrain`, `sendMany`, defined
//! in pkg/src/fast.js) are the core's driver (`crate::driver`), called with numbers only: JS
//! copies payloads into a scratch input in wasm memory, the driver leaves its result in its reused
//! buffers, this module says where they lie in a scratch report, and JS copies them out through
//! views over memory.

use crate::config::{KeepAliveMode, Limits, Property, PropertyKind, PropertyValue, Role, PROPERTY_RULES};
use crate::constants::{
    close_status, hresult, property_type, ActionKind, ActionQueue, BufferType, MAX_CLOSE_REASON_LENGTH,
    SUPPORTED_VERSION,
};
use crate::driver::{DrainOptions, Drained, Driver, Indication, TraceEvent};
use crate::engine::{Buffer, Handle, SendOptions};
use crate::error::Error;
use crate::handshake::Header;
use crate::random::{RandomSource, SeededRandom, SharedPool};
use crate::state::State;
use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen(inline_js = r#"
export class WsActionError extends Error {
  constructor(code, message, hresult, closeCode, httpStatus, httpHeaders, local, violation) {
    super(message);
    this.name = 'WsActionError';
    this.code = code;
    this.hresult = hresult;
    this.closeCode = closeCode ?? null;
    this.httpStatus = httpStatus ?? null;
    this.httpHeaders = httpHeaders;
    this.local = local;
    this.violation = violation ?? null;
  }
}
export function errorClass() { return WsActionError; }
export function makeError(code, message, hresult, closeCode, httpStatus, httpHeaders, local, violation) {
  return new WsActionError(code, message, hresult, closeCode, httpStatus, httpHeaders, local, violation);
}
export function makeAction(kind, id, queue, bufferType, context, bytes, closeStatus, receiveCapacity) {
  return {
    kind, id, queue,
    bufferType: bufferType ?? null,
    context: context ?? null,
    bytes: bytes.slice(),
    closeStatus: closeStatus ?? null,
    receiveCapacity,
  };
}
export function copyBytes(view) { return view.slice(); }
"#)]
extern "C" {
    #[wasm_bindgen(js_name = errorClass)]
    fn error_class() -> JsValue;

    #[wasm_bindgen(js_name = makeError)]
    #[allow(clippy::too_many_arguments)]
    fn make_error(
        code: &str,
        message: &str,
        hresult: u32,
        close_code: Option<u16>,
        http_status: Option<u16>,
        http_headers: Array,
        local: bool,
        violation: Option<String>,
    ) -> JsValue;

    #[wasm_bindgen(js_name = makeAction)]
    #[allow(clippy::too_many_arguments)]
    fn make_action(
        kind: u32,
        id: u32,
        queue: u32,
        buffer_type: Option<u32>,
        context: Option<f64>,
        bytes: &[u8],
        close_status: Option<u16>,
        receive_capacity: u32,
    ) -> JsValue;

    /// A `Uint8Array` the caller owns, copied from a view over wasm memory.
    #[wasm_bindgen(js_name = copyBytes)]
    fn copy_bytes(view: &[u8]) -> Uint8Array;
}

/// The `WsActionError` constructor, for `instanceof` checks in JS (`pkg/` re-exports it).
#[wasm_bindgen(js_name = wsActionErrorClass)]
pub fn ws_action_error_class() -> JsValue {
    error_class()
}

// ---------------------------------------------------------------------------------------------
// Errors and argument checks
// ---------------------------------------------------------------------------------------------

fn headers_to_js(headers: &[Header]) -> Array {
    headers.iter().map(|(n, v)| Array::of2(&JsValue::from_str(n), &JsValue::from_str(v))).collect()
}

/// An engine error as a `WsActionError`.
fn engine_error(error: &Error) -> JsValue {
    make_error(
        error.code(),
        &error.to_string(),
        error.hresult(),
        error.close_code(),
        error.http_status(),
        headers_to_js(error.http_headers()),
        error.is_local(),
        error.violation().map(|v| v.code().to_string()),
    )
}

fn type_error(message: String) -> JsValue {
    js_sys::TypeError::new(&message).into()
}

fn range_error(message: String) -> JsValue {
    js_sys::RangeError::new(&message).into()
}

fn describe(value: &JsValue) -> String {
    if value.is_null() {
        "null".into()
    } else if value.is_undefined() {
        "undefined".into()
    } else {
        value.js_typeof().as_string().unwrap_or_else(|| "a value".into())
    }
}

/// The TypeError for an argument of the wrong type: "`name` must be `expected`, got <its type>".
fn wrong_type(name: &str, expected: &str, value: &JsValue) -> JsValue {
    type_error(format!("{name} must be {expected}, got {}", describe(value)))
}

/// An integer in `0..=max` from a JS number argument (already converted by the glue: a
/// non-number arrives as NaN).
fn integer(name: &str, value: f64, max: f64) -> Result<f64, JsValue> {
    if value.is_nan() {
        return Err(type_error(format!("{name} must be a number")));
    }
    if value.fract() != 0.0 || !(0.0..=max).contains(&value) {
        return Err(range_error(format!(
            "{name} must be an integer in 0..={}, got {}",
            number_text(max),
            number_text(value)
        )));
    }
    Ok(value)
}

/// A number as JS writes it (`Number#toString`): error messages format numbers through this, not
/// through Rust's float formatting, which would add ~20 KB of code to the wasm.
fn number_text(value: f64) -> String {
    js_sys::Number::from(value).to_string_with_radix(10).map(String::from).unwrap_or_default()
}

/// An integer in `0..=max` from a JS value that must be a number.
fn integer_value(name: &str, value: &JsValue, max: f64) -> Result<f64, JsValue> {
    match value.as_f64() {
        Some(number) => integer(name, number, max),
        None => Err(wrong_type(name, "a number", value)),
    }
}

const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// An application context: a safe non-negative integer, or none (undefined/null).
fn context_value(value: &JsValue) -> Result<Option<u64>, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    Ok(Some(integer_value("context", value, MAX_SAFE_INTEGER)? as u64))
}

fn string_value(name: &str, value: &JsValue) -> Result<String, JsValue> {
    value.as_string().ok_or_else(|| wrong_type(name, "a string", value))
}

/// An array of strings, or an empty list for undefined/null.
fn string_list(name: &str, value: &JsValue) -> Result<Vec<String>, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(Vec::new());
    }
    if !Array::is_array(value) {
        return Err(wrong_type(name, "an array of strings", value));
    }
    let array: &Array = value.unchecked_ref();
    let mut out = Vec::with_capacity(array.length() as usize);
    for item in array.iter() {
        out.push(string_value(&format!("each of {name}"), &item)?);
    }
    Ok(out)
}

/// Header fields as `[name, value]` pairs (undefined/null: none).
fn header_list(name: &str, value: &JsValue) -> Result<Vec<Header>, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(Vec::new());
    }
    if !Array::is_array(value) {
        return Err(wrong_type(name, "an array of [name, value] pairs", value));
    }
    let array: &Array = value.unchecked_ref();
    let mut out = Vec::with_capacity(array.length() as usize);
    for item in array.iter() {
        if !Array::is_array(&item) {
            return Err(type_error(format!("each of {name} must be a [name, value] pair, got {}", describe(&item))));
        }
        let pair: &Array = item.unchecked_ref();
        if pair.length() != 2 {
            return Err(type_error(format!("each of {name} must be a [name, value] pair of two strings")));
        }
        out.push((string_value("a header name", &pair.get(0))?, string_value("a header value", &pair.get(1))?));
    }
    Ok(out)
}

fn bytes_value(name: &str, value: &JsValue) -> Result<Vec<u8>, JsValue> {
    match value.dyn_ref::<Uint8Array>() {
        Some(array) => Ok(array.to_vec()),
        None => Err(wrong_type(name, "a Uint8Array", value)),
    }
}

fn set(object: &Object, key: &str, value: &JsValue) {
    // Reflect.set on a fresh plain object cannot fail (no setters, not frozen).
    let _ = Reflect::set(object, &JsValue::from_str(key), value);
}

fn get(object: &JsValue, key: &str) -> Result<JsValue, JsValue> {
    Reflect::get(object, &JsValue::from_str(key))
}

fn opt_number(value: Option<u64>) -> JsValue {
    value.map(|v| JsValue::from_f64(v as f64)).unwrap_or(JsValue::NULL)
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

fn boolean_value(name: &str, value: &JsValue) -> Result<bool, JsValue> {
    value.as_bool().ok_or_else(|| wrong_type(name, "a boolean", value))
}

/// A properties object as engine properties, in the property table's order (`config::PROPERTY_RULES`:
/// names, kinds and ranges come from there). Unknown keys are a TypeError (a misspelt limit would
/// otherwise silently keep its default); a number JS cannot carry exactly is a RangeError; a
/// value outside the table's range is the engine's PROPERTY_OUT_OF_RANGE.
fn properties_from_js(value: &JsValue) -> Result<Vec<Property>, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(Vec::new());
    }
    if !value.is_object() || Array::is_array(value) {
        return Err(wrong_type("properties", "an object", value));
    }
    let object: &Object = value.unchecked_ref();
    for key in Object::keys(object).iter() {
        let key = key.as_string().unwrap_or_default();
        if !PROPERTY_RULES.iter().any(|rule| rule.name == key) {
            let known: Vec<&str> = PROPERTY_RULES.iter().map(|rule| rule.name).collect();
            return Err(type_error(format!("unknown property '{key}' (known: {})", known.join(", "))));
        }
    }
    let mut properties = Vec::new();
    for rule in &PROPERTY_RULES {
        let item = get(value, rule.name)?;
        if item.is_undefined() {
            continue;
        }
        let value = match rule.kind {
            PropertyKind::Integer { max, .. } => {
                // Integers past 2^53 are not exact in a JS number: the table's own range checks the rest.
                let carried = if max > u32::MAX as u64 { MAX_SAFE_INTEGER } else { u32::MAX as f64 };
                PropertyValue::Integer(integer_value(rule.name, &item, carried)? as u64)
            }
            PropertyKind::Bool => PropertyValue::Bool(boolean_value(rule.name, &item)?),
            PropertyKind::KeepAliveMode => PropertyValue::KeepAliveMode(keepalive_mode(&item)?),
            _ => PropertyValue::Present,
        };
        properties.push(Property::from_value(rule.number, value).map_err(|e| engine_error(&e))?);
    }
    Ok(properties)
}

fn keepalive_mode(value: &JsValue) -> Result<KeepAliveMode, JsValue> {
    if let Some(text) = value.as_string() {
        return match text.as_str() {
            "ping" => Ok(KeepAliveMode::Ping),
            "unsolicitedPong" | "unsolicited-pong" => Ok(KeepAliveMode::UnsolicitedPong),
            other => Err(range_error(format!(
                "keepAliveMode must be 'ping' or 'unsolicited-pong' (or 'unsolicitedPong'), got '{other}'"
            ))),
        };
    }
    match integer_value("keepAliveMode", value, 1.0)? as u32 {
        0 => Ok(KeepAliveMode::Ping),
        _ => Ok(KeepAliveMode::UnsolicitedPong),
    }
}

/// Handshake limits for the free HTTP head helpers: `{maxHandshakeHeaderBytes, maxHandshakeHeaders}`,
/// checked against the same rows of the property table as a handle's (`Limits::for_heads`).
fn limits_from_js(value: &JsValue) -> Result<Limits, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(Limits::default());
    }
    if !value.is_object() {
        return Err(wrong_type("limits", "an object", value));
    }
    let field = |name: &str| -> Result<Option<u64>, JsValue> {
        let item = get(value, name)?;
        if item.is_undefined() {
            return Ok(None);
        }
        Ok(Some(integer_value(name, &item, u32::MAX as f64)? as u64))
    };
    Limits::for_heads(field("maxHandshakeHeaderBytes")?, field("maxHandshakeHeaders")?).map_err(|e| engine_error(&e))
}

// ---------------------------------------------------------------------------------------------
// Randomness: crypto.getRandomValues, pooled so a mask key does not cost a call into JS
// ---------------------------------------------------------------------------------------------

/// crypto.getRandomValues through web-sys, drawn into one pool the module's handles share
/// (`SharedPool`, 4 KiB at a time, as ws pools randomFillSync): one mask key is 4 bytes, so one
/// call into JS serves 1,024 frames of any handle. (A pool per handle of 256 bytes called JS every
/// 64 frames: a tenth of the time of a 16-byte `sendAndDrain` went to randomFillSync.)
struct CryptoRandom;

thread_local! {
    static CRYPTO_POOL: SharedPool = const { SharedPool::new() };
}

fn crypto_fill(buf: &mut [u8]) -> Result<(), Error> {
    let unavailable = |problem: &str| Error::RandomUnavailable { problem: problem.to_string() };
    let crypto = Reflect::get(&js_sys::global(), &JsValue::from_str("crypto"))
        .map_err(|_| unavailable("globalThis.crypto cannot be read"))?;
    if crypto.is_undefined() || crypto.is_null() {
        return Err(unavailable("globalThis.crypto is missing (no Web Crypto in this runtime)"));
    }
    let crypto: web_sys::Crypto = crypto.unchecked_into();
    // Web Crypto fills at most 65,536 bytes per call; the pool asks for 4,096.
    crypto.get_random_values_with_u8_array(buf).map_err(|_| unavailable("crypto.getRandomValues failed"))?;
    Ok(())
}

impl RandomSource for CryptoRandom {
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), Error> {
        CRYPTO_POOL.with(|pool| pool.fill(buf, crypto_fill))
    }
}

/// A seed: a safe integer number or a BigInt in u64 range.
fn seed_value(value: &JsValue) -> Result<Option<u64>, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    if value.is_bigint() {
        let big: &js_sys::BigInt = value.unchecked_ref();
        let text = big.to_string(10).map_err(|_| range_error("seed must be a BigInt in 0..2^64".into()))?;
        let text: String = text.into();
        return text.parse::<u64>().map(Some).map_err(|_| range_error(format!("seed must be in 0..2^64, got {text}")));
    }
    Ok(Some(integer_value("seed", value, MAX_SAFE_INTEGER)? as u64))
}

// ---------------------------------------------------------------------------------------------
// The class
// ---------------------------------------------------------------------------------------------

fn buffer_type_from(value: f64) -> Result<BufferType, JsValue> {
    let number = integer("bufferType", value, u32::MAX as f64)?;
    BufferType::from_u32(number as u32).ok_or_else(|| {
        range_error(format!(
            "bufferType must be one of 0x80000000..=0x80000006 (BufferType constants), got 0x{:X}",
            number as u32
        ))
    })
}

fn queue_from(value: Option<f64>) -> Result<ActionQueue, JsValue> {
    let Some(value) = value else { return Ok(ActionQueue::All) };
    let number = integer("queue", value, u32::MAX as f64)?;
    ActionQueue::from_u32(number as u32)
        .ok_or_else(|| range_error(format!("queue must be 1 (send), 2 (receive) or 3 (all), got {}", number as u32)))
}

/// websocket.h's WEB_SOCKET_HANDLE for JS: create with `createClient` / `createServer`, drive with
/// the begin/end handshake calls, `send`, `receive`, `getAction` and `completeAction`, or with the
/// core's driver (`drain`, `sendAndDrain`, `sendMany` in pkg/src/fast.js).
#[wasm_bindgen(js_name = WebSocketHandle)]
pub struct WebSocketHandle {
    handle: Handle,
    /// The core's drain loop; its buffers hold the last result, which JS reads through the report.
    driver: Driver,
    /// The last result's indications as the six numbers each that pkg/src/fast.js reads.
    events: Vec<f64>,
    /// The last driver call's peer violation and batch refusal, handed to JS once each.
    drain_error: Option<JsValue>,
    send_error: Option<JsValue>,
}

/// What a new handle and its handshake allocate before its buffers grow: the handle itself,
/// wasm-bindgen's box around it, header strings. Rust makes those allocations infallibly (a trap
/// when memory is out), so room for them is asked for fallibly first.
const HANDLE_HEADROOM: usize = 64 * 1024;

/// OUT_OF_MEMORY (close 1011, or the upgrade answered 503) when the allocator cannot find
/// `HANDLE_HEADROOM` bytes for `what`; otherwise the probe's memory goes back at once, where the
/// allocations that follow find it.
fn ensure_headroom(what: &'static str) -> Result<(), JsValue> {
    let mut probe: Vec<u8> = Vec::new();
    probe
        .try_reserve_exact(HANDLE_HEADROOM)
        .map_err(|_| engine_error(&Error::OutOfMemory { buffer: what, bytes: HANDLE_HEADROOM }))
}

thread_local! {
    /// The last frozen properties object a handle was made with, and what it was read as. A
    /// server makes every handle from one object (pkg/src/handshake.js freezes it): reading it
    /// again was about 20 boundary crossings (a string each way per property) per upgrade, a
    /// quarter of an upgrade's time. A frozen object cannot change, so the same object reads the
    /// same; any other object is read afresh.
    static LAST_FROZEN_PROPERTIES: std::cell::RefCell<Option<(JsValue, Vec<Property>)>> = const { std::cell::RefCell::new(None) };
}

/// `properties_from_js`, remembering the result for a frozen object.
fn properties_from_js_cached(value: &JsValue) -> Result<Vec<Property>, JsValue> {
    let frozen = value.is_object() && Object::is_frozen(value.unchecked_ref::<Object>());
    if frozen {
        let hit = LAST_FROZEN_PROPERTIES
            .with(|last| last.borrow().as_ref().filter(|(object, _)| object == value).map(|(_, read)| read.clone()));
        if let Some(read) = hit {
            return Ok(read);
        }
    }
    let read = properties_from_js(value)?;
    if frozen {
        LAST_FROZEN_PROPERTIES.with(|last| *last.borrow_mut() = Some((value.clone(), read.clone())));
    }
    Ok(read)
}

fn create(role: Role, properties: &JsValue, seed: &JsValue) -> Result<WebSocketHandle, JsValue> {
    ensure_headroom("handle")?;
    let properties = properties_from_js_cached(properties)?;
    let random: Box<dyn RandomSource> = match seed_value(seed)? {
        Some(seed) => Box::new(SeededRandom::new(seed)),
        None => Box::new(CryptoRandom),
    };
    let handle = Handle::with_random(role, &properties, random).map_err(|e| engine_error(&e))?;
    Ok(WebSocketHandle { handle, driver: Driver::new(), events: Vec::new(), drain_error: None, send_error: None })
}

/// The most bytes one `send` takes (the engine copies the payload into its frame; a larger
/// message goes as fragments). Bounds wasm memory so a huge send is a RangeError, not a trap.
const MAX_SEND_BYTES: u32 = 256 * 1024 * 1024;

#[wasm_bindgen(js_class = WebSocketHandle)]
impl WebSocketHandle {
    /// WebSocketCreateClientHandle. `properties`: an object of handle properties; `seed`: a number
    /// or BigInt for deterministic mask keys and handshake key (tests and replay only).
    #[wasm_bindgen(js_name = createClient)]
    pub fn create_client(properties: JsValue, seed: JsValue) -> Result<WebSocketHandle, JsValue> {
        create(Role::Client, &properties, &seed)
    }

    /// WebSocketCreateServerHandle.
    #[wasm_bindgen(js_name = createServer)]
    pub fn create_server(properties: JsValue, seed: JsValue) -> Result<WebSocketHandle, JsValue> {
        create(Role::Server, &properties, &seed)
    }

    /// 'client' or 'server'.
    #[wasm_bindgen(getter)]
    pub fn role(&self) -> String {
        self.handle.role().name().into()
    }

    /// The handle's state as a number (State constants: 0 connecting .. 5 aborted).
    #[wasm_bindgen(getter)]
    pub fn state(&self) -> u32 {
        self.handle.state() as u32
    }

    /// The state's name: 'connecting', 'open', 'close-sent', 'close-received', 'closed', 'aborted'.
    #[wasm_bindgen(getter, js_name = stateName)]
    pub fn state_name(&self) -> String {
        self.handle.state().name().into()
    }

    /// Why the handle failed (a peer violation, a rejected handshake, a timer), or null.
    #[wasm_bindgen(getter)]
    pub fn failure(&self) -> JsValue {
        self.handle.failure().map(engine_error).unwrap_or(JsValue::NULL)
    }

    /// The negotiated subprotocol, or null.
    #[wasm_bindgen(getter)]
    pub fn subprotocol(&self) -> JsValue {
        self.handle.subprotocol().map(JsValue::from_str).unwrap_or(JsValue::NULL)
    }

    /// The negotiated extensions.
    #[wasm_bindgen(getter)]
    pub fn extensions(&self) -> Vec<String> {
        self.handle.extensions().to_vec()
    }

    /// WebSocketBeginClientHandshake: returns the headers to add to the request, as [name, value] pairs.
    #[wasm_bindgen(js_name = beginClientHandshake)]
    pub fn begin_client_handshake(
        &mut self,
        subprotocols: JsValue,
        extensions: JsValue,
        initial_headers: JsValue,
    ) -> Result<Array, JsValue> {
        ensure_headroom("handshake")?;
        let subprotocols = string_list("subprotocols", &subprotocols)?;
        let extensions = string_list("extensions", &extensions)?;
        let initial = header_list("initialHeaders", &initial_headers)?;
        let subprotocols: Vec<&str> = subprotocols.iter().map(String::as_str).collect();
        let extensions: Vec<&str> = extensions.iter().map(String::as_str).collect();
        self.handle
            .begin_client_handshake(&subprotocols, &extensions, &initial)
            .map(|headers| headers_to_js(&headers))
            .map_err(|e| engine_error(&e))
    }

    /// WebSocketEndClientHandshake: checks the response headers; returns
    /// `{selectedSubprotocol: index | null, selectedExtensions: index[]}`.
    #[wasm_bindgen(js_name = endClientHandshake)]
    pub fn end_client_handshake(&mut self, response_headers: JsValue) -> Result<Object, JsValue> {
        let headers = header_list("responseHeaders", &response_headers)?;
        let result = self.handle.end_client_handshake(&headers).map_err(|e| engine_error(&e))?;
        let object = Object::new();
        set(&object, "selectedSubprotocol", &opt_number(result.selected_subprotocol.map(u64::from)));
        let extensions: Array = result.selected_extensions.iter().map(|&i| JsValue::from(i)).collect();
        set(&object, "selectedExtensions", &extensions);
        Ok(object)
    }

    /// WebSocketBeginServerHandshake: checks the request headers and returns the 101 response
    /// headers. On a bad request the WsActionError carries `httpStatus` and `httpHeaders`.
    #[wasm_bindgen(js_name = beginServerHandshake)]
    pub fn begin_server_handshake(
        &mut self,
        selected_subprotocol: JsValue,
        selected_extensions: JsValue,
        request_headers: JsValue,
    ) -> Result<Array, JsValue> {
        ensure_headroom("handshake")?;
        let subprotocol = if selected_subprotocol.is_undefined() || selected_subprotocol.is_null() {
            None
        } else {
            Some(string_value("selectedSubprotocol", &selected_subprotocol)?)
        };
        let extensions = string_list("selectedExtensions", &selected_extensions)?;
        let headers = header_list("requestHeaders", &request_headers)?;
        let extensions: Vec<&str> = extensions.iter().map(String::as_str).collect();
        // Traced with the selected subprotocol as its bytes.
        self.driver.trace_input("begin_server_handshake", 0, None, subprotocol.as_deref().unwrap_or("").as_bytes());
        self.handle
            .begin_server_handshake(subprotocol.as_deref(), &extensions, &headers)
            .map(|headers| headers_to_js(&headers))
            .map_err(|e| engine_error(&e))
    }

    /// WebSocketEndServerHandshake (optional).
    #[wasm_bindgen(js_name = endServerHandshake)]
    pub fn end_server_handshake(&mut self) -> Result<(), JsValue> {
        self.handle.end_server_handshake().map_err(|e| engine_error(&e))
    }

    /// WebSocketSend. `data`: a Uint8Array for data, ping and pong types; `{status, reason}` for
    /// CLOSE (reason a string or UTF-8 bytes, at most 123 bytes); null/undefined for none.
    pub fn send(&mut self, buffer_type: f64, data: JsValue, context: JsValue) -> Result<(), JsValue> {
        self.send_checked(buffer_type, &data, &context)
    }
}

impl WebSocketHandle {
    fn send_checked(&mut self, buffer_type: f64, data: &JsValue, context: &JsValue) -> Result<(), JsValue> {
        let buffer_type = buffer_type_from(buffer_type)?;
        let context = context_value(context)?;
        if data.is_undefined() || data.is_null() {
            self.driver.trace_input("send", 0, Some(buffer_type), &[]);
            return self.handle.send(buffer_type, None, context).map_err(|e| engine_error(&e));
        }
        if let Some(array) = data.dyn_ref::<Uint8Array>() {
            if array.length() > MAX_SEND_BYTES {
                return Err(range_error(format!(
                    "data of {} bytes is over the {MAX_SEND_BYTES}-byte limit of one send; send it as fragments",
                    array.length()
                )));
            }
            let bytes = array.to_vec();
            self.driver.trace_input("send", 0, Some(buffer_type), &bytes);
            return self.handle.send(buffer_type, Some(Buffer::Data(&bytes)), context).map_err(|e| engine_error(&e));
        }
        if buffer_type != BufferType::Close || !data.is_object() {
            return Err(wrong_type("data", "a Uint8Array (or {status, reason} for CLOSE, or null)", data));
        }
        let status = integer_value("status", &get(data, "status")?, u16::MAX as f64)? as u16;
        let reason = get(data, "reason")?;
        let reason: Vec<u8> = if reason.is_undefined() || reason.is_null() {
            Vec::new()
        } else if let Some(text) = reason.as_string() {
            text.into_bytes()
        } else if let Some(array) = reason.dyn_ref::<Uint8Array>() {
            if array.length() as usize > MAX_CLOSE_REASON_LENGTH {
                return Err(range_error(format!(
                    "reason must be at most {MAX_CLOSE_REASON_LENGTH} bytes, got {}",
                    array.length()
                )));
            }
            array.to_vec()
        } else {
            return Err(wrong_type("reason", "a string or a Uint8Array", &reason));
        };
        self.driver.trace_input("send", 0, Some(buffer_type), &reason);
        self.handle
            .send(buffer_type, Some(Buffer::CloseStatus { status, reason: &reason }), context)
            .map_err(|e| engine_error(&e))
    }
}

#[wasm_bindgen(js_class = WebSocketHandle)]
impl WebSocketHandle {
    /// WebSocketReceive.
    pub fn receive(&mut self, context: JsValue) -> Result<(), JsValue> {
        let context = context_value(&context)?;
        self.driver.trace_input("receive", 0, None, &[]);
        self.handle.receive(context).map_err(|e| engine_error(&e))
    }

    /// WebSocketGetAction: `{kind, id, queue, bufferType, context, bytes, closeStatus,
    /// receiveCapacity}`. `bytes` is a copy the caller owns. A peer's violation is thrown as a
    /// WsActionError with `closeCode`; the engine has queued the failing close, so keep draining.
    #[wasm_bindgen(js_name = getAction)]
    pub fn get_action(&mut self, queue: Option<f64>) -> Result<JsValue, JsValue> {
        let queue = queue_from(queue)?;
        let action = self.handle.get_action(queue).map_err(|e| engine_error(&e))?.record();
        Ok(make_action(
            action.kind as u32,
            action.id,
            action.queue as u32,
            action.buffer_type.map(|t| t as u32),
            action.context.map(|c| c as f64),
            action.bytes,
            action.close_status,
            action.receive_capacity as u32,
        ))
    }

    /// WebSocketCompleteAction: `bytesTransferred` is the count written for SendToNetwork (any
    /// other count than the action's length cancels the send), the count read for
    /// ReceiveFromNetwork (prefer `completeReceive`), ignored for indications.
    #[wasm_bindgen(js_name = completeAction)]
    pub fn complete_action(&mut self, id: f64, bytes_transferred: f64) -> Result<(), JsValue> {
        let id = integer("id", id, u32::MAX as f64)? as u32;
        let count = integer("bytesTransferred", bytes_transferred, u32::MAX as f64)? as usize;
        self.driver.trace_input("complete_action", id, None, &[]);
        self.handle.complete_action(id, count).map_err(|e| engine_error(&e))
    }

    /// Completes a ReceiveFromNetwork action with the bytes read (at most `receiveCapacity`;
    /// an empty array means the peer ended the stream).
    #[wasm_bindgen(js_name = completeReceive)]
    pub fn complete_receive(&mut self, id: f64, data: JsValue) -> Result<(), JsValue> {
        let id = integer("id", id, u32::MAX as f64)? as u32;
        let Some(array) = data.dyn_ref::<Uint8Array>() else {
            return Err(wrong_type("data", "a Uint8Array", &data));
        };
        let length = array.length() as usize;
        let offered = match self.handle.outstanding_receive() {
            Some((held, capacity)) if held == id => capacity,
            _ => length,
        };
        if length > offered {
            return Err(range_error(format!(
                "data of {length} bytes is more than the {offered} bytes the action offers"
            )));
        }
        // Copied straight into the engine's receive buffer (one copy, no temporary), which grows
        // only by what was read: an idle connection's small reads do not take a whole receive buffer.
        let space = self.handle.receive_buffer_for(id, length).map_err(|e| engine_error(&e))?;
        array.copy_to(space);
        let read = &*space;
        self.driver.trace_input("complete_receive", id, None, read);
        self.handle.complete_action(id, length).map_err(|e| engine_error(&e))
    }

    /// WebSocketAbortHandle: queued work still drains through getAction; new work fails.
    pub fn abort(&mut self) {
        self.driver.trace_input("abort", 0, None, &[]);
        self.handle.abort();
    }

    /// The time in milliseconds (any epoch, never decreasing); fires due timers. Drain after it.
    pub fn tick(&mut self, now_ms: f64) -> Result<(), JsValue> {
        let now = integer("nowMs", now_ms.floor(), MAX_SAFE_INTEGER)?;
        self.driver.trace_input("tick", 0, None, &[]);
        self.handle.tick(now as u64);
        Ok(())
    }

    /// The earliest time (tick's clock) a timer fires, or null.
    #[wasm_bindgen(js_name = nextDeadline)]
    pub fn next_deadline(&self) -> JsValue {
        opt_number(self.handle.next_deadline())
    }

    /// Parses a request head with this handle's handshake limits (see `parseRequestHead`).
    #[wasm_bindgen(js_name = parseRequestHead)]
    pub fn parse_request_head_with_limits(&self, bytes: JsValue) -> Result<JsValue, JsValue> {
        parse_head(&bytes, &self.handle.config().limits, true)
    }

    /// Parses a response head with this handle's handshake limits (see `parseResponseHead`).
    #[wasm_bindgen(js_name = parseResponseHead)]
    pub fn parse_response_head_with_limits(&self, bytes: JsValue) -> Result<JsValue, JsValue> {
        parse_head(&bytes, &self.handle.config().limits, false)
    }

    /// The core's driver (`drain` in pkg/src/fast.js, which reads the result through the
    /// scratch report): the drain contract in one call, keeping the receive going after each
    /// indication when `keepReceiving`, stopping at a held ReceiveFromNetwork, NoAction, a
    /// failing close that waits for replies, or once `maxOutBytes` are packed.
    #[wasm_bindgen(js_name = _drainReport)]
    pub fn drain_report(&mut self, keep_receiving: bool, max_out_bytes: Option<f64>) -> Result<(), JsValue> {
        let max_out_bytes = match max_out_bytes {
            Some(n) => integer("maxOutBytes", n, MAX_SAFE_INTEGER)? as usize,
            None => usize::MAX,
        };
        let options = DrainOptions { keep_receiving, max_out_bytes };
        let drained = self.driver.drain(&mut self.handle, options).map_err(|e| engine_error(&e))?;
        with_scratch(|scratch| {
            report(scratch, &drained, &mut self.events, &mut self.drain_error, &mut self.send_error);
            Ok(())
        })
    }

    /// The driver's `send_and_drain` of the scratch input's first `length` bytes: the
    /// one-crossing path of `sendAndDrain`. The result is in the scratch report. `compress`
    /// (ws's per-send option, default true) says whether a data message goes out compressed
    /// when permessage-deflate was negotiated; `utf8Verified`, that pkg/src/fast.js has checked
    /// a UTF8_MESSAGE with Node's `buffer.isUtf8` (`SendOptions::utf8_verified`).
    #[wasm_bindgen(js_name = _sendInput)]
    pub fn send_input(
        &mut self,
        buffer_type: f64,
        length: f64,
        keep_receiving: bool,
        compress: Option<bool>,
        utf8_verified: Option<bool>,
    ) -> Result<(), JsValue> {
        let buffer_type = buffer_type_from(buffer_type)?;
        let send_options =
            SendOptions { compress: compress.unwrap_or(true), utf8_verified: utf8_verified.unwrap_or(false) };
        let length = integer("length", length, MAX_SEND_BYTES as f64)? as usize;
        let options = DrainOptions { keep_receiving, ..DrainOptions::default() };
        with_scratch(|scratch| {
            let data = scratch.input.get(..length).ok_or_else(|| input_overrun(length))?;
            let drained = self
                .driver
                .send_and_drain_with_options(
                    &mut self.handle,
                    buffer_type,
                    Some(Buffer::Data(data)),
                    send_options,
                    options,
                )
                .map_err(|e| engine_error(&e));
            if let Ok(drained) = drained {
                report(scratch, &drained, &mut self.events, &mut self.drain_error, &mut self.send_error);
            }
            scratch.shrink_input();
            drained.map(drop)
        })
    }

    /// The driver's `send_many_and_drain`: `count` sends of one type, each the next `lengths[i]`
    /// bytes of the scratch input. The first refusal is thrown when nothing was sent yet; a later
    /// one stops the batch and is kept for `_takeSendError`. `compress` as `_sendInput`'s, for
    /// every message of the batch.
    #[wasm_bindgen(js_name = _sendManyInput)]
    pub fn send_many_input(
        &mut self,
        buffer_type: f64,
        count: f64,
        keep_receiving: bool,
        compress: Option<bool>,
    ) -> Result<(), JsValue> {
        let buffer_type = buffer_type_from(buffer_type)?;
        let send_options = SendOptions { compress: compress.unwrap_or(true), ..SendOptions::default() };
        let count = integer("count", count, MAX_BATCH as f64)? as usize;
        let options = DrainOptions { keep_receiving, ..DrainOptions::default() };
        with_scratch(|scratch| {
            let lengths = scratch.lengths.get(..count).ok_or_else(|| input_overrun(count))?;
            // Checked: on wasm32 a sum of 2^16 u32 lengths can overflow usize.
            let total = lengths.iter().try_fold(0usize, |sum, &n| sum.checked_add(n as usize));
            match total {
                Some(total) if total <= scratch.input.len() => {}
                _ => return Err(input_overrun(total.unwrap_or(usize::MAX))),
            }
            let input = &scratch.input;
            let messages = lengths.iter().scan(0usize, |at, &n| {
                let message = &input[*at..*at + n as usize];
                *at += n as usize;
                Some(message)
            });
            let drained = self
                .driver
                .send_many_and_drain_with_options(&mut self.handle, buffer_type, messages, send_options, options)
                .map_err(|e| engine_error(&e));
            if let Ok(drained) = drained {
                report(scratch, &drained, &mut self.events, &mut self.drain_error, &mut self.send_error);
            }
            scratch.shrink_input();
            drained.map(drop)
        })
    }

    /// The peer violation the last driver call met (once), or null.
    #[wasm_bindgen(js_name = _takeDrainError)]
    pub fn take_drain_error(&mut self) -> JsValue {
        self.drain_error.take().unwrap_or(JsValue::NULL)
    }

    /// The refusal that stopped the last `_sendManyInput` (once), or null.
    #[wasm_bindgen(js_name = _takeSendError)]
    pub fn take_send_error(&mut self) -> JsValue {
        self.send_error.take().unwrap_or(JsValue::NULL)
    }

    /// True while a failing close waits behind the application's replies (the driver's
    /// ordering rule): deliver the last result's indications, send the replies, then `drain`.
    #[wasm_bindgen(getter, js_name = failingCloseWaits)]
    pub fn failing_close_waits(&self) -> bool {
        self.handle.failing_close_waits()
    }

    /// The driver's trace hook: `fn(event)` is called for each input and action with a plain
    /// object (`{type: 'input', call, id, bytes}`, `{type: 'action', kind, id, queue, bufferType,
    /// context, bytes, closeStatus, receiveCapacity}`, `{type: 'violation', error}`); `bytes` are
    /// copies. `null` removes it. What the function throws is ignored.
    #[wasm_bindgen(js_name = setTrace)]
    pub fn set_trace(&mut self, hook: JsValue) -> Result<(), JsValue> {
        if hook.is_null() || hook.is_undefined() {
            self.driver.set_trace(None);
            return Ok(());
        }
        let Some(function) = hook.dyn_ref::<js_sys::Function>().cloned() else {
            return Err(wrong_type("the trace hook", "a function or null", &hook));
        };
        self.driver.set_trace(Some(Box::new(move |event: &TraceEvent<'_>| {
            let _ = function.call1(&JsValue::NULL, &trace_to_js(event));
        })));
        Ok(())
    }
}

/// A trace event as the plain object the hook receives.
fn trace_to_js(event: &TraceEvent<'_>) -> JsValue {
    let object = Object::new();
    match event {
        TraceEvent::Input { call, id, buffer_type, bytes } => {
            set(&object, "type", &JsValue::from_str("input"));
            set(&object, "call", &JsValue::from_str(call));
            set(&object, "id", &JsValue::from(*id));
            set(&object, "bufferType", &buffer_type.map_or(JsValue::NULL, |t| JsValue::from(t as u32)));
            set(&object, "bytes", &copy_bytes(bytes));
        }
        TraceEvent::Action(action) => {
            let action = action.record();
            let record = make_action(
                action.kind as u32,
                action.id,
                action.queue as u32,
                action.buffer_type.map(|t| t as u32),
                action.context.map(|c| c as f64),
                action.bytes,
                action.close_status,
                action.receive_capacity as u32,
            );
            set(&object, "type", &JsValue::from_str("action"));
            let _ = Object::assign(&object, record.unchecked_ref());
        }
        TraceEvent::Violation(error) => {
            set(&object, "type", &JsValue::from_str("violation"));
            set(&object, "error", &engine_error(error));
        }
    }
    object.into()
}

/// Writes where a driver result lies in wasm memory into the scratch report, with its
/// indications as six numbers each: kind (2 send complete, 4 receive complete), buffer type,
/// close status or -1, context or -1, and the payload's start and end.
fn report(
    scratch: &mut Scratch,
    drained: &Drained<'_>,
    events: &mut Vec<f64>,
    drain_error: &mut Option<JsValue>,
    send_error: &mut Option<JsValue>,
) {
    events.clear();
    let mut at = 0.0;
    for indication in drained.indications {
        let row = match indication {
            Indication::SendComplete { buffer_type, context } => {
                [2.0, *buffer_type as u32 as f64, -1.0, context.map_or(-1.0, |c| c as f64), at, at]
            }
            Indication::Received { buffer_type, close_status, context, payload } => {
                at = payload.end as f64;
                [
                    4.0,
                    *buffer_type as u32 as f64,
                    close_status.map_or(-1.0, f64::from),
                    context.map_or(-1.0, |c| c as f64),
                    payload.start as f64,
                    payload.end as f64,
                ]
            }
        };
        events.extend_from_slice(&row);
    }
    *drain_error = drained.violation.map(engine_error);
    *send_error = drained.send_error.map(engine_error);
    let (receive_id, receive_capacity) = drained.receive.unwrap_or((0, 0));
    let r = &mut scratch.report;
    r[report::OUT_PTR] = drained.out.as_ptr() as u32;
    r[report::OUT_LEN] = drained.out.len() as u32;
    r[report::PAYLOAD_PTR] = drained.payload.as_ptr() as u32;
    r[report::PAYLOAD_LEN] = drained.payload.len() as u32;
    r[report::EVENTS_PTR] = events.as_ptr() as u32;
    r[report::EVENTS_LEN] = events.len() as u32;
    r[report::RECEIVE_ID] = receive_id;
    r[report::RECEIVE_CAPACITY] = receive_capacity as u32;
    r[report::STATE] = drained.state as u32;
    r[report::HAS_ERROR] = drain_error.is_some() as u32;
    r[report::SENT] = drained.sent as u32;
    r[report::HAS_SEND_ERROR] = send_error.is_some() as u32;
}

fn input_overrun(n: usize) -> JsValue {
    range_error(format!("{n} is more than the scratch input holds (call _reserve first)"))
}

// ---------------------------------------------------------------------------------------------
// The scratch area: where pkg/src/fast.js writes payloads and reads drain results
// ---------------------------------------------------------------------------------------------

/// Most messages one `sendMany` takes.
const MAX_BATCH: u32 = 1 << 16;

/// Word indexes of the scratch report (pkg/src/fast.js reads it through a Uint32Array view).
mod report {
    pub const OUT_PTR: usize = 0;
    pub const OUT_LEN: usize = 1;
    pub const PAYLOAD_PTR: usize = 2;
    pub const PAYLOAD_LEN: usize = 3;
    /// Of a Vec<f64>: 8-aligned; its length counts numbers, not bytes.
    pub const EVENTS_PTR: usize = 4;
    pub const EVENTS_LEN: usize = 5;
    pub const RECEIVE_ID: usize = 6;
    pub const RECEIVE_CAPACITY: usize = 7;
    pub const STATE: usize = 8;
    pub const HAS_ERROR: usize = 9;
    pub const SENT: usize = 10;
    pub const HAS_SEND_ERROR: usize = 11;
    pub const INPUT_PTR: usize = 12;
    pub const INPUT_LEN: usize = 13;
    pub const LENGTHS_PTR: usize = 14;
    pub const LENGTHS_LEN: usize = 15;
    pub const WORDS: usize = 16;
}

/// One per module (wasm is single-threaded): the input area payloads are copied into from JS
/// (one copy, no per-call allocation), the lengths of a batch, and the report of the last call.
/// Its address never changes; the Vecs' do only in `_reserve` and after a large message.
struct Scratch {
    input: Vec<u8>,
    lengths: Vec<u32>,
    report: [u32; report::WORDS],
}

impl Scratch {
    fn publish_areas(&mut self) {
        self.report[report::INPUT_PTR] = self.input.as_ptr() as u32;
        self.report[report::INPUT_LEN] = self.input.len() as u32;
        self.report[report::LENGTHS_PTR] = self.lengths.as_ptr() as u32;
        self.report[report::LENGTHS_LEN] = self.lengths.len() as u32;
    }

    /// Gives back the memory of a large message once it is framed.
    fn shrink_input(&mut self) {
        const KEEP: usize = 1 << 20;
        if self.input.len() > KEEP {
            self.input = vec![0; INITIAL_INPUT];
            self.publish_areas();
        }
    }
}

const INITIAL_INPUT: usize = 64 * 1024;

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> =
        const { std::cell::RefCell::new(Scratch { input: Vec::new(), lengths: Vec::new(), report: [0; report::WORDS] }) };
}

/// The address of the scratch report (16 u32 words; see `mod report` below).
#[wasm_bindgen(js_name = _scratchReport)]
pub fn scratch_report() -> Result<u32, JsValue> {
    with_scratch(|scratch| Ok(scratch.report.as_ptr() as u32))
}

/// The scratch area, or an Error if a call is already using it: only possible if JS code run
/// from inside the engine (a replaced crypto.getRandomValues) calls back into wsaction.
fn with_scratch<R>(f: impl FnOnce(&mut Scratch) -> Result<R, JsValue>) -> Result<R, JsValue> {
    SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
        Ok(mut scratch) => f(&mut scratch),
        Err(_) => Err(js_sys::Error::new(
            "wsaction was called again from inside a call (crypto.getRandomValues re-entered it)",
        )
        .into()),
    })
}

/// For the fault tests only (pkg/src/fast.js's `trapLargeSendsForTests`): allocates `bytes` inside
/// a call the way an allocation Rust cannot make fallibly does. With wasm memory at its ceiling this
/// traps in the allocator with the scratch area borrowed, the state any such trap leaves; the
/// engine's own buffers no longer trap when memory runs out, so this is how the tests check what a
/// trap does to the adapters (the instance poisoned, its connections failed with 1011).
#[wasm_bindgen(js_name = _allocateInCallForTests)]
pub fn allocate_in_call_for_tests(bytes: f64) -> Result<u32, JsValue> {
    let bytes = integer("bytes", bytes, MAX_SEND_BYTES as f64)? as usize;
    with_scratch(|_| Ok(std::hint::black_box(Vec::<u8>::with_capacity(bytes)).capacity() as u32))
}

/// The module's memory, for pkg/src/fast.js's views.
#[wasm_bindgen(js_name = _memory)]
pub fn memory() -> JsValue {
    wasm_bindgen::memory()
}

/// Makes the scratch input hold at least `bytes` and the lengths area `count` entries; their
/// addresses land in the report. `bytes` over the one-send limit is a RangeError, as is a
/// `count` over the batch limit.
#[wasm_bindgen(js_name = _reserve)]
pub fn reserve(bytes: f64, count: f64) -> Result<(), JsValue> {
    if bytes > MAX_SEND_BYTES as f64 {
        return Err(range_error(format!(
            "data of {} bytes is over the {MAX_SEND_BYTES}-byte limit of one send; send it as fragments",
            number_text(bytes)
        )));
    }
    let bytes = integer("bytes", bytes, MAX_SEND_BYTES as f64)? as usize;
    if count > MAX_BATCH as f64 {
        return Err(range_error(format!("at most {MAX_BATCH} messages per call, got {}", number_text(count))));
    }
    let count = integer("count", count, MAX_BATCH as f64)? as usize;
    with_scratch(|scratch| {
        // Fallible: a payload larger than what is left of wasm memory is an OUT_OF_MEMORY error
        // for that send (the caller's connection fails with 1011), never a trap in the allocator.
        // The old area goes first, so that its memory can serve the new one.
        let mut grown = Ok(());
        if scratch.input.len() < bytes {
            scratch.input = Vec::new();
            grown = zeroed("scratch input", bytes.max(INITIAL_INPUT)).map(|input| scratch.input = input);
        }
        if grown.is_ok() && scratch.lengths.len() < count {
            scratch.lengths = Vec::new();
            grown = zeroed("scratch lengths", count.max(64)).map(|lengths| scratch.lengths = lengths);
        }
        // Published either way: after a failure the report says the area is empty, not where it was.
        scratch.publish_areas();
        grown
    })
}

/// A zero-filled Vec of `len` items, or OUT_OF_MEMORY naming `buffer` when it cannot be allocated.
fn zeroed<T: Copy + Default>(buffer: &'static str, len: usize) -> Result<Vec<T>, JsValue> {
    let mut vec = Vec::new();
    let bytes = len.saturating_mul(std::mem::size_of::<T>());
    vec.try_reserve_exact(len).map_err(|_| engine_error(&Error::OutOfMemory { buffer, bytes }))?;
    vec.resize(len, T::default());
    Ok(vec)
}

// ---------------------------------------------------------------------------------------------
// Free functions: HTTP head helpers, handshake helpers, global properties, constants
// ---------------------------------------------------------------------------------------------

fn head_bytes(bytes: &JsValue) -> Result<Vec<u8>, JsValue> {
    bytes_value("bytes", bytes)
}

/// A request head (`request`) or a response head as the plain object JS receives, or null when
/// more bytes are needed: one function for both (the engine's `http::parse_head`).
fn parse_head(bytes: &JsValue, limits: &Limits, request: bool) -> Result<JsValue, JsValue> {
    let bytes = head_bytes(bytes)?;
    let Some(parsed) = crate::http::parse_head(&bytes, limits, request).map_err(|e| engine_error(&e))? else {
        return Ok(JsValue::NULL);
    };
    let head = parsed.head;
    let object = Object::new();
    if request {
        set(&object, "method", &JsValue::from_str(&head.first));
        set(&object, "target", &JsValue::from_str(&head.target));
    } else {
        set(&object, "status", &JsValue::from(head.status));
        set(&object, "reason", &JsValue::from_str(&head.first));
    }
    set(&object, "minorVersion", &JsValue::from(head.minor_version));
    set(&object, "headers", &headers_to_js(&head.headers));
    set(&object, "consumed", &JsValue::from(parsed.consumed as u32));
    Ok(object.into())
}

/// Parses an HTTP request head from the front of `bytes`: null = need more bytes; else
/// `{method, target, minorVersion, headers, consumed}`. Errors carry `httpStatus` (400/431).
#[wasm_bindgen(js_name = parseRequestHead)]
pub fn parse_request_head(bytes: JsValue, limits: JsValue) -> Result<JsValue, JsValue> {
    parse_head(&bytes, &limits_from_js(&limits)?, true)
}

/// Parses an HTTP response head: null = need more bytes; else
/// `{status, reason, minorVersion, headers, consumed}`.
#[wasm_bindgen(js_name = parseResponseHead)]
pub fn parse_response_head(bytes: JsValue, limits: JsValue) -> Result<JsValue, JsValue> {
    parse_head(&bytes, &limits_from_js(&limits)?, false)
}

/// `METHOD target HTTP/1.1`, the headers and the blank line, as bytes.
#[wasm_bindgen(js_name = serializeRequestHead)]
pub fn serialize_request_head(method: JsValue, target: JsValue, headers: JsValue) -> Result<Uint8Array, JsValue> {
    let method = string_value("method", &method)?;
    let target = string_value("target", &target)?;
    let headers = header_list("headers", &headers)?;
    let bytes = crate::http::serialize_request_head(&method, &target, &headers).map_err(|e| engine_error(&e))?;
    Ok(copy_bytes(&bytes))
}

/// `HTTP/1.1 status reason`, the headers and the blank line, as bytes.
#[wasm_bindgen(js_name = serializeResponseHead)]
pub fn serialize_response_head(status: JsValue, reason: JsValue, headers: JsValue) -> Result<Uint8Array, JsValue> {
    let status = integer_value("status", &status, u16::MAX as f64)? as u16;
    let reason = if reason.is_undefined() || reason.is_null() {
        crate::http::reason_phrase(status).to_string()
    } else {
        string_value("reason", &reason)?
    };
    let headers = header_list("headers", &headers)?;
    let bytes = crate::http::serialize_response_head(status, &reason, &headers).map_err(|e| engine_error(&e))?;
    Ok(copy_bytes(&bytes))
}

/// The standard reason phrase of a handshake status ('' for others).
#[wasm_bindgen(js_name = reasonPhrase)]
pub fn reason_phrase(status: JsValue) -> Result<String, JsValue> {
    let status = integer_value("status", &status, u16::MAX as f64)? as u16;
    Ok(crate::http::reason_phrase(status).to_string())
}

/// Checks a request line (GET, HTTP/1.1 or later); the error carries the status to answer with.
#[wasm_bindgen(js_name = checkRequestLine)]
pub fn check_request_line(method: JsValue, minor_version: JsValue) -> Result<(), JsValue> {
    let method = string_value("method", &method)?;
    let minor = integer_value("minorVersion", &minor_version, 255.0)? as u8;
    crate::handshake::check_request_line(&method, minor).map_err(|e| engine_error(&e))
}

/// The subprotocols a request offers, in order.
#[wasm_bindgen(js_name = offeredSubprotocols)]
pub fn offered_subprotocols(request_headers: JsValue) -> Result<Vec<String>, JsValue> {
    Ok(crate::handshake::offered_subprotocols(&header_list("requestHeaders", &request_headers)?))
}

/// The extensions a request offers, each with its parameters.
#[wasm_bindgen(js_name = offeredExtensions)]
pub fn offered_extensions(request_headers: JsValue) -> Result<Vec<String>, JsValue> {
    Ok(crate::handshake::offered_extensions(&header_list("requestHeaders", &request_headers)?))
}

/// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key`.
#[wasm_bindgen(js_name = acceptKey)]
pub fn accept_key(key: JsValue) -> Result<String, JsValue> {
    Ok(crate::handshake::accept_key(&string_value("key", &key)?))
}

/// WebSocketGetGlobalProperty: 5 gives the default keep-alive interval (ms), 6 the supported
/// versions ([13]); other numbers are a WsActionError (INVALID_ARGUMENT).
#[wasm_bindgen(js_name = globalProperty)]
pub fn global_property(property_type: JsValue) -> Result<JsValue, JsValue> {
    let number = integer_value("propertyType", &property_type, u32::MAX as f64)? as u32;
    match crate::config::global_property(number).map_err(|e| engine_error(&e))? {
        crate::config::GlobalProperty::KeepAliveInterval(ms) => Ok(JsValue::from(ms)),
        crate::config::GlobalProperty::SupportedVersions(versions) => {
            Ok(versions.iter().map(|&v| JsValue::from(v)).collect::<Array>().into())
        }
    }
}

/// The websocket.h numbers by group, as JS names them (pkg/types/core.d.ts).
const CONSTANT_GROUPS: &[(&str, &[(&str, u32)])] = &[
    (
        "BufferType",
        &[
            ("UTF8_MESSAGE", BufferType::Utf8Message as u32),
            ("UTF8_FRAGMENT", BufferType::Utf8Fragment as u32),
            ("BINARY_MESSAGE", BufferType::BinaryMessage as u32),
            ("BINARY_FRAGMENT", BufferType::BinaryFragment as u32),
            ("CLOSE", BufferType::Close as u32),
            ("PING_PONG", BufferType::PingPong as u32),
            ("UNSOLICITED_PONG", BufferType::UnsolicitedPong as u32),
            ("PING", BufferType::Ping as u32),
        ],
    ),
    (
        "Action",
        &[
            ("NO_ACTION", ActionKind::NoAction as u32),
            ("SEND_TO_NETWORK", ActionKind::SendToNetwork as u32),
            ("INDICATE_SEND_COMPLETE", ActionKind::IndicateSendComplete as u32),
            ("RECEIVE_FROM_NETWORK", ActionKind::ReceiveFromNetwork as u32),
            ("INDICATE_RECEIVE_COMPLETE", ActionKind::IndicateReceiveComplete as u32),
        ],
    ),
    (
        "ActionQueue",
        &[
            ("SEND", ActionQueue::Send as u32),
            ("RECEIVE", ActionQueue::Receive as u32),
            ("ALL", ActionQueue::All as u32),
        ],
    ),
    (
        "CloseStatus",
        &[
            ("SUCCESS", close_status::SUCCESS as u32),
            ("ENDPOINT_UNAVAILABLE", close_status::ENDPOINT_UNAVAILABLE as u32),
            ("PROTOCOL_ERROR", close_status::PROTOCOL_ERROR as u32),
            ("INVALID_DATA_TYPE", close_status::INVALID_DATA_TYPE as u32),
            ("EMPTY", close_status::EMPTY as u32),
            ("ABORTED", close_status::ABORTED as u32),
            ("INVALID_PAYLOAD", close_status::INVALID_PAYLOAD as u32),
            ("POLICY_VIOLATION", close_status::POLICY_VIOLATION as u32),
            ("MESSAGE_TOO_BIG", close_status::MESSAGE_TOO_BIG as u32),
            ("UNSUPPORTED_EXTENSIONS", close_status::UNSUPPORTED_EXTENSIONS as u32),
            ("SERVER_ERROR", close_status::SERVER_ERROR as u32),
            ("SECURE_HANDSHAKE_ERROR", close_status::SECURE_HANDSHAKE_ERROR as u32),
        ],
    ),
    (
        "PropertyType",
        &[
            ("RECEIVE_BUFFER_SIZE", property_type::RECEIVE_BUFFER_SIZE),
            ("SEND_BUFFER_SIZE", property_type::SEND_BUFFER_SIZE),
            ("DISABLE_MASKING", property_type::DISABLE_MASKING),
            ("ALLOCATED_BUFFER", property_type::ALLOCATED_BUFFER),
            ("DISABLE_UTF8_VERIFICATION", property_type::DISABLE_UTF8_VERIFICATION),
            ("KEEPALIVE_INTERVAL", property_type::KEEPALIVE_INTERVAL),
            ("SUPPORTED_VERSIONS", property_type::SUPPORTED_VERSIONS),
            ("KEEPALIVE_MODE", property_type::KEEPALIVE_MODE),
            ("KEEPALIVE_TIMEOUT", property_type::KEEPALIVE_TIMEOUT),
            ("CLOSE_TIMEOUT", property_type::CLOSE_TIMEOUT),
            ("HANDSHAKE_TIMEOUT", property_type::HANDSHAKE_TIMEOUT),
            ("MAX_FRAME_SIZE", property_type::MAX_FRAME_SIZE),
            ("MAX_MESSAGE_SIZE", property_type::MAX_MESSAGE_SIZE),
            ("MAX_FRAGMENTS", property_type::MAX_FRAGMENTS),
            ("MAX_HANDSHAKE_HEADER_BYTES", property_type::MAX_HANDSHAKE_HEADER_BYTES),
            ("MAX_HANDSHAKE_HEADERS", property_type::MAX_HANDSHAKE_HEADERS),
        ],
    ),
    (
        "HResult",
        &[
            ("S_OK", hresult::S_OK),
            ("E_INVALID_PROTOCOL_OPERATION", hresult::E_INVALID_PROTOCOL_OPERATION),
            ("E_INVALID_PROTOCOL_FORMAT", hresult::E_INVALID_PROTOCOL_FORMAT),
            ("E_PROTOCOL_EXTENSIONS_NOT_SUPPORTED", hresult::E_PROTOCOL_EXTENSIONS_NOT_SUPPORTED),
            ("E_SUBPROTOCOL_NOT_SUPPORTED", hresult::E_SUBPROTOCOL_NOT_SUPPORTED),
            ("E_PROTOCOL_VERSION_NOT_SUPPORTED", hresult::E_PROTOCOL_VERSION_NOT_SUPPORTED),
            ("E_INVALIDARG", hresult::E_INVALIDARG),
            ("E_OUTOFMEMORY", hresult::E_OUTOFMEMORY),
            ("E_INVALID_STATE", hresult::E_INVALID_STATE),
            ("E_HANDLE", hresult::E_HANDLE),
            ("E_TIMEOUT", hresult::E_TIMEOUT),
        ],
    ),
    (
        "State",
        &[
            ("CONNECTING", State::Connecting as u32),
            ("OPEN", State::Open as u32),
            ("CLOSE_SENT", State::CloseSent as u32),
            ("CLOSE_RECEIVED", State::CloseReceived as u32),
            ("CLOSED", State::Closed as u32),
            ("ABORTED", State::Aborted as u32),
        ],
    ),
];

/// The websocket.h numbers as JSON: `{BufferType, Action, ActionQueue, CloseStatus, PropertyType,
/// HResult, State, MAX_CLOSE_REASON_LENGTH, SUPPORTED_VERSION}` (pkg/src/values.js parses it once
/// and freezes it). One string crosses where building the object here took a crossing per entry,
/// and 1.5 KB of the wasm (issue 12).
#[wasm_bindgen(js_name = constantsJson)]
pub fn constants_json() -> String {
    use std::fmt::Write as _;
    let mut json = String::from("{");
    for (group, entries) in CONSTANT_GROUPS {
        let _ = write!(json, "\"{group}\":{{");
        for (i, (name, value)) in entries.iter().enumerate() {
            let _ = write!(json, "{}\"{name}\":{value}", if i == 0 { "" } else { "," });
        }
        json.push_str("},");
    }
    let _ = write!(
        json,
        "\"MAX_CLOSE_REASON_LENGTH\":{MAX_CLOSE_REASON_LENGTH},\"SUPPORTED_VERSION\":{SUPPORTED_VERSION}}}"
    );
    json
}

/// The allocator of the npm package's wasm: Talc in place of Rust's default dlmalloc, about 5 KB
/// less code (issue 12's size target) with the same contract: memory.grow when a request does not
/// fit, and a null pointer (OUT_OF_MEMORY through the fallible paths, never reached by JS input
/// otherwise) when memory cannot grow.
#[cfg(all(target_family = "wasm", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
