// The handle's batched fast paths, `drain`, `sendAndDrain` and `sendMany`, added to the
// wasm-bindgen class. The engine work (framing, the action loop, every check) is the Rust side's
// (`_drainReport`, `_sendInput`, `_sendManyInput` in src/bindings/js.rs, the core driver's calls); this file only moves bytes:
//
//  - in: a payload is copied straight into a scratch area in wasm memory (no per-call
//    allocation, no JS value crossing the boundary: one call with three numbers);
//  - out: Rust leaves the packed result in the handle's reusable buffers and writes where they lie
//    into a 16-word scratch report; JS copies them out through views over wasm memory, refreshed
//    when the memory grows (its old ArrayBuffer is then detached: byteLength 0).
//
// Compared with building the result object in Rust (Reflect or an imported constructor taking
// slices), this removes the per-call externref traffic, the Uint8Array checks done across the
// boundary, and three typed-array views built per call.
//
// One wasm-bindgen glue module is one wasm instance with its own memory (pkg/src/pool.js loads
// more): `installFastPaths(glue)` adds the fast paths to that glue's class, with views of its
// memory. It also adds the memory headroom checks: a handle or a send that would need more wasm
// memory than the instance can still grow to is refused with a WsActionError (OUT_OF_MEMORY)
// before the engine is called, because running out inside the engine traps, and a trap leaves
// the whole instance unusable.

import * as firstGlue from '../dist/wsaction.js';
import { wsActionErrorClass } from '../dist/wsaction.js';

/** A wasm32 memory's ceiling: 65,536 pages of 64 KiB. */
export const WASM32_MEMORY_LIMIT = 4 * 1024 * 1024 * 1024;
/** Kept free below the ceiling for the engine's own growth (scratch areas, output, messages). */
const HEADROOM_MARGIN = 32 * 1024 * 1024;
/** What the engine holds besides handles (its statics, the allocator's own use, the stack). */
const ENGINE_BASE = 16 * 1024 * 1024;
/** A handle's fixed state besides its buffers. */
const HANDLE_OVERHEAD = 4096;
/** An E_OUTOFMEMORY HRESULT (websocket.h's callers see this for an allocation failure). */
const E_OUTOFMEMORY = 0x8007000e;

/** The wasm memory a handle with these properties takes up front (its receive buffer twice, its send buffer). */
export function handleFootprint(properties = {}) {
  const receive = properties?.receiveBufferSize ?? 4096;
  const send = properties?.sendBufferSize ?? 4096;
  return 2 * receive + send + HANDLE_OVERHEAD;
}

// WsActionError's class (one for every instance: the glue copies share its snippet module), read
// while the first instance is healthy: after a trap, no call into it may be made.
let errorClass = null;
export function rememberErrorClass() {
  errorClass ??= wsActionErrorClass();
}

/** The typed error for a handle or a send that does not fit in what is left of wasm memory. */
export function outOfMemoryError(what, needed, memoryBytes) {
  rememberErrorClass();
  const WsActionError = errorClass;
  return new WsActionError(
    'OUT_OF_MEMORY',
    `${what} needs about ${needed} bytes of wasm memory; this instance has ${memoryBytes} of its ${WASM32_MEMORY_LIMIT} (wasm32's ceiling) and keeps ${HEADROOM_MARGIN} free`,
    E_OUTOFMEMORY,
    1011,
    503,
    [['Retry-After', '5']],
    true,
    null,
  );
}

/** The typed error for a property this build of the engine cannot honour (UNSUPPORTED_PROPERTY, E_INVALIDARG). */
export function unsupportedPropertyError(message) {
  rememberErrorClass();
  return new errorClass('UNSUPPORTED_PROPERTY', `caller error: ${message}`, 0x80070057, null, null, [], true, null);
}

// Where handles asking for permessage-deflate are made when the default (small) build's class is
// asked for one: pkg/src/builds.js's `deflateBuild`, which returns the deflate build's glue.
let deflateBuildOf = null;
export function routeDeflateHandles(deflateBuild) {
  deflateBuildOf = deflateBuild;
}

