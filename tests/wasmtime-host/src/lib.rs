//! A wasmtime host for the wsaction component (`wit/`, `wsaction:engine@0.3.0`): loads the
//! component, drives its handles over real sockets or an in-memory wire, and fuzzes its API.
//! The component does all the protocol work; this crate only moves bytes, keeps time, and
//! decides what the application does with messages.

pub mod drive;
pub mod fuzz;
pub mod guest;
pub mod net;
pub mod pair;
pub mod scenarios;
pub mod serve;
