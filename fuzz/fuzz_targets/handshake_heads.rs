//! Arbitrary bytes as an HTTP head, parsed and, when it parses, fed to the handshake checks.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wsaction::*;

fuzz_target!(|data: &[u8]| {
    let limits = Limits { max_handshake_header_bytes: 1024, max_handshake_headers: 16, ..Limits::default() };
    if let Ok(Some(parsed)) = http::parse_request_head(data, &limits) {
        let _ = handshake::check_request_line(&parsed.head.method, parsed.head.minor_version);
        let mut server = Handle::with_random(Role::Server, &[], Box::new(SeededRandom::new(2))).unwrap();
        let offered = handshake::offered_subprotocols(&parsed.head.headers);
        let pick = offered.first().map(String::as_str);
        if let Ok(headers) = server.begin_server_handshake(pick, &[], &parsed.head.headers) {
            let bytes = http::serialize_response_head(101, "Switching Protocols", &headers).unwrap();
            assert!(http::parse_response_head(&bytes, &Limits::default()).unwrap().is_some());
        }
    }
    if let Ok(Some(parsed)) = http::parse_response_head(data, &limits) {
        let mut client = Handle::with_random(Role::Client, &[], Box::new(SeededRandom::new(1))).unwrap();
        client.begin_client_handshake(&["a", "b"], &["x"], &[]).unwrap();
        let _ = client.end_client_handshake(&parsed.head.headers);
    }
});
