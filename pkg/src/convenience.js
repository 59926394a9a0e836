// The promise-style conveniences, built on the ws-compatible classes: `Connection` (a WebSocket
// whose send/ping/close return promises, whose text messages are strings, with `closed` and an
// async iterator), `connect(url, options)` and a server whose `listening` is a promise and whose
// close() ends every connection (1001). Runtime files export them under their own names.

import { WebSocket } from './websocket.js';
import { WebSocketServer } from './server.js';
import { DEFAULT_PROPERTIES, k } from './connection.js';
import { codedError } from './handshake.js';

const textDecoder = new TextDecoder();
// The iterator stops reading at this many unread messages and reads again below the low mark.
const ITERATOR_HIGH_WATER = 64;
const ITERATOR_LOW_WATER = 16;

/**
 * One WebSocket connection, promise style. Events: 'message' (data: string | Uint8Array,
 * isBinary), 'pong' (bytes), 'error' (only if listened to), 'close' (code, reason: string).
 * Also an async iterator of { data, isBinary }.
 */
export class Connection extends WebSocket {
  #closed;
  #resolveClosed;
  #closeCode = null;
  #closeReason = '';
  #failure = null;
  #iterating = false;
  #iteratorQueue = [];
  #iteratorWaiters = [];
  #iteratorPaused = false;

  constructor(address, protocols, options) {
    super(address, protocols, options);
    this.#closed = new Promise((resolve) => (this.#resolveClosed = resolve));
  }

  /**
   * A Connection over your own transport (see connection.js: start(sink), write, end, destroy,
   * pause?, resume?) with a handle whose handshake is done: how browsers, which have no raw
   * sockets, drive one. options: { leftover?: bytes read past the HTTP head, closeGraceMs? }.
   */
  static fromTransport(handle, transport, options = {}) {
    const connection = new Connection(null);
    connection._isServer = handle.role === 'server';
    connection._attach(handle, transport, options.leftover, options);
    connection._releaseLater();
    return connection;
  }

  /** Adapter defaults (engine limits unless ws's names are given), as connect() always had. */
  _engineProperties(options) {
    const properties = { handshakeTimeout: options.handshakeTimeout ?? 30000, ...DEFAULT_PROPERTIES };
    if (options.maxPayload !== undefined) properties.maxMessageSize = options.maxPayload > 0 ? options.maxPayload : Number.MAX_SAFE_INTEGER;
    if (options.skipUTF8Validation) properties.disableUtf8Verification = true;
    if (options.closeTimeout !== undefined) properties.closeTimeout = options.closeTimeout;
    if (options.autoPong === false) properties.autoPong = false;
    return { ...properties, ...options.properties };
  }

  /** The engine state name: 'connecting', 'open', 'close-sent', 'close-received', 'closed', 'aborted'. */
  get state() {
    if (!this._connection) return this.readyState === WebSocket.CONNECTING ? 'connecting' : 'closed';
    return this._connection.state;
  }
  /** The close code the peer sent (1005: none, 1006: no close frame), once known. */
  get closeCode() {
    return this.#closeCode;
  }
  get closeReason() {
    return this.#closeReason;
  }
  /** Why the connection failed (a peer violation, a timer, a transport error), or null. */
  get failure() {
    return this.#failure ?? this._connection?.failure ?? null;
  }
  /** Resolves with { code, reason, wasClean } when the transport is closed. */
  get closed() {
    return this.#closed;
  }

  /**
   * Sends a message, or a fragment with { fin: false }. Strings are text, binary values binary,
   * unless { binary } or { text: true } says otherwise. Resolves once the frame is handed to
   * the transport.
   */
  send(data, options = {}) {
    const binary = options.binary ?? (options.text === true ? false : typeof data !== 'string');
    return this.#promised((cb) => super.send(data, { fin: options.fin, binary }, cb));
  }

  /** Sends a ping (at most 125 bytes); the peer's pong comes as a 'pong' event. */
  ping(data) {
    return this.#promised((cb) => super.ping(data, undefined, cb));
  }

  /** Sends an unsolicited pong. */
  pong(data) {
    return this.#promised((cb) => super.pong(data, undefined, cb));
  }

