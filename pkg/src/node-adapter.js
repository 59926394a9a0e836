// The Node.js adapter: a client over net/tls, a server side that takes over a node:http upgrade,
// and a small createServer. Sockets are Node's; the protocol is the engine's (see connection.js).

import net from 'node:net';
import tls from 'node:tls';
import http from 'node:http';
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

function socketTransport(socket) {
  return {
    write: (bytes) => socket.write(bytes),
    end: () => socket.end(),
    destroy: () => socket.destroy(),
    pause: () => socket.pause(),
    resume: () => socket.resume(),
  };
}

function attach(socket, connection) {
  socket.on('data', (chunk) => connection._input(chunk));
  socket.on('end', () => connection._inputEnded());
  socket.on('drain', () => connection._writable());
  socket.on('error', (err) => connection._transportError(err));
  socket.on('close', () => connection._transportClosed());
}

function handshakeError(message, fields) {
  return Object.assign(new Error(message), fields);
}

function concatBytes(a, b) {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/**
 * Opens a client connection to a ws:// or wss:// URL.
 * options: { protocols?: string[], headers?: object | [name, value][], properties?: HandleProperties,
 *            seed?: number | bigint, handshakeTimeout?: ms (default 30000), tls?: tls.ConnectionOptions }
 * Resolves with a Connection once the server's 101 response checks out.
 */
export function connect(url, options = {}) {
  return new Promise((resolve, reject) => {
    let target;
    let handle;
    try {
      target = new URL(url);
      if (!['ws:', 'wss:', 'http:', 'https:'].includes(target.protocol)) {
        throw new TypeError(`the URL must be ws:// or wss://, got ${target.protocol}`);
      }
      handle = WebSocketHandle.createClient(
        { handshakeTimeout: options.handshakeTimeout ?? 30000, ...DEFAULT_PROPERTIES, ...options.properties },
        options.seed,
      );
    } catch (err) {
      reject(err);
      return;
    }
    const secure = target.protocol === 'wss:' || target.protocol === 'https:';
    const port = Number(target.port || (secure ? 443 : 80));
    const host = target.hostname.replace(/^\[|\]$/g, '');
    let request;
    try {
      const user = headerPairs(options.headers);
      const engineHeaders = handle.beginClientHandshake(options.protocols ?? [], [], user);
      const hostHeader = target.port ? `${target.hostname}:${target.port}` : target.hostname;
      request = serializeRequestHead(
        'GET',
        `${target.pathname || '/'}${target.search}`,
        clientRequestHeaders(hostHeader, user, engineHeaders),
      );
    } catch (err) {
      handle.free();
      reject(err);
      return;
    }
    handle.tick(now());
    const socket = secure
      ? tls.connect({ host, port, servername: net.isIP(host) ? undefined : host, ALPNProtocols: ['http/1.1'], ...options.tls })
      : net.connect({ host, port });
    socket.setNoDelay(true);
    let received = new Uint8Array(0);
    let settled = false;
    let timer = null;
    const fail = (err) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      handle.free();
      reject(err);
    };
    const deadline = handle.nextDeadline();
    if (deadline !== null) {
      timer = setTimeout(() => {
        handle.tick(now());
        fail(handle.failure ?? handshakeError('the handshake timed out', { code: 'TIMEOUT' }));
      }, Math.max(0, deadline - now()) + 1);
    }
    socket.once(secure ? 'secureConnect' : 'connect', () => socket.write(request));
    const onData = (chunk) => {
      received = concatBytes(received, chunk);
      let head;
      try {
        head = handle.parseResponseHead(received);
        if (head === null) return;
        if (head.status !== 101) {
          throw handshakeError(`the server answered ${head.status} ${head.reason}, not 101`, {
            code: 'UNEXPECTED_STATUS',
            httpStatus: head.status,
            httpHeaders: head.headers,
          });
        }
        handle.endClientHandshake(head.headers);
      } catch (err) {
        fail(err);
        return;
      }
      settled = true;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', fail);
      socket.off('close', onEarlyClose);
      const connection = new Connection(handle, socketTransport(socket), {
        leftover: received.subarray(head.consumed),
      });
      attach(socket, connection);
      resolve(connection);
    };
    const onEarlyClose = () => fail(handshakeError('the connection closed during the handshake', { code: 'ECONNRESET' }));
    socket.on('data', onData);
    socket.on('error', fail);
    socket.on('close', onEarlyClose);
  });
}

