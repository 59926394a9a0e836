//! The native engine against fastwebsockets and tungstenite, in one run, on the same bytes.
//!
//! `cargo bench --bench peers` (or `make bench`) prints messages per second for each engine and
//! the ratios wsaction/fastwebsockets and wsaction/tungstenite on the workloads of issue 12:
//!
//! - parse: the masked wire bytes of a client (the same bytes for all three, framed once by a
//!   wsaction client: one frame per message), read as a server in 64 KiB chunks; each engine
//!   unmasks, checks UTF-8 of text messages (RFC 6455 8.1) and hands out the payload;
//! - frame: messages framed as a client (masked with a fresh key per frame, RFC 6455 5.3), one
//!   call per message, appended to one output buffer; text payloads are checked for UTF-8 on
//!   every side, since wsaction checks what it is asked to send.
//!
//! The machine is shared, so the sides take turns: every engine runs in each of several short
//! slots, and the best slot counts (the one least disturbed by other work). `BENCH_SECONDS`
//! (default 0.25) is the length of one slot, `BENCH_SLOTS` (default 5) their number.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::hint::black_box;
use std::io::{self, Read, Write};
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

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
    text: bool,
    payload: Vec<u8>,
    /// Messages per round: a round is a few MiB of wire, so per-round setup is noise.
    count: usize,
}

fn cases() -> Vec<Case> {
    vec![
        Case { name: "16 B", text: false, payload: vec![7u8; 16], count: 16384 },
        Case { name: "1 KiB", text: false, payload: vec![7u8; 1024], count: 1024 },
        Case { name: "1 MiB", text: false, payload: vec![7u8; 1 << 20], count: 4 },
        Case { name: "64 KiB UTF-8", text: true, payload: mixed_utf8(64 * 1024), count: 16 },
    ]
}

// ------------------------------------------------------------------ an in-memory socket

/// A socket over memory: reads hand out `input` at most one chunk per call (as a socket read of
/// 64 KiB would), writes append to `output`. Implements both std's and tokio's I/O traits. The
/// bench keeps a `Rewind` to start the input over and to clear the output between rounds
/// (fastwebsockets does not lend its socket back).
struct MemorySocket {
    input: Rc<[u8]>,
    read_at: Rc<Cell<usize>>,
    output: Rc<RefCell<Vec<u8>>>,
}

#[derive(Clone)]
struct Rewind {
    read_at: Rc<Cell<usize>>,
    output: Rc<RefCell<Vec<u8>>>,
}

impl Rewind {
    fn start_over(&self) {
        self.read_at.set(0);
        self.output.borrow_mut().clear();
    }
    fn output_len(&self) -> usize {
        black_box(self.output.borrow().len())
    }
}

fn memory_socket(input: &[u8], output_capacity: usize) -> (MemorySocket, Rewind) {
    let rewind = Rewind { read_at: Rc::default(), output: Rc::new(RefCell::new(Vec::with_capacity(output_capacity))) };
    (MemorySocket { input: input.into(), read_at: rewind.read_at.clone(), output: rewind.output.clone() }, rewind)
}

impl MemorySocket {
    fn left(&self) -> usize {
        self.input.len() - self.read_at.get()
    }

    /// Copies the next chunk (at most `room` bytes) into `into`.
    fn read_chunk(&mut self, room: usize, into: impl FnOnce(&[u8])) -> usize {
        let at = self.read_at.get();
        let n = room.min(CHUNK).min(self.input.len() - at);
        into(&self.input[at..at + n]);
        self.read_at.set(at + n);
        n
    }
}

impl Read for MemorySocket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left() == 0 {
            // Never a clean end of stream: a round reads exactly the messages it holds.
            return Err(io::ErrorKind::WouldBlock.into());
        }
        Ok(self.read_chunk(buf.len(), |chunk| buf[..chunk.len()].copy_from_slice(chunk)))
    }
}

