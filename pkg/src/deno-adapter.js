// The Deno runtime: sockets only. Clients dial over Deno.connect (ws://, ws+unix:) or
// Deno.connectTls (wss://); servers listen with Deno.listen or Deno.listenTls (the `tls`
// option: { cert, key }) and read the request head with the engine's parser. The handshake and
// the action loop are shared (handshake.js, connection.js); the user classes are
// websocket.js's and server.js's. (Deno.upgradeWebSocket is not used: it would be Deno's own
// WebSocket implementation.)

/* global Deno */
import { engine } from './pool.js';
import { setRuntime } from './websocket.js';
import { setServerRuntime } from './server.js';
import { listen as listenOnHttpServer, socketIo as nodeSocketIo } from './node-socket.js';
import { ConnectionServer } from './convenience.js';
import { requestFromHead, rejectionBytes } from './handshake.js';

// Reads start small and grow while they come back full: an idle connection waits in its read
// with a buffer of READ_MIN bytes (ws's Node sockets hold none; 64 KiB each made an idle Deno
// connection 72 KiB), a large transfer doubles it up to READ_MAX in a few reads, and the first
// short read after it sizes the next buffer to what arrived.
const READ_MIN = 1024;
const READ_MAX = 64 * 1024;
const HIGH_WATER = 1024 * 1024;

/** The next read's buffer size after a read of `n` bytes into `size`. */
function nextReadSize(size, n) {
  if (n === size) return Math.min(size * 2, READ_MAX);
  let next = READ_MIN;
  while (next < n) next *= 2;
  return next;
}

async function writeAll(conn, bytes) {
  let offset = 0;
  while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
}

/**
 * A transport over a Deno.Conn (or a promise of one, while dialing): writes are queued and
 * written in order by one writer; write() returns false above the high-water mark and the sink
 * hears `_writable()` below half of it. `leftover` bytes (read past a head) come first.
 */
function denoTransport(connOrPromise) {
  let conn = null;
  let sink = null;
  const queue = [];
  let queued = 0;
  let writing = false;
  let blocked = false;
  let endRequested = false;
  let closed = false;
  let readerStarted = false;
  let readerDone = false;
  let endDone = false;
  let paused = null; // a promise the reader waits on while paused
  const ready = Promise.resolve(connOrPromise).then((c) => {
    conn = c;
    if (closed) closeConn();
    return c;
  });
  ready.catch((err) => {
    if (!closed) {
      closed = true;
      sink?._transportError(err);
      sink?._transportClosed();
    }
  });

  const closeConn = () => {
    try {
      conn?.close();
    } catch {
      // already closed
    }
  };
  const closeNow = () => {
    if (closed) return;
    closed = true;
    closeConn();
    sink?._transportClosed();
  };

  const writer = async () => {
    writing = true;
    try {
      await ready;
      while (queue.length > 0 && !closed) {
        const bytes = queue[0];
        await writeAll(conn, bytes);
        queue.shift();
        queued -= bytes.length;
        if (blocked && queued < HIGH_WATER / 2) {
          blocked = false;
          sink?._writable();
        } else if (paused && queue.length === 0) {
          // Reading is paused (the connection's read backpressure may wait on this): say the
          // writes drained even when they never reached this transport's own high-water mark.
          sink?._writable();
        }
      }
      if (endRequested && !closed && !endDone) {
        await conn.closeWrite();
        endDone = true;
        if (readerDone) closeNow();
      }
    } catch (err) {
      if (!closed) {
        sink?._transportError(err);
        closeNow();
      }
    } finally {
      writing = false;
      if (queue.length > 0 && !closed) writer();
    }
  };

  const reader = async () => {
    try {
      await ready;
      let size = READ_MIN;
      for (;;) {
        if (paused) await paused.promise;
        if (closed) return;
        const buffer = new Uint8Array(size);
        const n = await conn.read(buffer);
        if (n === null) break;
        sink._input(buffer.subarray(0, n));
        size = nextReadSize(size, n);
      }
      sink._inputEnded();
    } catch (err) {
      if (!closed) sink._transportError(err);
    }
    // Both directions are done once the peer's end arrived and ours was sent.
    readerDone = true;
    if (endDone || closed) closeNow();
  };

  return {
    start(next) {
      sink = next;
      if (!readerStarted) {
        readerStarted = true;
        reader();
      }
    },
    write(bytes) {
      if (closed) return true;
      queue.push(bytes);
      queued += bytes.length;
      if (!writing) writer();
      if (queued >= HIGH_WATER) blocked = true;
      return !blocked;
    },
    end() {
      endRequested = true;
      if (!writing) writer();
    },
    destroy() {
      closeNow();
    },
    pause() {
      if (!paused) {
        let resolve;
        const promise = new Promise((r) => (resolve = r));
        paused = { promise, resolve };
      }
    },
    resume() {
      const p = paused;
      paused = null;
      p?.resolve();
    },
    bufferedAmount: () => queued,
  };
}

