// A WebSocket connection over any byte transport, driven by a wsaction WebSocketHandle.
//
// This file holds no protocol logic: framing, masking, UTF-8 checks, ping answers, close rules
// and timers are the engine's. It moves bytes between a transport and the handle (through the
// handle's batched `drain`), queues the application's sends (websocket.h allows one outstanding
// send), turns indications into events, and closes the transport when the handle is done.
//
// A transport is `{ write(bytes) -> boolean, end(), destroy(), pause?(), resume?() }`; `write`
// returning false means "wait for drain". The adapter reports transport events by calling
// `connection._input(bytes)`, `_inputEnded()`, `_writable()`, `_transportError(err)` and
// `_transportClosed()`.

import { constants as engineConstants, wsActionErrorClass } from '../dist/wsaction.js';
import './fast.js'; // the handle's drain and sendAndDrain

let K = null; // the engine's constants, read on first use (after the wasm module is initialised)
function k() {
  return (K ??= engineConstants());
}

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();
const EMPTY = new Uint8Array(0);

export function now() {
  return Math.floor(performance.now());
}

/** Bytes of any binary value (Uint8Array, Buffer, ArrayBuffer, other views) as a Uint8Array. */
export function toBytes(data) {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (typeof SharedArrayBuffer !== 'undefined' && data instanceof SharedArrayBuffer) return new Uint8Array(data);
  throw new TypeError(`data must be a string, an ArrayBuffer or a typed array, got ${data === null ? 'null' : typeof data}`);
}