impl Write for MemorySocket {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.output.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl tokio::io::AsyncRead for MemorySocket {
    fn poll_read(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &mut tokio::io::ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        assert!(this.left() > 0, "fastwebsockets read past the round's messages");
        this.read_chunk(buf.remaining(), |chunk| buf.put_slice(chunk));
        Poll::Ready(Ok(()))
    }
}

impl tokio::io::AsyncWrite for MemorySocket {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.output.borrow_mut().extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let mut output = self.output.borrow_mut();
        let mut n = 0;
        for buf in bufs {
            output.extend_from_slice(buf);
            n += buf.len();
        }
        Poll::Ready(Ok(n))
    }
    fn is_write_vectored(&self) -> bool {
        true
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// A waker for futures that never wait.
struct NeverWoken;

impl Wake for NeverWoken {
    fn wake(self: Arc<Self>) {}
}

/// Runs a future over a `MemorySocket` to completion: it never waits, so one poll finishes it.
fn now<F: Future>(future: F) -> F::Output {
    let waker = Waker::from(Arc::new(NeverWoken));
    match pin!(future).poll(&mut Context::from_waker(&waker)) {
        Poll::Ready(output) => output,
        Poll::Pending => unreachable!("an in-memory socket never waits"),
    }
}

// ------------------------------------------------------------------ wsaction

fn open_pair() -> (Handle, Handle) {
    let props = [Property::ReceiveBufferSize(CHUNK as u32), Property::SendBufferSize(1 << 24)];
    let mut client = Handle::client(&props).unwrap();
    let mut server = Handle::server(&props).unwrap();
    let mut request = client.begin_client_handshake(&[], &[], &[]).unwrap();
    request.push(("Host".into(), "bench".into()));
    let response = server.begin_server_handshake(None, &[], &request).unwrap();
    client.end_client_handshake(&response).unwrap();
    (client, server)
}

fn buffer_type(case: &Case) -> BufferType {
    if case.text {
        BufferType::Utf8Message
    } else {
        BufferType::BinaryMessage
    }
}

/// The masked wire bytes of `case.count` messages, one frame each, from a wsaction client.
fn client_wire(case: &Case) -> Vec<u8> {
    let (mut client, _) = open_pair();
    let mut wire = Vec::new();
    for _ in 0..case.count {
        client.send_now(buffer_type(case), Some(Buffer::Data(&case.payload)), &mut wire).unwrap();
    }
    wire
}

/// A wsaction server handle that parses the wire, round after round (each round a whole number
/// of frames), through the websocket.h action loop with a 64 KiB receive buffer.
struct WsactionParser {
    server: Handle,
    /// The ReceiveFromNetwork action held between rounds: (id, capacity).
    held: Option<(u32, usize)>,
}

impl WsactionParser {
    fn new() -> Self {
        let (_, mut server) = open_pair();
        server.receive(None).unwrap();
        WsactionParser { server, held: None }
    }

    /// Feeds `wire` in 64 KiB chunks; returns (messages, payload bytes) indicated.
    fn round(&mut self, wire: &[u8]) -> (usize, usize) {
        let (mut messages, mut bytes) = (0, 0);
        let mut fed = 0;
        let mut chunk_left = 0usize;
        loop {
            loop {
                let action = self.server.get_action(ActionQueue::Receive).unwrap().record();
                let (id, kind) = (action.id, action.kind);
                match kind {
                    ActionKind::ReceiveFromNetwork => {
                        self.held = Some((id, action.receive_capacity));
                        break;
                    }
                    ActionKind::IndicateReceiveComplete => {
                        bytes += black_box(action.bytes).len();
                        if action.buffer_type.is_some_and(|t| !t.is_fragment()) {
                            messages += 1;
                        }
                        self.server.complete_action(id, 0).unwrap();
                        self.server.receive(None).unwrap();
                    }
                    // Between rounds the engine waits for the bytes of the action held.
                    ActionKind::NoAction if self.held.is_some() => break,
                    other => panic!("unexpected {other:?}"),
                }
            }
            if fed == wire.len() {
                return (messages, bytes);
            }
            let (id, capacity) = self.held.take().expect("the engine asks for bytes");
            if chunk_left == 0 {
                chunk_left = CHUNK.min(wire.len() - fed);
            }
            let n = chunk_left.min(capacity);
            self.server.complete_receive(id, &wire[fed..fed + n]).unwrap();
            fed += n;
            chunk_left -= n;
        }
    }
}

// ------------------------------------------------------------------ the three parsers

fn parse_wsaction(wire: &[u8]) -> impl FnMut() -> (usize, usize) + '_ {
    let mut parser = WsactionParser::new();
    move || parser.round(wire)
}

fn parse_fastwebsockets(wire: &[u8], count: usize) -> impl FnMut() -> (usize, usize) {
    use fastwebsockets::{OpCode, Role, WebSocket};
    let (memory, rewind) = memory_socket(wire, 0);
    let mut socket = WebSocket::after_handshake(memory, Role::Server);
    socket.set_max_message_size(64 << 20);
    move || {
        rewind.start_over();
        let mut bytes = 0;
        for _ in 0..count {
            // read_frame unmasks in place and checks UTF-8 of a final text frame.
            let frame = now(socket.read_frame()).unwrap();
            assert!(frame.fin && matches!(frame.opcode, OpCode::Binary | OpCode::Text));
            bytes += black_box(&frame.payload).len();
        }
        (count, bytes)
    }
}

fn parse_tungstenite(wire: &[u8], count: usize) -> impl FnMut() -> (usize, usize) {
    use tungstenite::protocol::{Role, WebSocket, WebSocketConfig};
    let config = WebSocketConfig::default().max_message_size(Some(64 << 20)).max_frame_size(Some(64 << 20));
    let (memory, rewind) = memory_socket(wire, 0);
    let mut socket = WebSocket::from_raw_socket(memory, Role::Server, Some(config));
    move || {
        rewind.start_over();
        let mut bytes = 0;
        for _ in 0..count {
            // read() unmasks, and a text message is checked for UTF-8 before it is handed out.
            let message = socket.read().unwrap();
            assert!(message.is_binary() || message.is_text());
            bytes += black_box(message).len();
        }
        (count, bytes)
    }
}

// ------------------------------------------------------------------ the three framers

fn frame_wsaction(case: &Case) -> impl FnMut() -> (usize, usize) + '_ {
    let (mut client, _) = open_pair();
    let mut wire = Vec::with_capacity((case.payload.len() + 14) * case.count);
    let kind = buffer_type(case);
    move || {
        wire.clear();
        for _ in 0..case.count {
            client.send_now(kind, Some(Buffer::Data(&case.payload)), &mut wire).unwrap();
        }
        black_box(&wire);
        (case.count, wire.len())
    }
}