// A UTF-8 check faster than the engine's wasm SIMD one, when the runtime has it (pkg/node.js gives
// Node's `buffer.isUtf8`, simdutf with AVX2: several times faster on mixed text). A whole
// UTF8_MESSAGE of at least UTF8_CHECK_IN_JS bytes is checked with it before the send and the
// engine told so (`utf8Verified`); text it finds invalid is sent without the flag, so the engine's
// own check refuses it with its usual error (RFC 6455 8.1). Smaller text stays the engine's: a
// call out costs more than checking a few hundred bytes in wasm.
const UTF8_MESSAGE = 0x80000000;
const UTF8_CHECK_IN_JS = 256;
let isUtf8 = null;
export function useUtf8Check(check) {
  isUtf8 = check;
}

// Where the copying calls put their results. A frame (`out`) of up to SLAB_RESULT_BYTES is carved
// from a SLAB_BYTES slab shared by every handle: one ArrayBuffer per slab, not per frame, where a
// fresh ArrayBuffer cost 1.2-1.5 us in Node 20 here, half of framing a 1 KiB message, and Node's
// 8 KiB Buffer pool makes one every seventh 1 KiB frame (benches/README.md, rounds 4 and 9). Its
// `.buffer` is the slab's (use byteOffset and byteLength with it); a frame is written and let go,
// so slabs do not pile up. Payloads, which applications keep as messages, and larger frames get
// memory of their own, so a kept message keeps no more than itself (on Node, small ones share
// Node's 8 KiB pool): pkg/node.js gives `Buffer.allocUnsafe` (no zero fill) through
// useResultAllocator; elsewhere a slice of wasm memory.
const SLAB_BYTES = 64 * 1024;
const SLAB_RESULT_BYTES = 4 * 1024;
let allocateResult = null;
let slab = null;
let slabAt = 0;
export function useResultAllocator(allocate) {
  allocateResult = allocate;
  slab = null;
}

/**
 * `length` bytes (at most SLAB_RESULT_BYTES) of the current slab, a new slab when it is full. Each
 * starts 8-aligned, as Node's pool aligns its slices, so a result can be viewed as a wider array.
 */
function fromSlab(length) {
  if (slab === null || slabAt + length > SLAB_BYTES) {
    slab = allocateResult === null ? new Uint8Array(SLAB_BYTES) : allocateResult(SLAB_BYTES);
    slabAt = 0;
  }
  const bytes = slab.subarray(slabAt, slabAt + length);
  slabAt += (length + 7) & ~7;
  return bytes;
}

function checkedInJs(bufferType, bytes) {
  return bufferType === UTF8_MESSAGE && isUtf8 !== null && bytes.length >= UTF8_CHECK_IN_JS && isUtf8(bytes);
}

/** The typed error for a connection or an upgrade whose wasm instance trapped (`trap`). */
export function engineTrappedError(trap) {
  rememberErrorClass();
  const err = new errorClass(
    'ENGINE_TRAPPED',
    `the wasm instance of this connection trapped (${trap?.message ?? trap}); its connections are failed and new ones go to another instance`,
    0x8000ffff, // E_UNEXPECTED
    1011,
    503,
    [['Retry-After', '1']],
    true,
    null,
  );
  err.cause = trap;
  return err;
}

const usages = new WeakMap();

/** `glue`'s estimated wasm memory use, its memory's size, and its open handles' footprint (bytes). */
export function instanceUsage(glue) {
  return usages.get(glue)();
}

const foreignGrowth = new WeakMap();

// The headroom checks below, on unless a test turns them off to see the engine's own answer.
let headroomChecks = true;

/**
 * Turns the headroom checks off (or on again) for every instance: tests/load/faults.test.mjs
 * runs its memory tests both ways, so that the engine's own allocations are seen to fail as
 * OUT_OF_MEMORY errors, not traps, when nothing refuses them before it.
 */
export function setHeadroomChecksForTests(enabled) {
  headroomChecks = enabled;
}

/**
 * Grows `glue`'s wasm memory from outside the engine until at most `leftBytes` of wasm32's 4 GiB
 * are left, and counts what it added as in use: the estimate below knows only what the engine
 * holds, and memory grown by anyone else is not free for the engine's allocator. For tests of a
 * nearly full instance (tests/load/faults.test.mjs), which fill it this way in milliseconds.
 */
export function fillMemoryForTests(glue, leftBytes) {
  const memory = glue._memory();
  const pages = Math.floor((WASM32_MEMORY_LIMIT - leftBytes - memory.buffer.byteLength) / 65536);
  if (pages <= 0) return 0;
  memory.grow(pages);
  foreignGrowth.set(glue, (foreignGrowth.get(glue) ?? 0) + pages * 65536);
  return pages * 65536;
}

