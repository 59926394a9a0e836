// The ws-compatible WebSocket (ws 8's API: EventEmitter events, send/ping/pong/close/terminate,
// pause/resume, binaryType, readyState) with the WHATWG style on the same object
// (addEventListener, onmessage, MessageEvent, CloseEvent). The handshake steps are
// handshake.js's, the action loop connection.js's; a runtime file (node-adapter.js,
// deno-adapter.js) supplies `dial`, which opens a transport to a client target.
//
// Events are never emitted before the caller could listen: a client emits 'open' from a
// transport event (after the constructor returned), and the bytes that came with the 101 (or,
// on a server, with the upgrade request) reach the engine in the macrotask after 'open' or the
// 'connection' callback, as ws's socket.unshift(head) does.

import { EventEmitter, asBuffer, addWhatwgEvents, Buffer } from './events.js';
import { EngineConnection, k, toBytes, concat, now, ownCopy } from './connection.js';
import {
  beginClient,
  checkSubprotocols,
  clientTarget,
  codedError,
  engineProperties,
  readResponse,
} from './handshake.js';

const READY_STATES = ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'];
const BINARY_TYPES = ['nodebuffer', 'arraybuffer', 'fragments', 'blob'];
const textEncoder = new TextEncoder();

/** The runtime's socket layer, set by the entry point (node.js, deno.js). */
let runtime = null;
export function setRuntime(value) {
  runtime = value;
}

/** The macrotask after the current one (after every microtask, as socket data events come). */
export const nextMacrotask = typeof setImmediate === 'function' ? (fn) => setImmediate(fn) : (fn) => setTimeout(fn, 0);

/** ws's rule for a status a close frame may carry (RFC 6455 7.4.1, 7.4.2). */
export function isValidStatusCode(code) {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);
}

// Shared by every socket until it has its own (a zero-length array cannot be written to): an idle
// connection's memory is a few KiB, and two objects each were 250 bytes of it.
const NO_BYTES = new Uint8Array(0);
const NO_EXTENSIONS = Object.freeze([]);

function isBlob(data) {
  return typeof Blob !== 'undefined' && data instanceof Blob;
}

/**
 * Payload of what ws accepts for send/ping/pong: strings, numbers, buffers, views as bytes; a
 * Blob as itself (its bytes are read before it is sent, in order).
 */
function payloadBytes(data) {
  if (data === undefined || data === null) return new Uint8Array(0);
  if (typeof data === 'string') return textEncoder.encode(data);
  if (typeof data === 'number') return textEncoder.encode(String(data));
  if (isBlob(data)) return data;
  return toBytes(data);
}

/** Bytes a payload will send (0 for a close's { status, reason } or null). */
function payloadSize(payload) {
  if (isBlob(payload)) return payload.size;
  return payload instanceof Uint8Array ? payload.length : 0;
}

/** Runs `fn` after the current stack (process.nextTick where there is one). */
const soon = typeof process !== 'undefined' && typeof process.nextTick === 'function' ? (fn, ...a) => process.nextTick(fn, ...a) : (fn, ...a) => queueMicrotask(() => fn(...a));

export class WebSocket extends EventEmitter {
  _readyState = 0;
  _url = undefined;
  _protocol = '';
  _extensions = '';
  _agreedExtensions = NO_EXTENSIONS;
  _binaryType = 'nodebuffer';
  _isServer = false;
  _connection = null; // the EngineConnection once open
  _closeCode = 1006;
  _closeReason = NO_BYTES;
  _closeFrameReceived = false;
  _closeFrameSent = false;
  _errorEmitted = false;
  _paused = false;
  _bufferedAfterClose = 0;
  _fragmentIsBinary = null; // the type of the message being sent in fragments
  _client = null; // the client handshake in progress
  _redirects = 0;
  #waiting = null; // sends queued behind a Blob being read, or null
  #waitingBytes = 0;