fn frame_fastwebsockets(case: &Case) -> impl FnMut() -> (usize, usize) + '_ {
    use fastwebsockets::{Frame, OpCode, Payload, Role, WebSocket};
    let (memory, rewind) = memory_socket(&[], (case.payload.len() + 14) * case.count);
    let mut socket = WebSocket::after_handshake(memory, Role::Client);
    // fastwebsockets masks in place: the caller lends a mutable payload (its fastest path; the
    // bytes are left masked, which a caller keeping its message would pay a copy to avoid).
    let mut payload = case.payload.clone();
    let opcode = if case.text { OpCode::Text } else { OpCode::Binary };
    move || {
        rewind.start_over();
        for _ in 0..case.count {
            if case.text {
                // Validate before masking, as wsaction does what it is asked to send.
                assert!(simdutf8::basic::from_utf8(&case.payload).is_ok());
            }
            let frame = Frame::new(true, opcode, None, Payload::BorrowedMut(&mut payload));
            now(socket.write_frame(frame)).unwrap();
        }
        (case.count, rewind.output_len())
    }
}

fn frame_tungstenite(case: &Case) -> impl FnMut() -> (usize, usize) + '_ {
    use tungstenite::protocol::{Role, WebSocket, WebSocketConfig};
    use tungstenite::{Bytes, Message, Utf8Bytes};
    let config = WebSocketConfig::default().max_write_buffer_size(usize::MAX);
    let (memory, rewind) = memory_socket(&[], (case.payload.len() + 14) * case.count);
    let mut socket = WebSocket::from_raw_socket(memory, Role::Client, Some(config));
    let payload = Bytes::from(case.payload.clone());
    move || {
        rewind.start_over();
        for _ in 0..case.count {
            // Bytes clones share the payload; a text message checks UTF-8 when it is made.
            let message = if case.text {
                Message::Text(Utf8Bytes::try_from(payload.clone()).unwrap())
            } else {
                Message::Binary(payload.clone())
            };
            // write() frames into tungstenite's write buffer, which goes to the socket when full.
            socket.write(message).unwrap();
        }
        socket.flush().unwrap();
        (case.count, rewind.output_len())
    }
}

// ------------------------------------------------------------------ measuring

fn env_number(name: &str, default: f64) -> f64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// One engine's turn: its name, and a round that returns (messages, bytes) handled.
type Side<'a> = (&'static str, Box<dyn FnMut() -> (usize, usize) + 'a>);

/// The best messages/s of each side over `slots` turns of `slot` each, sides interleaved.
/// True under `cargo bench` (which passes `--bench`); `cargo test --all-targets` runs this binary
/// without it, as a smoke test: the check round only, so `make test` pays well under a second.
fn measuring() -> bool {
    std::env::args().any(|arg| arg == "--bench")
}

