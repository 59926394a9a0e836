//! Real sockets, blocking: the scripted `client` (text, binary, 1 MiB, ping, close, every echo
//! checked), with the component doing all protocol work. The echo server and the echo client are
//! on an event loop in serve.rs.

use crate::drive::{drain, finished, send, Assembler, Endpoint, Event};
use crate::guest::{
    header, Buffer, BufferType, CloseBuffer, Guest, Header, HttpLimits, PropertyValue, Runtime, State, Trap,
};
use anyhow::{anyhow, bail, Context, Result};
use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const NO_LIMITS: HttpLimits = HttpLimits { max_header_bytes: None, max_headers: None };

/// Milliseconds since `start`: the clock the handles tick with.
fn now_ms(start: Instant) -> u64 {
    start.elapsed().as_millis() as u64
}

/// Reads one read's worth into `buf` (with the socket's timeout); Ok(None) on timeout, Ok(Some(0)) on EOF.
fn read_some(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<Option<usize>> {
    let mut chunk = [0u8; 16384];
    match stream.read(&mut chunk) {
        Ok(n) => {
            buf.extend_from_slice(&chunk[..n]);
            Ok(Some(n))
        }
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted) => Ok(None),
        Err(e) if matches!(e.kind(), ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted) => Ok(Some(0)),
        Err(e) => Err(e.into()),
    }
}

/// Reads an HTTP head with the component's parser; returns it with the bytes read after it.
fn read_head<T>(
    stream: &mut TcpStream,
    deadline: Instant,
    mut parse: impl FnMut(&[u8]) -> Result<Option<(T, usize)>>,
) -> Result<(T, Vec<u8>)> {
    let mut buf = Vec::new();
    loop {
        if let Some((head, consumed)) = parse(&buf)? {
            return Ok((head, buf[consumed..].to_vec()));
        }
        if Instant::now() > deadline {
            bail!("no complete HTTP head within the time allowed");
        }
        if read_some(stream, &mut buf)? == Some(0) {
            bail!("the peer closed the connection before the HTTP head ended");
        }
    }
}

/// `ws://host:port/path` split into (host, port, path).
pub fn parse_ws_url(url: &str) -> Result<(String, u16, String)> {
    let rest = url.strip_prefix("ws://").ok_or_else(|| anyhow!("{url}: only ws:// URLs are supported"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], rest[i..].to_string()),
        None => (rest, "/".to_string()),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (host.to_string(), port.parse().with_context(|| format!("port in {url}"))?),
        None => (authority.to_string(), 80),
    };
    Ok((host, port, path))
}

/// The scripted client's checks, with what happened.
pub struct ClientReport {
    pub lines: Vec<String>,
}

/// A client connection whose application is a script of (send, expected echo) steps.
pub struct ClientConn {
    pub g: Guest,
    pub ep: Endpoint,
    stream: TcpStream,
    start: Instant,
    assembler: Assembler,
    /// Events the last crossings returned that the script has not looked at yet.
    pending: VecDeque<Event>,
}