/**
 * Makes every sendAndDrain of at least `bytes` on `glue`'s handles first allocate that much inside
 * the engine with no fallback (`_allocateInCallForTests`): with the memory at wasm32's ceiling
 * (memory.grow from outside) that traps in the allocator mid-call. The engine's own buffers fail
 * typed when memory runs out (OUT_OF_MEMORY), so the fault tests make a trap this way to check what
 * one does: its instance poisoned, each of its connections failed with 1011, new ones elsewhere.
 */
export function trapLargeSendsForTests(glue, bytes) {
  const proto = glue.WebSocketHandle.prototype;
  const sendAndDrain = proto.sendAndDrain;
  Object.defineProperty(proto, 'sendAndDrain', {
    value: function (type, data, ...rest) {
      if (data?.length >= bytes) glue._allocateInCallForTests(data.length);
      return sendAndDrain.call(this, type, data, ...rest);
    },
    writable: true,
    configurable: true,
    enumerable: false,
  });
}

/**
 * Adds drain, sendAndDrain and sendMany, and the headroom checks, to `glue`'s WebSocketHandle.
 * `build`: which engine build `glue` was initialised with, 'small' (the default wasm, without
 * permessage-deflate: its createClient/createServer hand handles with `perMessageDeflate: true`
 * to the deflate build, pkg/src/builds.js) or 'deflate'.
 */
