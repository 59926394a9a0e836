//! The component on real sockets, on one event loop: `echo-server` and `echo-client`.
//!
//! One tokio current-thread runtime runs every connection as a task. Connections share component
//! instances, up to `per_instance` handles in each (a handle is the engine's per-connection
//! resource): an upgraded handle costs about 10 KiB of a shared instance's memory against about
//! 56 KiB for an instance of its own. A new instance starts when the others are full, an instance
//! is dropped (its wasm memory freed) when its last connection ends. An instance that traps is
//! never called again: each of its connections is failed at once (a close frame 1011 after what
//! was already on its way, or a 503 before the upgrade; the TCP connection closed alone when
//! those bytes cannot leave), the instance goes once they are, and new connections get a fresh
//! instance, as pkg/src/pool.js does in JavaScript. The component does all protocol work:
//! HTTP heads, the handshake and its rejections, framing, masking, UTF-8, ping/pong, close and
//! its timers. This file moves bytes, keeps the clock, sleeps until the engine's next deadline,
//! stops reading a peer whose echoes pile up, and echoes.

use crate::drive::{drain, finished, send, Assembler, Endpoint, Event};
use crate::guest::{
    header, Buffer, BufferType, CloseBuffer, Error, Guest, HttpLimits, Properties, PropertyValue, Role, Runtime, State,
    Trap,
};
use crate::net::parse_ws_url;
use anyhow::{anyhow, bail, Context, Result};
use std::cell::{Cell, RefCell, RefMut};
use std::collections::VecDeque;
use std::future::Future;
use std::hash::{BuildHasher, RandomState};
use std::io::{ErrorKind, Write};
use std::ops::{Deref, DerefMut};
use std::rc::Rc;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
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
    /// It could not create or drop a handle, or it trapped: it takes no new connections.
    poisoned: Cell<bool>,
    /// A call into it trapped: it is never called again, and its connections are failed.
    trapped: Cell<bool>,
    /// Wakes this instance's connections when it traps (they wait on their sockets or timers).
    trap_signal: Notify,
}

impl Instance {
    /// Called when a borrow of the guest ends: if a call in it trapped, every connection of the
    /// instance is woken to fail itself, and the instance takes no new connection.
    fn note_trap(&self, guest: &Guest) {
        if guest.trapped() && !self.trapped.get() {
            self.trapped.set(true);
            self.poisoned.set(true);
            eprintln!(
                "an instance trapped: its {} connection(s) are failed, new connections go to a fresh instance",
                self.connections.get()
            );
            self.trap_signal.notify_waiters();
        }
    }
}

/// The error a connection gets when it would call an instance that trapped.
#[derive(Debug)]
struct InstanceTrapped;

impl std::fmt::Display for InstanceTrapped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the connection's component instance trapped")
    }
}

impl std::error::Error for InstanceTrapped {}

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
        // A trapped one goes too: its connections hold it until each has failed.
        instances.retain(|i| i.connections.get() > 0 && !i.poisoned.get());
        let instance = match instances.iter().find(|i| i.connections.get() < self.per_instance) {
            Some(instance) => instance.clone(),
            None => {
                let guest = self.runtime.instantiate().context("a new component instance")?;
                let instance = Rc::new(Instance {
                    guest: RefCell::new(guest),
                    connections: Cell::new(0),
                    poisoned: Cell::new(false),
                    trapped: Cell::new(false),
                    trap_signal: Notify::new(),
                });
                instances.push(instance.clone());
                instance
            }
        };
        instance.connections.set(instance.connections.get() + 1);
        Ok(Lease { instance })
    }

    /// Healthy instances with a connection.
    fn live_instances(&self) -> usize {
        self.instances.borrow().iter().filter(|i| i.connections.get() > 0 && !i.trapped.get()).count()
    }
}

/// One connection's share of an instance. The guest is borrowed for each run of calls between
/// two awaits and never across one (the tasks of the loop take turns on it).
struct Lease {
    instance: Rc<Instance>,
}

impl Lease {
    /// The instance, for a run of calls; an InstanceTrapped error once it trapped.
    fn guest(&self) -> Result<GuestBorrow<'_>> {
        if self.instance.trapped.get() {
            return Err(InstanceTrapped.into());
        }
        Ok(GuestBorrow { guest: self.instance.guest.borrow_mut(), instance: &self.instance })
    }

    /// True once the instance trapped (this connection's call or another's).
    fn trapped(&self) -> bool {
        self.instance.trapped.get()
    }

    /// Resolves when the instance traps.
    async fn trap_signal(&self) {
        if !self.trapped() {
            self.instance.trap_signal.notified().await;
        }
    }
}

