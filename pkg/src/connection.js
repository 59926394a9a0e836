// The action loop of one open connection: moves bytes between a transport and a wsaction
// WebSocketHandle (through the handle's batched `drain`, `sendAndDrain` and `sendMany`), queues the
// application's sends (websocket.h allows one outstanding send), and tells its owner (a user
// class: WebSocket, Connection) what arrived. It holds no protocol logic: framing, masking,
// UTF-8 checks, ping answers, close rules and timers are the engine's.
//
// A transport is `{ start(sink), write(bytes) -> boolean, end(), destroy(), pause?(), resume?(),
// bufferedAmount?() }`; `write` returning false means "wait for `_writable()`". The runtime file
// reports transport events to the sink given to `start` (the handshake's reader first, then this
// class) by calling `_input(bytes)`, `_inputEnded()`, `_writable()`, `_transportError(err)` and
// `_transportClosed()`.
//
// Nothing is fed to the engine before `release()`: the owner releases the input once the caller
// could have attached listeners (the macrotask after 'open' or the 'connection' callback), so
// bytes that came with the 101 or the upgrade request are not turned into events nobody hears.
//
// Owner hooks: `_engineMessage(bytes, parts, isBinary)`, `_enginePong(bytes)`,
// `_engineCloseFrame(code, reasonBytes)`, `_engineError(err)`, `_engineFinished(result)`.

// k(): the engine's constants (read on first use, after the wasm module is initialised).
import { engineConstants as k } from './values.js';
import './fast.js'; // the handle's drain, sendAndDrain and sendMany
import { instanceOf } from './pool.js';
import { engineTrappedError } from './fast.js';

export { k };

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

/**
 * A copy of `bytes` in an ArrayBuffer of its own: Uint8Array's slice, since on a Buffer (messages
 * are handed on as Buffers, and on Node the engine's results lie in Node's Buffer pool) slice()
 * shares the memory.
 */
export function ownCopy(bytes) {
  return Uint8Array.prototype.slice.call(bytes);
}