/** Opens the connection a client target names (TLS options: caCerts, or ws's `ca`). */
function dial(target, options) {
  let opening;
  if (target.socketPath !== null) {
    opening = Deno.connect({ transport: 'unix', path: target.socketPath });
  } else if (target.secure) {
    const ca = options.caCerts ?? (options.ca !== undefined ? [options.ca].flat().map(String) : undefined);
    opening = Deno.connectTls({ hostname: target.host, port: target.port, caCerts: ca, alpnProtocols: ['http/1.1'] });
  } else {
    opening = Deno.connect({ hostname: target.host, port: target.port }).then((conn) => {
      conn.setNoDelay?.(true);
      return conn;
    });
  }
  return denoTransport(opening);
}

setRuntime({ dial });

/** What the server flow did with each raw connection: the 101's write, taken by a socket. */
const upgradeState = new WeakMap();

function closeQuietly(conn) {
  try {
    conn.close();
  } catch {
    // closed already
  }
}

/**
 * A node:http upgrade's socket (Deno's node: compatibility layer): a Node-style stream, not a
 * Deno.Conn. Its bytes come as 'data' events; reading it as a Deno.Conn would take the wrong
 * bytes (the HTTP request) for frames.
 */
function isNodeSocket(socket) {
  return typeof socket?.on === 'function' && typeof socket.write === 'function' && typeof socket.destroy === 'function';
}

/** A raw connection the server flow writes to: a Deno.Conn with its transport made once, or a node:http socket. */
function socketIo(conn) {
  if (isNodeSocket(conn)) return nodeSocketIo(conn);
  if (typeof conn?.read !== 'function' || typeof conn.write !== 'function') {
    throw new TypeError('handleUpgrade takes a Deno.Conn or a node:http upgrade socket');
  }
  let state = upgradeState.get(conn);
  if (!state) upgradeState.set(conn, (state = { head: Promise.resolve(), taken: false, secure: false }));
  return {
    secure: state.secure,
    usable: () => true,
    taken: () => state.taken,
    writeHead: (text) => {
      state.head = writeAll(conn, new TextEncoder().encode(text)).catch(() => {});
    },
    reject: (bytes) => {
      writeAll(conn, bytes)
        .catch(() => {})
        .finally(() => closeQuietly(conn));
    },
    destroy: () => closeQuietly(conn),
    transport: () => {
      state.taken = true;
      conn.setNoDelay?.(true);
      // The 101 is written before any frame: the transport waits for it.
      return denoTransport(state.head.then(() => conn));
    },
  };
}

/** Reads a request head (at most the engine's head limits); [head, leftover] or null at EOF. */
async function readRequestHead(conn) {
  let received = new Uint8Array(0);
  for (;;) {
    // A head fits in a few KiB; one that does not takes more reads (and the parser's limit).
    const buffer = new Uint8Array(4 * READ_MIN);
    const n = await conn.read(buffer);
    if (n === null) return null;
    const next = new Uint8Array(received.length + n);
    next.set(received, 0);
    next.set(buffer.subarray(0, n), received.length);
    received = next;
    const head = engine().parseRequestHead(received);
    if (head !== null) return [head, received.subarray(head.consumed)];
  }
}