/// A borrow of an instance that notices, when it ends, whether a call in it trapped.
struct GuestBorrow<'a> {
    guest: RefMut<'a, Guest>,
    instance: &'a Instance,
}

impl Deref for GuestBorrow<'_> {
    type Target = Guest;
    fn deref(&self) -> &Guest {
        &self.guest
    }
}

impl DerefMut for GuestBorrow<'_> {
    fn deref_mut(&mut self) -> &mut Guest {
        &mut self.guest
    }
}

impl Drop for GuestBorrow<'_> {
    fn drop(&mut self) {
        self.instance.note_trap(&self.guest);
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.instance.connections.set(self.instance.connections.get() - 1);
    }
}

/// Creates a connection's handle. An instance that cannot (a trap, or memory it cannot get) is
/// poisoned: it takes no new connection.
fn create_handle(lease: &Lease, create: impl FnOnce(&mut Guest) -> Result<ResourceAny>) -> Result<ResourceAny> {
    let created = create(&mut *lease.guest()?);
    if created.is_err() {
        lease.instance.poisoned.set(true);
    }
    created
}

/// Drops a connection's handle once the connection is over, whatever its `result`: a handle left
/// behind would hold its memory in a shared instance. An instance that cannot drop it is
/// poisoned; one that trapped is not called (its memory goes with it).
fn release_handle(lease: &Lease, h: ResourceAny, result: Result<String>) -> Result<String> {
    if lease.trapped() {
        return result;
    }
    if let Err(e) = lease.guest().and_then(|mut g| g.drop_handle(h)) {
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
    let created = create_handle(lease, |g| {
        let h = g.create_server(props, None)?.map_err(|e| anyhow!("create-server: {e:?}"))?;
        g.tick(h, now_ms(clock))?;
        Ok(h)
    });
    let h = match created {
        Ok(h) => h,
        Err(e) if lease.trapped() => return unavailable(stream, e).await,
        Err(e) => return Err(e),
    };
    let result = match upgrade(lease, h, &mut stream).await {
        Ok(Upgrade::Accepted { response, leftover }) => match stream.write_all(&response).await {
            Ok(()) => {
                let mut ep = Endpoint::new(h);
                ep.inbox = leftover;
                echo_loop(lease, &mut ep, stream, clock, Role::Server).await
            }
            Err(e) => Err(e.into()),
        },
        Ok(Upgrade::Refused(e)) => refuse(lease, stream, e).await,
        Ok(Upgrade::Ended(summary)) => Ok(summary),
        Err(e) if lease.trapped() => unavailable(stream, e).await,
        Err(e) => Err(e),
    };
    release_handle(lease, h, result)
}

/// How a server handshake ended.
enum Upgrade {
    /// Accepted: the 101 response to write, and the bytes read after the request head.
    Accepted { response: Vec<u8>, leftover: Vec<u8> },
    /// Refused by the component: answer with its status.
    Refused(Error),
    /// The peer left or took too long: nothing to answer.
    Ended(String),
}

/// Reads the request head and runs the server handshake through the component. Nothing is
/// written to the peer here, so a trap on the way leaves it free to be answered with a 503.
async fn upgrade(lease: &Lease, h: ResourceAny, stream: &mut TcpStream) -> Result<Upgrade> {
    let read = read_head(stream, |buf| {
        let parsed = lease.guest()?.parse_request_head(buf, DEFAULT_LIMITS)?;
        Ok(parsed.map(|parsed| parsed.map(|p| (p.head, p.consumed as usize))))
    })
    .await?;
    let (request, leftover) = match read {
        HeadRead::Head(request, leftover) => (request, leftover),
        HeadRead::Refused(e) => return Ok(Upgrade::Refused(e)),
        HeadRead::PeerGone => return Ok(Upgrade::Ended("the peer left before its HTTP head ended".to_string())),
        HeadRead::TimedOut => {
            return Ok(Upgrade::Ended(format!("no complete HTTP head within {HEAD_TIMEOUT:?}: dropped")))
        }
    };
    let g = &mut *lease.guest()?;
    let accepted = match g.check_request_line(&request.method, request.minor_version)? {
        Err(e) => Err(e),
        Ok(()) => g.begin_server_handshake(h, None, &[], &request.headers)?,
    };
    let response_headers = match accepted {
        Ok(headers) => headers,
        Err(e) => return Ok(Upgrade::Refused(e)),
    };
    g.receive(h, None)?.map_err(|e| anyhow!("receive: {e:?}"))?;
    let response = g
        .serialize_response_head(101, "Switching Protocols", &response_headers)?
        .map_err(|e| anyhow!("serialize-response-head: {e:?}"))?;
    Ok(Upgrade::Accepted { response, leftover })
}

/// The answer to an upgrade whose instance trapped before it could be accepted: 503 with
/// Retry-After (as pkg/src answers ENGINE_TRAPPED), written here since the component is gone.
async fn unavailable(mut stream: TcpStream, trap: anyhow::Error) -> Result<String> {
    const ANSWER: &[u8] =
        b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    let summary = format!("answered 503: {trap:#}");
    if let Err(e) = stream.write_all(ANSWER).await {
        return if peer_gone(&e) { Ok(format!("{summary} (the peer left first)")) } else { Err(e.into()) };
    }
    let (mut reader, mut writer) = stream.into_split();
    linger(&mut reader, &mut writer).await;
    Ok(summary)
}

/// Half-closes, then takes what the peer still sends until it hangs up (at most REFUSAL_LINGER):
/// closing with unread bytes would send a reset that can destroy the last answer before the
/// peer reads it.
async fn linger(reader: &mut OwnedReadHalf, writer: &mut OwnedWriteHalf) {
    let _ = writer.shutdown().await;
    let _ = tokio::time::timeout(REFUSAL_LINGER, async {
        let mut sink = Vec::new();
        while matches!(read_into(reader, &mut sink).await, Ok(n) if n > 0) {
            sink.clear();
        }
    })
    .await;
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
    let head = lease.guest().and_then(|mut g| {
        let reason = g.reason_phrase(status)?;
        g.serialize_response_head(status, &reason, &headers)?.map_err(|e| anyhow!("{e:?}"))
    });
    let head = match head {
        Ok(head) => head,
        Err(e) if lease.trapped() => return unavailable(stream, e).await,
        Err(e) => return Err(e),
    };
    let summary = format!("refused the handshake with {status}: {}", refused.case());
    if let Err(e) = stream.write_all(&head).await {
        return if peer_gone(&e) { Ok(format!("{summary} (the peer left first)")) } else { Err(e.into()) };
    }
    let (mut reader, mut writer) = stream.into_split();
    linger(&mut reader, &mut writer).await;
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
    let h = create_handle(lease, |g| {
        let h = g.create_client(props, None)?.map_err(|e| anyhow!("create-client: {e:?}"))?;
        g.tick(h, now_ms(clock))?;
        Ok(h)
    })?;
    let result = async {
        let request = {
            let g = &mut *lease.guest()?;
            let mut headers = vec![header("Host", &format!("{host}:{port}"))];
            headers.extend(
                g.begin_client_handshake(h, &[], &[], &[])?.map_err(|e| anyhow!("begin-client-handshake: {e:?}"))?,
            );
            g.serialize_request_head("GET", &path, &headers)?.map_err(|e| anyhow!("{e:?}"))?
        };
        stream.write_all(&request).await?;
        let read = read_head(&mut stream, |buf| {
            let parsed = lease.guest()?.parse_response_head(buf, DEFAULT_LIMITS)?;
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
            let g = &mut *lease.guest()?;
            g.end_client_handshake(h, &response.headers)?.map_err(|e| anyhow!("the server's 101 is refused: {e:?}"))?;
            g.receive(h, None)?.map_err(|e| anyhow!("receive: {e:?}"))?;
        }
        let mut ep = Endpoint::new(h);
        ep.inbox = leftover;
        let summary = echo_loop(lease, &mut ep, stream, clock, Role::Client).await?;
        let g = &mut *lease.guest()?;
        match (g.state(h)?, g.failure(h)?) {
            (State::Closed, None) => Ok(summary),
            (state, failure) => bail!("{summary}; the connection failed (state {state:?}, failure {failure:?})"),
        }
    }
    .await;
    release_handle(lease, h, result)
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
/// pending stay under the high-water mark), the socket taking writes, the engine's deadline, or
/// the instance trapping. No lifetime of its own: it ends when the engine says the connection is
/// over, or when its instance traps (then the connection is failed here, without the engine).
async fn echo_loop(lease: &Lease, ep: &mut Endpoint, stream: TcpStream, clock: Instant, role: Role) -> Result<String> {
    let (mut reader, mut writer) = stream.into_split();
    let mut wire = Wire { out: Vec::new(), close_queued: false };
    match run_echo(lease, ep, &reader, &mut writer, &mut wire, clock).await {
        Err(trap) if lease.trapped() => Err(fail_after_trap(&mut reader, &mut writer, wire, role, trap).await),
        other => other,
    }
}

/// What this side has written or will write to the peer: whole frames, so the bytes pending
/// start where a frame of the stream starts or continue the one being written.
struct Wire {
    /// Frames the engine produced and the socket did not take yet.
    out: Vec<u8>,
    /// Our close frame is among them or already sent (the handle's state as of its last turn).
    close_queued: bool,
}

async fn run_echo(
    lease: &Lease,
    ep: &mut Endpoint,
    reader: &OwnedReadHalf,
    writer: &mut OwnedWriteHalf,
    wire: &mut Wire,
    clock: Instant,
) -> Result<String> {
    let h = ep.handle;
    let out = &mut wire.out;
    let mut assembler = Assembler::default();
    let mut echoed = Echoed::default();
    let mut peer_left = false;
    loop {
        // The engine's turn, with the instance borrowed for it alone (not across a wait). A turn
        // that traps leaves nothing of its own to send: what it produced may stop mid-way.
        let out_before = out.len();
        let state = match lease.guest().and_then(|mut g| engine_turn(&mut g, ep, out, &mut assembler, &mut echoed)) {
            Ok(state) => state,
            Err(e) => {
                out.truncate(out_before);
                return Err(e);
            }
        };
        wire.close_queued = matches!(state, State::CloseSent | State::Closed);
        if peer_left {
            out.clear();
        }
        release_if_empty(&mut ep.inbox);
        let done = finished(state) && !ep.close_waits;
        if done {
            // The close frame (or the last echoes) may still be on their way out.
            if !out.is_empty() {
                let _ = tokio::time::timeout(FINAL_FLUSH, writer.write_all(out)).await;
                out.clear();
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
            read = read_into(reader, &mut ep.inbox), if can_read => match read {
                Ok(0) => ep.ended = true,
                Ok(_) => {}
                Err(e) if peer_gone(&e) => ep.ended = true,
                Err(e) => return Err(e.into()),
            },
            written = writer.write(out), if can_write => match written {
                Ok(n) => { out.drain(..n); release_if_empty(out); }
                // The peer is gone: nothing more can be written; the engine hears it as the end
                // of the stream (a 1006 close) once it has taken what was read.
                Err(e) if peer_gone(&e) => { peer_left = true; ep.ended = true; out.clear(); }
                Err(e) => return Err(e.into()),
            },
            _ = sleep_until(deadline), if deadline.is_some() => {}
            // Another connection's call trapped the instance: the next turn finds it so.
            _ = lease.trap_signal() => {}
        }
        if ep.next_deadline.is_some_and(|due| now_ms(clock) >= due) {
            lease.guest()?.tick(h, now_ms(clock))?;
        }
    }
    // The connection is over; if its instance trapped meanwhile, there is no state to ask for.
    let Ok(mut g) = lease.guest() else {
        return Ok(format!("echoed {} messages ({} bytes), then the instance trapped", echoed.messages, echoed.bytes));
    };
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

/// Fails a connection whose instance trapped, without the instance: what the engine had already
/// produced goes out, then a close frame 1011 (RFC 6455 §7.4.1: an unexpected condition) unless
/// ours was already queued, then the TCP connection closes. When those bytes cannot leave (the
/// peer does not read), the TCP connection is closed without them: a close frame can only follow
/// whole frames.
async fn fail_after_trap(
    reader: &mut OwnedReadHalf,
    writer: &mut OwnedWriteHalf,
    mut wire: Wire,
    role: Role,
    trap: anyhow::Error,
) -> anyhow::Error {
    let pending = wire.out.len();
    if !wire.close_queued {
        wire.out.extend_from_slice(&internal_error_close_frame(role));
    }
    match tokio::time::timeout(FINAL_FLUSH, writer.write_all(&wire.out)).await {
        Ok(Ok(())) => {
            linger(reader, writer).await;
            let closing = if wire.close_queued { "its close frame was already on its way" } else { "sent close 1011" };
            trap.context(format!("failed: {closing} after {pending} pending bytes, then closed the TCP connection"))
        }
        Ok(Err(e)) => trap.context(format!("failed: the pending bytes could not be written ({e}); closed the TCP connection")),
        Err(_) => trap.context(format!(
            "failed: the peer took none of the {pending} pending bytes within {FINAL_FLUSH:?}; closed the TCP connection without a close frame"
        )),
    }
}

/// A close frame with status 1011 written by the host (RFC 6455 §5.5.1), masked from a client
/// (§5.3) with a key from std's hasher seeds (OS randomness): the engine that would mask it is gone.
fn internal_error_close_frame(role: Role) -> Vec<u8> {
    let status = 1011u16.to_be_bytes();
    match role {
        Role::Server => vec![0x88, 0x02, status[0], status[1]],
        Role::Client => {
            let key = (RandomState::new().hash_one(Instant::now()) as u32).to_be_bytes();
            vec![0x88, 0x82, key[0], key[1], key[2], key[3], status[0] ^ key[0], status[1] ^ key[1]]
        }
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
