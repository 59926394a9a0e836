//! permessage-deflate's transform against an independent implementation (C zlib through Python's
//! standard library, `tests/permessage_deflate/zlib_peer.py`), its bounds against bombs with the
//! memory measured, the memory each connection holds, and the property that inflating does not
//! depend on how the compressed bytes are split.
//!
//! Memory is measured by a counting global allocator whose counters are per thread, so the tests
//! of this file may run in parallel.

use proptest::prelude::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::Write;
use std::process::{Command, Stdio};
use wsaction::permessage_deflate::*;

// ------------------------------------------------------------------ a per-thread counting allocator

struct CountingAllocator;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn account(delta: isize) {
    let _ = LIVE.try_with(|live| {
        let now = live.get() + delta;
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

// SAFETY: every call forwards to the system allocator unchanged; the counters only observe.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            account(layout.size() as isize);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            account(layout.size() as isize);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        account(-(layout.size() as isize));
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            account(new_size as isize - layout.size() as isize);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Heap bytes this thread holds now.
fn live_bytes() -> isize {
    LIVE.with(Cell::get)
}

/// Runs `f` and returns its result with the most heap this thread held above the starting point.
fn peak_during<R>(f: impl FnOnce() -> R) -> (R, isize) {
    let start = live_bytes();
    PEAK.with(|peak| peak.set(start));
    let result = f();
    (result, PEAK.with(Cell::get) - start)
}

// ------------------------------------------------------------------ helpers

fn direction(window_bits: u8, no_context_takeover: bool) -> Direction {
    Direction { window_bits, no_context_takeover }
}

/// Inflates one message from its frame payloads, each fed in reads of `read_size`, through an
/// output buffer of `chunk` bytes, against a message limit of `limit` bytes.
fn inflate_message(
    inflater: &mut MessageInflater,
    frames: &[Vec<u8>],
    read_size: usize,
    chunk: usize,
    limit: u64,
) -> Result<Vec<u8>, InflateError> {
    let mut buffer = vec![0u8; chunk];
    let mut message = Vec::new();
    inflater.begin_message();
    for (index, frame) in frames.iter().enumerate() {
        let last_frame = index + 1 == frames.len();
        let mut reads: Vec<&[u8]> = frame.chunks(read_size.max(1)).collect();
        if reads.is_empty() {
            reads.push(&[]);
        }
        for (read_index, read) in reads.iter().enumerate() {
            let ends_message = last_frame && read_index + 1 == reads.len();
            let mut input = *read;
            loop {
                let step = inflater.inflate(input, ends_message, &mut buffer, limit - message.len() as u64)?;
                assert!(step.produced <= chunk);
                input = &input[step.consumed..];
                message.extend_from_slice(&buffer[..step.produced]);
                match step.state {
                    InflateState::OutputFull => continue,
                    InflateState::NeedsInput => {
                        assert!(input.is_empty() && !ends_message);
                        break;
                    }
                    InflateState::MessageDone => {
                        assert!(input.is_empty() && ends_message);
                        return Ok(message);
                    }
                }
            }
        }
    }
    panic!("the message never ended");
}

/// xorshift bytes: incompressible, reproducible.
fn noise(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// JSON-like text, the workload permessage-deflate is for.
fn json_like(records: usize, seed: u32) -> Vec<u8> {
    let words = ["alpha", "beta", "gamma", "delta", "price", "volume", "ticker", "status", "ok", "pending"];
    let n = noise(records * 4, seed);
    let mut text = String::from("[");
    for i in 0..records {
        let r = &n[i * 4..i * 4 + 4];
        text.push_str(&format!(
            "{{\"id\":{},\"name\":\"{}\",\"kind\":\"{}\",\"value\":{}.{:02},\"tags\":[\"{}\",\"{}\"]}},",
            i,
            words[r[0] as usize % words.len()],
            words[r[1] as usize % words.len()],
            r[2],
            r[3] % 100,
            words[r[3] as usize % words.len()],
            words[r[2] as usize % words.len()]
        ));
    }
    text.push(']');
    text.into_bytes()
}

/// Messages that exercise the window: repeats at distances of 300 and 1000 bytes (past 2^8 and
/// 2^9), a block longer than 2^15, text, and empty messages.
fn test_messages() -> Vec<Vec<u8>> {
    let block = noise(1000, 7);
    let short_block = noise(300, 9);
    vec![
        b"Hello".to_vec(),
        Vec::new(),
        json_like(200, 1),
        json_like(200, 1),
        block.repeat(40),
        short_block.repeat(50),
        noise(70_000, 3),
        json_like(50, 2),
        Vec::new(),
    ]
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect()
}

fn run_zlib_peer(request: &serde_json::Value) -> serde_json::Value {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/permessage_deflate/zlib_peer.py");
    let mut child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs the zlib peer");
    child.stdin.take().unwrap().write_all(request.to_string().as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "the zlib peer failed");
    serde_json::from_slice(&output.stdout).unwrap()
}

// ------------------------------------------------------------------ against C zlib

/// Every window 8..=15, with and without context takeover: zlib inflates what wsaction compresses
/// (with exactly the agreed window, so a reference past it would fail), and wsaction inflates what
/// zlib compresses, whole and fragmented, through small and large output buffers.
#[test]
fn round_trips_with_c_zlib_at_every_window_and_takeover_mode() {
    let messages = test_messages();
    let mut cases = Vec::new();
    let mut our_sizes = Vec::new();
    for window_bits in 8..=15u8 {
        for no_context_takeover in [false, true] {
            let mut compressor = MessageCompressor::new(direction(window_bits, no_context_takeover), 6, 8);
            let ours: Vec<Vec<u8>> = messages
                .iter()
                .map(|m| {
                    let mut out = Vec::new();
                    compressor.compress_message(m, &mut out).unwrap();
                    out
                })
                .collect();
            our_sizes.push(ours.iter().map(Vec::len).collect::<Vec<_>>());
            cases.push(serde_json::json!({
                "window_bits": window_bits,
                "no_context_takeover": no_context_takeover,
                "messages": messages.iter().map(|m| hex(m)).collect::<Vec<_>>(),
                "ours": ours.iter().map(|m| hex(m)).collect::<Vec<_>>(),
                "fragment_size": 1000,
            }));
        }
    }
    let answer = run_zlib_peer(&serde_json::json!({ "cases": cases }));
    for (index, case) in answer["cases"].as_array().unwrap().iter().enumerate() {
        let window_bits = 8 + (index / 2) as u8;
        let no_context_takeover = index % 2 == 1;
        let label = format!("window {window_bits}, no_context_takeover {no_context_takeover}");
        // zlib inflates ours.
        for (m, inflated) in case["inflated_ours"].as_array().unwrap().iter().enumerate() {
            assert_eq!(inflated.as_str().unwrap(), hex(&messages[m]), "{label}: zlib inflating our message {m}");
        }
        // We inflate zlib's, whole and fragmented, in several buffer sizes.
        for chunk in [256, 4096, 1 << 20] {
            let mut whole = MessageInflater::new(direction(window_bits, no_context_takeover));
            let mut fragmented = MessageInflater::new(direction(window_bits, no_context_takeover));
            for (m, message) in messages.iter().enumerate() {
                let payload = unhex(case["theirs"][m].as_str().unwrap());
                let got = inflate_message(&mut whole, &[payload], 1 << 20, chunk, 1 << 30).unwrap();
                assert!(got == *message, "{label}: inflating zlib's message {m} through {chunk}-byte buffers");
                let frames: Vec<Vec<u8>> = case["theirs_fragmented"][m]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|f| unhex(f.as_str().unwrap()))
                    .collect();
                let got = inflate_message(&mut fragmented, &frames, 777, chunk, 1 << 30).unwrap();
                assert!(got == *message, "{label}: inflating zlib's fragmented message {m} ({} frames)", frames.len());
            }
        }
    }
    // Context takeover pays once the window holds the previous message: the repeated JSON message
    // (index 3, about 14 KB) shrinks to a few bytes at window 15; without takeover it does not.
    for pair in our_sizes.chunks(2) {
        assert_eq!(pair[1][2], pair[1][3], "{pair:?}");
    }
    let at_15 = &our_sizes[14];
    assert!(at_15[3] * 10 < at_15[2], "{at_15:?}");
}

// ------------------------------------------------------------------ bombs

/// The payload of a message of `megabytes` MiB of zeros, as (first piece, repeated piece, last
/// piece): zeros compress to identical sync-flushed blocks once the window is full of zeros, so
/// the message is `first + repeated x (megabytes - 1) + last` without compressing it all.
fn zero_bomb_pieces() -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let zeros = vec![0u8; 1 << 20];
    let mut compressor = MessageCompressor::new(direction(15, false), 9, 9);
    let mut pieces = Vec::new();
    for _ in 0..3 {
        let mut out = Vec::new();
        compressor.compress(&zeros, false, &mut out).unwrap();
        pieces.push(out);
    }
    assert_eq!(pieces[1], pieces[2], "one MiB of zeros after zeros compresses to the same bytes");
    let mut last = Vec::new();
    compressor.compress(&[], true, &mut last).unwrap();
    (pieces.swap_remove(0), pieces.swap_remove(0), last)
}

/// One message whose payload inflates to 1 GiB, arriving as one frame in 64 KiB reads, against
/// the default 64 MiB limit: 1009 after at most limit + 1 bytes of output, with the heap bounded
/// by zlib's window and state, whatever the bomb's size.
#[test]
fn a_one_gib_bomb_in_one_frame_fails_with_1009_in_bounded_memory() {
    let (first, repeated, last) = zero_bomb_pieces();
    let gib_payload = first.len() + repeated.len() * 1023 + last.len();
    let limit: u64 = 64 << 20;
    let mut buffer = vec![0u8; 4096];
    let mut inflater = MessageInflater::new(direction(15, false));
    let (outcome, peak) = peak_during(|| {
        inflater.begin_message();
        let mut inflated: u64 = 0;
        // The frame's payload arrives read by read: never all in memory at once.
        let reads = std::iter::once(&first).chain(std::iter::repeat_n(&repeated, 1023)).chain(std::iter::once(&last));
        for (index, read) in reads.enumerate() {
            let ends_message = index == 1024;
            let mut input = &read[..];
            loop {
                let step = inflater.inflate(input, ends_message, &mut buffer, limit - inflated)?;
                input = &input[step.consumed..];
                inflated += step.produced as u64;
                if step.state != InflateState::OutputFull {
                    break;
                }
            }
        }
        Ok::<u64, InflateError>(inflated)
    });
    let error = outcome.unwrap_err();
    let InflateError::MessageTooBig { inflated } = error else { panic!("{error:?}") };
    assert_eq!(error.close_code(), Some(1009));
    assert_eq!(inflated, limit + 1, "stops one byte past the limit");
    println!(
        "bomb, one frame: {gib_payload} compressed bytes would inflate to 1 GiB ({}:1); failed with 1009 after {inflated} bytes; peak heap while inflating {peak} bytes",
        (1u64 << 30) / gib_payload as u64
    );
    assert!(peak < 64 * 1024, "peak heap {peak} bytes");
}

/// A fragmented message whose every fragment is about 1 KiB (inflating to 1 MiB each): the
/// total crosses the limit at the 65th and fails there, in bounded memory.
#[test]
fn a_fragmented_bomb_of_small_frames_fails_with_1009_in_bounded_memory() {
    let (first, repeated, _) = zero_bomb_pieces();
    let limit: u64 = 64 << 20;
    let mut buffer = vec![0u8; 4096];
    let mut inflater = MessageInflater::new(direction(15, true));
    let (outcome, peak) = peak_during(|| {
        inflater.begin_message();
        let mut inflated: u64 = 0;
        let frames = std::iter::once(&first).chain(std::iter::repeat_n(&repeated, 9_999));
        for (index, frame) in frames.enumerate() {
            let mut input = &frame[..];
            loop {
                let step =
                    inflater.inflate(input, index == 9_999, &mut buffer, limit - inflated).map_err(|e| (e, index))?;
                input = &input[step.consumed..];
                inflated += step.produced as u64;
                if step.state != InflateState::OutputFull {
                    break;
                }
            }
        }
        Ok::<u64, (InflateError, usize)>(inflated)
    });
    let (error, frame_index) = outcome.unwrap_err();
    assert_eq!(error, InflateError::MessageTooBig { inflated: limit + 1 });
    assert_eq!(frame_index, 64, "the 65th frame crosses 64 MiB");
    println!(
        "bomb, fragmented: frames of {} compressed bytes each inflate to 1 MiB; failed with 1009 in frame {} after {} bytes; peak heap {peak} bytes",
        repeated.len(),
        frame_index + 1,
        limit + 1
    );
    assert!(peak < 64 * 1024, "peak heap {peak} bytes");
    assert!(!inflater.in_message() && !inflater.holds_state(), "the failed message's state is freed");
}

/// The densest payload deflate allows, a few KiB, against a smaller limit.
#[test]
fn a_few_kib_that_inflate_to_megabytes_fail_at_a_small_limit() {
    let mut payload = Vec::new();
    MessageCompressor::new(direction(15, false), 9, 9).compress_message(&vec![b'x'; 8 << 20], &mut payload).unwrap();
    assert!(payload.len() < 10 * 1024, "{} bytes", payload.len());
    let limit = 1 << 20;
    let error = inflate_message(&mut MessageInflater::new(direction(15, false)), &[payload.clone()], 4096, 4096, limit)
        .unwrap_err();
    assert_eq!(error, InflateError::MessageTooBig { inflated: limit + 1 });
    println!("{} bytes that inflate to 8 MiB failed at a 1 MiB limit", payload.len());
}

// ------------------------------------------------------------------ memory per connection

/// What a compressor and an inflater hold at each window and memory level, measured; the figures
/// in `permessage_deflate`'s module docs come from this test (run with --nocapture).
#[test]
fn deflate_memory_per_connection() {
    let message = json_like(100, 5);
    // Printed after measuring: the test harness's output capture allocates on this thread.
    let mut figures = Vec::new();
    for window_bits in [8u8, 9, 10, 12, 15] {
        let effective = zlib_window_bits(window_bits);
        let mut inflater = MessageInflater::new(direction(window_bits, false));
        let mut payload = Vec::new();
        MessageCompressor::new(direction(window_bits, true), 6, 8).compress_message(&message, &mut payload).unwrap();
        let frames = [payload];
        let after_payload = live_bytes();
        inflate_message(&mut inflater, &frames, 1 << 20, 4096, 1 << 20).unwrap();
        // The 4096-byte buffer and the message were freed inside inflate_message.
        let inflater_bytes = live_bytes() - after_payload;
        drop(inflater);
        assert_eq!(live_bytes(), after_payload, "dropping the inflater frees all of it");
        figures.push(format!("inflater, window {window_bits} (zlib {effective}): {inflater_bytes} bytes"));
        // zlib-rs (like zlib-ng) allocates a 2^15 window whatever the window bits.
        assert!(inflater_bytes as usize >= 1 << 15, "holds its window");
        assert!((inflater_bytes as usize) < (1 << 15) + 16 * 1024, "{inflater_bytes}");

        for mem_level in [1u8, 5, 8, 9] {
            let before = live_bytes();
            let mut compressor = MessageCompressor::new(direction(window_bits, false), 6, mem_level);
            let mut out = Vec::with_capacity(message.len());
            let base = live_bytes();
            compressor.compress_message(&message, &mut out).unwrap();
            let compressor_bytes = live_bytes() - base;
            drop(compressor);
            drop(out);
            assert_eq!(live_bytes(), before, "dropping the compressor frees all of it");
            figures.push(format!("compressor, window {window_bits} (zlib {effective}), memory level {mem_level}: {compressor_bytes} bytes"));
            // zlib-rs: the window and its hash chains take 4 x 2^w, the literal and pending
            // buffers 7 x 2^(mem_level+6), the hash table a fixed 2^16 x 2 (as zlib-ng), plus its state.
            let tables = (4usize << effective) + (7usize << (mem_level + 6)) + (2usize << 16);
            assert!(compressor_bytes as usize >= tables, "{compressor_bytes} < {tables}");
            assert!((compressor_bytes as usize) < tables + 8 * 1024, "{compressor_bytes} vs {tables}");
        }
    }
    println!("{}", figures.join("\n"));
    // Without context takeover nothing is held between messages.
    let mut compressor = MessageCompressor::new(direction(15, true), 6, 8);
    let mut inflater = MessageInflater::new(direction(15, true));
    let mut payload = Vec::with_capacity(message.len());
    let base = live_bytes();
    compressor.compress_message(&message, &mut payload).unwrap();
    assert_eq!(live_bytes(), base, "a compressor without takeover holds nothing between messages");
    let frames = [payload];
    inflate_message(&mut inflater, &frames, 1 << 20, 4096, 1 << 20).unwrap();
    assert_eq!(live_bytes(), base, "an inflater without takeover holds nothing between messages");
}

// ------------------------------------------------------------------ split independence

fn message_strategy() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        // Compressible text from a small alphabet.
        prop::collection::vec(prop::sample::select(b"ab {}\":,0123".to_vec()), 0..3000),
        prop::collection::vec(any::<u8>(), 0..600),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// A sequence of messages compressed as the peer would, fragmented at random points and read
    /// in random sizes through a random output buffer, inflates to the same messages every time.
    #[test]
    fn inflating_does_not_depend_on_how_the_compressed_bytes_are_split(
        messages in prop::collection::vec(message_strategy(), 1..5),
        window_bits in 8u8..=15,
        no_context_takeover in any::<bool>(),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
        read_size in 1usize..300,
        chunk in prop_oneof![Just(1usize), 2usize..64, Just(256), Just(4096)],
    ) {
        let mut compressor = MessageCompressor::new(direction(window_bits, no_context_takeover), 6, 8);
        let mut inflater = MessageInflater::new(direction(window_bits, no_context_takeover));
        for message in &messages {
            let mut payload = Vec::new();
            compressor.compress_message(message, &mut payload).unwrap();
            let mut points: Vec<usize> = cuts.iter().map(|c| c.index(payload.len() + 1)).collect();
            points.sort_unstable();
            let mut frames = Vec::new();
            let mut from = 0;
            for point in points.into_iter().chain(std::iter::once(payload.len())) {
                frames.push(payload[from..point].to_vec());
                from = point;
            }
            let got = inflate_message(&mut inflater, &frames, read_size, chunk, 1 << 20).unwrap();
            prop_assert_eq!(&got, message);
        }
    }

    /// The compressor's pieces (a fragmented send) inflate to the message whatever the piece sizes.
    #[test]
    fn a_message_compressed_in_pieces_inflates_to_the_message(
        message in message_strategy(),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..5),
        window_bits in 8u8..=15,
    ) {
        let mut points: Vec<usize> = cuts.iter().map(|c| c.index(message.len() + 1)).collect();
        points.sort_unstable();
        let mut compressor = MessageCompressor::new(direction(window_bits, false), 6, 8);
        let mut frames = Vec::new();
        let mut from = 0;
        for (i, point) in points.iter().copied().chain(std::iter::once(message.len())).enumerate() {
            let mut frame = Vec::new();
            compressor.compress(&message[from..point], i == points.len(), &mut frame).unwrap();
            frames.push(frame);
            from = point;
        }
        let got = inflate_message(&mut MessageInflater::new(direction(window_bits, false)), &frames, 100, 128, 1 << 20).unwrap();
        prop_assert_eq!(got, message);
    }

