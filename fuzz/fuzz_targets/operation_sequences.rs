//! Whole-handle operation sequences decoded from the input: sends of every type, receives,
//! get/complete with right and wrong ids and counts, ticks, aborts, hostile bytes, and the driver's
//! calls mixed in with them (drain, feed, send_and_drain, send_many_and_drain), with and without
//! permessage-deflate. No panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wsaction::*;

fuzz_target!(|data: &[u8]| {
    let props = [
        Property::ReceiveBufferSize(256),
        Property::SendBufferSize(16),
        Property::KeepAliveInterval(100),
        Property::CloseTimeout(50),
        // Half the inputs run with permessage-deflate negotiated: compressed sends and receives.
        Property::PerMessageDeflate(data.first().is_some_and(|b| b & 0x80 != 0)),
    ];
    let mut client = Handle::with_random(Role::Client, &props, Box::new(SeededRandom::new(1))).unwrap();
    let mut server = Handle::with_random(Role::Server, &props, Box::new(SeededRandom::new(2))).unwrap();
    let mut request = client.begin_client_handshake(&[], &[], &[]).unwrap();
    request.push(("Host".into(), "f".into()));
    let response = server.begin_server_handshake(None, &[], &request).unwrap();
    client.end_client_handshake(&response).unwrap();
    let mut last: [(u32, usize); 2] = [(0, 0); 2];
    let mut drivers = [Driver::new(), Driver::new()];
    let mut now = 0u64;
    let mut it = data.chunks(4);
    while let Some(op) = it.next() {
        let side = (op[0] & 1) as usize;
        let handle = if side == 0 { &mut client } else { &mut server };
        let arg = op.get(1).copied().unwrap_or(0);
        let payload = op.get(2..).unwrap_or(&[]);
        match op[0] >> 1 {
            0..=19 => {
                let t = BufferType::from_u32(0x8000_0000 + (arg % 7) as u32).unwrap();
                let buffer = if t == BufferType::Close {
                    Some(Buffer::CloseStatus {
                        status: u16::from_be_bytes([arg, *payload.first().unwrap_or(&0)]) % 5000,
                        reason: payload,
                    })
                } else {
                    Some(Buffer::Data(payload))
                };
                let _ = handle.send(t, buffer, None);
            }
            20..=39 => {
                let _ = handle.receive(None);
            }
            40..=89 => {
                if let Ok(action) =
                    handle.get_action(ActionQueue::from_u32((arg % 3 + 1) as u32).unwrap()).map(|a| a.record())
                {
                    last[side] = (action.id, action.bytes.len().max(action.receive_capacity));
                }
            }
            90..=109 => {
                let (id, len) = last[side];
                let n = if arg & 1 == 0 { len } else { arg as usize };
                let _ = handle.complete_action(id, n);
            }
            110..=119 => {
                let (id, _) = last[side];
                let _ = handle.complete_receive(id.wrapping_add((arg & 3) as u32), payload);
            }
            120..=124 => {
                now += arg as u64;
                handle.tick(now);
            }
            125 => handle.abort(),
            126 => {
                let options = DrainOptions { keep_receiving: arg & 1 == 0, max_out_bytes: (arg >> 1) as usize * 8 };
                let driver = &mut drivers[side];
                let _ = match arg % 4 {
                    0 => driver.drain(handle, options).map(|d| d.out.len()),
                    1 => driver.feed(handle, payload, options).map(|d| d.consumed),
                    2 => {
                        let t = BufferType::from_u32(0x8000_0000 + (arg % 7) as u32).unwrap();
                        driver.send_and_drain(handle, t, Some(Buffer::Data(payload)), options).map(|d| d.out.len())
                    }
                    _ => driver
                        .send_many_and_drain(handle, BufferType::BinaryMessage, payload.chunks(1), options)
                        .map(|d| d.sent),
                };
            }
            _ => {
                let _ = handle.end_server_handshake();
            }
        }
        let _ = (handle.state(), handle.next_deadline());
    }
});