export function installFastPaths(glue, build = 'small') {
  const { WebSocketHandle, _memory, _reserve, _scratchReport } = glue;
  if (WebSocketHandle.prototype.__wsactionFastPaths) return;

  const NO_BYTES = new Uint8Array(0);
  const NO_EVENTS = new Float64Array(0);

  // Report word indexes (src/bindings/js.rs, `mod report`).
  const OUT_PTR = 0;
  const OUT_LEN = 1;
  const PAYLOAD_PTR = 2;
  const PAYLOAD_LEN = 3;
  const EVENTS_PTR = 4;
  const EVENTS_LEN = 5;
  const RECEIVE_ID = 6;
  const RECEIVE_CAPACITY = 7;
  const STATE = 8;
  const HAS_ERROR = 9;
  const SENT = 10;
  const HAS_SEND_ERROR = 11;
  const INPUT_PTR = 12;
  const INPUT_LEN = 13;
  const LENGTHS_PTR = 14;
  const LENGTHS_LEN = 15;

  let memory = null;
  let u8 = NO_BYTES;
  let u32 = new Uint32Array(0);
  let f64 = NO_EVENTS;
  let report = 0; // word index of the report in u32

  /** The views over wasm memory, made again after the memory grew (wasm-bindgen's own test). */
  function views() {
    if (u8.byteLength === 0) {
      if (memory === null) {
        memory = _memory();
        report = _scratchReport() >>> 2;
      }
      u8 = new Uint8Array(memory.buffer);
      u32 = new Uint32Array(memory.buffer);
      f64 = new Float64Array(memory.buffer);
      generation++;
    }
  }

  /** Counts the views made over wasm memory: a view cached under an older count is detached. */
  let generation = 0;

  /** The scratch input's address and size as last reported (0 until the first reserve). */
  let inputAt = 0;
  let inputLength = 0;

  /**
   * The scratch input's address and size from the report, where Rust keeps them current: a call
   * that failed after framing a large message gave the space back without JS reading a result, so
   * the values JS last saw may point at freed memory.
   */
  function inputSpace() {
    views();
    inputAt = u32[report + INPUT_PTR];
    inputLength = u32[report + INPUT_LEN];
  }

  /** Makes the scratch input hold `bytes` and `count` lengths (a RangeError past the limits). */
  function reserve(bytes, count) {
    _reserve(bytes, count);
    views();
    inputAt = u32[report + INPUT_PTR];
    inputLength = u32[report + INPUT_LEN];
  }

  /** Copies `data` into the scratch input at `at` (a loop beats TypedArray.set for a few bytes). */
  function copyIn(data, at) {
    const n = data.length;
    if (n <= 32) {
      for (let i = 0; i < n; i++) u8[at + i] = data[i];
    } else {
      u8.set(data, at);
    }
  }

  /**
   * The one result object of the view calls (`drainView`, `sendAndDrainView`, `sendBufferAndDrain`),
   * refilled by each: its `out`, `payload` and `events` are views over wasm memory, no copy and no
   * new object per call. Valid until the next call into wsaction on any handle (a call may reuse
   * those buffers, or grow the memory, which detaches every view over it).
   */
  const viewResult = {
    out: NO_BYTES,
    payload: NO_BYTES,
    events: NO_EVENTS,
    receiveId: 0,
    receiveCapacity: 0,
    state: 0,
    error: null,
  };

  /**
   * A view of `length` items at item index `at` of `over` (u8 or f64), reusing the one handed out
   * last time when it covers the same place: the driver reuses its buffers, so a stream of
   * like-sized messages makes no new view per call (a view is valid until the next call anyway).
   */
  function viewCache(over, empty) {
    let at = -1;
    let length = 0;
    let made = -1;
    let view = empty;
    return (start, count) => {
      if (count === 0) return empty;
      if (start !== at || count !== length || made !== generation) {
        view = over().subarray(start, start + count);
        at = start;
        length = count;
        made = generation;
      }
      return view;
    };
  }
  const outView = viewCache(() => u8, NO_BYTES);
  const payloadView = viewCache(() => u8, NO_BYTES);
  const eventsView = viewCache(() => f64, NO_EVENTS);

  /** The drain result the report describes, as views over wasm memory (see `viewResult`). */
  function resultView(handle) {
    views();
    const r = report;
    const v = viewResult;
    v.out = outView(u32[r + OUT_PTR], u32[r + OUT_LEN]);
    v.payload = payloadView(u32[r + PAYLOAD_PTR], u32[r + PAYLOAD_LEN]);
    v.events = eventsView(u32[r + EVENTS_PTR] >>> 3, u32[r + EVENTS_LEN]);
    inputAt = u32[r + INPUT_PTR];
    inputLength = u32[r + INPUT_LEN];
    v.receiveId = u32[r + RECEIVE_ID];
    v.receiveCapacity = u32[r + RECEIVE_CAPACITY];
    v.state = u32[r + STATE];
    v.error = u32[r + HAS_ERROR] !== 0 ? handle._takeDrainError() : null;
    return v;
  }

  /**
   * A copy of `length` bytes of wasm memory at `at` that the caller owns (see useResultAllocator);
   * from a slab when `slabbed` and small.
   */
  function copyOut(at, length, slabbed) {
    if (slabbed && length <= SLAB_RESULT_BYTES) {
      const bytes = fromSlab(length);
      if (length <= 32) {
        for (let i = 0; i < length; i++) bytes[i] = u8[at + i];
      } else {
        bytes.set(u8.subarray(at, at + length));
      }
      return bytes;
    }
    if (allocateResult === null) return u8.slice(at, at + length);
    const bytes = allocateResult(length);
    bytes.set(u8.subarray(at, at + length));
    return bytes;
  }

  /** The drain result the report describes, as copies the caller owns. */
  function result(handle) {
    views();
    const r = report;
    const outLen = u32[r + OUT_LEN];
    const payloadLen = u32[r + PAYLOAD_LEN];
    const eventsLen = u32[r + EVENTS_LEN];
    // Frames from slabs (they go to the network and are let go); payloads, which applications
    // keep as messages, each in memory of its own (on Node, small ones in Node's 8 KiB pool).
    const out = outLen === 0 ? NO_BYTES : copyOut(u32[r + OUT_PTR], outLen, true);
    const payload = payloadLen === 0 ? NO_BYTES : copyOut(u32[r + PAYLOAD_PTR], payloadLen, false);
    let events = NO_EVENTS;
    if (eventsLen !== 0) {
      const at = u32[r + EVENTS_PTR] >>> 3;
      events = f64.slice(at, at + eventsLen);
    }
    // The scratch input may have been given back after a large message.
    inputAt = u32[r + INPUT_PTR];
    inputLength = u32[r + INPUT_LEN];
    return {
      out,
      payload,
      events,
      receiveId: u32[r + RECEIVE_ID],
      receiveCapacity: u32[r + RECEIVE_CAPACITY],
      state: u32[r + STATE],
      error: u32[r + HAS_ERROR] !== 0 ? handle._takeDrainError() : null,
    };
  }

  function describe(value) {
    return value === null ? 'null' : typeof value;
  }

  const proto = WebSocketHandle.prototype;
  // Captured once: wrappers added later to the prototype (www/demo-server.mjs traces calls) see
  // one call per public method.
  const send = proto.send;

  function drain(keepReceiving, maxOutBytes) {
    this._drainReport(keepReceiving, maxOutBytes);
    return result(this);
  }

  /**
   * `send` then `drain` in one call: one boundary crossing per message. `compress` (default
   * true): whether a data message goes out compressed when permessage-deflate was negotiated.
   */
  function sendAndDrain(bufferType, data, keepReceiving, compress = true) {
    sendThenDrain(this, bufferType, data, keepReceiving, compress);
    return result(this);
  }

  /**
   * The send and the drain of sendAndDrain and sendAndDrainView; the caller reads the report. A
   * send of n bytes may need the scratch input (n) and the frame it becomes (n and a header): a
   * send larger than the scratch input is checked against the memory headroom first.
   */
  function sendThenDrain(handle, bufferType, data, keepReceiving, compress) {
    if (data instanceof Uint8Array) {
      const n = data.length;
      inputSpace();
      if (n > inputLength) {
        checkHeadroom(`a send of ${n} bytes`, 2 * n);
        reserve(n, 0);
      }
      copyIn(data, inputAt);
      handle._sendInput(bufferType, n, keepReceiving, compress, checkedInJs(bufferType, data));
      return;
    }
    // CLOSE's {status, reason}, null, or a wrong value (send throws the TypeError).
    send.call(handle, bufferType, data, undefined);
    handle._drainReport(keepReceiving, undefined);
  }

  /** `drain` with its result as views over wasm memory (see `viewResult`): no copy out. */
  function drainView(keepReceiving, maxOutBytes) {
    this._drainReport(keepReceiving, maxOutBytes);
    return resultView(this);
  }

  /** `sendAndDrain` with its result as views over wasm memory (see `viewResult`). */
  function sendAndDrainView(bufferType, data, keepReceiving, compress = true) {
    sendThenDrain(this, bufferType, data, keepReceiving, compress);
    return resultView(this);
  }

  /**
   * Space in wasm memory for the next message, `length` bytes (a RangeError past 256 MiB): write
   * the payload into it and call `sendBufferAndDrain(bufferType, length, ...)`, which frames it from
   * there, so the payload is not copied in. Shared by every handle of the module; valid until the
   * next call into wsaction.
   */
  function sendBuffer(length) {
    if (typeof length !== 'number') throw new TypeError(`length must be a number, got ${describe(length)}`);
    // Anything but a whole number that fits goes to reserve, which throws the RangeError.
    inputSpace();
    if (!Number.isInteger(length) || length < 0 || length > inputLength) reserve(length, 0);
    return u8.subarray(inputAt, inputAt + length);
  }

  /**
   * Sends the first `length` bytes of `sendBuffer`'s space as one message, then drains: the result
   * is `drainView`'s (views over wasm memory, valid until the next call).
   */
  function sendBufferAndDrain(bufferType, length, keepReceiving, compress = true) {
    let verified = false;
    if (bufferType === UTF8_MESSAGE && isUtf8 !== null && Number.isInteger(length) && length >= UTF8_CHECK_IN_JS) {
      inputSpace();
      if (length <= inputLength) verified = isUtf8(u8.subarray(inputAt, inputAt + length));
    }
    this._sendInput(bufferType, length, keepReceiving, compress, verified); // a RangeError past what sendBuffer gave
    return resultView(this);
  }

  /**
   * `messages.length` sends of one type, each followed by the action loop, in one call; the
   * result is drain's with `sent` (how many were sent) and `sendError` (the engine's refusal that
   * stopped the batch after its first message, or null; a refusal of the first is thrown).
   * `compress` as sendAndDrain's, for every message.
   */
  function sendMany(bufferType, messages, keepReceiving, compress = true) {
    if (!Array.isArray(messages)) {
      throw new TypeError(`messages must be an array of Uint8Array, got ${describe(messages)}`);
    }
    const count = messages.length;
    let total = 0;
    for (let i = 0; i < count; i++) {
      const m = messages[i];
      if (!(m instanceof Uint8Array)) {
        throw new TypeError(`each of messages must be a Uint8Array, got ${describe(m)} at ${i}`);
      }
      total += m.length;
    }
    // A batch needs more space than the last: a headroom check, then _reserve (a RangeError past
    // 256 MiB in all or 65,536 messages). Most batches fit and cross into wasm once.
    inputSpace();
    if (total > inputLength || count > u32[report + LENGTHS_LEN]) {
      if (total > inputLength) checkHeadroom(`a batch of ${total} bytes`, 2 * total);
      reserve(total, count);
    }
    const lengths = u32[report + LENGTHS_PTR] >>> 2;
    let at = inputAt;
    for (let i = 0; i < count; i++) {
      const m = messages[i];
      copyIn(m, at);
      at += m.length;
      u32[lengths + i] = m.length;
    }
    this._sendManyInput(bufferType, count, keepReceiving, compress);
    views();
    const sent = u32[report + SENT];
    const refused = u32[report + HAS_SEND_ERROR] !== 0;
    const r = result(this);
    r.sent = sent;
    r.sendError = refused ? this._takeSendError() : null;
    return r;
  }

  // What the instance's memory holds, estimated: wasm memory never shrinks, so its size says how
  // much was once used, not what is free; the open handles' footprints (counted here, given back
  // by free()) and the scratch input are what is in use. Handles freed by the garbage collector
  // instead of free() stay counted: the estimate errs on the safe side.
  const footprints = new WeakMap();
  let liveFootprint = 0;

  function usedEstimate() {
    const foreign = foreignGrowth.get(glue) ?? 0;
    return Math.min(_memory().buffer.byteLength, ENGINE_BASE + liveFootprint + inputLength + foreign);
  }

  /** Throws OUT_OF_MEMORY when `needed` more bytes would take the memory past the ceiling less the margin. */
  function checkHeadroom(what, needed) {
    if (!headroomChecks) return;
    const used = usedEstimate();
    if (used + needed + HEADROOM_MARGIN > WASM32_MEMORY_LIMIT) throw outOfMemoryError(what, needed, used);
  }

  function checkedSendBuffer(length) {
    if (Number.isInteger(length) && length > 0) {
      inputSpace();
      if (length > inputLength) checkHeadroom(`a send buffer of ${length} bytes`, 2 * length);
    }
    return sendBuffer.call(this, length);
  }

  for (const [name, fn] of [
    ['drain', drain],
    ['sendAndDrain', sendAndDrain],
    ['sendMany', sendMany],
    ['drainView', drainView],
    ['sendAndDrainView', sendAndDrainView],
    ['sendBuffer', checkedSendBuffer],
    ['sendBufferAndDrain', sendBufferAndDrain],
  ]) {
    Object.defineProperty(proto, name, { value: fn, writable: true, configurable: true, enumerable: false });
  }

  // Handles are refused before the engine allocates their buffers (a trap there ends the instance).
  for (const name of ['createServer', 'createClient']) {
    const create = WebSocketHandle[name];
    Object.defineProperty(WebSocketHandle, name, {
      value: function (properties, ...rest) {
        if (build === 'small' && properties?.perMessageDeflate === true && deflateBuildOf !== null) {
          return deflateBuildOf().WebSocketHandle[name](properties, ...rest);
        }
        const footprint = handleFootprint(properties);
        // Sizes past wasm32's ceiling are the engine's to refuse (a RangeError: out of range).
        if (footprint < WASM32_MEMORY_LIMIT) checkHeadroom(`a handle (${name})`, footprint);
        const handle = create.call(this, properties, ...rest);
        footprints.set(handle, footprint);
        liveFootprint += footprint;
        return handle;
      },
      writable: true,
      configurable: true,
      enumerable: false,
    });
  }
  const free = proto.free;
  Object.defineProperty(proto, 'free', {
    value: function () {
      const footprint = footprints.get(this);
      if (footprint !== undefined) {
        footprints.delete(this);
        liveFootprint -= footprint;
      }
      return free.call(this);
    },
    writable: true,
    configurable: true,
    enumerable: false,
  });
  Object.defineProperty(proto, '__wsactionFastPaths', { value: true });
  usages.set(glue, () => ({ used: usedEstimate(), memory: _memory().buffer.byteLength, live: liveFootprint }));
}

installFastPaths(firstGlue);
