// The ws-compatible WebSocketServer, written once: the upgrade flow (request checks, path,
// verifyClient, subprotocol choice, the 'headers' event, the 101 or the rejection), client
// tracking and shutdown. A runtime file supplies how it listens (a node:http server, or
// Deno.listen) and how it writes to a raw socket (`socketIo`).

import { EventEmitter } from './events.js';
import { WebSocket } from './websocket.js';
import {
  beginServer,
  checkRequest,
  engineProperties,
  headText,
  rejectionBytes,
  requestHeaderPairs,
} from './handshake.js';
import { handleFootprint } from './fast.js';

const RUNNING = 0;
const CLOSING = 1;
const CLOSED = 2;

/** Marks the upgrade listener a WebSocketServer adds to a node:http server. */
export const kServer = Symbol('wsaction.WebSocketServer');

let runtime = null;
export function setServerRuntime(value) {
  runtime = value;
}

/** Seconds a refused client is told to wait (Retry-After) when the server is full. */
const RETRY_AFTER_SECONDS = 5;

const soon = typeof process !== 'undefined' && typeof process.nextTick === 'function' ? (fn, ...a) => process.nextTick(fn, ...a) : (fn, ...a) => queueMicrotask(() => fn(...a));

export class WebSocketServer extends EventEmitter {
  // The engine properties of every accepted connection, made from the options at the first upgrade.
  #properties = null;

  /**
   * As ws: one of port (with host, backlog), server (an http/https server, Node) or noServer;
   * path, clientTracking, maxPayload, skipUTF8Validation, handleProtocols(protocols: Set, request),
   * verifyClient(info[, callback]), closeTimeout, WebSocket (the class of accepted sockets);
   * wsaction's properties (engine properties) and, on Deno, tls ({ cert, key }) for wss.
   * Limits (each answered with 503 and Retry-After at the upgrade): maxConnections (open
   * connections of this server; default no limit) and wasmMemoryBudget (bytes of wasm memory the
   * open connections' handles may take together, counted with handleFootprint; default none).
   * writeHighWaterMark: bytes waiting to be written above which a connection stops reading
   * (default 1 MiB, see connection.js).
   * perMessageDeflate (default false; true or ws's object: threshold, server/clientNoContextTakeover,
   * server/clientMaxWindowBits, zlibDeflateOptions.level/memLevel: see handshake.js's
   * deflateProperties).
   */
  constructor(options, callback) {
    super();
    options = {
      maxPayload: 100 * 1024 * 1024,
      skipUTF8Validation: false,
      perMessageDeflate: false,
      handleProtocols: null,
      clientTracking: true,
      verifyClient: null,
      noServer: false,
      backlog: null,
      server: null,
      host: null,
      path: null,
      port: null,
      WebSocket,
      ...options,
    };
    if (
      (options.port == null && !options.server && !options.noServer) ||
      (options.port != null && (options.server || options.noServer)) ||
      (options.server && options.noServer)
    ) {
      throw new TypeError('One and only one of the "port", "server", or "noServer" options must be specified');
    }
    this.options = options;
    this._state = RUNNING;
    // Open connections and the wasm memory their handles took (the limits above).
    this._openConnections = 0;
    this._openFootprint = 0;
    this._shouldEmitClose = false;
    if (options.clientTracking) this.clients = new Set();
    if (!options.noServer) {
      if (!runtime) throw new TypeError('wsaction: this runtime cannot listen; use the Node or Deno entry point');
      this._listener = runtime.listen(this, options, callback);
    } else {
      this._listener = null;
    }
  }

  /** The bound address of the server (ws: throws in noServer mode). */
  address() {
    if (this.options.noServer) throw new Error('The server is operating in "noServer" mode');
    if (!this._listener) return null;
    return this._listener.address();
  }

