// One event mechanism for every user class: node:events' EventEmitter where the runtime has it
// (Node, and Deno through its node: modules), and a small emitter with the same methods where it
// does not (browsers). The WHATWG side (addEventListener, onopen/onmessage/onerror/onclose,
// MessageEvent, CloseEvent) is layered on it here once, as ws layers it on EventEmitter.

const hasNodeModules =
  (typeof process !== 'undefined' && typeof process.versions?.node === 'string') || typeof Deno !== 'undefined';
// Specifiers in variables: a browser bundler must not try to resolve them.
const eventsModule = 'node:events';
const bufferModule = 'node:buffer';
const nodeEvents = hasNodeModules ? await import(eventsModule) : null;
const NodeBuffer = hasNodeModules ? (await import(bufferModule)).Buffer : null;

/** An EventEmitter for runtimes without node:events: the methods ws users call, same semantics. */
class SmallEmitter {
  #listeners = new Map();
  on(event, listener) {
    return this.addListener(event, listener);
  }
  addListener(event, listener) {
    if (typeof listener !== 'function') throw new TypeError('The "listener" argument must be a function');
    let list = this.#listeners.get(event);
    if (!list) this.#listeners.set(event, (list = []));
    list.push(listener);
    return this;
  }
  prependListener(event, listener) {
    this.addListener(event, listener);
    const list = this.#listeners.get(event);
    list.unshift(list.pop());
    return this;
  }
  once(event, listener) {
    const wrapper = (...args) => {
      this.removeListener(event, wrapper);
      listener.apply(this, args);
    };
    wrapper.listener = listener;
    return this.addListener(event, wrapper);
  }
  off(event, listener) {
    return this.removeListener(event, listener);
  }
  removeListener(event, listener) {
    const list = this.#listeners.get(event);
    if (!list) return this;
    for (let i = list.length - 1; i >= 0; i--) {
      if (list[i] === listener || list[i].listener === listener) {
        list.splice(i, 1);
        break;
      }
    }
    return this;
  }
  removeAllListeners(event) {
    if (event === undefined) this.#listeners.clear();
    else this.#listeners.delete(event);
    return this;
  }
  listeners(event) {
    return (this.#listeners.get(event) ?? []).map((l) => l.listener ?? l);
  }
  rawListeners(event) {
    return [...(this.#listeners.get(event) ?? [])];
  }
  listenerCount(event) {
    return this.#listeners.get(event)?.length ?? 0;
  }
  emit(event, ...args) {
    const list = this.#listeners.get(event);
    if (!list || list.length === 0) {
      if (event === 'error') throw args[0] instanceof Error ? args[0] : new Error(`Unhandled error: ${args[0]}`);
      return false;
    }
    for (const listener of [...list]) listener.apply(this, args);
    return true;
  }
}

/** node:events' EventEmitter, or the small one. */
export const EventEmitter = nodeEvents ? nodeEvents.EventEmitter : SmallEmitter;

/** Bytes as a Buffer where the runtime has one (ws gives Buffers), else the Uint8Array itself. */
export function asBuffer(bytes) {
  return NodeBuffer ? NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) : bytes;
}

/** Text as UTF-8 bytes in a Buffer (or Uint8Array). */
export function bufferFrom(text) {
  return NodeBuffer ? NodeBuffer.from(text) : new TextEncoder().encode(text);
}

/** The Buffer class, or null where the runtime has none. */
export const Buffer = NodeBuffer;

// ---------------------------------------------------------------- WHATWG events

const kTarget = Symbol('kTarget');
const kListener = Symbol('kListener');
const kForOnEventAttribute = Symbol('kForOnEventAttribute');

/** The WHATWG Event (as ws's: type and target). */
export class Event {
  constructor(type) {
    this[kTarget] = null;
    this.type = type;
  }
  get target() {
    return this[kTarget];
  }
  get currentTarget() {
    return this[kTarget];
  }
}

export class MessageEvent extends Event {
  constructor(type, options = {}) {
    super(type);
    this.data = options.data === undefined ? null : options.data;
  }
}

export class CloseEvent extends Event {
  constructor(type, options = {}) {
    super(type);
    this.code = options.code === undefined ? 0 : options.code;
    this.reason = options.reason === undefined ? '' : options.reason;
    this.wasClean = options.wasClean === undefined ? false : options.wasClean;
  }
}

export class ErrorEvent extends Event {
  constructor(type, options = {}) {
    super(type);
    this.error = options.error === undefined ? null : options.error;
    this.message = options.message === undefined ? '' : options.message;
  }
}

function callListener(listener, thisArg, event) {
  if (typeof listener === 'object' && listener !== null && typeof listener.handleEvent === 'function') {
    listener.handleEvent(event);
  } else {
    listener.call(thisArg, event);
  }
}

/** WHATWG event objects built from the emitter's arguments, per event type. */
const toEvent = {
  open: () => new Event('open'),
  message: (self, data, isBinary) => new MessageEvent('message', { data: isBinary ? data : textOf(data) }),
  close: (self, code, reason) => new CloseEvent('close', { code, reason: textOf(reason), wasClean: self._wasClean() }),
  error: (self, error) => new ErrorEvent('error', { error, message: error?.message ?? String(error) }),
};

function textOf(value) {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return new TextDecoder().decode(value);
  return String(value);
}

function addEventListener(type, handler, options = {}) {
  const make = toEvent[type];
  if (!make || (typeof handler !== 'function' && typeof handler?.handleEvent !== 'function')) return;
  for (const listener of this.rawListeners(type)) {
    const inner = listener[kListener] ?? listener.listener?.[kListener];
    const forAttribute = listener[kForOnEventAttribute] ?? listener.listener?.[kForOnEventAttribute];
    if (!options[kForOnEventAttribute] && inner === handler && !forAttribute) return;
  }
  const wrapper = function whatwgListener(...args) {
    const event = make(this, ...args);
    event[kTarget] = this;
    callListener(handler, this, event);
  };
  wrapper[kForOnEventAttribute] = !!options[kForOnEventAttribute];
  wrapper[kListener] = handler;
  if (options.once) this.once(type, wrapper);
  else this.on(type, wrapper);
}

function removeEventListener(type, handler) {
  for (const listener of this.rawListeners(type)) {
    const wrapper = listener[kListener] ? listener : listener.listener;
    if (wrapper?.[kListener] === handler && !wrapper[kForOnEventAttribute]) {
      this.removeListener(type, wrapper);
      break;
    }
  }
}

/** Adds addEventListener, removeEventListener and the on<event> attributes to a class. */
export function addWhatwgEvents(Class) {
  Class.prototype.addEventListener = addEventListener;
  Class.prototype.removeEventListener = removeEventListener;
  for (const type of ['open', 'error', 'close', 'message']) {
    Object.defineProperty(Class.prototype, `on${type}`, {
      enumerable: true,
      configurable: true,
      get() {
        for (const listener of this.rawListeners(type)) {
          if (listener[kForOnEventAttribute]) return listener[kListener];
        }
        return null;
      },
      set(handler) {
        for (const listener of this.rawListeners(type)) {
          if (listener[kForOnEventAttribute]) {
            this.removeListener(type, listener);
            break;
          }
        }
        if (typeof handler !== 'function') return;
        this.addEventListener(type, handler, { [kForOnEventAttribute]: true });
      },
    });
  }
}
