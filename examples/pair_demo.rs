//! A client and a server handle talking through an in-memory wire, each driven by the core's
//! driver, with the driver's trace hook printing every input and action as websocket.h names it:
//! the action loop made visible. `cargo run --example pair_demo`.

use wsaction::*;

struct Peer {
    handle: Handle,
    driver: Driver,
    inbox: Vec<u8>,
}

fn hex(bytes: &[u8]) -> String {
    let shown: Vec<String> = bytes.iter().take(24).map(|b| format!("{b:02x}")).collect();
    format!("{}{}", shown.join(" "), if bytes.len() > 24 { " …" } else { "" })
}

/// The trace hook: one line per input and action.
fn tracer(name: &'static str) -> Box<dyn FnMut(&TraceEvent<'_>)> {
    Box::new(move |event| match event {
        TraceEvent::Input { call, id, bytes, .. } => {
            println!("{name:>6}  {call}(#{id}) with {} bytes: {}", bytes.len(), hex(bytes))
        }
        TraceEvent::Action(action) => {
            let action = action.record();
            let ty = action.buffer_type.map(BufferType::name).unwrap_or("-");
            let extra = match (action.kind, action.close_status) {
                (ActionKind::ReceiveFromNetwork, _) => format!("room for {} bytes", action.receive_capacity),
                (_, Some(status)) => format!("status {status}, {:?}", String::from_utf8_lossy(action.bytes)),
                (ActionKind::SendToNetwork, _) => hex(action.bytes),
                _ => format!("{:?}", String::from_utf8_lossy(action.bytes)),
            };
            println!("{name:>6}  {:?} #{} ({ty}, {:?} queue): {extra}", action.kind, action.id, action.queue)
        }
        TraceEvent::Violation(error) => println!("{name:>6}  violation: {error}"),
        _ => {}
    })
}

/// One driver call with what waits in the inbox; the output goes to the peer. True if anything moved.
fn drain(peer: &mut Peer, outbox: &mut Vec<u8>) -> bool {
    let drained = peer.driver.feed(&mut peer.handle, &peer.inbox, DrainOptions::default()).expect("the driver's loop");
    outbox.extend_from_slice(drained.out);
    let moved = drained.consumed > 0 || !drained.out.is_empty() || !drained.indications.is_empty();
    let again = drained.failing_close_waits;
    let consumed = drained.consumed;
    peer.inbox.drain(..consumed);
    moved || again
}

fn run(client: &mut Peer, server: &mut Peer) {
    loop {
        let a = drain(client, &mut server.inbox);
        let b = drain(server, &mut client.inbox);
        if !a && !b {
            break;
        }
    }
}

fn main() {
    let props = [Property::ReceiveBufferSize(256)];
    let new = |role, seed| Handle::with_random(role, &props, Box::new(SeededRandom::new(seed))).unwrap();
    let peer = |name, handle| {
        let mut driver = Driver::new();
        driver.set_trace(Some(tracer(name)));
        Peer { handle, driver, inbox: Vec::new() }
    };
    let mut client = peer("client", new(Role::Client, 1));
    let mut server = peer("server", new(Role::Server, 2));

    println!("== handshake");
    let mut request = client.handle.begin_client_handshake(&["chat"], &[], &[]).unwrap();
    request.push(("Host".into(), "demo.invalid".into()));
    for (name, value) in &request {
        println!("client  request header  {name}: {value}");
    }
    let response = server.handle.begin_server_handshake(Some("chat"), &[], &request).unwrap();
    for (name, value) in &response {
        println!("server  response header {name}: {value}");
    }
    let chosen = client.handle.end_client_handshake(&response).unwrap();
    println!(
        "client  chose subprotocol index {:?}; states {:?} / {:?}",
        chosen.selected_subprotocol,
        client.handle.state(),
        server.handle.state()
    );
    client.handle.receive(Some(1)).unwrap();
    server.handle.receive(Some(2)).unwrap();

    println!("\n== a 300-byte text message meets a 256-byte receive buffer");
    client.handle.send(BufferType::Utf8Message, Some(Buffer::Data("é".repeat(150).as_bytes())), Some(10)).unwrap();
    run(&mut client, &mut server);

    println!("\n== the server pings; the client's engine answers on its receive queue");
    server.handle.send(BufferType::PingPong, Some(Buffer::Data(b"hi")), Some(11)).unwrap();
    run(&mut client, &mut server);

    println!("\n== a hostile frame (reserved opcode 0x3) fails the connection with 1002");
    server.inbox.extend_from_slice(&[0x83, 0x80, 0, 0, 0, 0]);
    run(&mut client, &mut server);
    println!("\n== the client answers the close");
    client.handle.send(BufferType::Close, Some(Buffer::CloseStatus { status: 1002, reason: b"" }), None).unwrap();
    run(&mut client, &mut server);
    println!("\nfinal states: client {}, server {}", client.handle.state().name(), server.handle.state().name());
}
