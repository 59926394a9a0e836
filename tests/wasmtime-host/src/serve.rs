//! The component on real sockets, on one event loop: `echo-server` and `echo-client`.
//!
//! One tokio current-thread runtime runs every connection as a task. Connections share component
//! instances, up to `per_instance` handles in each (a handle is the engine's per-connection
//! resource): an upgraded handle costs about 10 KiB of a shared instance's memory against about
//! 56 KiB for an instance of its own. A new instance starts when the others are full, an instance
//! is dropped (its wasm memory freed) when its last connection ends, and an instance that trapped
//! takes no new connections. The component does all protocol work:
//! HTTP heads, the handshake and its rejections, framing, masking, UTF-8, ping/pong, close and
//! its timers. This file moves bytes, keeps the clock, sleeps until the engine's next deadline,
//! stops reading a peer whose echoes pile up, and echoes.

use crate::drive::{drain, finished, send, Assembler, Endpoint, Event};
use crate::guest::{
    header, Buffer, BufferType, CloseBuffer, Error, Guest, HttpLimits, Properties, PropertyValue, Runtime, State, Trap,
};
use crate::net::parse_ws_url;
use anyhow::{anyhow, bail, Context, Result};
use std::cell::{Cell, RefCell, RefMut};
use std::collections::VecDeque;
use std::future::Future;
use std::io::{ErrorKind, Write};
use std::rc::Rc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use wasmtime::component::ResourceAny;

/// The engine's own head limits (its defaults answer an oversized head with 431).
const DEFAULT_LIMITS: HttpLimits = HttpLimits { max_header_bytes: None, max_headers: None };
/// How long a peer may take to send its whole HTTP head (a slowloris holds no more than this):
/// Node's http.Server headersTimeout. 10 s proved too short for the hostile kit's paced heads on
/// a loaded machine.
const HEAD_TIMEOUT: Duration = Duration::from_secs(60);
/// The engine's close timeout: how long a closing handshake may wait for the peer's close.
const CLOSE_TIMEOUT_MS: u32 = 5000;
/// Pending writes past which a connection stops reading its peer: a peer that does not read its
/// echoes stops being read (TCP's window then stops it) instead of growing this process.
const WRITE_HIGH_WATER: usize = 1 << 20;
/// How much one read takes from a socket.
const READ_CHUNK: usize = 64 * 1024;
/// A connection's buffers go back to the allocator once empty if they grew past this (after a
/// large message, an idle connection holds no more than its small buffers).
const KEEP_CAPACITY: usize = 16 * 1024;

thread_local! {
    /// The event loop's one read buffer: a read copies what it got into the connection's inbox,
    /// so an idle connection holds no read buffer of its own.
    static SCRATCH: RefCell<Vec<u8>> = RefCell::new(vec![0u8; READ_CHUNK]);
}

/// Waits until `socket` is readable, then reads once into `into`: Ok(0) at EOF.
async fn read_into(socket: &impl Readable, into: &mut Vec<u8>) -> std::io::Result<usize> {
    loop {
        socket.wait_readable().await?;
        let read = SCRATCH.with_borrow_mut(|scratch| -> std::io::Result<usize> {
            let n = socket.try_read_now(scratch)?;
            into.extend_from_slice(&scratch[..n]);
            Ok(n)
        });
        match read {
            Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
            other => return other,
        }
    }
}

/// The two socket types read_into reads from.
trait Readable {
    async fn wait_readable(&self) -> std::io::Result<()>;
    fn try_read_now(&self, buf: &mut [u8]) -> std::io::Result<usize>;
}

impl Readable for TcpStream {
    async fn wait_readable(&self) -> std::io::Result<()> {
        self.readable().await
    }
    fn try_read_now(&self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.try_read(buf)
    }
}

impl Readable for tokio::net::tcp::OwnedReadHalf {
    async fn wait_readable(&self) -> std::io::Result<()> {
        self.readable().await
    }
    fn try_read_now(&self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.try_read(buf)
    }
}

