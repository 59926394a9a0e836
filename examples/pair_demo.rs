//! A client and a server handle talking through an in-memory wire, printing every action as the
//! host sees it: the websocket.h action loop made visible. `cargo run --example pair_demo`.

use wsaction::*;

struct Peer {
    name: &'static str,
    handle: Handle,
    inbox: Vec<u8>,
    held_read: Option<(u32, usize)>,
}

fn hex(bytes: &[u8]) -> String {
    let shown: Vec<String> = bytes.iter().take(24).map(|b| format!("{b:02x}")).collect();
    format!("{}{}", shown.join(" "), if bytes.len() > 24 { " …" } else { "" })
}

/// The drain contract: get_action until NoAction, performing and completing each action.
fn drain(peer: &mut Peer, outbox: &mut Vec<u8>) -> bool {
    let mut progressed = false;
    if let Some((id, capacity)) = peer.held_read {
        if !peer.inbox.is_empty() {
            let n = peer.inbox.len().min(capacity);
            let bytes: Vec<u8> = peer.inbox.drain(..n).collect();
            println!("{:>6}  complete RECEIVE_FROM_NETWORK #{id} with {n} bytes: {}", peer.name, hex(&bytes));
            peer.handle.complete_receive(id, &bytes).expect("complete receive");
            peer.held_read = None;
            progressed = true;
        }
    }
    loop {
        let action = match peer.handle.get_action(ActionQueue::All) {
            Ok(action) => action.record(),
            Err(error) => {
                println!("{:>6}  get_action error: {error}", peer.name);
                progressed = true;
                continue;
            }
        };
        let id = action.id;
        let ty = action.buffer_type.map(BufferType::name).unwrap_or("-");
        match action.kind {
            ActionKind::NoAction => return progressed,
            ActionKind::SendToNetwork => {
                println!(
                    "{:>6}  SEND_TO_NETWORK #{id} ({ty}, {:?} queue): {}",
                    peer.name,
                    action.queue,
                    hex(action.bytes)
                );
                outbox.extend_from_slice(action.bytes);
                let n = action.bytes.len();
                peer.handle.complete_action(id, n).unwrap();
            }
            ActionKind::ReceiveFromNetwork => {
                println!("{:>6}  RECEIVE_FROM_NETWORK #{id} (room for {} bytes)", peer.name, action.receive_capacity);
                peer.held_read = Some((id, action.receive_capacity));
                return true;
            }
            ActionKind::IndicateSendComplete => {
                println!("{:>6}  INDICATE_SEND_COMPLETE #{id} ({ty}, context {:?})", peer.name, action.context);
                peer.handle.complete_action(id, 0).unwrap();
            }
            ActionKind::IndicateReceiveComplete => {
                match action.close_status {
                    Some(status) => println!(
                        "{:>6}  INDICATE_RECEIVE_COMPLETE #{id} (CLOSE {status} {:?})",
                        peer.name,
                        String::from_utf8_lossy(action.bytes)
                    ),
                    None => println!(
                        "{:>6}  INDICATE_RECEIVE_COMPLETE #{id} ({ty}): {:?}",
                        peer.name,
                        String::from_utf8_lossy(action.bytes)
                    ),
                }
                peer.handle.complete_action(id, 0).unwrap();
                if matches!(peer.handle.state(), State::Open | State::CloseSent) {
                    peer.handle.receive(None).unwrap();
                }
            }
        }
        progressed = true;
    }
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
    let mut client = Peer { name: "client", handle: new(Role::Client, 1), inbox: Vec::new(), held_read: None };
    let mut server = Peer { name: "server", handle: new(Role::Server, 2), inbox: Vec::new(), held_read: None };

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