export function concat(parts, total) {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(total ?? parts.reduce((n, p) => n + p.length, 0));
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

/**
 * Read backpressure: while more than this many bytes wait to be written (queued sends, output
 * not yet handed over, and what the transport still holds), the connection stops reading its
 * transport and feeding the engine, and reads again once they fall to half of it. A peer that
 * sends without reading its answers is then held back by TCP instead of growing our memory
 * (the wasmtime host stops reading after a few MiB the same way). Values below
 * MIN_WRITE_HIGH_WATER_MARK count as it: the transports signal a drain only above their own
 * buffering (Node's socket: 16 KiB).
 */
export const DEFAULT_WRITE_HIGH_WATER_MARK = 1024 * 1024;
export const MIN_WRITE_HIGH_WATER_MARK = 64 * 1024;

/** Adapter defaults: larger buffers than websocket.h's 4096 so a 64 KiB socket read is one call. */
export const DEFAULT_PROPERTIES = Object.freeze({
  receiveBufferSize: 64 * 1024,
  sendBufferSize: 256 * 1024,
  // ws emits 'ping' for every received ping; the engine still answers unless autoPong is false.
  indicatePings: true,
});

/** The handle's failure, or null (also when the handle cannot say). */
function handleFailure(handle) {
  try {
    return handle.failure ?? null;
  } catch {
    return null;
  }
}

function closedError() {
  return Object.assign(new Error('the connection is closed'), { code: 'CLOSED' });
}

/** A close frame with status 1011 (RFC 6455 5.5.1, 7.4.1), for when the engine is gone. */
function internalErrorCloseFrame(isServer) {
  if (isServer) return new Uint8Array([0x88, 0x02, 0x03, 0xf3]);
  // A client's frame is masked (RFC 6455 5.3).
  const mask = crypto.getRandomValues(new Uint8Array(4));
  return new Uint8Array([0x88, 0x82, ...mask, 0x03 ^ mask[0], 0xf3 ^ mask[1]]);
}

export class EngineConnection {
  #handle;
  // The engine instance the handle lives in (pool.js); null for a handle of an unknown one.
  #instance;
  #isServer;
  #instanceGone = false;
  #transport;
  #owner;
  #closeGraceMs;
  #inbox = [];
  #receiveId = 0;
  #receiveCapacity = 0;
  #inputEnded = false;
  #held = true;
  #paused = false;
  // Reading stopped because too much waits to be written (see DEFAULT_WRITE_HIGH_WATER_MARK).
  #readBlocked = false;
  #writeHighWaterMark;
  #pumping = false;
  #repump = false;
  #sendQueue = [];
  #queuedBytes = 0;
  #inFlight = [];
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
  #closeReason = EMPTY;
  #failure = null;
  #protocol = '';
  // Outgoing bytes of one pump are written together: many small frames become one write.
  #pending = [];
  #pendingBytes = 0;
  // What the engine refused when the connection started (see the constructor).
  #startError = null;

  /**
   * @param handle a WebSocketHandle whose handshake is done (state OPEN)
   * @param transport see the file comment
   * @param owner the user object hearing the hooks (see the file comment)
   * @param options { leftover?: Uint8Array (bytes read past the HTTP head), closeGraceMs?: number,
   *   writeHighWaterMark?: number (bytes; see DEFAULT_WRITE_HIGH_WATER_MARK) }
   */
  constructor(handle, transport, owner, options = {}) {
    this.#handle = handle;
    this.#transport = transport;
    this.#owner = owner;
    this.#closeGraceMs = options.closeGraceMs ?? 2000;
    this.#writeHighWaterMark = Math.max(MIN_WRITE_HIGH_WATER_MARK, options.writeHighWaterMark ?? DEFAULT_WRITE_HIGH_WATER_MARK);
    this.#protocol = handle.subprotocol ?? '';
    this.#isServer = handle.role === 'server';
    this.#instance = instanceOf(handle);
    this.#instance?.connections.add(this);
    if (options.leftover && options.leftover.length) this.#inbox.push(options.leftover);
    try {
      handle.tick(now());
      handle.receive();
    } catch (err) {
      // Reported once the owner's listeners are attached (release), never thrown at the caller
      // (a socket's data handler or the server's upgrade flow).
      this.#startError = err;
    }
  }

  /** Starts feeding received bytes to the engine (see the file comment). */
  release() {
    if (!this.#held) return;
    this.#held = false;
    if (this.#startError) {
      this.#internalFailure(this.#startError);
      return;
    }
    this.#pump();
  }

  /** The negotiated subprotocol ('' when none). */
  get protocol() {
    return this.#protocol;
  }
  /** The engine state name: 'open', 'close-sent', 'close-received', 'closed', 'aborted'. */
  get state() {
    if (this.#instanceGone) return this.#finished ? 'closed' : 'aborted';
    return this.#finished ? 'closed' : this.#handle.stateName;
  }
  get finished() {
    return this.#finished;
  }
  get closeSent() {
    return this.#closeSent;
  }
  get closeReceived() {
    return this.#closeReceived;
  }
  /** Why the connection failed (a peer violation, a timer, a transport error), or null. */
  get failure() {
    return this.#failure;
  }
  /** Bytes queued that the engine has not taken yet, plus what the transport still holds. */
  get bufferedAmount() {
    return this.#queuedBytes + this.#pendingBytes + (this.#transport.bufferedAmount?.() ?? 0);
  }

  /**
   * Queues a send of `type` (a websocket.h buffer type) with `data` (bytes, or CLOSE's
   * { status, reason } / null); `done(err)` is called once the frame went to the transport, or
   * with the error that refused it. `compress` (ws's per-send option, default true): whether a
   * data message goes out compressed when permessage-deflate was negotiated.
   */
  send(type, data, done, compress = true) {
    if (this.#finished || this.#instanceGone) {
      done?.(closedError());
      return;
    }
    if (type === k().BufferType.CLOSE) this.#closeSent = true;
    const size = data instanceof Uint8Array ? data.length : 0;
    this.#queuedBytes += size;
    this.#sendQueue.push({ type, data, size, done, compress });
    this.#pump();
  }

  /** Stops feeding the engine and reading the transport. */
  pause() {
    if (this.#paused || this.#finished) return;
    this.#paused = true;
    if (!this.#readBlocked) this.#transport.pause?.();
  }

  /** Feeds the engine and reads the transport again (unless writes hold reading back). */
  resume() {
    if (!this.#paused || this.#finished) return;
    this.#paused = false;
    if (!this.#readBlocked) this.#transport.resume?.();
    this.#pump();
  }

  /** Whether reading is held back because too much waits to be written. */
  get readBlocked() {
    return this.#readBlocked;
  }

  /**
   * Stops reading above the write high-water mark and reads again at half of it (called after
   * every pump: the transport's `_writable()` pumps once its writes drain).
   */
  #applyBackpressure() {
    const buffered = this.bufferedAmount;
    if (!this.#readBlocked && buffered > this.#writeHighWaterMark) {
      this.#readBlocked = true;
      if (!this.#paused) this.#transport.pause?.();
    } else if (this.#readBlocked && buffered <= this.#writeHighWaterMark / 2) {
      this.#readBlocked = false;
      if (!this.#paused) {
        this.#transport.resume?.();
        this.#pump();
      }
    }
  }

  /** Ends the connection at once without a closing handshake (the handle aborts). */
  terminate() {
    if (this.#finished) return;
    if (!this.#ending && !this.#instanceGone) {
      this.#abortHandle();
      this.#pump();
    }
    this.#endTransport(true);
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
    if (this.#finished) return;
    if (!this.#failure) {
      this.#failure = err;
      this.#owner._engineError(err);
    }
    if (!this.#finished && this.#handle && !this.#instanceGone) {
      this.#abortHandle();
      this.#pump();
    }
    this.#endTransport(true);
  }

  _transportClosed() {
    this.#finish();
  }

  // ---------------------------------------------------------------- the action loop

  #pump() {
    if (this.#finished || this.#instanceGone) return;
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
        const feeding = !this.#held && !this.#paused && !this.#readBlocked;
        // Feed bytes while the engine holds a receive.
        while (feeding && this.#receiveId !== 0 && this.#inbox.length > 0 && !this.#paused && !this.#readBlocked) {
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
          if (this.#finished) return;
        }
        if (feeding && this.#inputEnded && this.#inbox.length === 0 && this.#receiveId !== 0) {
          const id = this.#receiveId;
          this.#receiveId = 0;
          handle.completeReceive(id, EMPTY);
          this.#drain();
        }
        // Start queued sends while the transport takes bytes.
        while (this.#sendQueue.length > 0 && !this.#blocked && !this.#finished) {
          const batch = this.#batch();
          if (batch !== null) {
            this.#sendBatch(batch);
            continue;
          }
          const entry = this.#sendQueue.shift();
          this.#queuedBytes -= entry.size;
          let result;
          try {
            result = handle.sendAndDrain(entry.type, entry.data, true, entry.compress);
          } catch (err) {
            if (err instanceof WebAssembly.RuntimeError) throw err; // a trap: see #pump's catch
            entry.done?.(err);
            if (err?.code === 'OUT_OF_MEMORY') this.#failForMemory(err);
            continue;
          }
          this.#inFlight.push(entry);
          this.#take(result);
        }
      } while (this.#repump && !this.#finished);
    } catch (err) {
      if (err instanceof WebAssembly.RuntimeError) {
        // A trap: the whole instance is unusable (pool.js); this connection is failed with it.
        this.#pumping = false;
        this.#trapped(err);
        return;
      }
      // Still marked pumping: a listener of the 'error' this emits does not re-enter the loop.
      this.#internalFailure(err);
      return;
    } finally {
      this.#pumping = false;
    }
    this.#flush();
    if (this.#finished) return;
    try {
      this.#afterPump();
      if (!this.#finished) this.#applyBackpressure();
    } catch (err) {
      this.#internalFailure(err);
    }
  }

  /**
   * An error from the engine or this file, met in a socket or timer callback: it is not the
   * peer's, and it must not escape the callback (a process crash on Node and Deno). A trap fails
   * every connection of its wasm instance (#trapped); anything else fails this connection alone
   * ('error' once, then 'close' 1006); other connections go on.
   */
  #internalFailure(err) {
    if (this.#finished) return;
    if (err instanceof WebAssembly.RuntimeError) {
      this.#trapped(err);
      return;
    }
    if (!this.#failure) {
      this.#failure = err;
      this.#owner._engineError(err);
    }
    this.#abortHandle();
    this.#endTransport(true);
  }

  /** Aborts the handle (WebSocketAbortHandle); a handle already gone is not an error. */
  #abortHandle() {
    if (this.#instanceGone) return; // a poisoned instance is never called again
    try {
      this.#handle?.abort();
    } catch {
      // aborted or freed already
    }
  }

  /**
   * The queued whole messages of one type at the head of the queue (small ones, at most
   * BATCH_BYTES in all) when there are two or more: they go to the engine in one sendMany call.
   */
  #batch() {
    const queue = this.#sendQueue;
    const { type, compress } = queue[0];
    const t = k().BufferType;
    if (queue.length < 2 || (type !== t.BINARY_MESSAGE && type !== t.UTF8_MESSAGE)) return null;
    let n = 0;
    let bytes = 0;
    while (n < queue.length && n < BATCH_MESSAGES && queue[n].type === type && queue[n].compress === compress) {
      const size = queue[n].size;
      if (size > BATCH_MESSAGE_BYTES || bytes + size > BATCH_BYTES) break;
      bytes += size;
      n++;
    }
    if (n < 2) return null;
    this.#queuedBytes -= bytes;
    return queue.splice(0, n);
  }

  /** Sends a batch; what the engine refused is refused, what it did not reach is queued again. */
  #sendBatch(batch) {
    let result;
    const requeue = (entries) => {
      for (const e of entries) this.#queuedBytes += e.size;
      this.#sendQueue.unshift(...entries);
    };
    try {
      result = this.#handle.sendMany(batch[0].type, batch.map((entry) => entry.data), true, batch[0].compress);
    } catch (err) {
      if (err instanceof WebAssembly.RuntimeError) throw err; // a trap: see #pump's catch
      // Nothing was sent: the first message was refused.
      batch[0].done?.(err);
      requeue(batch.slice(1));
      if (err?.code === 'OUT_OF_MEMORY') this.#failForMemory(err);
      return;
    }
    this.#take(result);
    // Each sent message's frame is in result.out (completed as written): as sendAndDrain's
    // INDICATE_SEND_COMPLETE does, that completes it.
    for (let i = 0; i < result.sent; i++) batch[i].done?.(null);
    if (result.sent < batch.length) {
      batch[result.sent].done?.(result.sendError);
      requeue(batch.slice(result.sent + 1));
    }
  }

  /** A trap in a call on this connection's handle: its instance is poisoned (which fails us too). */
  #trapped(err) {
    if (this.#instance) this.#instance.poison(err);
    else this._instanceFailed(err);
  }

  /**
   * This connection's engine instance trapped (pool.js): no call may go into it again. The
   * connection fails cleanly without it: 'error' with an ENGINE_TRAPPED WsActionError, a close
   * frame 1011 written here unless one was sent already, then the transport ends and 'close'.
   */
  _instanceFailed(trap) {
    if (this.#finished || this.#instanceGone) return;
    this.#instanceGone = true;
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    const err = engineTrappedError(trap);
    if (!this.#failure) {
      this.#failure = err;
      this.#owner._engineError(err);
    }
    for (const entry of this.#sendQueue.splice(0)) entry.done?.(err);
    for (const entry of this.#inFlight.splice(0)) entry.done?.(err);
    this.#queuedBytes = 0;
    this.#inbox = [];
    if (!this.#closeSent && !this.#ending) {
      this.#closeSent = true;
      this.#pending.push(internalErrorCloseFrame(this.#isServer));
      this.#pendingBytes += 6;
    }
    this.#endTransport(false);
  }

  /**
   * A send the wasm instance has no memory for (refused before the engine was called, see
   * fast.js) fails this connection alone: what is queued is dropped, and the engine closes with
   * 1011 (RFC 6455 7.4.1: an unexpected condition prevented the server from fulfilling the request).
   */
  #failForMemory(err) {
    if (!this.#failure) {
      this.#failure = err;
      this.#owner._engineError(err);
    }
    for (const entry of this.#sendQueue.splice(0)) entry.done?.(err);
    this.#queuedBytes = 0;
    if (!this.#closeSent) this.send(k().BufferType.CLOSE, { status: 1011, reason: new TextEncoder().encode('out of memory') }, null);
  }

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
        this.#inFlight.shift()?.done?.(null);
      } else {
        this.#indication(ev[i + 1], ev[i + 2], r.payload.subarray(ev[i + 4], ev[i + 5]));
      }
    }
    if (r.error && !this.#failure) {
      this.#failure = r.error;
      this.#owner._engineError(r.error);
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
        let parts = null;
        if (this.#parts.length > 0) {
          parts = this.#parts;
          parts.push(bytes);
          whole = concat(parts, this.#partsBytes + bytes.length);
          this.#parts = [];
          this.#partsBytes = 0;
        }
        this.#owner._engineMessage(whole, parts ?? [bytes], bufferType === t.BINARY_MESSAGE);
        break;
      }
      case t.PING_PONG:
        this.#owner._enginePong(bytes);
        break;
      case t.PING:
        this.#owner._enginePing(bytes);
        break;
      case t.CLOSE: {
        this.#closeReceived = true;
        this.#closeCode = closeStatus;
        this.#closeReason = ownCopy(bytes);
        const abnormal = closeStatus === k().CloseStatus.ABORTED;
        this.#owner._engineCloseFrame(closeStatus, this.#closeReason);
        if (!this.#closeSent && !abnormal) {
          // Answer the peer's close with its own status and reason (RFC 6455 5.5.1, as ws does),
          // after the data already queued (the engine still sends data in close-received).
          const echo = closeStatus === k().CloseStatus.EMPTY ? null : { status: closeStatus, reason: this.#closeReason };
          this.send(t.CLOSE, echo, null);
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
      for (const entry of this.#sendQueue.splice(0)) entry.done?.(closedError());
      this.#queuedBytes = 0;
      if (!this.#failure && handle.failure) this.#failure = handle.failure;
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
      try {
        this.#handle.tick(now());
      } catch (err) {
        this.#internalFailure(err);
        return;
      }
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
    this.#destroyTimer = setTimeout(() => {
      this.#transport.destroy();
      this.#finish();
    }, this.#closeGraceMs);
  }

  #finish() {
    if (this.#finished) return;
    if (this.#destroyTimer !== null) clearTimeout(this.#destroyTimer);
    if (this.#timer !== null) clearTimeout(this.#timer);
    const handle = this.#handle;
    if (!this.#instanceGone) {
      const S = k().State;
      if (handle.state !== S.CLOSED && handle.state !== S.ABORTED) this.#abortHandle();
      if (!this.#failure) this.#failure = handleFailure(handle);
    }
    if (this.#closeCode === null) this.#closeCode = k().CloseStatus.ABORTED;
    this.#finished = true;
    this.#instance?.connections.delete(this);
    // Release the engine's buffers now rather than at garbage collection (a poisoned instance's
    // memory goes with the instance).
    this.#handle = null;
    if (!this.#instanceGone) {
      try {
        handle.free();
      } catch {
        // freed already
      }
    }
    for (const entry of this.#sendQueue.splice(0)) entry.done?.(closedError());
    for (const entry of this.#inFlight.splice(0)) entry.done?.(closedError());
    this.#queuedBytes = 0;
    const code = this.#closeCode;
    this.#owner._engineFinished({
      code,
      reason: this.#closeReason,
      wasClean: this.#closeReceived && this.#closeSent && code !== k().CloseStatus.ABORTED,
      failure: this.#failure,
    });
  }
}