  /** As ws: stops accepting; closes the server only if it made it; 'close' once all is done. */
  close(cb) {
    if (this._state === CLOSED) {
      if (cb) this.once('close', () => cb(new Error('The server is not running')));
      soon(() => this.#emitClose());
      return;
    }
    if (cb) this.once('close', cb);
    if (this._state === CLOSING) return;
    this._state = CLOSING;
    const listener = this._listener;
    this._listener = null;
    if (listener && !listener.external) {
      listener.close(() => this.#emitClose());
      return;
    }
    listener?.detach();
    if (this.clients && this.clients.size) this._shouldEmitClose = true;
    else soon(() => this.#emitClose());
  }

  #emitClose() {
    this._state = CLOSED;
    this.emit('close');
  }

  /** As ws: whether this server takes `request` (its path, when the path option is set). */
  shouldHandle(request) {
    if (this.options.path) {
      const index = request.url.indexOf('?');
      const pathname = index !== -1 ? request.url.slice(0, index) : request.url;
      if (pathname !== this.options.path) return false;
    }
    return true;
  }

  /**
   * Takes over an upgrade request: checks it, asks verifyClient, writes the 101 and calls
   * cb(ws, request), or answers the HTTP error (400, 401, 405, 426, 503, ...).
   */
  handleUpgrade(request, socket, head, cb) {
    const io = runtime.socketIo(socket);
    const pairs = requestHeaderPairs(request);
    let offered;
    try {
      offered = checkRequest(request, pairs);
    } catch (err) {
      this.#clientError(request, socket, io, err);
      return;
    }
    if (!this.shouldHandle(request)) {
      io.reject(rejectionBytes(400));
      return;
    }
    const verifyClient = this.options.verifyClient;
    if (verifyClient) {
      const info = { origin: request.headers.origin, secure: io.secure, req: request };
      if (verifyClient.length === 2) {
        verifyClient(info, (verified, code, message, headers) => {
          if (!verified) io.reject(rejectionBytes(code || 401, message, headers));
          else this.#completeUpgrade(request, socket, io, pairs, offered, head, cb);
        });
        return;
      }
      if (!verifyClient(info)) {
        io.reject(rejectionBytes(401));
        return;
      }
    }
    this.#completeUpgrade(request, socket, io, pairs, offered, head, cb);
  }

  #completeUpgrade(request, socket, io, pairs, offered, head, cb) {
    if (!io.usable()) {
      io.destroy();
      return;
    }
    if (io.taken()) {
      throw new Error('server.handleUpgrade() was called more than once with the same socket, possibly due to a misconfiguration');
    }
    if (this._state > RUNNING) {
      io.reject(rejectionBytes(503));
      return;
    }
    // Read once per server and frozen: the engine reads a frozen object once (src/bindings/js.rs).
    const properties = (this.#properties ??= Object.freeze(engineProperties(this.options)));
    const footprint = handleFootprint(properties);
    const full = this.#fullBecause(footprint);
    if (full) {
      io.reject(rejectionBytes(503, full, [['Retry-After', String(RETRY_AFTER_SECONDS)]]));
      return;
    }
    let protocol = null;
    if (offered.length > 0) {
      protocol = this.options.handleProtocols ? this.options.handleProtocols(new Set(offered), request) : offered[0];
    }
    let begun;
    try {
      begun = beginServer(pairs, protocol ? String(protocol) : null, properties, this.options.seed);
    } catch (err) {
      this.#clientError(request, socket, io, err);
      return;
    }
    this.emit('headers', begun.lines, request);
    io.writeHead(headText(begun.lines));
    const ws = new this.options.WebSocket(null, undefined, this.options);
    ws._attach(begun.handle, io.transport(), head && head.length ? head : null, this.options);
    this._openConnections++;
    this._openFootprint += footprint;
    this.clients?.add(ws);
    // One listener per connection does all of the server's accounting ('close' comes once).
    ws.on('close', () => {
      this._openConnections--;
      this._openFootprint -= footprint;
      if (this.clients) {
        this.clients.delete(ws);
        if (this._shouldEmitClose && !this.clients.size) soon(() => this.#emitClose());
      }
    });
    cb(ws, request);
    ws._releaseLater();
  }

  /** Why one more connection (taking `footprint` bytes of wasm memory) is refused, or null. */
  #fullBecause(footprint) {
    const { maxConnections, wasmMemoryBudget } = this.options;
    if (maxConnections != null && this._openConnections >= maxConnections) {
      return `the server is full: ${this._openConnections} connections open, maxConnections is ${maxConnections}`;
    }
    if (wasmMemoryBudget != null && this._openFootprint + footprint > wasmMemoryBudget) {
      return `the server is full: its connections take ${this._openFootprint} bytes of wasm memory, one more needs ${footprint}, wasmMemoryBudget is ${wasmMemoryBudget}`;
    }
    return null;
  }

  /** A request the engine refused: 'wsClientError' if someone listens (as ws), else its status. */
  #clientError(request, socket, io, err) {
    if (this.listenerCount('wsClientError')) {
      this.emit('wsClientError', err, socket, request);
      return;
    }
    const status = typeof err.httpStatus === 'number' ? err.httpStatus : 400;
    io.reject(rejectionBytes(status, err.message, err.httpHeaders ?? []));
  }

  /** Closes every tracked client with `code` (the conveniences' shutdown: 1001). */
  _closeAll(code, reason) {
    for (const ws of this.clients ?? []) {
      try {
        ws.close(code, reason);
      } catch {
        ws.terminate();
      }
    }
  }
}
