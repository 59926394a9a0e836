//! # wsaction
//!
//! A sans-IO WebSocket (RFC 6455) engine shaped like the Windows WebSocket Protocol Component API
//! (websocket.h). The host owns sockets, clocks and threads. It creates a [`Handle`], runs the
//! handshake through the begin/end calls (which produce and check HTTP headers), queues sends and
//! receives, and then asks [`Handle::get_action`] what to do: send these bytes, give me bytes,
//! this send finished, this message (or piece of it) arrived. It completes each action with
//! [`Handle::complete_action`] (or [`Handle::complete_receive`] with the bytes it read).
//!
//! ## The drain contract
//!
//! After every input to a handle (a handshake call, `send`, `receive`, `complete_action`,
//! `tick`): call `get_action` until it returns `NoAction`, performing each action and completing
//! it. Then wait for the earliest of: bytes from the network, an application command, or
//! [`Handle::next_deadline`]. When [`Handle::state`] is `Closed` or `Aborted` after a drain,
//! close the transport.
//!
//! - One send and one receive may be outstanding; `NoAction` can mean "complete the action you
//!   hold first".
//! - A message larger than the receive buffer arrives as `*_FRAGMENT` indications then one
//!   `*_MESSAGE`, whatever its framing on the wire, and the pieces do not depend on how the bytes
//!   were split into reads. UTF-8 pieces end on code point boundaries.
//! - A received ping is answered by the engine: the pong is a SendToNetwork on the receive queue
//!   with no application context. On send, `PingPong` means ping; on receive it means pong.
//! - A received close is indicated with its status and reason; answer it with your own close.
//! - A peer's protocol violation is returned by `get_action` as an error carrying the close code;
//!   the engine has queued that close frame, so keep draining, then close the transport.
//! - A host that writes synchronously may frame a send straight into its own buffer with
//!   [`Handle::send_now`], which skips the SendToNetwork / IndicateSendComplete round trips.
//! - Time comes in through [`Handle::tick`]; nothing here reads a clock. Randomness comes in
//!   through one [`RandomSource`].
//!
//! ## The driver: the drain contract in one call
//!
//! Most hosts do not write the loop: a [`Driver`] runs it ([`Driver::feed`] with the bytes read,
//! [`Driver::drain`], [`Driver::send_and_drain`], [`Driver::send_many_and_drain`]) and returns
//! everything a host does next in one [`Drained`]: the bytes to write, the typed indications, the
//! held receive, the state, the first peer violation, the next deadline. The rules every host
//! needs live there once: receive again after each indication; replies to messages completed
//! before a peer's violation go out before the failing close ([`Drained::failing_close_waits`]:
//! deliver the indications, send the replies, then drain again); a trace hook for each input and
//! action. The JS class's `drain`/`sendAndDrain`/`sendMany` and the component's `drain` /
//! `send-and-drain` are this driver.
//!
//! ```
//! use wsaction::*;
//!
//! let mut client = Handle::with_random(Role::Client, &[], Box::new(SeededRandom::new(1))).unwrap();
//! let mut server = Handle::with_random(Role::Server, &[], Box::new(SeededRandom::new(2))).unwrap();
//! let mut request = client.begin_client_handshake(&[], &[], &[]).unwrap();
//! request.push(("Host".into(), "example.com".into()));
//! let response = server.begin_server_handshake(None, &[], &request).unwrap();
//! client.end_client_handshake(&response).unwrap();
//! server.receive(None).unwrap();
//!
//! let (mut client_driver, mut server_driver) = (Driver::new(), Driver::new());
//! let options = DrainOptions::default();
//! let sent = client_driver.send_and_drain(&mut client, BufferType::Utf8Message, Some(Buffer::Data(b"hi")), options);
//! let wire = sent.unwrap().out.to_vec(); // a real host writes these to its socket
//!
//! let read = server_driver.feed(&mut server, &wire, options).unwrap(); // ... and reads them there
//! assert_eq!(read.consumed, wire.len());
//! let Indication::Received { buffer_type, .. } = &read.indications[0] else { panic!() };
//! assert_eq!((*buffer_type, read.payload_of(&read.indications[0])), (BufferType::Utf8Message, &b"hi"[..]));
//! assert!(read.receive.is_some(), "a receive is held for the next bytes");
//! ```
//!
//! ## permessage-deflate
//!
//! `Property::PerMessageDeflate(true)` makes a client offer permessage-deflate (RFC 7692) and a
//! server accept the first offer its `Deflate*` properties allow (ws's `perMessageDeflate`
//! options, one property each); [`Handle::permessage_deflate`] tells what was agreed. Data
//! messages then go out compressed by ws's rules (every one with context takeover, those of
//! `DeflateThreshold` bytes or more without it), [`Handle::send_with_options`] decides per
//! message, and compressed messages arrive inflated, in receive-buffer pieces, never inflating
//! past `MaxMessageSize` (1009). What each connection holds: [`permessage_deflate`].
//!
//! ## Bindings
//!
//! The same engine is exposed twice, each binding a thin module (`bindings/`) that only translates values:
//! the feature `js` builds the wasm-bindgen class `WebSocketHandle` (module `js`, packaged as the
//! npm package in `pkg/`), and the feature `component` builds the WebAssembly component for the
//! WIT package in `wit/` (`wsaction:engine@0.3.0`). Both turn `os-random` off and bring their own
//! [`RandomSource`]: `crypto.getRandomValues` and `wasi:random`.
//!
//! ## The plain websocket.h loop: a client and a server handle, back to back
//!
//! For hosts that port websocket.h code line by line, one action at a time (the driver is this
//! loop, written once):
//!
//! ```
//! use wsaction::*;
//!
//! // A client and a server handle, wired back to back through two byte queues.
//! let mut client = Handle::with_random(Role::Client, &[], Box::new(SeededRandom::new(1))).unwrap();
//! let mut server = Handle::with_random(Role::Server, &[], Box::new(SeededRandom::new(2))).unwrap();
//! client.tick(0);
//! server.tick(0);
//!
//! let mut request = client.begin_client_handshake(&["chat"], &[], &[]).unwrap();
//! request.push(("Host".into(), "example.com".into()));
//! let response = server.begin_server_handshake(Some("chat"), &[], &request).unwrap();
//! let result = client.end_client_handshake(&response).unwrap();
//! assert_eq!(result.selected_subprotocol, Some(0));
//!
//! client.send(BufferType::Utf8Message, Some(Buffer::Data(b"hello")), Some(7)).unwrap();
//! server.receive(Some(9)).unwrap();
//!
//! /// The action loop for one handle: drain it until NoAction, writing into `wire_out` and reading
//! /// from `wire_in`. A ReceiveFromNetwork with nothing to read is held (`waiting`) until bytes come.
//! fn drain(
//!     handle: &mut Handle,
//!     wire_out: &mut Vec<u8>,
//!     wire_in: &mut Vec<u8>,
//!     waiting: &mut Option<(u32, usize)>,
//!     received: &mut Vec<(Option<BufferType>, Vec<u8>)>,
//! ) {
//!     loop {
//!         if let Some((id, capacity)) = *waiting {
//!             if wire_in.is_empty() {
//!                 return; // a real host awaits its socket here
//!             }
//!             let n = wire_in.len().min(capacity);
//!             let bytes: Vec<u8> = wire_in.drain(..n).collect();
//!             handle.complete_receive(id, &bytes).unwrap();
//!             *waiting = None;
//!         }
//!         let action = handle.get_action(ActionQueue::All).unwrap().record();
//!         let id = action.id;
//!         match action.kind {
//!             ActionKind::NoAction => return,
//!             ActionKind::SendToNetwork => {
//!                 wire_out.extend_from_slice(action.bytes);
//!                 let written = action.bytes.len();
//!                 handle.complete_action(id, written).unwrap();
//!             }
//!             ActionKind::ReceiveFromNetwork => *waiting = Some((id, action.receive_capacity)),
//!             ActionKind::IndicateReceiveComplete => {
//!                 received.push((action.buffer_type, action.bytes.to_vec()));
//!                 handle.complete_action(id, 0).unwrap();
//!             }
//!             ActionKind::IndicateSendComplete => handle.complete_action(id, 0).unwrap(),
//!         }
//!     }
//! }
//!
//! let (mut to_server, mut to_client) = (Vec::new(), Vec::new());
//! let (mut client_waiting, mut server_waiting) = (None, None);
//! let mut received = Vec::new();
//! for _ in 0..4 {
//!     drain(&mut client, &mut to_server, &mut to_client, &mut client_waiting, &mut Vec::new());
//!     drain(&mut server, &mut to_client, &mut to_server, &mut server_waiting, &mut received);
//! }
//! assert_eq!(received, vec![(Some(BufferType::Utf8Message), b"hello".to_vec())]);
//! ```
// The engine has no unsafe code of its own. Two modules allow it, each for a job that cannot be
// done without: the component binding's generated glue (wit-bindgen), and
// `permessage_deflate::zlib`, which calls zlib-rs through its zlib-compatible API because only
// that API reports a state it cannot allocate instead of panicking.
#![deny(unsafe_code)]

pub mod bindings;
pub mod config;
pub mod constants;
pub mod driver;
pub mod engine;
pub mod error;
pub mod permessage_deflate;
pub mod random;
pub mod state;
pub mod wire;

#[cfg(feature = "js")]
pub use bindings::js;

// The codecs at the crate root too, where they were before `wire/` gathered them.
pub use wire::{close, frame, handshake, http, utf8};

pub use config::{global_property, Config, GlobalProperty, KeepAliveMode, Limits, Property, Role};
pub use constants::{close_status, hresult, property_type, ActionKind, ActionQueue, BufferType};
pub use driver::{DrainOptions, Drained, Driver, Indication, TraceEvent};
pub use engine::{Action, ActionRecord, Buffer, Handle, Received, SendOptions};
pub use error::{Error, HandshakeRejection, Timer, Violation};
pub use handshake::{ClientHandshakeResult, Header};
#[cfg(feature = "os-random")]
pub use random::OsRandom;
pub use random::{RandomSource, SeededRandom};
pub use state::State;