  /**
   * new WebSocket(address, protocols?, options?) as ws: address ws://, wss://, http://, https://
   * or ws+unix:; protocols a string or an array; options ws's (handshakeTimeout, headers,
   * origin, maxPayload, skipUTF8Validation, followRedirects, maxRedirects, createConnection,
   * closeTimeout, tls options such as ca, cert, key, rejectUnauthorized, servername) and
   * wsaction's `properties` (engine properties) and `seed`.
   */
  constructor(address, protocols, options) {
    super();
    if (address === null) {
      // A server-side socket; the server calls _attach.
      this._isServer = true;
      return;
    }
    if (protocols === undefined) protocols = [];
    else if (!Array.isArray(protocols)) {
      if (typeof protocols === 'object' && protocols !== null) {
        options = protocols;
        protocols = [];
      } else protocols = [protocols];
    }
    this._options = { followRedirects: false, maxRedirects: 10, ...options };
    this._protocols = checkSubprotocols(protocols);
    const target = clientTarget(address);
    this._url = target.href;
    if (this._options.protocolVersion !== undefined && this._options.protocolVersion !== 13) {
      throw new RangeError(`Unsupported protocol version: ${this._options.protocolVersion} (supported versions: 13)`);
    }
    if (!runtime) throw new TypeError('wsaction: this runtime has no sockets; use the Node or Deno entry point');
    this.#startClient(target);
  }

  // ---------------------------------------------------------------- properties

  get binaryType() {
    return this._binaryType;
  }
  set binaryType(type) {
    if (BINARY_TYPES.includes(type)) this._binaryType = type;
  }
  /** Bytes sent but not yet written to the socket (and those sent after close, as ws counts). */
  get bufferedAmount() {
    return (this._connection?.bufferedAmount ?? 0) + this.#waitingBytes + this._bufferedAfterClose;
  }
  /**
   * The negotiated extensions as ws shows them: their names joined with ',' ('permessage-deflate'
   * when it was agreed), '' before the handshake or when none. The agreed parameters are the
   * handle's `extensions` (e.g. 'permessage-deflate; client_max_window_bits=15').
   */
  get extensions() {
    return this._extensions;
  }
  get isPaused() {
    return this._paused;
  }
  get protocol() {
    return this._protocol;
  }
  get readyState() {
    return this._readyState;
  }
  get url() {
    return this._url;
  }

  // ---------------------------------------------------------------- methods

  /**
   * Sends a message (or a fragment with { fin: false }). options: binary (default: data is not
   * a string), fin (default true), compress (default true: compressed when permessage-deflate
   * was negotiated, by its threshold; a fragmented message as its first fragment says) and mask
   * (accepted; the engine masks every client frame). cb(err) once written, or with why not.
   */
  send(data, options, cb) {
    if (this._readyState === WebSocket.CONNECTING) throw new Error('WebSocket is not open: readyState 0 (CONNECTING)');
    if (typeof options === 'function') {
      cb = options;
      options = {};
    }
    if (typeof data === 'number') data = String(data);
    if (this._readyState !== WebSocket.OPEN) {
      this.#sendAfterClose(data, cb);
      return;
    }
    const bytes = payloadBytes(data);
    const fin = options?.fin ?? true;
    let binary = options?.binary ?? typeof data !== 'string';
    // A fragmented message keeps the type of its first fragment (RFC 6455 5.4).
    if (this._fragmentIsBinary !== null) binary = this._fragmentIsBinary;
    this._fragmentIsBinary = fin ? null : binary;
    const t = k().BufferType;
    const type = binary ? (fin ? t.BINARY_MESSAGE : t.BINARY_FRAGMENT) : fin ? t.UTF8_MESSAGE : t.UTF8_FRAGMENT;
    this.#submit(type, bytes, cb ? (err) => (err ? cb(err) : cb()) : null, options?.compress ?? true);
  }

  /** Sends a ping (at most 125 bytes); the peer's pong comes as 'pong'. mask is accepted. */
  ping(data, mask, cb) {
    this.#control(k().BufferType.PING_PONG, data, mask, cb);
  }

  /** Sends an unsolicited pong (at most 125 bytes). */
  pong(data, mask, cb) {
    this.#control(k().BufferType.UNSOLICITED_PONG, data, mask, cb);
  }