/** One accepted connection: its request head, then the shared upgrade flow. */
async function acceptOne(wss, conn, options) {
  const timeoutMs = options.handshakeTimeout ?? 30000;
  const timer = setTimeout(() => {
    try {
      conn.close();
    } catch {
      // closed already
    }
  }, timeoutMs);
  let read;
  try {
    read = await readRequestHead(conn);
  } catch (err) {
    clearTimeout(timer);
    if (typeof err.httpStatus === 'number') {
      await writeAll(conn, rejectionBytes(err.httpStatus, err.message, err.httpHeaders ?? [])).catch(() => {});
    }
    try {
      conn.close();
    } catch {
      // closed already
    }
    return;
  }
  clearTimeout(timer);
  if (read === null) {
    try {
      conn.close();
    } catch {
      // closed already
    }
    return;
  }
  const [head, leftover] = read;
  const remote = conn.remoteAddr ?? {};
  const request = requestFromHead(head, {
    remoteAddress: remote.hostname,
    remotePort: remote.port,
    encrypted: !!options.tls,
  });
  upgradeState.set(conn, { head: Promise.resolve(), taken: false, secure: !!options.tls });
  wss.handleUpgrade(request, conn, leftover, (ws, req) => wss.emit('connection', ws, req));
}

/**
 * Listening for a WebSocketServer: Deno.listen (or Deno.listenTls with `tls: { cert, key }`),
 * or the `server` option's node:http server.
 * The accept loop logs and survives a failed accept (a client that reset before it was
 * accepted makes the listener's accept throw) and ends only when the server closes.
 */
function listen(wss, options, callback) {
  // A node:http server (Deno's node: compatibility layer): its 'upgrade' events, as on Node.
  if (options.server) return listenOnHttpServer(wss, options, callback);
  const hostname = options.host ?? '0.0.0.0';
  const listener = options.tls
    ? Deno.listenTls({ hostname, port: options.port, cert: options.tls.cert, key: options.tls.key, alpnProtocols: ['http/1.1'] })
    : Deno.listen({ hostname, port: options.port });
  let stopping = false;
  const onAcceptError = options.onAcceptError ?? ((err) => console.error(`wsaction: accept failed (the server goes on): ${err?.message ?? err}`));
  const finished = (async () => {
    let failuresInARow = 0;
    while (!stopping) {
      let conn;
      try {
        conn = await listener.accept();
        failuresInARow = 0;
      } catch (err) {
        if (stopping || err instanceof Deno.errors.BadResource || err?.name === 'BadResource') break;
        onAcceptError(err);
        // A peer that reset before it was accepted is its own problem; a persistent failure
        // (out of file descriptors) must not spin: back off a little.
        const peerGone = ['ConnectionReset', 'ConnectionAborted', 'NotConnected'].some((name) => Deno.errors[name] && err instanceof Deno.errors[name]);
        if (!peerGone) {
          failuresInARow++;
          await new Promise((r) => setTimeout(r, Math.min(1000, 10 * failuresInARow)));
        }
        continue;
      }
      acceptOne(wss, conn, options).catch((err) => {
        onAcceptError(err);
        try {
          conn.close();
        } catch {
          // closed already
        }
      });
    }
  })();
  queueMicrotask(() => {
    wss.emit('listening');
    callback?.();
  });
  const address = () => ({ address: listener.addr.hostname, port: listener.addr.port, family: listener.addr.hostname.includes(':') ? 'IPv6' : 'IPv4' });
  return {
    external: false,
    address,
    addr: listener.addr,
    finished,
    detach() {},
    close(done) {
      stopping = true;
      try {
        listener.close();
      } catch {
        // closed already
      }
      finished.then(() => done());
    },
    listening: () => Promise.resolve(address()),
  };
}

setServerRuntime({ listen, socketIo });

// ---------------------------------------------------------------- promise-style conveniences

/**
 * A server handing out Connections over Deno.listen. options: { port = 0, hostname =
 * '127.0.0.1', protocols?, handleProtocols?(offered: string[]), verifyClient?, tls?: { cert,
 * key }, properties?, onAcceptError? }. Calls onConnection(connection, request) for each.
 * The result has addr, clients, listening, finished and close() (1001 to every connection).
 */
export function serve(options = {}, onConnection) {
  const { hostname, ...rest } = options;
  const server = new ConnectionServer({ ...rest, port: options.port ?? 0, host: hostname ?? options.host ?? '127.0.0.1' });
  if (onConnection) {
    server.on('connection', (connection, request) => {
      connection.request = request;
      onConnection(connection, request);
    });
  }
  const listener = server._listener;
  server.addr = listener.addr;
  server.finished = listener.finished;
  return server;
}