    /// Arbitrary bytes as a compressed message: an error or a message within the budget, never a panic.
    #[test]
    fn arbitrary_payloads_inflate_or_fail_cleanly(
        frames in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..200), 1..4),
        window_bits in 8u8..=15,
        limit in 0u64..5000,
    ) {
        match inflate_message(&mut MessageInflater::new(direction(window_bits, false)), &frames, 17, 64, limit) {
            Ok(message) => prop_assert!(message.len() as u64 <= limit),
            Err(InflateError::MessageTooBig { inflated }) => prop_assert!(inflated <= limit + 1),
            Err(InflateError::InvalidData { .. }) => {}
            Err(InflateError::NotInMessage) => prop_assert!(false, "begun messages are never NotInMessage"),
            Err(InflateError::OutOfMemory { bytes }) => prop_assert!(false, "{} bytes of zlib state refused", bytes),
        }
    }
}

// ------------------------------------------------------------------ negotiation against Python websockets

/// The venv `make test` builds (Makefile `component-venv`), with Python websockets in it.
fn websockets_python() -> String {
    std::env::var("WSACTION_PYTHON")
        .unwrap_or_else(|_| format!("{}/.cache/wsaction/venv/bin/python", std::env::var("HOME").unwrap()))
}

fn run_websockets_negotiation(mode: &str, cases: Vec<serde_json::Value>) -> Vec<serde_json::Value> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/permessage_deflate/websockets_negotiation.py");
    let python = websockets_python();
    let mut child = Command::new(&python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{python} (the venv with websockets, `make component-venv`): {e}"));
    let request = serde_json::json!({ "mode": mode, "cases": cases });
    child.stdin.take().unwrap().write_all(request.to_string().as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "websockets_negotiation.py failed");
    serde_json::from_slice::<Vec<serde_json::Value>>(&output.stdout).unwrap()
}