function rejectUpgrade(socket, error) {
  if (typeof error.httpStatus === 'number') {
    const headers = [...(error.httpHeaders ?? []), ['Connection', 'close'], ['Content-Length', '0']];
    socket.end(serializeResponseHead(error.httpStatus, null, headers));
    setTimeout(() => socket.destroy(), 1000).unref();
  } else {
    socket.destroy();
  }
}

/**
 * Takes over a node:http 'upgrade' request: checks it, writes the 101 response and returns the
 * Connection, or answers the HTTP error the engine names (400, 426, 405, ...) and returns null.
 * options: { protocols?: string[], handleProtocols?: (offered) => string | null,
 *            properties?: HandleProperties, seed?: number | bigint }
 */
export function handleUpgrade(req, socket, head, options = {}) {
  const headers = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i], req.rawHeaders[i + 1]]);
  let handle;
  try {
    handle = WebSocketHandle.createServer({ ...DEFAULT_PROPERTIES, ...options.properties }, options.seed);
  } catch (err) {
    socket.destroy();
    throw err;
  }
  try {
    if (req.httpVersionMajor !== 1) throw handshakeError('HTTP/1.1 is required', { httpStatus: 505, httpHeaders: [] });
    checkRequestLine(req.method, req.httpVersionMinor);
    const chosen = chooseSubprotocol(offeredSubprotocols(headers), options.protocols, options.handleProtocols);
    const response = handle.beginServerHandshake(chosen, [], headers);
    socket.write(serializeResponseHead(101, 'Switching Protocols', response));
  } catch (err) {
    handle.free();
    rejectUpgrade(socket, err);
    return null;
  }
  socket.setNoDelay(true);
  socket.setTimeout(0);
  const connection = new Connection(handle, socketTransport(socket), {
    leftover: head && head.length ? new Uint8Array(head.buffer, head.byteOffset, head.length) : undefined,
  });
  attach(socket, connection);
  return connection;
}

/**
 * A WebSocket server on its own node:http server. options: { port = 0, host = '127.0.0.1',
 * protocols?, handleProtocols?, properties? }. Emits 'connection' (connection, request);
 * `listening` resolves with the bound address; close() ends every connection (1001) and the server.
 */
export function createServer(options = {}, onConnection) {
  const server = new WebSocketServer(options);
  if (onConnection) server.on('connection', onConnection);
  return server;
}

export class WebSocketServer {
  #listeners = new Map();
  /** The open connections. */
  clients = new Set();

  constructor(options = {}) {
    this.options = options;
    this.httpServer = options.server ?? http.createServer((req, res) => {
      res.writeHead(426, { 'Content-Type': 'text/plain', Upgrade: 'websocket', Connection: 'close' });
      res.end('This is a WebSocket endpoint.\n');
    });
    this.httpServer.on('upgrade', (req, socket, head) => {
      const connection = handleUpgrade(req, socket, head, options);
      if (!connection) return;
      this.clients.add(connection);
      connection.on('close', () => this.clients.delete(connection));
      this.#emit('connection', connection, req);
    });
    this.listening = options.server
      ? Promise.resolve(this.httpServer.address())
      : new Promise((resolve, reject) => {
          this.httpServer.once('error', reject);
          this.httpServer.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve(this.httpServer.address()));
        });
  }

  /** The bound { address, port, family }. */
  address() {
    return this.httpServer.address();
  }

  on(event, fn) {
    let list = this.#listeners.get(event);
    if (!list) this.#listeners.set(event, (list = []));
    list.push(fn);
    return this;
  }

  #emit(event, ...args) {
    for (const fn of this.#listeners.get(event) ?? []) fn(...args);
  }

  /** Closes every connection with 1001 (going away) and stops listening. */
  async close() {
    const closing = [...this.clients].map((c) => c.close(1001, 'server shutting down'));
    await new Promise((resolve) => this.httpServer.close(() => resolve()));
    await Promise.all(closing);
  }
}
