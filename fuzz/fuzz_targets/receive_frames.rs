//! Arbitrary bytes from the network, in arbitrary read sizes, into an open client or server
//! handle with a small receive buffer, through the driver, with or without permessage-deflate
//! negotiated (then frames with RSV1 go through the inflater): no panic, and no indication larger
//! than the buffer.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wsaction::*;

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let role = if data[0] & 1 == 0 { Role::Server } else { Role::Client };
    let read_size = (data[1] as usize % 64) + 1;
    let bytes = &data[2..];
    let props = [
        Property::ReceiveBufferSize(256),
        Property::MaxMessageSize(4096),
        Property::MaxFrameSize(2048),
        Property::PerMessageDeflate(data[0] & 2 != 0),
    ];
    let mut client = Handle::with_random(Role::Client, &props, Box::new(SeededRandom::new(1))).unwrap();
    let mut server = Handle::with_random(Role::Server, &props, Box::new(SeededRandom::new(2))).unwrap();
    let mut request = client.begin_client_handshake(&[], &[], &[]).unwrap();
    request.push(("Host".into(), "f".into()));
    let response = server.begin_server_handshake(None, &[], &request).unwrap();
    client.end_client_handshake(&response).unwrap();
    let handle = if role == Role::Server { &mut server } else { &mut client };
    handle.receive(None).unwrap();
    // The core's driver does the loop; reads come `read_size` bytes at a time.
    let mut driver = Driver::new();
    let mut fed = 0;
    for _ in 0..100_000 {
        let n = read_size.min(bytes.len() - fed);
        let drained = driver.feed(handle, &bytes[fed..fed + n], DrainOptions::default()).unwrap();
        for indication in drained.indications {
            assert!(drained.payload_of(indication).len() <= 256, "an indication over the receive buffer");
        }
        fed += drained.consumed;
        let waits = drained.failing_close_waits;
        if drained.consumed == 0 && !waits && drained.out.is_empty() && drained.indications.is_empty() {
            break;
        }
    }
});
