use wasmtime::component::{Component, Linker, ResourceAny};
use wasmtime::{format_err, Engine, Result, Store};
use wasmtime_wasi::random::{WasiRandom, WasiRandomCtx};

wasmtime::component::bindgen!({
    path: "wit",
    world: "wsaction",
    with: { "wasi:random/random": wasmtime_wasi::p2::bindings::random::random },
});
use exports::wsaction::engine::types::{
    Buffer, BufferType, DrainOptions, DrainResult, Error, Header, Indication, SendOptions,
};

/// The store's state: the component imports wasi:random and nothing else.
struct Host {
    random: WasiRandomCtx,
}

const OPTIONS: DrainOptions = DrainOptions { keep_receiving: true, max_out_bytes: None };
/// Compressed when permessage-deflate was agreed (it is not here: no deflate properties).
const SEND: SendOptions = SendOptions { compress: true };

/// A component error is a value (the inner Result); the outer one is a trap.
fn fail(error: Error) -> wasmtime::Error {
    format_err!("{error:?}")
}

/// Prints what a drain told the application; returns the whole messages it carried.
fn deliver(who: &str, result: &DrainResult) -> Vec<Vec<u8>> {
    let mut messages = Vec::new();
    for indication in &result.indications {
        if let Indication::ReceiveComplete(received) = indication {
            println!("{who}: {:?} {:?}", received.buffer_type, String::from_utf8_lossy(&received.bytes));
            if matches!(received.buffer_type, BufferType::Utf8Message | BufferType::BinaryMessage) {
                messages.push(received.bytes.clone());
            }
        }
    }
    messages
}

fn main() -> Result<()> {
    let path = std::env::args().nth(1).ok_or_else(|| format_err!("usage: my-wsaction-host wsaction.wasm"))?;
    let engine = Engine::default();
    let component = Component::from_file(&engine, &path)?;
    let mut linker: Linker<Host> = Linker::new(&engine);
    wasmtime_wasi::p2::bindings::random::random::add_to_linker::<Host, WasiRandom>(&mut linker, |h| &mut h.random)?;
    let mut store = Store::new(&engine, Host { random: WasiRandomCtx::default() });
    let wsaction = Wsaction::instantiate(&mut store, &component, &linker)?;
    let handle = wsaction.wsaction_engine_engine().handle();

    // The handshake: the host moves the headers (a real one writes and parses the HTTP heads).
    let no_properties = Vec::new();
    let client: ResourceAny = handle.call_create_client(&mut store, &no_properties, None)?.map_err(fail)?;
    let server: ResourceAny = handle.call_create_server(&mut store, &no_properties, None)?.map_err(fail)?;
    let mut request = handle.call_begin_client_handshake(&mut store, client, &[], &[], &[])?.map_err(fail)?;
    request.push(Header { name: "Host".into(), value: "example.test".into() });
    let response = handle.call_begin_server_handshake(&mut store, server, None, &[], &request)?.map_err(fail)?;
    handle.call_end_client_handshake(&mut store, client, &response)?.map_err(fail)?;
    handle.call_receive(&mut store, client, None)?.map_err(fail)?;
    handle.call_receive(&mut store, server, None)?.map_err(fail)?;

    // The client sends: one crossing frames the message and returns the bytes to write.
    let hello = Buffer::Data(b"hello, component".to_vec());
    let sent = handle.call_send_and_drain(&mut store, client, BufferType::Utf8Message, Some(&hello), SEND, OPTIONS)?;
    let wire = sent.map_err(fail)?.out;

    // The server reads those bytes: one crossing returns the message; its handler echoes it.
    let read = handle.call_drain(&mut store, server, &wire, false, OPTIONS)?.map_err(fail)?;
    let mut reply_wire = read.out.clone();
    for message in deliver("server", &read) {
        let echo = Buffer::Data(message);
        let sent =
            handle.call_send_and_drain(&mut store, server, BufferType::Utf8Message, Some(&echo), SEND, OPTIONS)?;
        reply_wire.extend(sent.map_err(fail)?.out);
    }

    // The client reads the echo.
    let read = handle.call_drain(&mut store, client, &reply_wire, false, OPTIONS)?.map_err(fail)?;
    let echoed = deliver("client", &read);
    if echoed != [b"hello, component".to_vec()] {
        return Err(format_err!("no echo: {echoed:?}"));
    }
    client.resource_drop(&mut store)?;
    server.resource_drop(&mut store)?;
    println!("echo through the component: ok");
    Ok(())
}