/// websockets' view of one side as ours: (no_context_takeover, window bits) for local and remote.
fn websockets_directions(settings: &serde_json::Value) -> (Direction, Direction) {
    let direction = |side: &str| Direction {
        window_bits: settings[format!("{side}_max_window_bits")].as_u64().unwrap() as u8,
        no_context_takeover: settings[format!("{side}_no_context_takeover")].as_bool().unwrap(),
    };
    (direction("local"), direction("remote"))
}

fn our_configs() -> Vec<DeflateConfig> {
    let default = DeflateConfig::default();
    vec![
        default,
        DeflateConfig { server_no_context_takeover: true, ..default },
        DeflateConfig { client_no_context_takeover: true, ..default },
        DeflateConfig { server_max_window_bits: Some(10), ..default },
        DeflateConfig { client_max_window_bits: Some(9), ..default },
        DeflateConfig { server_max_window_bits: Some(8), client_max_window_bits: Some(8), ..default },
        DeflateConfig {
            server_no_context_takeover: true,
            client_no_context_takeover: true,
            server_max_window_bits: Some(11),
            client_max_window_bits: Some(12),
            ..default
        },
    ]
}

/// A wsaction client against websockets' server factory: every response websockets gives to our
/// offer is one our client accepts, and both sides settle on the same windows and takeover.
#[test]
fn our_client_offers_agree_with_websockets_servers() {
    let servers = [
        serde_json::json!({}),
        // websockets' own server default (enable_server_permessage_deflate).
        serde_json::json!({"server_max_window_bits": 12, "client_max_window_bits": 12, "compress_settings": {"memLevel": 5}}),
        serde_json::json!({"server_no_context_takeover": true}),
        serde_json::json!({"client_no_context_takeover": true}),
        serde_json::json!({"server_max_window_bits": 9}),
        serde_json::json!({"client_max_window_bits": 8, "require_client_max_window_bits": true}),
        // websockets' server compresses with 9..=15 only (zlib refuses 8) and inflates with 8..=15.
        serde_json::json!({"server_no_context_takeover": true, "client_no_context_takeover": true, "server_max_window_bits": 9, "client_max_window_bits": 8}),
    ];
    let mut cases = Vec::new();
    let mut ours = Vec::new();
    for config in our_configs() {
        for server in &servers {
            let offer = client_offer(&config).unwrap().to_header_text();
            cases.push(serde_json::json!({"server": server, "offer": offer}));
            ours.push(config);
        }
    }
    let answers = run_websockets_negotiation("serve", cases.clone());
    for ((config, case), answer) in ours.iter().zip(&cases).zip(&answers) {
        let label = format!("offer {} to websockets server {}", case["offer"], case["server"]);
        // websockets' server never declines an offer from a client that offers client_max_window_bits
        // (ours always does) and asks for no window of 8 (ours asks for 9 instead).
        let response = answer["response"].as_str().unwrap_or_else(|| panic!("{label}: declined: {answer}"));
        let negotiated = client_check_response(config, &parse_extension_list(response).unwrap())
            .unwrap_or_else(|e| panic!("{label}: our client rejects {response:?}: {e}"))
            .unwrap();
        let (server_side, client_side) = websockets_directions(&answer["settings"]);
        assert_eq!(negotiated.receive, server_side, "{label}: response {response:?}");
        // Our client keeps its own promises (client_max_window_bits hint, client_no_context_takeover
        // hint) even when the response leaves them out, so it may be stricter than websockets needs.
        assert!(negotiated.send.window_bits <= client_side.window_bits, "{label}: response {response:?}");
        assert!(
            negotiated.send.no_context_takeover >= client_side.no_context_takeover,
            "{label}: response {response:?}"
        );
    }
}