impl ClientConn {
    /// Connects, runs the client handshake through the component, and queues a receive.
    pub fn connect(runtime: &Runtime, url: &str) -> Result<ClientConn> {
        let (host, port, path) = parse_ws_url(url)?;
        let start = Instant::now();
        let mut stream = TcpStream::connect((host.as_str(), port)).with_context(|| format!("connecting to {url}"))?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_millis(200)))?;
        let mut g = runtime.instantiate()?;
        let props = vec![PropertyValue::CloseTimeout(5000)];
        let h = g.create_client(props, None)?.map_err(|e| anyhow!("create-client: {e:?}"))?;
        g.tick(h, now_ms(start))?;
        let mut headers: Vec<Header> = vec![header("Host", &format!("{host}:{port}"))];
        headers.extend(g.begin_client_handshake(h, &[], &[], &[])?.map_err(|e| anyhow!("{e:?}"))?);
        let request = g.serialize_request_head("GET", &path, &headers)?.map_err(|e| anyhow!("{e:?}"))?;
        stream.write_all(&request)?;
        let (response, leftover) = read_head(&mut stream, start + Duration::from_secs(10), |buf| {
            match g.parse_response_head(buf, NO_LIMITS)? {
                Ok(Some(parsed)) => Ok(Some((parsed.head, parsed.consumed as usize))),
                Ok(None) => Ok(None),
                Err(e) => Err(anyhow!("{e:?}")),
            }
        })?;
        if response.status != 101 {
            bail!("the server answered {} {}, not 101", response.status, response.reason);
        }
        g.end_client_handshake(h, &response.headers)?.map_err(|e| anyhow!("end-client-handshake: {e:?}"))?;
        let mut ep = Endpoint::new(h);
        ep.inbox = leftover;
        g.receive(h, None)?.map_err(|e| anyhow!("receive: {e:?}"))?;
        Ok(ClientConn { g, ep, stream, start, assembler: Assembler::default(), pending: VecDeque::new() })
    }

    /// Drains, writes, and reads until `want` picks an event (returned), or the time runs out.
    /// Events a send-and-drain produced are looked at first.
    fn run_until(&mut self, mut want: impl FnMut(&mut Guest, &Event) -> bool) -> Result<Event> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            while let Some(event) = self.pending.pop_front() {
                if want(&mut self.g, &event) {
                    return Ok(event);
                }
            }
            let mut out = Vec::new();
            let before = self.ep.inbox.len();
            self.pending.extend(drain(&mut self.g, &mut self.ep, &mut out)?);
            if !out.is_empty() {
                self.stream.write_all(&out)?;
            }
            if !self.pending.is_empty() || self.ep.inbox.len() != before || self.ep.close_waits {
                continue;
            }
            self.g.tick(self.ep.handle, now_ms(self.start))?;
            if Instant::now() > deadline {
                bail!("timed out waiting (state {:?})", self.g.state(self.ep.handle)?);
            }
            if finished(self.g.state(self.ep.handle)?) && self.ep.held.is_none() {
                bail!("the connection finished first (failure: {:?})", self.g.failure(self.ep.handle)?);
            }
            if self.ep.held.is_some() && read_some(&mut self.stream, &mut self.ep.inbox)? == Some(0) {
                self.ep.ended = true;
            }
        }
    }

    /// Sends one message (or ping/close) in one send-and-drain crossing, and writes its frame.
    pub fn send(&mut self, kind: BufferType, buffer: Option<Buffer>) -> Result<()> {
        let mut out = Vec::new();
        let events = send(&mut self.g, &mut self.ep, kind, buffer.as_ref(), &mut out)?
            .map_err(|e| anyhow!("send {kind:?}: {e:?}"))?;
        self.stream.write_all(&out)?;
        let completed = events.iter().any(|e| matches!(e, Event::SendComplete { .. }));
        self.pending.extend(events);
        if !completed {
            self.run_until(|_, e| matches!(e, Event::SendComplete { .. }))?;
        }
        Ok(())
    }

    /// Waits for the next whole message: (is_text, bytes).
    pub fn next_message(&mut self) -> Result<(bool, Vec<u8>)> {
        let mut assembler = std::mem::take(&mut self.assembler);
        let mut message = None;
        let result = self.run_until(|_, e| match e {
            Event::Received { buffer_type, bytes, .. } => match assembler.push(*buffer_type, bytes) {
                Some(m) => {
                    message = Some(m);
                    true
                }
                None => false,
            },
            _ => false,
        });
        self.assembler = assembler;
        result?;
        Ok(message.expect("set with the event"))
    }

    /// Waits for an event of `kind` (pong or close) and returns (bytes, close status).
    pub fn next_of(&mut self, kind: BufferType) -> Result<(Vec<u8>, Option<u16>)> {
        match self.run_until(|_, e| matches!(e, Event::Received { buffer_type, .. } if *buffer_type == kind))? {
            Event::Received { bytes, close_status, .. } => Ok((bytes, close_status)),
            other => bail!("unexpected {other:?}"),
        }
    }

    /// Drains until the handle is closed, then reports its state.
    pub fn finish(&mut self) -> Result<State> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let mut out = Vec::new();
            drain(&mut self.g, &mut self.ep, &mut out)?;
            if !out.is_empty() {
                self.stream.write_all(&out)?;
            }
            let state = self.g.state(self.ep.handle)?;
            if finished(state) && !self.ep.close_waits {
                return Ok(state);
            }
            if Instant::now() > deadline {
                bail!("not closed after 10 s (state {state:?})");
            }
            self.g.tick(self.ep.handle, now_ms(self.start))?;
            if self.ep.held.is_some() && read_some(&mut self.stream, &mut self.ep.inbox)? == Some(0) {
                self.ep.ended = true;
            }
        }
    }
}

/// A deterministic 1 MiB payload.
pub fn big_payload() -> Vec<u8> {
    (0..1024 * 1024u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect()
}

/// `client URL`: text, binary, 1 MiB, ping, close against an echo server; every echo checked.
pub fn run_client(runtime: &Runtime, url: &str) -> Result<ClientReport> {
    let mut report = ClientReport { lines: Vec::new() };
    let mut conn = ClientConn::connect(runtime, url)?;
    report.lines.push(format!("connected to {url}"));

    let text = "hello from the wsaction component under wasmtime \u{1F980}".as_bytes().to_vec();
    conn.send(BufferType::Utf8Message, Some(Buffer::Data(text.clone())))?;
    let echo = conn.next_message()?;
    check(echo == (true, text.clone()), "text echo")?;
    report.lines.push(format!("text: {} bytes echoed", text.len()));

    let binary: Vec<u8> = (0..=255u8).collect();
    conn.send(BufferType::BinaryMessage, Some(Buffer::Data(binary.clone())))?;
    check(conn.next_message()? == (false, binary.clone()), "binary echo")?;
    report.lines.push("binary: 256 bytes echoed".to_string());

    let big = big_payload();
    conn.send(BufferType::BinaryMessage, Some(Buffer::Data(big.clone())))?;
    let echo = conn.next_message()?;
    check(echo == (false, big.clone()), "1 MiB echo")?;
    report.lines.push(format!("binary: {} bytes (1 MiB) echoed", big.len()));

    conn.send(BufferType::PingPong, Some(Buffer::Data(b"are you there".to_vec())))?;
    let (pong, _) = conn.next_of(BufferType::PingPong)?;
    check(pong == b"are you there", "pong payload")?;
    report.lines.push("ping: pong came back with the payload".to_string());

    conn.send(BufferType::Close, Some(Buffer::CloseStatus(CloseBuffer { status: 1000, reason: b"done".to_vec() })))?;
    let (_, status) = conn.next_of(BufferType::Close)?;
    check(status == Some(1000), &format!("close status 1000 (got {status:?})"))?;
    let state = conn.finish()?;
    check(state == State::Closed, &format!("closed state (got {state:?})"))?;
    report.lines.push("close: 1000 both ways, handle closed".to_string());
    let h = conn.ep.handle;
    conn.g.drop_handle(h)?;
    Ok(report)
}

fn check(ok: bool, what: &str) -> Result<(), Trap> {
    if ok {
        Ok(())
    } else {
        Err(anyhow!("check failed: {what}"))
    }
}