function concat(parts, total) {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

// Queued sends batched into one sendMany call: whole messages of one type, each at most
// BATCH_MESSAGE_BYTES, at most BATCH_BYTES and BATCH_MESSAGES in all (well below the 256 KiB at
// which #take writes out, so backpressure still stops sends between batches).
const BATCH_MESSAGE_BYTES = 16 * 1024;
const BATCH_BYTES = 64 * 1024;
const BATCH_MESSAGES = 256;

/** Adapter defaults: larger buffers than websocket.h's 4096 so a 64 KiB socket read is one call. */
export const DEFAULT_PROPERTIES = Object.freeze({
  receiveBufferSize: 64 * 1024,
  sendBufferSize: 256 * 1024,
});

/** A tiny event emitter that works the same in Node, Deno and browsers. */
class Emitter {
  #listeners = new Map();
  on(event, fn) {
    let list = this.#listeners.get(event);
    if (!list) this.#listeners.set(event, (list = []));
    list.push(fn);
    return this;
  }
  once(event, fn) {
    const wrapper = (...args) => {
      this.off(event, wrapper);
      fn(...args);
    };
    wrapper.listener = fn;
    return this.on(event, wrapper);
  }
  off(event, fn) {
    const list = this.#listeners.get(event);
    if (list) {
      const i = list.findIndex((l) => l === fn || l.listener === fn);
      if (i >= 0) list.splice(i, 1);
    }
    return this;
  }
  emit(event, ...args) {
    const list = this.#listeners.get(event);
    if (!list || list.length === 0) return false;
    for (const fn of [...list]) {
      try {
        fn(...args);
      } catch (err) {
        // A throwing listener must not break the engine's action loop; report it.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
    return true;
  }
  listenerCount(event) {
    return this.#listeners.get(event)?.length ?? 0;
  }
}

/**
 * One WebSocket connection. Events: 'message' (data: string | Uint8Array, isBinary),
 * 'pong' (Uint8Array), 'error' (WsActionError or transport error), 'close' (code, reason).
 * Also an async iterator of `{ data, isBinary }`.
 */
export class Connection extends Emitter {
  #handle;
  #transport;
  #options;
  #inbox = [];
  #receiveId = 0;
  #receiveCapacity = 0;
  #inputEnded = false;
  #pumping = false;
  #repump = false;
  #sendQueue = [];
  #blocked = false;
  #parts = [];
  #partsBytes = 0;
  #timer = null;
  #destroyTimer = null;
  #ending = false;
  #finished = false;
  #closeReceived = false;
  #closeSent = false;
  #closeCode = null;
  #closeReason = '';
  #failure = null;
  #iteratorQueue = [];
  #iteratorWaiters = [];
  #iterating = false;
  #paused = false;
  #closedPromise;
  #resolveClosed;

  /**
   * @param handle a WebSocketHandle whose handshake is done (state OPEN)
   * @param transport see the file comment
   * @param options { leftover?: Uint8Array (bytes read past the HTTP head), closeGraceMs?: number }
   */
  constructor(handle, transport, options = {}) {
    super();
    this.#handle = handle;
    this.#transport = transport;
    this.#options = options;
    this.#closedPromise = new Promise((resolve) => (this.#resolveClosed = resolve));
    if (options.leftover && options.leftover.length) this.#inbox.push(options.leftover);
    handle.tick(now());
    handle.receive();
    queueMicrotask(() => this.#pump());
  }

  /** The negotiated subprotocol ('' when none, as in the browser API). */
  get protocol() {
    return this.#handle ? this.#handle.subprotocol ?? '' : this.#protocolAtEnd ?? '';
  }
  #protocolAtEnd = null;

  /** The engine state name: 'open', 'close-sent', 'close-received', 'closed', 'aborted'. */
  get state() {
    return this.#finished ? 'closed' : this.#handle.stateName;
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
    return this.#failure;
  }
  /** Bytes queued by send() that the engine has not taken yet. */
  get bufferedAmount() {
    let n = 0;
    for (const s of this.#sendQueue) n += s.data ? s.data.length : 0;
    return n;
  }
  /** Resolves with { code, reason } when the transport is closed. */
  get closed() {
    return this.#closedPromise;
  }

  /**
   * Sends a message, or a fragment of one with { fin: false } (the next sends continue it; the
   * one with fin true, the default, ends it). Strings are text, binary values binary, unless
   * { binary } says otherwise. Resolves when the engine has handed the frame to the transport.
   */
  send(data, options = {}) {
    let bytes;
    let text;
    if (typeof data === 'string') {
      bytes = textEncoder.encode(data);
      text = options.binary !== true;
    } else {
      bytes = toBytes(data);
      text = options.binary === false || options.text === true;
    }
    const fin = options.fin !== false;
    const t = k().BufferType;
    const type = text ? (fin ? t.UTF8_MESSAGE : t.UTF8_FRAGMENT) : fin ? t.BINARY_MESSAGE : t.BINARY_FRAGMENT;
    return this.#queue(type, bytes);
  }

  /** Sends a ping (payload at most 125 bytes); the peer's pong comes as a 'pong' event. */
  ping(data = EMPTY) {
    return this.#queue(k().BufferType.PING_PONG, typeof data === 'string' ? textEncoder.encode(data) : toBytes(data));
  }

  /** Sends an unsolicited pong. */
  pong(data = EMPTY) {
    return this.#queue(k().BufferType.UNSOLICITED_PONG, typeof data === 'string' ? textEncoder.encode(data) : toBytes(data));
  }

  /**
   * Starts the closing handshake with a status (default 1000; 1005 or undefined with no reason
   * sends no status) and a reason (at most 123 bytes of UTF-8). Resolves with the peer's
   * { code, reason } once the transport is closed.
   */
  close(code = 1000, reason = '') {
    if (!this.#closeSent && !this.#finished) {
      this.#closeSent = true;
      const p = this.#queue(k().BufferType.CLOSE, code === 1005 ? null : { status: code, reason });
      p.catch(() => {});
    }
    return this.#closedPromise;
  }

  /** Ends the connection at once without a closing handshake (the handle aborts). */
  terminate() {
    if (this.#finished) return;
    if (!this.#ending) {
      this.#handle.abort();
      this.#pump();
    }
    this.#endTransport(true);
  }

  #queue(type, data) {
    let entry;
    const promise = new Promise((resolve, reject) => (entry = { type, data, resolve, reject }));
    promise.catch(() => {}); // a caller that ignores the promise must not crash the process
    if (this.#finished) {
      entry.reject(new Error('the connection is closed'));
      return promise;
    }
    this.#sendQueue.push(entry);
    this.#pump();
    return promise;
  }

  // ---------------------------------------------------------------- transport events

  _input(bytes) {
    if (this.#finished || bytes.length === 0) return;
    this.#inbox.push(bytes);
    this.#pump();
  }

  _inputEnded() {
    this.#inputEnded = true;
    this.#pump();
  }

  _writable() {
    this.#blocked = false;
    this.#pump();
  }

  _transportError(err) {
    if (!this.#failure) this.#failure = err;
    this.emit('error', err);
    if (!this.#finished && this.#handle) {
      this.#handle.abort();
      this.#pump();
    }
    this.#endTransport(true);
  }

  _transportClosed() {
    this.#finish();
  }

  // ---------------------------------------------------------------- the action loop

  #pump() {
    if (this.#finished) return;
    if (this.#pumping) {
      this.#repump = true;
      return;
    }
    this.#pumping = true;
    const handle = this.#handle;
    try {
      do {
        this.#repump = false;
        this.#drain();
        // Feed bytes while the engine holds a receive.
        while (this.#receiveId !== 0 && this.#inbox.length > 0 && !this.#paused) {
          const chunk = this.#inbox[0];
          const n = Math.min(chunk.length, this.#receiveCapacity);
          const id = this.#receiveId;
          this.#receiveId = 0;
          if (n === chunk.length) {
            this.#inbox.shift();
            handle.completeReceive(id, chunk);
          } else {
            this.#inbox[0] = chunk.subarray(n);
            handle.completeReceive(id, chunk.subarray(0, n));
          }
          this.#drain();
        }
        if (this.#inputEnded && this.#inbox.length === 0 && this.#receiveId !== 0) {
          const id = this.#receiveId;
          this.#receiveId = 0;
          handle.completeReceive(id, EMPTY);
          this.#drain();
        }
        // Start queued sends while the transport takes bytes.
        while (this.#sendQueue.length > 0 && !this.#blocked) {
          const batch = this.#batch();
          if (batch !== null) {
            this.#sendBatch(batch);
            continue;
          }
          const entry = this.#sendQueue.shift();
          let result;
          try {
            result = handle.sendAndDrain(entry.type, entry.data, true);
          } catch (err) {
            entry.reject(err);
            continue;
          }
          this.#inFlight.push(entry);
          this.#take(result);
        }
      } while (this.#repump && !this.#finished);
    } catch (err) {
      // An error here is a bug in this file or the engine, not the peer's: fail loudly but safely.
      this.#failure ??= err;
      this.emit('error', err);
      try {
        handle.abort();
      } catch {}
      this.#endTransport(true);
    } finally {
      this.#pumping = false;
    }
    this.#flush();
    if (!this.#finished) this.#afterPump();
  }

  #inFlight = [];

  /**
   * The queued whole messages of one type at the head of the queue (small ones, at most
   * BATCH_BYTES in all) when there are two or more: they go to the engine in one sendMany call.
   */
  #batch() {
    const queue = this.#sendQueue;
    const type = queue[0].type;
    const t = k().BufferType;
    if (queue.length < 2 || (type !== t.BINARY_MESSAGE && type !== t.UTF8_MESSAGE)) return null;
    let n = 0;
    let bytes = 0;
    while (n < queue.length && n < BATCH_MESSAGES && queue[n].type === type) {
      const size = queue[n].data.length;
      if (size > BATCH_MESSAGE_BYTES || bytes + size > BATCH_BYTES) break;
      bytes += size;
      n++;
    }
    return n >= 2 ? queue.splice(0, n) : null;
  }

  /** Sends a batch; what the engine refused is rejected, what it did not reach is queued again. */
  #sendBatch(batch) {
    let result;
    try {
      result = this.#handle.sendMany(batch[0].type, batch.map((entry) => entry.data), true);
    } catch (err) {
      // Nothing was sent: the first message was refused.
      batch[0].reject(err);
      this.#sendQueue.unshift(...batch.slice(1));
      return;
    }
    this.#take(result);
    // Each sent message's frame is in result.out (completed as written): as sendAndDrain's
    // INDICATE_SEND_COMPLETE does, that resolves its promise.
    for (let i = 0; i < result.sent; i++) batch[i].resolve();
    if (result.sent < batch.length) {
      batch[result.sent].reject(result.sendError);
      this.#sendQueue.unshift(...batch.slice(result.sent + 1));
    }
  }

  // Outgoing bytes of one pump are written together: many small frames become one write.
  #pending = [];
  #pendingBytes = 0;

  #flush() {
    const parts = this.#pending;
    if (parts.length === 0 || this.#finished) return;
    const bytes = parts.length === 1 ? parts[0] : concat(parts, this.#pendingBytes);
    this.#pending = [];
    this.#pendingBytes = 0;
    if (this.#transport.write(bytes) === false) this.#blocked = true;
  }

  #drain() {
    this.#take(this.#handle.drain(true));
  }

  #take(r) {
    if (r.out.length > 0) {
      this.#pending.push(r.out);
      this.#pendingBytes += r.out.length;
      // Large output goes at once, so backpressure (write() returning false) stops further sends.
      if (this.#pendingBytes >= 256 * 1024) this.#flush();
    }
    if (r.receiveId !== 0) {
      this.#receiveId = r.receiveId;
      this.#receiveCapacity = r.receiveCapacity;
    }
    const ev = r.events;
    for (let i = 0; i < ev.length; i += 6) {
      const kind = ev[i];
      if (kind === 2) {
        const entry = this.#inFlight.shift();
        if (entry) entry.resolve();
      } else {
        this.#indication(ev[i + 1], ev[i + 2], r.payload.subarray(ev[i + 4], ev[i + 5]));
      }
    }
    if (r.error && !this.#failure) {
      this.#failure = r.error;
      this.emit('error', r.error);
    }
    // A peer violation: its failing close waits in the engine behind the replies to the messages
    // just delivered (queued by the handlers above); pump once more so they and then the close go.
    if (r.error) this.#repump = true;
  }

  #indication(bufferType, closeStatus, bytes) {
    const t = k().BufferType;
    switch (bufferType) {
      case t.UTF8_FRAGMENT:
      case t.BINARY_FRAGMENT:
        this.#parts.push(bytes);
        this.#partsBytes += bytes.length;
        break;
      case t.UTF8_MESSAGE:
      case t.BINARY_MESSAGE: {
        let whole = bytes;
        if (this.#parts.length > 0) {
          this.#parts.push(bytes);
          whole = concat(this.#parts, this.#partsBytes + bytes.length);
          this.#parts = [];
          this.#partsBytes = 0;
        }
        const isBinary = bufferType === t.BINARY_MESSAGE;
        // The engine has validated the UTF-8 already; decoding cannot meet an invalid sequence.
        const data = isBinary ? whole : textDecoder.decode(whole);
        this.emit('message', data, isBinary);
        if (this.#iterating) this.#deliver({ data, isBinary });
        break;
      }
      case t.PING_PONG:
        this.emit('pong', bytes);
        break;
      case t.CLOSE: {
        this.#closeReceived = true;
        this.#closeCode = closeStatus;
        this.#closeReason = textDecoder.decode(bytes);
        const abnormal = closeStatus === k().CloseStatus.ABORTED;
        if (!this.#closeSent && !abnormal) {
          // Answer the peer's close with its own status and reason (RFC 6455 5.5.1, as ws does),
          // after the data already queued (the engine still sends data in close-received).
          this.#closeSent = true;
          const echo = closeStatus === k().CloseStatus.EMPTY ? null : { status: closeStatus, reason: bytes.slice() };
          this.#queue(t.CLOSE, echo);
        }
        break;
      }
      default:
        break;
    }
  }

  #afterPump() {
    const handle = this.#handle;
    const state = handle.state;
    const S = k().State;
    if (state === S.CLOSED || state === S.ABORTED) {
      // Anything still queued can never be sent.
      for (const entry of this.#sendQueue.splice(0)) entry.reject(new Error('the connection is closed'));
      if (!handle.failure && this.#failure === null) {
        // clean
      } else if (!this.#failure) {
        this.#failure = handle.failure;
      }
      this.#endTransport(false);
      return;
    }
    this.#schedule();
  }

  #schedule() {
    const deadline = this.#handle.nextDeadline();
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    if (deadline === null || deadline === undefined) return;
    const delay = Math.max(0, deadline - now());
    this.#timer = setTimeout(() => {
      this.#timer = null;
      if (this.#finished) return;
      this.#handle.tick(now());
      this.#pump();
    }, delay + 1);
  }

  #endTransport(force) {
    if (!force) this.#flush();
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    if (force) {
      this.#transport.destroy();
      this.#finish();
      return;
    }
    if (this.#ending) return;
    this.#ending = true;
    this.#transport.end();
    // A peer that never closes its side does not keep the socket open.
    const grace = this.#options.closeGraceMs ?? 2000;
    this.#destroyTimer = setTimeout(() => {
      this.#transport.destroy();
      this.#finish();
    }, grace);
  }

  #finish() {
    if (this.#finished) return;
    if (this.#destroyTimer !== null) clearTimeout(this.#destroyTimer);
    if (this.#timer !== null) clearTimeout(this.#timer);
    const handle = this.#handle;
    if (handle.state !== k().State.CLOSED && handle.state !== k().State.ABORTED) {
      handle.abort();
    }
    if (this.#closeCode === null) this.#closeCode = k().CloseStatus.ABORTED;
    if (!this.#failure && handle.failure) this.#failure = handle.failure;
    this.#protocolAtEnd = handle.subprotocol;
    this.#finished = true;
    // Release the engine's buffers now rather than at garbage collection.
    this.#handle = null;
    handle.free();
    for (const entry of this.#sendQueue.splice(0)) entry.reject(new Error('the connection is closed'));
    for (const entry of this.#inFlight.splice(0)) entry.reject(new Error('the connection is closed'));
    const result = { code: this.#closeCode, reason: this.#closeReason, wasClean: this.#closeReceived && this.#closeSent && this.#closeCode !== k().CloseStatus.ABORTED };
    this.emit('close', result.code, result.reason);
    this.#resolveClosed(result);
    for (const w of this.#iteratorWaiters.splice(0)) w.resolve({ value: undefined, done: true });
  }

  // ---------------------------------------------------------------- async iteration

  #deliver(message) {
    const waiter = this.#iteratorWaiters.shift();
    if (waiter) {
      waiter.resolve({ value: message, done: false });
      return;
    }
    this.#iteratorQueue.push(message);
    if (this.#iteratorQueue.length >= 64 && !this.#paused) {
      // The consumer is behind: stop feeding the engine (and reading) until it catches up.
      this.#paused = true;
      this.#transport.pause?.();
    }
  }

  [Symbol.asyncIterator]() {
    this.#iterating = true;
    return {
      next: () => {
        if (this.#iteratorQueue.length > 0) {
          const value = this.#iteratorQueue.shift();
          if (this.#paused && this.#iteratorQueue.length < 16) {
            this.#paused = false;
            this.#transport.resume?.();
            queueMicrotask(() => this.#pump());
          }
          return Promise.resolve({ value, done: false });
        }
        if (this.#finished) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => this.#iteratorWaiters.push({ resolve, reject }));
      },
      return: () => {
        this.#iterating = false;
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }
}

/** The WsActionError class (after the wasm module is initialised). */
export function errorClass() {
  return wsActionErrorClass();
}

/** The request head a client writes: initial headers (minus those the engine sets) + the engine's. */
export function clientRequestHeaders(hostHeader, userHeaders, engineHeaders) {
  const set = new Set(engineHeaders.map(([n]) => n.toLowerCase()));
  set.add('host');
  const headers = [['Host', hostHeader]];
  for (const [n, v] of userHeaders) if (!set.has(n.toLowerCase())) headers.push([n, v]);
  for (const h of engineHeaders) headers.push(h);
  return headers;
}

/** `headers` given as an object or as [name, value] pairs, as pairs. */
export function headerPairs(headers) {
  if (!headers) return [];
  if (Array.isArray(headers)) return headers.map(([n, v]) => [String(n), String(v)]);
  const out = [];
  for (const [n, v] of Object.entries(headers)) {
    if (Array.isArray(v)) for (const item of v) out.push([n, String(item)]);
    else out.push([n, String(v)]);
  }
  return out;
}

/** Chooses the server's subprotocol: the first the client offers that the server supports. */
export function chooseSubprotocol(offered, supported, handleProtocols) {
  if (typeof handleProtocols === 'function') {
    const choice = handleProtocols(offered);
    return choice ? String(choice) : null;
  }
  if (!supported) return null;
  for (const p of offered) if (supported.includes(p)) return p;
  return null;
}