/// websockets' client factory against a wsaction server: our server accepts its offers (unless it
/// is configured to limit a client that cannot be limited), websockets accepts our response, and
/// both settle on the same parameters.
#[test]
fn websockets_clients_agree_with_our_server_responses() {
    let clients = [
        serde_json::json!({}),
        serde_json::json!({"server_no_context_takeover": true}),
        serde_json::json!({"client_no_context_takeover": true}),
        serde_json::json!({"server_max_window_bits": 10}),
        serde_json::json!({"client_max_window_bits": 9}),
        serde_json::json!({"client_max_window_bits": null}),
        // websockets' client inflates with 8..=15 and compresses with 9..=15 only.
        serde_json::json!({"server_no_context_takeover": true, "client_no_context_takeover": true, "server_max_window_bits": 8, "client_max_window_bits": 9}),
    ];
    let offers =
        run_websockets_negotiation("offer", clients.iter().map(|c| serde_json::json!({"client": c})).collect());
    let mut cases = Vec::new();
    let mut ours = Vec::new();
    for config in our_configs() {
        for (client, offer) in clients.iter().zip(&offers) {
            let offer = offer["offer"].as_str().unwrap();
            let decision = server_accept(&config, &parse_extension_list(offer).unwrap());
            match decision.accepted {
                Some(accepted) => {
                    cases.push(serde_json::json!({"client": client, "response": accepted.response.to_header_text()}));
                    ours.push((offer.to_string(), accepted.negotiated));
                }
                None => {
                    // Only a server that limits the client's window declines, and only an offer
                    // without client_max_window_bits.
                    assert!(
                        config.client_max_window_bits.is_some() && !offer.contains("client_max_window_bits"),
                        "{offer}: {decision:?}"
                    );
                }
            }
        }
    }
    let answers = run_websockets_negotiation("check", cases.clone());
    for (((offer, negotiated), case), answer) in ours.iter().zip(&cases).zip(&answers) {
        let label = format!("websockets client offer {offer:?}, our response {}", case["response"]);
        let settings = answer.get("settings").unwrap_or_else(|| panic!("{label}: websockets rejects it: {answer}"));
        let (client_side, server_side) = websockets_directions(settings);
        assert_eq!(negotiated.send, server_side, "{label}");
        assert_eq!(negotiated.receive.window_bits, client_side.window_bits, "{label}");
        // websockets' client keeps client_no_context_takeover when it offered it, even unechoed;
        // our server echoes the hint, so the two agree exactly.
        assert_eq!(negotiated.receive.no_context_takeover, client_side.no_context_takeover, "{label}");
    }
}