/// Gives a grown, empty buffer's memory back.
fn release_if_empty(buffer: &mut Vec<u8>) {
    if buffer.is_empty() && buffer.capacity() > KEEP_CAPACITY {
        *buffer = Vec::new();
    }
}
/// After a refused handshake, how long the answer may take to leave and the peer to hang up
/// before the socket is dropped (dropping it with unread bytes would reset the answer away).
const REFUSAL_LINGER: Duration = Duration::from_secs(2);
/// After the engine is done, how long its last bytes (the close frame) may take to leave.
const FINAL_FLUSH: Duration = Duration::from_secs(5);

/// Milliseconds since `clock`: the time the handles tick with.
fn now_ms(clock: Instant) -> u64 {
    clock.elapsed().as_millis() as u64
}

/// Runs `future` on a current-thread runtime whose tasks may hold a store (not `Send`).
fn run_event_loop<F: Future<Output = Result<()>>>(future: F) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().context("the event loop")?;
    tokio::task::LocalSet::new().block_on(&runtime, future)
}

/// One component instance and the connections using it.
struct Instance {
    guest: RefCell<Guest>,
    connections: Cell<usize>,
    /// A call into it trapped or failed: it takes no new connections.
    poisoned: Cell<bool>,
}

/// The instances of the event loop's connections.
pub struct Pool {
    runtime: Runtime,
    per_instance: usize,
    instances: RefCell<Vec<Rc<Instance>>>,
}

impl Pool {
    pub fn new(runtime: Runtime, per_instance: usize) -> Rc<Pool> {
        Rc::new(Pool { runtime, per_instance: per_instance.max(1), instances: RefCell::new(Vec::new()) })
    }

    /// A place for one more connection: in an instance with room, or in a new one.
    fn lease(&self) -> Result<Lease> {
        let mut instances = self.instances.borrow_mut();
        // Instances no connection uses any more go, and their memory with them.
        instances.retain(|i| i.connections.get() > 0 && !i.poisoned.get());
        let instance = match instances.iter().find(|i| i.connections.get() < self.per_instance) {
            Some(instance) => instance.clone(),
            None => {
                let guest = self.runtime.instantiate().context("a new component instance")?;
                let instance = Rc::new(Instance {
                    guest: RefCell::new(guest),
                    connections: Cell::new(0),
                    poisoned: Cell::new(false),
                });
                instances.push(instance.clone());
                instance
            }
        };
        instance.connections.set(instance.connections.get() + 1);
        Ok(Lease { instance })
    }

    /// Instances with a connection.
    fn live_instances(&self) -> usize {
        self.instances.borrow().iter().filter(|i| i.connections.get() > 0).count()
    }
}

/// One connection's share of an instance. The guest is borrowed for each run of calls between
/// two awaits and never across one (the tasks of the loop take turns on it).
struct Lease {
    instance: Rc<Instance>,
}

impl Lease {
    fn guest(&self) -> RefMut<'_, Guest> {
        self.instance.guest.borrow_mut()
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.instance.connections.set(self.instance.connections.get() - 1);
    }
}

/// Runs one connection's handle from creation to drop, whatever happens in between: a handle
/// left behind would hold its memory in a shared instance. An instance that cannot create or
/// drop a handle (a trap, or memory it cannot get) is poisoned: it takes no new connection, and
/// after a trap its other connections fail on their next call.
async fn with_handle<F, Fut>(
    lease: &Lease,
    create: impl FnOnce(&mut Guest) -> Result<ResourceAny>,
    run: F,
) -> Result<String>
where
    F: FnOnce(ResourceAny) -> Fut,
    Fut: Future<Output = Result<String>>,
{
    let h = match create(&mut lease.guest()) {
        Ok(h) => h,
        Err(e) => {
            lease.instance.poisoned.set(true);
            return Err(e);
        }
    };
    let result = run(h).await;
    if let Err(e) = lease.guest().drop_handle(h) {
        lease.instance.poisoned.set(true);
        return Err(e.context(format!("the instance is poisoned (after: {:?})", result.as_ref().err())));
    }
    result
}