  #promised(start) {
    const promise = new Promise((resolve, reject) => start((err) => (err ? reject(err) : resolve())));
    promise.catch(() => {}); // a caller that ignores the promise must not crash the process
    return promise;
  }

  /**
   * Starts the closing handshake (default 1000; 1005 sends no status) and resolves with
   * { code, reason, wasClean } once the transport is closed. A code a close frame may not
   * carry, or a reason over 123 bytes, throws at once (TypeError, RangeError) as ws does.
   */
  close(code = 1000, reason = '') {
    if (code === 1005) {
      if (reason) throw new TypeError('1005 (no status) cannot carry a reason');
      super.close();
    } else {
      super.close(code, reason);
    }
    return this.#closed;
  }

  _messageArguments(bytes, parts, isBinary) {
    // The engine has validated the UTF-8 already; decoding cannot meet an invalid sequence.
    return isBinary ? [bytes, true] : [textDecoder.decode(bytes), false];
  }

  _closeArgument(reason) {
    return textDecoder.decode(reason);
  }

  /** Errors go to 'error' listeners when there are some; `failure` and `closed` tell the rest. */
  _emitError(err) {
    this.#failure ??= err;
    if (this.listenerCount('error') > 0) this._emitSafely('error', err);
  }

  _engineMessage(bytes, parts, isBinary) {
    super._engineMessage(bytes, parts, isBinary);
    if (this.#iterating) {
      const [data] = this._messageArguments(bytes, parts, isBinary);
      this.#deliver({ data, isBinary });
    }
  }

  _finished(result) {
    this.#closeCode = result.code;
    this.#closeReason = textDecoder.decode(result.reason);
    if (!this.#failure && result.failure) this.#failure = result.failure;
    this.#resolveClosed({ code: result.code, reason: this.#closeReason, wasClean: result.wasClean });
    for (const w of this.#iteratorWaiters.splice(0)) w.resolve({ value: undefined, done: true });
  }

  /** Fails a connection that never opened: closed resolves with 1006. */
  _handshakeFailed(err) {
    this.#failure ??= err;
    this.#closeCode = k().CloseStatus.ABORTED;
    this.#resolveClosed({ code: this.#closeCode, reason: '', wasClean: false });
  }

  // ---------------------------------------------------------------- async iteration

  #deliver(message) {
    const waiter = this.#iteratorWaiters.shift();
    if (waiter) {
      waiter.resolve({ value: message, done: false });
      return;
    }
    this.#iteratorQueue.push(message);
    if (this.#iteratorQueue.length >= ITERATOR_HIGH_WATER && !this.#iteratorPaused) {
      // The consumer is behind: stop feeding the engine (and reading) until it catches up.
      this.#iteratorPaused = true;
      this._connection?.pause();
    }
  }

  #resumeIterator() {
    if (!this.#iteratorPaused) return;
    this.#iteratorPaused = false;
    if (!this.isPaused) this._connection?.resume();
  }

  [Symbol.asyncIterator]() {
    this.#iterating = true;
    return {
      next: () => {
        if (this.#iteratorQueue.length > 0) {
          const value = this.#iteratorQueue.shift();
          if (this.#iteratorQueue.length < ITERATOR_LOW_WATER) this.#resumeIterator();
          return Promise.resolve({ value, done: false });
        }
        if (this.readyState === WebSocket.CLOSED) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => this.#iteratorWaiters.push({ resolve, reject }));
      },
      return: () => {
        // Leaving the loop: what it had not taken is dropped, and reading goes on.
        this.#iterating = false;
        this.#iteratorQueue = [];
        this.#resumeIterator();
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }
}

/**
 * Opens a client Connection. options: protocols, headers, handshakeTimeout, properties, seed,
 * and every option of `new WebSocket` (tls options also under `tls`). Resolves once open;
 * rejects with the handshake's error (httpStatus for a refused upgrade).
 */
export function connect(url, options = {}) {
  return new Promise((resolve, reject) => {
    let connection;
    try {
      connection = new Connection(url, options.protocols ?? [], options);
    } catch (err) {
      // connect() has always said TypeError for an address it cannot use.
      reject(err instanceof SyntaxError && /URL/.test(err.message) ? new TypeError(err.message) : err);
      return;
    }
    const onError = (err) => {
      connection._handshakeFailed(err);
      reject(err);
    };
    connection.once('error', onError);
    connection.once('open', () => {
      connection.off('error', onError);
      resolve(connection);
    });
  });
}

/**
 * The server options of the conveniences: `protocols` (the supported ones, first offered wins)
 * and `handleProtocols(offered: string[])`, as they always took, over ws's Set form.
 */
export function convenienceServerOptions(options) {
  const out = { WebSocket: Connection, ...options };
  const { protocols, handleProtocols } = options;
  if (typeof handleProtocols === 'function') {
    out.handleProtocols = (set, request) => handleProtocols([...set], request) || false;
  } else if (protocols) {
    out.handleProtocols = (set) => [...set].find((p) => protocols.includes(p)) ?? false;
  } else {
    out.handleProtocols = () => false;
  }
  return out;
}

/**
 * A WebSocketServer handing out Connections, with `listening` (a promise of the bound address,
 * also when the http server given as `server` starts listening later) and close() that ends
 * every connection with 1001 and resolves once all is closed.
 */
export class ConnectionServer extends WebSocketServer {
  #listening;

  constructor(options = {}) {
    const withDefaults = convenienceServerOptions(options);
    if (withDefaults.port == null && !withDefaults.server && !withDefaults.noServer) withDefaults.port = 0;
    if (withDefaults.host == null && withDefaults.port != null) withDefaults.host = '127.0.0.1';
    super(withDefaults);
    // A listen error rejects `listening` (and is kept in `failure`) instead of going unheard.
    this.failure = null;
    this.on('error', (err) => (this.failure ??= err));
    this.#listening = this._listener ? this._listener.listening() : Promise.resolve(null);
    this.#listening.catch(() => {});
  }

  /** Resolves with the bound { address, port, family } once listening. */
  get listening() {
    return this.#listening;
  }

  /** Closes every connection with 1001 (going away), stops listening, resolves when done. */
  close(cb) {
    const closing = [...(this.clients ?? [])].map((c) => c.closed);
    this._closeAll(1001, 'server shutting down');
    const done = new Promise((resolve) => super.close(() => resolve()));
    return Promise.all([done, ...closing]).then(() => cb?.());
  }
}

export { codedError };