  #control(type, data, mask, cb) {
    if (this._readyState === WebSocket.CONNECTING) throw new Error('WebSocket is not open: readyState 0 (CONNECTING)');
    if (typeof data === 'function') {
      cb = data;
      data = undefined;
    } else if (typeof mask === 'function') cb = mask;
    if (this._readyState !== WebSocket.OPEN) {
      this.#sendAfterClose(data, cb);
      return;
    }
    const bytes = payloadBytes(data);
    // RFC 6455 5.5: control frames carry at most 125 bytes.
    if (payloadSize(bytes) > 125) throw new RangeError('The data size must not be greater than 125 bytes');
    this.#submit(type, bytes, cb ? (err) => (err ? cb(err) : cb()) : null);
  }

  /**
   * Hands a send to the connection, or, while a Blob's bytes are being read, queues it behind
   * the Blob (ws's Sender keeps the same order): frames go out in the order of the calls.
   */
  #submit(type, payload, done, compress = true) {
    if (this.#waiting === null && !isBlob(payload)) {
      this._connection.send(type, payload, done, compress);
      return;
    }
    (this.#waiting ??= []).push({ type, payload, done, compress });
    this.#waitingBytes += payloadSize(payload);
    if (this.#waiting.length === 1) this.#sendWaiting();
  }

  async #sendWaiting() {
    const waiting = this.#waiting;
    while (waiting.length > 0) {
      const entry = waiting[0];
      if (isBlob(entry.payload)) {
        try {
          entry.payload = new Uint8Array(await entry.payload.arrayBuffer());
        } catch (err) {
          waiting.shift();
          this.#waitingBytes -= entry.payload.size;
          entry.done?.(err);
          continue;
        }
      }
      waiting.shift();
      this.#waitingBytes -= payloadSize(entry.payload);
      // Once finished, the connection refuses the send with its "closed" error.
      this._connection.send(entry.type, entry.payload, entry.done, entry.compress);
    }
    this.#waiting = null;
  }


  #sendAfterClose(data, cb) {
    if (data) this._bufferedAfterClose += payloadSize(payloadBytes(data));
    if (cb) {
      const state = this._readyState;
      soon(cb, new Error(`WebSocket is not open: readyState ${state} (${READY_STATES[state]})`));
    }
  }

  /**
   * Starts the closing handshake. As ws: a code must be one a close frame may carry
   * (1000-1014 but 1004, 1005, 1006; 3000-4999), else TypeError; a reason over 123 bytes is a
   * RangeError; both thrown before anything changes, so a later valid close() works.
   */
  close(code, data) {
    if (this._readyState === WebSocket.CLOSED) return;
    if (this._readyState === WebSocket.CONNECTING) {
      this.#abortHandshake(new Error('WebSocket was closed before the connection was established'));
      return;
    }
    let closeData = null;
    if (code !== undefined) {
      if (typeof code !== 'number' || !Number.isInteger(code) || !isValidStatusCode(code)) {
        throw new TypeError('First argument must be a valid error code number');
      }
      let reason = new Uint8Array(0);
      if (data !== undefined && data !== null && data.length !== 0) {
        if (typeof data === 'string') reason = textEncoder.encode(data);
        else if (data instanceof Uint8Array) reason = data;
        else throw new TypeError('Second argument must be a string or a Uint8Array');
        // RFC 6455 5.5: 2 status bytes + the reason fit a 125-byte control frame.
        if (reason.length > 123) throw new RangeError('The message must not be greater than 123 bytes');
      }
      closeData = { status: code, reason };
    }
    if (this._readyState === WebSocket.CLOSING) return;
    this._readyState = WebSocket.CLOSING;
    if (this._connection.closeSent) return;
    this._closeFrameSent = true;
    this.#submit(k().BufferType.CLOSE, closeData, null);
  }

  /** Ends the connection at once, without a closing handshake. */
  terminate() {
    if (this._readyState === WebSocket.CLOSED) return;
    if (this._readyState === WebSocket.CONNECTING) {
      this.#abortHandshake(new Error('WebSocket was closed before the connection was established'));
      return;
    }
    this._readyState = WebSocket.CLOSING;
    // No connection: the handshake was refused (an 'unexpected-response' listener ending it, as
    // ws's docs ask) and its close follows by itself.
    this._connection?.terminate();
  }

  /** Stops reading: no 'message' until resume(). */
  pause() {
    if (this._readyState === WebSocket.CONNECTING || this._readyState === WebSocket.CLOSED) return;
    this._paused = true;
    this._connection.pause();
  }

  resume() {
    if (this._readyState === WebSocket.CONNECTING || this._readyState === WebSocket.CLOSED) return;
    this._paused = false;
    this._connection.resume();
  }

  // ---------------------------------------------------------------- the client handshake

  #startClient(target) {
    const options = this._options;
    const begun = beginClient(target, this._protocols, options, this._engineProperties(options));
    const { handle, request } = begun;
    const client = { handle, target, received: new Uint8Array(0), transport: null, timer: null, done: false };
    this._client = client;
    if (this._redirects > 0) {
      this.emit('redirect', this._url, { method: 'GET', path: target.path, host: target.host, headers: Object.fromEntries(begun.headers) });
      if (this._client !== client) return; // the listener closed or terminated
    }
    const deadline = handle.nextDeadline();
    if (deadline !== null && deadline !== undefined) {
      const timedOut = () => this.#abortHandshake(codedError('Opening handshake has timed out', { code: 'TIMEOUT' }));
      client.timer = setTimeout(timedOut, Math.max(0, deadline - now()) + 1);
    }
    try {
      client.transport = runtime.dial(target, options);
    } catch (err) {
      soon(() => this.#abortHandshake(err));
      return;
    }
    client.transport.start({
      _input: (bytes) => this.#clientInput(client, bytes),
      _inputEnded: () => this.#abortHandshake(codedError('the connection closed during the handshake', { code: 'ECONNRESET' }), client),
      _writable: () => {},
      _transportError: (err) => this.#abortHandshake(err, client),
      _transportClosed: () => this.#abortHandshake(codedError('socket hang up', { code: 'ECONNRESET' }), client),
    });
    client.transport.write(request);
  }

  /** The engine properties for this socket's options (Connection keeps its adapter defaults). */
  _engineProperties(options) {
    return engineProperties(options);
  }

  #clientInput(client, bytes) {
    if (client.done || this._client !== client) return;
    client.received = client.received.length === 0 ? bytes : concat([client.received, bytes]);
    let head;
    try {
      head = readResponse(client.handle, client.received);
    } catch (err) {
      this.#abortHandshake(err, client);
      return;
    }
    if (head === null) return;
    const location = head.response.headers.location;
    if (head.status !== 101) {
      if (this._options.followRedirects && location && head.status >= 300 && head.status < 400) {
        this.#redirect(client, location);
        return;
      }
      this.#discardClient(client);
      if (this.listenerCount('unexpected-response') > 0) {
        this._readyState = WebSocket.CLOSING;
        const request = { method: 'GET', path: client.target.path, host: client.target.host };
        this.emit('unexpected-response', request, head.response);
        this.#emitClose();
      } else {
        this.#abortHandshake(codedError(`Unexpected server response: ${head.status}`, { code: 'UNEXPECTED_STATUS', httpStatus: head.status, httpHeaders: head.headers }));
      }
      return;
    }
    this.emit('upgrade', head.response);
    if (this._client !== client || this._readyState !== WebSocket.CONNECTING) return; // closed from 'upgrade'
    try {
      client.handle.endClientHandshake(head.headers);
    } catch (err) {
      this.#abortHandshake(err, client);
      return;
    }
    this.#endClient(client);
    this._attach(client.handle, client.transport, head.leftover, this._options);
    this.emit('open');
    this._releaseLater();
  }

  #redirect(client, location) {
    this.#discardClient(client);
    if (++this._redirects > this._options.maxRedirects) {
      this.#abortHandshake(new Error('Maximum redirects exceeded'));
      return;
    }
    let target;
    try {
      target = clientTarget(new URL(location, this._url));
    } catch (err) {
      this.#abortHandshake(err instanceof SyntaxError ? err : new SyntaxError(`Invalid URL: ${location}`));
      return;
    }
    const previous = clientTarget(this._url);
    this._url = target.href;
    if (target.hostHeader !== previous.hostHeader || (previous.secure && !target.secure)) {
      // As ws (and curl): credentials do not follow a redirect to another host or to plain text.
      const headers = Object.fromEntries(Object.entries(this._options.headers ?? {}).filter(([n]) => !['authorization', 'cookie', 'host'].includes(n.toLowerCase())));
      this._options = { ...this._options, headers };
    }
    try {
      this.#startClient(target);
    } catch (err) {
      this.#abortHandshake(err);
    }
  }

  #endClient(client) {
    client.done = true;
    clearTimeout(client.timer);
    if (this._client === client) this._client = null;
  }

  /** Ends a handshake that will not open: its timer, its socket and its handle. */
  #discardClient(client) {
    this.#endClient(client);
    client.transport?.destroy();
    try {
      client.handle.free();
    } catch {
      // freed already
    }
  }

  /** Fails the opening handshake: 'error' then 'close' (1006), as ws. */
  #abortHandshake(err, client = this._client) {
    if (this._readyState !== WebSocket.CONNECTING) return;
    if (client && client !== this._client) return;
    if (client) this.#discardClient(client);
    this._readyState = WebSocket.CLOSING;
    soon(() => {
      this._errorEmitted = true;
      this.#emitSafely('error', err);
      this.#emitClose();
    });
  }

  #emitClose() {
    this._readyState = WebSocket.CLOSED;
    this.#emitSafely('close', this._closeCode, this._closeArgument(this._closeReason));
  }

  // ---------------------------------------------------------------- the open connection

  /** Makes this socket open over `transport` with a handle whose handshake is done. */
  _attach(handle, transport, leftover, options = {}) {
    this._protocol = handle.subprotocol ?? '';
    // The agreed elements with their parameters, as the engine settled them (RFC 7692 7.1).
    const agreed = handle.extensions;
    if (agreed.length > 0) {
      this._agreedExtensions = agreed;
      this._extensions = agreed.map((element) => element.split(';')[0].trim()).join(',');
    }
    const connection = new EngineConnection(handle, transport, this, {
      leftover,
      closeGraceMs: options.closeGraceMs,
      writeHighWaterMark: options.writeHighWaterMark,
    });
    this._connection = connection;
    transport.start(connection);
    this._readyState = WebSocket.OPEN;
  }

  /** Feeds received bytes from the next macrotask on (see the file comment). */
  _releaseLater() {
    nextMacrotask(() => this._connection?.release());
  }

  /** The 'message' arguments for what arrived (ws: text as a Buffer, binary per binaryType). */
  _messageArguments(bytes, parts, isBinary) {
    if (!isBinary) return [asBuffer(bytes), false];
    switch (this._binaryType) {
      case 'arraybuffer':
        return [bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes.buffer : ownCopy(bytes).buffer, true];
      case 'fragments':
        return [parts.map(asBuffer), true];
      case 'blob':
        return [new Blob([bytes]), true];
      default:
        return [asBuffer(bytes), true];
    }
  }

  /** The 'close' reason argument (ws: a Buffer). */
  _closeArgument(reason) {
    return asBuffer(reason);
  }

  /** Emits without letting a throwing listener break the action loop (it throws on its own). */
  #emitSafely(event, ...args) {
    try {
      this.emit(event, ...args);
    } catch (err) {
      queueMicrotask(() => {
        throw err;
      });
    }
  }

  _emitSafely(event, ...args) {
    this.#emitSafely(event, ...args);
  }

  /** True when both close frames went: CloseEvent.wasClean. */
  _wasClean() {
    return this._closeFrameReceived && this._closeFrameSent;
  }

  _engineMessage(bytes, parts, isBinary) {
    this.#emitSafely('message', ...this._messageArguments(bytes, parts, isBinary));
  }

  _enginePong(bytes) {
    this.#emitSafely('pong', asBuffer(bytes));
  }

  /** A received ping (ws's 'ping' event); the engine has answered it unless autoPong is false. */
  _enginePing(bytes) {
    this.#emitSafely('ping', asBuffer(bytes));
  }

  _engineCloseFrame(code, reason) {
    this._closeFrameReceived = code !== k().CloseStatus.ABORTED;
    this._closeCode = code;
    this._closeReason = reason;
    if (this._readyState === WebSocket.OPEN) this._readyState = WebSocket.CLOSING;
    if (this._closeFrameReceived) this._closeFrameSent = true; // the connection answers it
  }

  _engineError(err) {
    if (this._readyState === WebSocket.OPEN) this._readyState = WebSocket.CLOSING;
    if (this._errorEmitted) return;
    this._errorEmitted = true;
    this._emitError(err);
  }

  /** Emits 'error' (ws: an unhandled 'error' throws, as EventEmitter does). */
  _emitError(err) {
    this.#emitSafely('error', err);
  }

  _engineFinished(result) {
    this._closeCode = result.code;
    this._closeReason = result.reason;
    this._closeFrameSent = this._closeFrameSent || this._connection?.closeSent;
    this._readyState = WebSocket.CLOSED;
    this._finished(result);
    this.#emitSafely('close', this._closeCode, this._closeArgument(this._closeReason));
  }

  /** A hook for subclasses: the connection is closed (before 'close' is emitted). */
  _finished() {}
}

for (const [i, name] of READY_STATES.entries()) {
  Object.defineProperty(WebSocket, name, { enumerable: true, value: i });
  Object.defineProperty(WebSocket.prototype, name, { enumerable: true, value: i });
}
for (const property of ['binaryType', 'bufferedAmount', 'extensions', 'isPaused', 'protocol', 'readyState', 'url']) {
  Object.defineProperty(WebSocket.prototype, property, { enumerable: true });
}
addWhatwgEvents(WebSocket);

export { Buffer };