/// `echo-server --port N [--keep-alive MS] [--deflate]`: every connection is a task on one event loop, with
/// its own instance; with a keep-alive interval, the engine pings a silent peer after MS and
/// fails the connection when the peer stays silent (0: off). `deflate`: the permessage-deflate
/// properties (`--deflate`), with which the engine accepts a client's offer; empty for none.
pub fn serve(runtime: Runtime, port: u16, keep_alive_ms: u32, per_instance: usize, deflate: Properties) -> Result<()> {
    let pool = Pool::new(runtime, per_instance);
    let deflate = Rc::new(deflate);
    run_event_loop(async move {
        let listener =
            TcpListener::bind(("127.0.0.1", port)).await.with_context(|| format!("binding 127.0.0.1:{port}"))?;
        let port = listener.local_addr()?.port();
        println!("listening on ws://127.0.0.1:{port}/");
        std::io::stdout().flush()?;
        loop {
            match listener.accept().await {
                Ok((stream, peer)) => {
                    let (pool, deflate) = (pool.clone(), deflate.clone());
                    tokio::task::spawn_local(async move {
                        let outcome = match pool.lease() {
                            Ok(lease) => serve_connection(&lease, stream, keep_alive_ms, &deflate).await,
                            Err(e) => Err(e),
                        };
                        let instances = pool.live_instances();
                        match outcome {
                            Ok(summary) => eprintln!("{peer}: {summary} ({instances} instance(s) live)"),
                            Err(e) => eprintln!("{peer}: connection failed: {e:#}"),
                        }
                    });
                }
                // Out of descriptors or a connection reset before accept: log, breathe, go on.
                Err(e) => {
                    eprintln!("accept failed (still listening): {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    })
}

/// `echo-client URL`: connects, echoes every message until the connection is over; Ok when it
/// ended in a closing handshake, an error (exit 1) when the handshake or the connection failed.
/// `deflate`: the permessage-deflate properties (`--deflate`), with which the engine offers it.
pub fn echo_client(runtime: Runtime, url: &str, deflate: Properties) -> Result<String> {
    let pool = Pool::new(runtime, 1);
    let mut summary = String::new();
    run_event_loop(async {
        summary = client_connection(&pool.lease()?, url, &deflate).await?;
        Ok(())
    })?;
    Ok(summary)
}

/// How reading an HTTP head ended.
enum HeadRead<T> {
    /// The head, and the bytes read after it.
    Head(T, Vec<u8>),
    /// The component's parser refused the bytes.
    Refused(Error),
    /// The peer hung up or reset first.
    PeerGone,
    /// The head did not arrive within HEAD_TIMEOUT.
    TimedOut,
}

/// Reads an HTTP head with the component's parser.
async fn read_head<T>(
    stream: &mut TcpStream,
    mut parse: impl FnMut(&[u8]) -> Result<Result<Option<(T, usize)>, Error>, Trap>,
) -> Result<HeadRead<T>> {
    let deadline = tokio::time::Instant::now() + HEAD_TIMEOUT;
    let mut buf = Vec::new();
    loop {
        match parse(&buf)? {
            Ok(Some((head, consumed))) => return Ok(HeadRead::Head(head, buf.split_off(consumed))),
            Ok(None) => {}
            Err(refused) => return Ok(HeadRead::Refused(refused)),
        }
        match tokio::time::timeout_at(deadline, read_into(stream, &mut buf)).await {
            Err(_) => return Ok(HeadRead::TimedOut),
            Ok(Ok(0)) => return Ok(HeadRead::PeerGone),
            Ok(Ok(_)) => {}
            Ok(Err(e)) if peer_gone(&e) => return Ok(HeadRead::PeerGone),
            Ok(Err(e)) => return Err(e.into()),
        }
    }
}

/// An I/O error that means the peer went away (not a fault of this host).
fn peer_gone(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted | ErrorKind::BrokenPipe | ErrorKind::UnexpectedEof
    )
}

/// One server connection: the request head, the upgrade or its refusal, then the echo loop.
async fn serve_connection(
    lease: &Lease,
    mut stream: TcpStream,
    keep_alive_ms: u32,
    deflate: &[PropertyValue],
) -> Result<String> {
    let clock = Instant::now();
    stream.set_nodelay(true)?;
    let mut props =
        vec![PropertyValue::CloseTimeout(CLOSE_TIMEOUT_MS), PropertyValue::KeepAliveInterval(keep_alive_ms)];
    props.extend_from_slice(deflate);
    let create = |g: &mut Guest| -> Result<ResourceAny> {
        let h = g.create_server(props, None)?.map_err(|e| anyhow!("create-server: {e:?}"))?;
        g.tick(h, now_ms(clock))?;
        Ok(h)
    };
    with_handle(lease, create, |h| async move {
        let read = read_head(&mut stream, |buf| {
            let parsed = lease.guest().parse_request_head(buf, DEFAULT_LIMITS)?;
            Ok(parsed.map(|parsed| parsed.map(|p| (p.head, p.consumed as usize))))
        })
        .await?;
        let (request, leftover) = match read {
            HeadRead::Head(request, leftover) => (request, leftover),
            HeadRead::Refused(e) => return refuse(lease, stream, e).await,
            HeadRead::PeerGone => return Ok("the peer left before its HTTP head ended".to_string()),
            HeadRead::TimedOut => return Ok(format!("no complete HTTP head within {HEAD_TIMEOUT:?}: dropped")),
        };
        let accepted = {
            let g = &mut *lease.guest();
            match g.check_request_line(&request.method, request.minor_version)? {
                Err(e) => Err(e),
                Ok(()) => g.begin_server_handshake(h, None, &[], &request.headers)?,
            }
        };
        let response_headers = match accepted {
            Ok(headers) => headers,
            Err(e) => return refuse(lease, stream, e).await,
        };
        let head = {
            let g = &mut *lease.guest();
            g.receive(h, None)?.map_err(|e| anyhow!("receive: {e:?}"))?;
            g.serialize_response_head(101, "Switching Protocols", &response_headers)?
                .map_err(|e| anyhow!("serialize-response-head: {e:?}"))?
        };
        stream.write_all(&head).await?;
        let mut ep = Endpoint::new(h);
        ep.inbox = leftover;
        echo_loop(lease, &mut ep, stream, clock).await
    })
    .await
}

/// Answers a refused upgrade with the status and headers the component chose (400 for a
/// malformed head, 426 with Sec-WebSocket-Version for a wrong version, 431 for an oversized
/// head, RFC 6455 §4.2.2 and RFC 6585 §5), then closes without resetting the answer away.
async fn refuse(lease: &Lease, mut stream: TcpStream, refused: Error) -> Result<String> {
    let (status, headers) = match &refused {
        Error::HandshakeFailed(r) => (r.http_status.unwrap_or(400), r.headers.clone()),
        Error::MalformedHttp(m) => (m.http_status, Vec::new()),
        _ => (400, Vec::new()),
    };
    let mut headers = headers;
    // No body, and no keeping the connection for another request.
    headers.push(header("Content-Length", "0"));
    headers.push(header("Connection", "close"));
    let head = {
        let g = &mut *lease.guest();
        let reason = g.reason_phrase(status)?;
        g.serialize_response_head(status, &reason, &headers)?.map_err(|e| anyhow!("{e:?}"))?
    };
    let summary = format!("refused the handshake with {status}: {}", refused.case());
    if let Err(e) = stream.write_all(&head).await {
        return if peer_gone(&e) { Ok(format!("{summary} (the peer left first)")) } else { Err(e.into()) };
    }
    // Half-close, then take what the peer still sends until it hangs up: closing with unread
    // bytes would send a reset that can destroy the answer before the peer reads it.
    let _ = stream.shutdown().await;
    let mut sink = vec![0u8; READ_CHUNK];
    let _ =
        tokio::time::timeout(REFUSAL_LINGER, async { while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {} })
            .await;
    Ok(summary)
}

/// One client connection: the client handshake through the component, then the echo loop.
async fn client_connection(lease: &Lease, url: &str, deflate: &[PropertyValue]) -> Result<String> {
    let (host, port, path) = parse_ws_url(url)?;
    let clock = Instant::now();
    let mut stream = TcpStream::connect((host.as_str(), port)).await.with_context(|| format!("connecting to {url}"))?;
    stream.set_nodelay(true)?;
    let mut props = vec![PropertyValue::CloseTimeout(CLOSE_TIMEOUT_MS)];
    props.extend_from_slice(deflate);
    let create = |g: &mut Guest| -> Result<ResourceAny> {
        let h = g.create_client(props, None)?.map_err(|e| anyhow!("create-client: {e:?}"))?;
        g.tick(h, now_ms(clock))?;
        Ok(h)
    };
    with_handle(lease, create, |h| async move {
        let request = {
            let g = &mut *lease.guest();
            let mut headers = vec![header("Host", &format!("{host}:{port}"))];
            headers.extend(
                g.begin_client_handshake(h, &[], &[], &[])?.map_err(|e| anyhow!("begin-client-handshake: {e:?}"))?,
            );
            g.serialize_request_head("GET", &path, &headers)?.map_err(|e| anyhow!("{e:?}"))?
        };
        stream.write_all(&request).await?;
        let read = read_head(&mut stream, |buf| {
            let parsed = lease.guest().parse_response_head(buf, DEFAULT_LIMITS)?;
            Ok(parsed.map(|parsed| parsed.map(|p| (p.head, p.consumed as usize))))
        })
        .await?;
        let (response, leftover) = match read {
            HeadRead::Head(response, leftover) => (response, leftover),
            HeadRead::Refused(e) => bail!("the server's response head is malformed: {e:?}"),
            HeadRead::PeerGone => bail!("the server hung up before its response head ended"),
            HeadRead::TimedOut => bail!("no complete response head within {HEAD_TIMEOUT:?}"),
        };
        // RFC 6455 §4.1: anything but 101 fails the handshake.
        if response.status != 101 {
            bail!("the server answered {} {}, not 101 Switching Protocols", response.status, response.reason);
        }
        {
            let g = &mut *lease.guest();
            g.end_client_handshake(h, &response.headers)?.map_err(|e| anyhow!("the server's 101 is refused: {e:?}"))?;
            g.receive(h, None)?.map_err(|e| anyhow!("receive: {e:?}"))?;
        }
        let mut ep = Endpoint::new(h);
        ep.inbox = leftover;
        let summary = echo_loop(lease, &mut ep, stream, clock).await?;
        let g = &mut *lease.guest();
        match (g.state(h)?, g.failure(h)?) {
            (State::Closed, None) => Ok(summary),
            (state, failure) => bail!("{summary}; the connection failed (state {state:?}, failure {failure:?})"),
        }
    })
    .await
}

/// What the echo application counted.
#[derive(Default)]
struct Echoed {
    messages: u64,
    bytes: u64,
    close_status: Option<u16>,
}

/// The application: what to send back for one event (a message echoed with its kind, a close
/// answered with its status and reason), if anything.
fn reply_to(
    g: &mut Guest,
    ep: &Endpoint,
    event: Event,
    assembler: &mut Assembler,
    echoed: &mut Echoed,
) -> Result<Option<(BufferType, Option<Buffer>)>> {
    Ok(match event {
        Event::Received { buffer_type: BufferType::Close, close_status, bytes, .. } => {
            echoed.close_status = close_status;
            // Only a close the peer started needs an answer (ours was already sent).
            if g.state(ep.handle)? != State::CloseReceived {
                return Ok(None);
            }
            let buffer = match close_status {
                // 1005 means "no status": answer with an empty close (RFC 6455 §7.4.1).
                Some(1005) | None => None,
                Some(status) => Some(Buffer::CloseStatus(CloseBuffer { status, reason: bytes })),
            };
            Some((BufferType::Close, buffer))
        }
        Event::Received { buffer_type, bytes, .. } => assembler.push(buffer_type, &bytes).map(|(text, message)| {
            echoed.messages += 1;
            echoed.bytes += message.len() as u64;
            let kind = if text { BufferType::Utf8Message } else { BufferType::BinaryMessage };
            (kind, Some(Buffer::Data(message)))
        }),
        Event::SendComplete { .. } => None,
        Event::Failed(e) => {
            eprintln!("peer error: {e:?}");
            None
        }
    })
}

/// Crossings until the engine has nothing more to say: drain, echo what the application
/// answers (send-and-drain), and drain again while anything moved. Returns the handle's state.
fn engine_turn(
    g: &mut Guest,
    ep: &mut Endpoint,
    out: &mut Vec<u8>,
    assembler: &mut Assembler,
    echoed: &mut Echoed,
) -> Result<State> {
    loop {
        let (inbox_before, out_before) = (ep.inbox.len(), out.len());
        let mut events: VecDeque<Event> = drain(g, ep, out)?.into();
        let mut progressed = !events.is_empty() || ep.inbox.len() != inbox_before || out.len() != out_before;
        while let Some(event) = events.pop_front() {
            let Some((kind, buffer)) = reply_to(g, ep, event, assembler, echoed)? else { continue };
            match send(g, ep, kind, buffer.as_ref(), out)? {
                Ok(more) => events.extend(more),
                // The connection is closing: what can no longer be sent is dropped.
                Err(e) => eprintln!("echo dropped: {e:?}"),
            }
            progressed = true;
        }
        if !(progressed || ep.close_waits) {
            return g.state(ep.handle);
        }
    }
}

/// The echo loop of one upgraded connection, server or client: drain the engine, echo, write,
/// then wait for the earliest of bytes to read (while the engine holds a receive and the writes
/// pending stay under the high-water mark), the socket taking writes, or the engine's deadline.
/// No lifetime of its own: it ends when the engine says the connection is over.
async fn echo_loop(lease: &Lease, ep: &mut Endpoint, stream: TcpStream, clock: Instant) -> Result<String> {
    let h = ep.handle;
    let (reader, mut writer) = stream.into_split();
    let mut out: Vec<u8> = Vec::new();
    let mut assembler = Assembler::default();
    let mut echoed = Echoed::default();
    let mut peer_left = false;
    loop {
        // The engine's turn, with the instance borrowed for it alone (not across a wait).
        let state = engine_turn(&mut lease.guest(), ep, &mut out, &mut assembler, &mut echoed)?;
        if peer_left {
            out.clear();
        }
        release_if_empty(&mut ep.inbox);
        let done = finished(state) && !ep.close_waits;
        if done {
            // The close frame (or the last echoes) may still be on their way out.
            if !out.is_empty() {
                let _ = tokio::time::timeout(FINAL_FLUSH, writer.write_all(&out)).await;
            }
            break;
        }
        let deadline = ep.next_deadline.map(|ms| tokio::time::Instant::from_std(clock + Duration::from_millis(ms)));
        let can_read =
            ep.held.is_some() && !ep.ended && out.len() < WRITE_HIGH_WATER && ep.inbox.len() < WRITE_HIGH_WATER;
        let can_write = !out.is_empty();
        if !can_read && !can_write && deadline.is_none() {
            bail!("stuck: no receive held, nothing to write, no deadline (state {state:?})");
        }
        tokio::select! {
            read = read_into(&reader, &mut ep.inbox), if can_read => match read {
                Ok(0) => ep.ended = true,
                Ok(_) => {}
                Err(e) if peer_gone(&e) => ep.ended = true,
                Err(e) => return Err(e.into()),
            },
            written = writer.write(&out), if can_write => match written {
                Ok(n) => { out.drain(..n); release_if_empty(&mut out); }
                // The peer is gone: nothing more can be written; the engine hears it as the end
                // of the stream (a 1006 close) once it has taken what was read.
                Err(e) if peer_gone(&e) => { peer_left = true; ep.ended = true; out.clear(); }
                Err(e) => return Err(e.into()),
            },
            _ = sleep_until(deadline), if deadline.is_some() => {}
        }
        if ep.next_deadline.is_some_and(|due| now_ms(clock) >= due) {
            lease.guest().tick(h, now_ms(clock))?;
        }
    }
    let g = &mut *lease.guest();
    let failure = g.failure(h)?;
    let extensions = g.extensions(h)?;
    Ok(format!(
        "echoed {} messages ({} bytes), close status {:?}, state {:?}{}{}",
        echoed.messages,
        echoed.bytes,
        echoed.close_status,
        g.state(h)?,
        failure.map(|f| format!(", failure: {}", f.case())).unwrap_or_default(),
        if extensions.is_empty() { String::new() } else { format!(", extensions: {}", extensions.join(", ")) }
    ))
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
