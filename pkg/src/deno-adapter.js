// The Deno adapter: a client over Deno.connect / Deno.connectTls and a server over Deno.listen.
// The HTTP heads are parsed and written with the engine's helpers (not Deno.upgradeWebSocket,
// which would use Deno's own WebSocket implementation).

/* global Deno */
import {
  WebSocketHandle,
  checkRequestLine,
  offeredSubprotocols,
  serializeRequestHead,
  serializeResponseHead,
} from '../dist/wsaction.js';
import {
  Connection,
  DEFAULT_PROPERTIES,
  chooseSubprotocol,
  clientRequestHeaders,
  headerPairs,
  now,
} from './connection.js';

const READ_SIZE = 64 * 1024;
const HIGH_WATER = 1024 * 1024;

async function writeAll(conn, bytes) {
  let offset = 0;
  while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
}

/**
 * A transport over a Deno.Conn: writes are queued and written in order by one writer; write()
 * returns false above the high-water mark and the connection hears `_writable()` below half of it.
 */
function denoTransport(conn) {
  let connection = null;
  const queue = [];
  let queued = 0;
  let writing = false;
  let blocked = false;
  let endRequested = false;
  let closed = false;
  let readerDone = false;
  let endDone = false;
  let paused = null; // a promise the reader waits on while paused

  const closeNow = () => {
    if (closed) return;
    closed = true;
    try {
      conn.close();
    } catch {
      // already closed
    }
    connection?._transportClosed();
  };

  const writer = async () => {
    writing = true;
    try {
      while (queue.length > 0 && !closed) {
        const bytes = queue[0];
        await writeAll(conn, bytes);
        queue.shift();
        queued -= bytes.length;
        if (blocked && queued < HIGH_WATER / 2) {
          blocked = false;
          connection?._writable();
        }
      }
      if (endRequested && !closed && !endDone) {
        await conn.closeWrite();
        endDone = true;
        if (readerDone) closeNow();
      }
    } catch (err) {
      if (!closed) {
        connection?._transportError(err);
        closeNow();
      }
    } finally {
      writing = false;
    }
  };

  const reader = async (leftover) => {
    try {
      for (;;) {
        if (paused) await paused.promise;
        const buffer = new Uint8Array(READ_SIZE);
        const n = await conn.read(buffer);
        if (n === null) break;
        connection._input(buffer.subarray(0, n));
      }
      connection._inputEnded();
    } catch (err) {
      if (!closed) connection._transportError(err);
    }
    // Both directions are done once the peer's end arrived and ours was sent.
    readerDone = true;
    if (endDone || closed) closeNow();
  };

  return {
    start(c) {
      connection = c;
      reader();
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
  };
}

/** Reads from `conn` until `parse(bytes)` returns a head; returns [head, bytes after it]. */
async function readHead(conn, parse) {
  let received = new Uint8Array(0);
  for (;;) {
    const buffer = new Uint8Array(READ_SIZE);
    const n = await conn.read(buffer);
    if (n === null) throw Object.assign(new Error('the connection closed during the handshake'), { code: 'ECONNRESET' });
    const next = new Uint8Array(received.length + n);
    next.set(received, 0);
    next.set(buffer.subarray(0, n), received.length);
    received = next;
    const head = parse(received);
    if (head !== null) return [head, received.subarray(head.consumed)];
  }
}

function withDeadline(promise, handle, onTimeout) {
  const deadline = handle.nextDeadline();
  if (deadline === null) return promise;
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => {
      handle.tick(now());
      onTimeout();
      reject(handle.failure ?? Object.assign(new Error('the handshake timed out'), { code: 'TIMEOUT' }));
    }, Math.max(0, deadline - now()) + 1);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Opens a client connection to a ws:// or wss:// URL over Deno.connect / Deno.connectTls.
 * options: { protocols?, headers?, properties?, seed?, handshakeTimeout? (ms, default 30000), caCerts? }
 */
export async function connect(url, options = {}) {
  const target = new URL(url);
  if (!['ws:', 'wss:', 'http:', 'https:'].includes(target.protocol)) {
    throw new TypeError(`the URL must be ws:// or wss://, got ${target.protocol}`);
  }
  const secure = target.protocol === 'wss:' || target.protocol === 'https:';
  const port = Number(target.port || (secure ? 443 : 80));
  const hostname = target.hostname.replace(/^\[|\]$/g, '');
  const handle = WebSocketHandle.createClient(
    { handshakeTimeout: options.handshakeTimeout ?? 30000, ...DEFAULT_PROPERTIES, ...options.properties },
    options.seed,
  );
  let conn = null;
  try {
    const user = headerPairs(options.headers);
    const engineHeaders = handle.beginClientHandshake(options.protocols ?? [], [], user);
    const hostHeader = target.port ? `${target.hostname}:${target.port}` : target.hostname;
    const request = serializeRequestHead(
      'GET',
      `${target.pathname || '/'}${target.search}`,
      clientRequestHeaders(hostHeader, user, engineHeaders),
    );
    handle.tick(now());
    const handshake = (async () => {
      conn = secure
        ? await Deno.connectTls({ hostname, port, caCerts: options.caCerts, alpnProtocols: ['http/1.1'] })
        : await Deno.connect({ hostname, port });
      if (!secure) conn.setNoDelay(true);
      await writeAll(conn, request);
      const [head, rest] = await readHead(conn, (bytes) => handle.parseResponseHead(bytes));
      if (head.status !== 101) {
        throw Object.assign(new Error(`the server answered ${head.status} ${head.reason}, not 101`), {
          code: 'UNEXPECTED_STATUS',
          httpStatus: head.status,
          httpHeaders: head.headers,
        });
      }
      handle.endClientHandshake(head.headers);
      return rest;
    })();
    const leftover = await withDeadline(handshake, handle, () => conn?.close());
    const transport = denoTransport(conn);
    const connection = new Connection(handle, transport, { leftover });
    transport.start(connection);
    return connection;
  } catch (err) {
    try {
      conn?.close();
    } catch {
      // already closed
    }
    handle.free();
    throw err;
  }
}

/** Answers one accepted TCP connection: the upgrade handshake, then a Connection (or null). */
async function accept(conn, options) {
  const handle = WebSocketHandle.createServer(
    { handshakeTimeout: options.handshakeTimeout ?? 30000, ...DEFAULT_PROPERTIES, ...options.properties },
    options.seed,
  );
  handle.tick(now());
  try {
    const [head, rest] = await withDeadline(
      readHead(conn, (bytes) => handle.parseRequestHead(bytes)),
      handle,
      () => conn.close(),
    );
    checkRequestLine(head.method, head.minorVersion);
    const chosen = chooseSubprotocol(offeredSubprotocols(head.headers), options.protocols, options.handleProtocols);
    const response = handle.beginServerHandshake(chosen, [], head.headers);
    await writeAll(conn, serializeResponseHead(101, 'Switching Protocols', response));
    conn.setNoDelay?.(true);
    const transport = denoTransport(conn);
    const connection = new Connection(handle, transport, { leftover: rest });
    connection.request = head;
    transport.start(connection);
    return connection;
  } catch (err) {
    handle.free();
    if (typeof err.httpStatus === 'number') {
      const headers = [...(err.httpHeaders ?? []), ['Connection', 'close'], ['Content-Length', '0']];
      try {
        await writeAll(conn, serializeResponseHead(err.httpStatus, null, headers));
      } catch {
        // the peer is gone
      }
    }
    try {
      conn.close();
    } catch {
      // already closed
    }
    return null;
  }
}

/**
 * A WebSocket server over Deno.listen. options: { port = 0, hostname = '127.0.0.1', protocols?,
 * handleProtocols?, properties? }. Calls onConnection(connection) for each accepted connection.
 * Returns { addr, clients, close(), finished }; close() ends every connection (1001) and the listener.
 */
export function serve(options, onConnection) {
  const listener = Deno.listen({ hostname: options.hostname ?? '127.0.0.1', port: options.port ?? 0 });
  const clients = new Set();
  let stopping = false;
  const finished = (async () => {
    try {
      for await (const conn of listener) {
        accept(conn, options).then((connection) => {
          if (!connection) return;
          clients.add(connection);
          connection.on('close', () => clients.delete(connection));
          onConnection(connection);
        });
      }
    } catch (err) {
      if (!stopping) throw err;
    }
  })();
  return {
    addr: listener.addr,
    clients,
    finished,
    async close() {
      stopping = true;
      listener.close();
      await Promise.all([...clients].map((c) => c.close(1001, 'server shutting down')));
      await finished;
    },
  };
}