fn race(sides: &mut [Side<'_>]) -> Vec<f64> {
    let slot = Duration::from_secs_f64(env_number("BENCH_SECONDS", 0.25));
    let slots = if measuring() { env_number("BENCH_SLOTS", 5.0) as usize } else { 0 };
    let mut best = vec![0f64; sides.len()];
    // One check round each: every side must handle the same messages and payload bytes.
    let checks: Vec<_> = sides.iter_mut().map(|(_, run)| run()).collect();
    for (i, check) in checks.iter().enumerate() {
        assert_eq!(*check, checks[0], "{} handled other messages or bytes than {}", sides[i].0, sides[0].0);
    }
    for _ in 0..slots {
        for (i, (_, run)) in sides.iter_mut().enumerate() {
            let start = Instant::now();
            let mut messages = 0;
            while start.elapsed() < slot {
                messages += run().0;
            }
            best[i] = best[i].max(messages as f64 / start.elapsed().as_secs_f64());
        }
    }
    best
}

fn print_row(kind: &str, case: &Case, rates: &[f64]) {
    if !measuring() {
        println!("{kind:<6} {:<13} checked: the same messages and bytes on all three", case.name);
        return;
    }
    let rate = |r: f64| {
        if r >= 1e6 {
            format!("{:.2} M", r / 1e6)
        } else {
            format!("{:.1} k", r / 1e3)
        }
    };
    let mbs = rates[0] * case.payload.len() as f64 / 1e6;
    println!(
        "{:<6} {:<13} {:>10} {:>10} {:>10} {:>9.0} {:>8.2} {:>8.2}",
        kind,
        case.name,
        rate(rates[0]),
        rate(rates[1]),
        rate(rates[2]),
        mbs,
        rates[0] / rates[1],
        rates[0] / rates[2]
    );
}

fn main() {
    println!(
        "wsaction {} vs fastwebsockets 0.10 and tungstenite 0.30, messages per second (best of {} slots of {} s)",
        env!("CARGO_PKG_VERSION"),
        env_number("BENCH_SLOTS", 5.0),
        env_number("BENCH_SECONDS", 0.25)
    );
    println!("parse: the same masked client wire (one frame per message), read as a server in 64 KiB chunks;");
    println!("       all three unmask and check UTF-8 of text; wsaction through get_action/complete_receive with");
    println!("       a 64 KiB receive buffer (a 1 MiB message comes as 16 pieces), fastwebsockets read_frame,");
    println!("       tungstenite read (whole messages in their own buffers)");
    println!("frame: one call per message into one output buffer, masked with a fresh key each;");
    println!("       text checked for UTF-8 on all three; wsaction send_now (copies while masking, OS randomness),");
    println!("       fastwebsockets write_frame (masks the lent payload in place, then copies; rand's ChaCha),");
    println!("       tungstenite write + one flush per round (copies, masks; rand's ChaCha)");
    println!(
        "{:<6} {:<13} {:>10} {:>10} {:>10} {:>9} {:>8} {:>8}",
        "", "workload", "wsaction", "fastws", "tungsten.", "wsa MB/s", "wsa/fws", "wsa/tung"
    );
    // BENCH_FILTER=frame or "parse 1 MiB" runs only the matching rows (for a profiler).
    let filter = std::env::var("BENCH_FILTER").unwrap_or_default();
    let wanted = |kind: &str, case: &Case| format!("{kind} {}", case.name).contains(&filter);
    for case in cases().into_iter().filter(|case| wanted("parse", case)) {
        let wire = client_wire(&case);
        let mut sides: Vec<Side> = vec![
            ("wsaction", Box::new(parse_wsaction(&wire))),
            ("fastwebsockets", Box::new(parse_fastwebsockets(&wire, case.count))),
            ("tungstenite", Box::new(parse_tungstenite(&wire, case.count))),
        ];
        print_row("parse", &case, &race(&mut sides));
    }
    for case in cases().into_iter().filter(|case| wanted("frame", case)) {
        let mut sides: Vec<Side> = vec![
            ("wsaction", Box::new(frame_wsaction(&case))),
            ("fastwebsockets", Box::new(frame_fastwebsockets(&case))),
            ("tungstenite", Box::new(frame_tungstenite(&case))),
        ];
        print_row("frame", &case, &race(&mut sides));
    }
    if !measuring() {
        println!("(a smoke run: every engine handled the same messages; `cargo bench --bench peers` measures)");
        return;
    }
    // Mask keys come from OsRandom's pool: count how often a million client frames asked the OS.
    let (mut client, _) = open_pair();
    let mut wire = Vec::with_capacity(22 * 1024);
    let before = OsRandom::draws_on_this_thread();
    for i in 0..1_000_000 {
        if i % 1024 == 0 {
            wire.clear();
        }
        client.send_now(BufferType::BinaryMessage, Some(Buffer::Data(&[7u8; 16])), &mut wire).unwrap();
    }
    println!(
        "mask keys: 1,000,000 wsaction client frames drew from the OS {} times ({} bytes a draw)",
        OsRandom::draws_on_this_thread() - before,
        wsaction::random::OS_POOL_BYTES
    );
}
