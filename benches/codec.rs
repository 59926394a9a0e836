//! Codec throughput: parse masked frames (as a server receives them) and frame messages with
//! masking (as a client sends them), against a memcpy of the same bytes measured in the same run.
//!
//! `cargo bench --bench codec` prints MB/s and messages/s per size; criterion's throughput line
//! gives MB/s (MiB/s), and each group's `memcpy` row is the ceiling.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use wsaction::*;

const CHUNK: usize = 64 * 1024;

fn mixed_utf8(len: usize) -> Vec<u8> {
    let sample = "ascii text, κόσμε, 日本語のテキスト, emoji 🎉🚀, ";
    let mut out = String::with_capacity(len + 16);
    while out.len() < len {
        out.push_str(sample);
    }
    while out.len() > len {
        out.pop();
    }
    out.into_bytes()
}

struct Case {
    name: &'static str,
    buffer_type: BufferType,
    payload: Vec<u8>,
    /// How many messages one iteration carries, so small messages are measured in bulk.
    count: usize,
}

fn cases() -> Vec<Case> {
    vec![
        Case { name: "16B", buffer_type: BufferType::BinaryMessage, payload: vec![7u8; 16], count: 4096 },
        Case { name: "1KiB", buffer_type: BufferType::BinaryMessage, payload: vec![7u8; 1024], count: 256 },
        Case { name: "1MiB", buffer_type: BufferType::BinaryMessage, payload: vec![7u8; 1 << 20], count: 1 },
        Case { name: "64KiB-utf8", buffer_type: BufferType::Utf8Message, payload: mixed_utf8(64 * 1024), count: 4 },
    ]
}

fn open_pair(receive_buffer: u32) -> (Handle, Handle) {
    let props = [Property::ReceiveBufferSize(receive_buffer), Property::SendBufferSize(1 << 24)];
    let mut client = Handle::with_random(Role::Client, &props, Box::new(SeededRandom::new(1))).unwrap();
    let mut server = Handle::with_random(Role::Server, &props, Box::new(SeededRandom::new(2))).unwrap();
    let mut request = client.begin_client_handshake(&[], &[], &[]).unwrap();
    request.push(("Host".into(), "bench".into()));
    let response = server.begin_server_handshake(None, &[], &request).unwrap();
    client.end_client_handshake(&response).unwrap();
    (client, server)
}

/// Frames `count` messages through a client handle (masked) and returns the wire bytes.
fn frame_messages(client: &mut Handle, case: &Case, wire: &mut Vec<u8>) {
    for _ in 0..case.count {
        client.send(case.buffer_type, Some(Buffer::Data(&case.payload)), None).unwrap();
        loop {
            let action = client.get_action(ActionQueue::Send).unwrap().record();
            let (id, kind) = (action.id, action.kind);
            match kind {
                ActionKind::SendToNetwork => {
                    wire.extend_from_slice(action.bytes);
                    let n = action.bytes.len();
                    client.complete_action(id, n).unwrap();
                }
                ActionKind::IndicateSendComplete => {
                    client.complete_action(id, 0).unwrap();
                    break;
                }
                _ => unreachable!(),
            }
        }
    }
}

/// Parses the wire bytes through a server handle in 64 KiB chunks; returns payload bytes seen.
fn parse_messages(server: &mut Handle, wire: &[u8], messages: usize) -> usize {
    let mut fed = 0;
    let mut seen = 0;
    let mut done = 0;
    let mut chunk_left = 0usize;
    server.receive(None).unwrap();
    while done < messages {
        let action = server.get_action(ActionQueue::Receive).unwrap().record();
        let (id, kind) = (action.id, action.kind);
        match kind {
            ActionKind::ReceiveFromNetwork => {
                if chunk_left == 0 {
                    chunk_left = CHUNK.min(wire.len() - fed);
                }
                let n = chunk_left.min(action.receive_capacity);
                server.complete_receive(id, &wire[fed..fed + n]).unwrap();
                fed += n;
                chunk_left -= n;
            }
            ActionKind::IndicateReceiveComplete => {
                seen += black_box(action.bytes).len();
                if action.buffer_type.is_some_and(|t| !t.is_fragment()) {
                    done += 1;
                }
                server.complete_action(id, 0).unwrap();
                if done < messages {
                    server.receive(None).unwrap();
                }
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    seen
}

fn bench_parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse-masked");
    for case in cases() {
        let (mut client, _) = open_pair(64 * 1024);
        let mut wire = Vec::new();
        frame_messages(&mut client, &case, &mut wire);
        group.throughput(Throughput::Bytes((case.payload.len() * case.count) as u64));
        group.bench_with_input(BenchmarkId::new("wsaction", case.name), &wire, |b, wire| {
            b.iter_batched_ref(
                || open_pair(64 * 1024).1,
                |server| parse_messages(server, wire, case.count),
                criterion::BatchSize::LargeInput,
            )
        });
        group.bench_with_input(BenchmarkId::new("memcpy", case.name), &wire, |b, wire| {
            let mut out = vec![0u8; wire.len()];
            b.iter(|| {
                for (dst, src) in out.chunks_mut(CHUNK).zip(wire.chunks(CHUNK)) {
                    dst.copy_from_slice(black_box(src));
                }
                black_box(&out);
            })
        });
    }
    group.finish();
}

fn bench_frame(c: &mut Criterion) {
    let mut group = c.benchmark_group("frame-masked");
    for case in cases() {
        group.throughput(Throughput::Bytes((case.payload.len() * case.count) as u64));
        let (mut client, _) = open_pair(64 * 1024);
        let mut wire = Vec::with_capacity((case.payload.len() + 14) * case.count);
        group.bench_function(BenchmarkId::new("wsaction", case.name), |b| {
            b.iter(|| {
                wire.clear();
                frame_messages(&mut client, &case, &mut wire);
                black_box(&wire);
            })
        });
        let mut out = vec![0u8; case.payload.len()];
        group.bench_function(BenchmarkId::new("memcpy", case.name), |b| {
            b.iter(|| {
                for _ in 0..case.count {
                    out.copy_from_slice(black_box(&case.payload));
                    black_box(&out);
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_parse, bench_frame);
criterion_main!(benches);
