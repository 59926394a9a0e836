//! The two faces of the engine, each behind a cargo feature: [`js`] (wasm-bindgen, the npm
//! package's `WebSocketHandle`) and `component` (wit-bindgen over `wit/`). They translate values
//! only: the websocket.h calls and the driver ([`crate::driver`]) cross as they are, and neither
//! holds a loop or protocol rule of its own.

#[cfg(feature = "component")]
#[allow(unsafe_code)]
mod component;
#[cfg(feature = "js")]
pub mod js;
