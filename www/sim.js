// The simulation: a wsaction client handle and a wsaction server handle in the page, wired
// through a simulated network, driven by a host loop that follows the drain contract one action
// at a time. Everything that happens is a recorded operation, so a session replays byte for byte
// (seeded mask keys, virtual time, a deterministic scheduler). No DOM here: the page renders it,
// and tests can run it anywhere a module runs.

import { decodeStream } from './frames.js';

export const BUFFER_TYPE = {
  UTF8_MESSAGE: 0x80000000,
  UTF8_FRAGMENT: 0x80000001,
  BINARY_MESSAGE: 0x80000002,
  BINARY_FRAGMENT: 0x80000003,
  CLOSE: 0x80000004,
  PING_PONG: 0x80000005,
  UNSOLICITED_PONG: 0x80000006,
};
export const BUFFER_TYPE_NAME = Object.fromEntries(Object.entries(BUFFER_TYPE).map(([k, v]) => [v, k]));
export const ACTION_NAME = ['NO_ACTION', 'SEND_TO_NETWORK', 'INDICATE_SEND_COMPLETE', 'RECEIVE_FROM_NETWORK', 'INDICATE_RECEIVE_COMPLETE'];
export const ACTION = { NO_ACTION: 0, SEND_TO_NETWORK: 1, INDICATE_SEND_COMPLETE: 2, RECEIVE_FROM_NETWORK: 3, INDICATE_RECEIVE_COMPLETE: 4 };
export const QUEUE_ALL = 3;
export const QUEUE_NAME = { 1: 'send', 2: 'receive', 3: 'all' };

const encoder = new TextEncoder();
export const SIDES = ['client', 'server'];
export const peerOf = (side) => (side === 'client' ? 'server' : 'client');

/** The default session: what "reset" starts from and what a scenario file may override. */
export function defaultConfig() {
  return {
    client: { seed: 1, properties: {}, echo: false },
    server: { seed: 2, properties: {}, echo: true },
    subprotocols: ['chat'],
    network: { chunk: 0, latency: 0, paused: false },
  };
}

/** One direction of the TCP connection: every byte that entered, who wrote it, what was delivered. */
class Link {
  constructor(toward) {
    this.toward = toward;
    this.bytes = new Uint8Array(256);
    this.length = 0;
    this.segments = []; // { start, end, at, due, origin, seq }
    this.deliveries = []; // { start, end, at, seq }
    this.delivered = 0;
    this.gate = Infinity; // with the link paused: deliver up to here
    this.pendingCorruptions = []; // { offset, xor }
    this.corrupted = new Map(); // offset -> { xor, original }
    this.ended = false; // the writer closed its side of the connection
    this.endedAt = null;
    this.dropped = false; // the reader closed: what is left is never delivered
  }

  write(bytes, origin, at, due, seq) {
    if (this.length + bytes.length > this.bytes.length) {
      let size = this.bytes.length;
      while (size < this.length + bytes.length) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(this.bytes.subarray(0, this.length));
      this.bytes = grown;
    }
    const start = this.length;
    this.bytes.set(bytes, start);
    this.length += bytes.length;
    this.segments.push({ start, end: this.length, at, due, origin, seq });
    this.pendingCorruptions = this.pendingCorruptions.filter((c) => !this.corrupt(c.offset, c.xor));
  }

  /** XORs one byte not yet delivered; false if the byte has not been written yet. */
  corrupt(offset, xor) {
    if (offset >= this.length) return false;
    if (!this.corrupted.has(offset)) this.corrupted.set(offset, { xor: 0, original: this.bytes[offset] });
    this.bytes[offset] ^= xor;
    this.corrupted.get(offset).xor ^= xor;
    return true;
  }

  /** Bytes that have arrived (due) and may pass the gate. */
  deliverable(now) {
    let end = this.delivered;
    for (const s of this.segments) {
      if (s.end <= this.delivered) continue;
      if (s.due > now) break;
      end = s.end;
    }
    return Math.max(0, Math.min(end, this.gate) - this.delivered);
  }

  /** The earliest time a byte not yet delivered becomes due, if later than now. */
  nextDue(now) {
    for (const s of this.segments) {
      if (s.end <= this.delivered) continue;
      return s.due > now ? s.due : null;
    }
    return null;
  }

  take(count, at, seq) {
    const start = this.delivered;
    const bytes = this.bytes.slice(start, start + count);
    this.delivered += count;
    this.deliveries.push({ start, end: this.delivered, at, seq });
    return bytes;
  }

  view() {
    return this.bytes.subarray(0, this.length);
  }
}

/** One endpoint: a handle and the host around it (its application and its action loop). */
class Endpoint {
  constructor(sim, name, config) {
    this.sim = sim;
    this.name = name;
    this.config = config;
    this.role = name;
    this.handle = sim.engine.createHandle(name, config.properties, config.seed);
    this.phase = name === 'client' ? 'idle' : 'awaiting-request'; // then 'handshake', 'open', 'rejected'
    this.head = new Uint8Array(0);
    this.inbox = new Uint8Array(0); // bytes read with the HTTP head that belong to the frames
    this.held = null; // a ReceiveFromNetwork not yet completed: { id, capacity }
    this.pending = null; // in step mode: an action got but not yet performed
    this.sendQueue = []; // app sends not yet given to the handle (one may be outstanding)
    this.sendOutstanding = false;
    this.receiveOutstanding = false;
    this.nextContext = 1;
    this.transportClosed = false;
    this.log = []; // { seq, at, text, kind }
    this.indications = []; // { seq, at, bufferType, bytes, closeStatus, context }
    this.failure = null;
    this.closeReceived = null;
    this.handshakeHeaders = { request: null, response: null };
  }

  get state() {
    return this.handle.state();
  }

  note(text, kind = 'info') {
    const entry = { seq: this.sim.nextSeq(), at: this.sim.now, text, kind, side: this.name };
    this.log.push(entry);
    return entry;
  }

  /** The link this endpoint reads from and the one it writes to. */
  get inLink() {
    return this.sim.links[this.name];
  }

  get outLink() {
    return this.sim.links[peerOf(this.name)];
  }

  write(bytes) {
    this.sim.writeLink(peerOf(this.name), bytes, this.name);
  }

  /** How many bytes one read may take now (0: nothing to read). */
  readable(capacity) {
    if (this.transportClosed) return 0;
    const link = this.inLink;
    const avail = link.deliverable(this.sim.now);
    const chunk = this.sim.network.chunk > 0 ? this.sim.network.chunk : Infinity;
    return Math.min(avail, chunk, capacity);
  }

  read(count) {
    return this.inLink.take(count, this.sim.now, this.sim.nextSeq());
  }

  /** Does one unit of work; returns false when there is nothing to do now. */
  step() {
    if (this.transportClosed) return false;
    if (this.phase === 'awaiting-request' || this.phase === 'handshake') return this.handshakeStep();
    if (this.phase !== 'open') return false;
    if (this.pending) return this.perform();
    if (this.held) {
      const fromInbox = Math.min(this.inbox.length, this.held.capacity, this.sim.network.chunk || Infinity);
      if (fromInbox > 0) {
        const bytes = this.inbox.slice(0, fromInbox);
        this.inbox = this.inbox.slice(fromInbox);
        return this.completeReceive(bytes, 'bytes read with the HTTP head');
      }
      const n = this.readable(this.held.capacity);
      if (n > 0) return this.completeReceive(this.read(n));
      const link = this.inLink;
      if (link.ended && link.delivered >= link.length && this.inbox.length === 0) {
        return this.completeReceive(new Uint8Array(0), 'the peer closed the connection');
      }
    }
    if (this.appStep()) return true;
    return this.getAction();
  }

  completeReceive(bytes, why) {
    const { id } = this.held;
    this.held = null;
    const label = bytes.length === 0 ? 'end of stream' : `${bytes.length} byte${bytes.length === 1 ? '' : 's'}`;
    try {
      this.handle.completeReceive(id, bytes);
      this.note(`complete_action(#${id}, ${label})${why ? ` (${why})` : ''}`, 'complete');
    } catch (e) {
      this.note(`complete_action(#${id}) failed: ${describeError(e)}`, 'error');
    }
    return true;
  }

  /** The application's part: queue a receive, hand the next send piece to the handle. */
  appStep() {
    const state = this.state;
    if (!this.sendOutstanding && this.sendQueue.length > 0) {
      const piece = this.sendQueue.shift();
      const context = this.nextContext++;
      try {
        this.handle.send(piece.bufferType, piece.buffer, context);
        this.sendOutstanding = true;
        this.note(`send(${BUFFER_TYPE_NAME[piece.bufferType]}, ${piece.label}, context ${context})`, 'app');
      } catch (e) {
        this.note(`send(${BUFFER_TYPE_NAME[piece.bufferType]}, ${piece.label}) refused: ${describeError(e)}`, 'error');
        // The rest of a message that could not start is dropped with it.
        if (piece.dropRest) this.sendQueue = this.sendQueue.filter((p) => p.message !== piece.message);
      }
      return true;
    }
    if (!this.receiveOutstanding && (state === 'open' || state === 'close-sent')) {
      const context = this.nextContext++;
      try {
        this.handle.receive(context);
        this.receiveOutstanding = true;
        this.note(`receive(context ${context})`, 'app');
      } catch (e) {
        this.note(`receive refused: ${describeError(e)}`, 'error');
        this.receiveOutstanding = true; // do not retry every step
      }
      return true;
    }
    return false;
  }

  getAction() {
    let action;
    try {
      action = this.handle.getAction(QUEUE_ALL);
    } catch (e) {
      this.failure = e;
      this.note(`get_action → ${describeError(e)}`, 'error');
      this.sim.timelineNote(this.name, `${this.name} failed: ${e.code ?? 'error'}${e.closeCode ? ` → close ${e.closeCode}` : ''}`, 'error');
      return true;
    }
    if (action.kind === ACTION.NO_ACTION) {
      const state = this.state;
      if ((state === 'closed' || state === 'aborted') && !this.transportClosed) {
        this.sim.closeTransport(this.name);
        return true;
      }
      return false;
    }
    this.pending = action;
    const type = action.bufferType != null ? ` ${BUFFER_TYPE_NAME[action.bufferType]}` : '';
    const detail =
      action.kind === ACTION.SEND_TO_NETWORK ? `, ${action.bytes.length} bytes`
        : action.kind === ACTION.RECEIVE_FROM_NETWORK ? `, up to ${action.receiveCapacity} bytes`
          : action.kind === ACTION.INDICATE_RECEIVE_COMPLETE ? `, ${action.bytes.length} bytes${action.closeStatus != null ? `, status ${action.closeStatus}` : ''}` : '';
    const ctx = action.context != null ? `, context ${action.context}` : '';
    this.note(`get_action → #${action.id} ${ACTION_NAME[action.kind]} (${QUEUE_NAME[action.queue] ?? action.queue} queue${type}${detail}${ctx})`, 'action');
    if (this.sim.granularity === 'step' && this.sim.stepping) return true; // perform on the next step
    return this.perform();
  }

  /** Performs the action got from get_action and completes it (or holds a ReceiveFromNetwork). */
  perform() {
    const action = this.pending;
    this.pending = null;
    const done = (n, text) => {
      try {
        this.handle.completeAction(action.id, n);
        this.note(`complete_action(#${action.id}, ${n})${text ? ` ${text}` : ''}`, 'complete');
      } catch (e) {
        this.note(`complete_action(#${action.id}) failed: ${describeError(e)}`, 'error');
      }
    };
    switch (action.kind) {
      case ACTION.SEND_TO_NETWORK:
        this.write(action.bytes);
        done(action.bytes.length, '(written)');
        break;
      case ACTION.RECEIVE_FROM_NETWORK:
        this.held = { id: action.id, capacity: action.receiveCapacity };
        break;
      case ACTION.INDICATE_SEND_COMPLETE:
        if (action.context != null) this.sendOutstanding = false;
        done(0);
        break;
      case ACTION.INDICATE_RECEIVE_COMPLETE:
        this.indicate(action);
        done(0);
        break;
      default:
        break;
    }
    return true;
  }

  indicate(action) {
    const entry = {
      seq: this.sim.nextSeq(), at: this.sim.now, bufferType: action.bufferType, bytes: action.bytes,
      closeStatus: action.closeStatus ?? null, context: action.context ?? null,
    };
    this.indications.push(entry);
    if (action.context != null) this.receiveOutstanding = false;
    const bt = action.bufferType;
    if (bt === BUFFER_TYPE.CLOSE) {
      this.closeReceived = { status: entry.closeStatus, reason: entry.bytes };
      if (this.state === 'close-received') {
        // Answer the close with the status it carried (RFC 6455 5.5.1), as the app would.
        const status = entry.closeStatus;
        const buffer = status == null || status === 1005 || status === 1006 ? null : { status, reason: new Uint8Array(0) };
        this.sendQueue.unshift({ bufferType: BUFFER_TYPE.CLOSE, buffer, label: buffer ? `status ${status}` : 'no status' });
      }
    } else if (this.config.echo && bt >= BUFFER_TYPE.UTF8_MESSAGE && bt <= BUFFER_TYPE.BINARY_FRAGMENT) {
      this.sendQueue.push({ bufferType: bt, buffer: action.bytes.slice(), label: `${action.bytes.length} bytes (echo)` });
    }
  }

  /** The HTTP upgrade, run by the host before the handle sees frames. */
  handshakeStep() {
    const engine = this.sim.engine;
    const capacity = 4096;
    const n = this.readable(capacity);
    if (n === 0) return false;
    const chunk = this.read(n);
    const head = new Uint8Array(this.head.length + chunk.length);
    head.set(this.head);
    head.set(chunk, this.head.length);
    this.head = head;
    this.note(`host read ${n} byte${n === 1 ? '' : 's'} of HTTP head`, 'host');
    if (this.name === 'server') return this.serverHead(engine);
    return this.clientHead(engine);
  }

  serverHead(engine) {
    let parsed;
    try {
      parsed = engine.parseRequestHead(this.head, this.config.properties);
    } catch (e) {
      return this.reject(e);
    }
    if (!parsed) return true;
    this.phase = 'handshake';
    this.handshakeHeaders.request = parsed.headers;
    const offered = engine.offeredSubprotocols(parsed.headers);
    const selected = this.sim.subprotocols.find((p) => offered.includes(p)) ?? null;
    try {
      engine.checkRequestLine(parsed.method, parsed.minorVersion);
      const headers = engine.beginServerHandshake(this.handle, selected, [], parsed.headers);
      this.note(`begin_server_handshake(${selected ? JSON.stringify(selected) : 'no subprotocol'}) → ${headers.length} headers`, 'app');
      this.handshakeHeaders.response = headers;
      this.write(engine.serializeResponseHead(101, 'Switching Protocols', headers));
      this.note('host wrote 101 Switching Protocols', 'host');
      this.phase = 'open';
      this.inbox = this.head.slice(parsed.consumed);
      this.head = new Uint8Array(0);
    } catch (e) {
      return this.reject(e);
    }
    return true;
  }

  reject(e) {
    this.failure = e;
    const status = e.httpStatus ?? 400;
    this.note(`handshake rejected: ${describeError(e)}`, 'error');
    const headers = [...(e.httpHeaders ?? []), ['Content-Length', '0'], ['Connection', 'close']];
    this.write(this.sim.engine.serializeResponseHead(status, this.sim.engine.reasonPhrase(status), headers));
    this.note(`host wrote ${status} and closes`, 'host');
    this.phase = 'rejected';
    this.sim.timelineNote(this.name, `server rejected the handshake: ${status}`, 'error');
    this.sim.closeTransport(this.name);
    return true;
  }

  clientHead(engine) {
    let parsed;
    try {
      parsed = engine.parseResponseHead(this.head, this.config.properties);
    } catch (e) {
      this.failure = e;
      this.note(`response head: ${describeError(e)}`, 'error');
      this.phase = 'rejected';
      this.sim.closeTransport(this.name);
      return true;
    }
    if (!parsed) return true;
    this.handshakeHeaders.response = parsed.headers;
    if (parsed.status !== 101) {
      this.note(`the server answered ${parsed.status} ${parsed.reason}: no WebSocket`, 'error');
      this.phase = 'rejected';
      this.sim.timelineNote(this.name, `handshake refused: ${parsed.status}`, 'error');
      this.sim.closeTransport(this.name);
      return true;
    }
    try {
      const result = this.handle.endClientHandshake(parsed.headers);
      const chosen = result.selectedSubprotocol != null ? this.sim.subprotocols[result.selectedSubprotocol] : null;
      this.note(`end_client_handshake → ok${chosen ? `, subprotocol ${JSON.stringify(chosen)}` : ''}`, 'app');
      this.phase = 'open';
      this.inbox = this.head.slice(parsed.consumed);
      this.head = new Uint8Array(0);
    } catch (e) {
      this.failure = e;
      this.note(`end_client_handshake → ${describeError(e)}`, 'error');
      this.phase = 'rejected';
      this.sim.timelineNote(this.name, `client refused the handshake: ${e.code ?? e.message}`, 'error');
      this.sim.closeTransport(this.name);
    }
    return true;
  }
}

export function describeError(e) {
  if (!e) return '';
  const parts = [e.code ?? e.name ?? 'error'];
  if (e.closeCode) parts.push(`close ${e.closeCode}`);
  if (e.httpStatus) parts.push(`HTTP ${e.httpStatus}`);
  return `${parts.join(', ')}: ${e.message}`;
}

/** Splits `bytes` into send pieces of `size` (0: whole), each *_FRAGMENT but the last *_MESSAGE. */
export function pieces(bytes, size, text) {
  const last = text ? BUFFER_TYPE.UTF8_MESSAGE : BUFFER_TYPE.BINARY_MESSAGE;
  const more = text ? BUFFER_TYPE.UTF8_FRAGMENT : BUFFER_TYPE.BINARY_FRAGMENT;
  if (!size || size >= bytes.length) return [{ bufferType: last, bytes }];
  const out = [];
  for (let at = 0; at < bytes.length; at += size) {
    const end = Math.min(bytes.length, at + size);
    out.push({ bufferType: end === bytes.length ? last : more, bytes: bytes.slice(at, end) });
  }
  return out;
}

export class Simulation {
  /**
   * `engine` is the adapter over the JS class (engine.js); `config` a session config
   * (defaultConfig() with overrides).
   */
  constructor(engine, config = defaultConfig()) {
    this.engine = engine;
    this.config = structuredClone(config);
    this.subprotocols = this.config.subprotocols ?? [];
    this.network = { chunk: 0, latency: 0, paused: false, ...(this.config.network ?? {}) };
    this.now = 0;
    this.seq = 0;
    this.ops = [];
    this.notes = []; // timeline notes: { seq, at, side, text, kind }
    this.granularity = 'run'; // 'run': a command runs until quiet; 'step': one action per step
    this.stepping = false;
    this.links = { server: new Link('server'), client: new Link('client') };
    if (this.network.paused) for (const l of Object.values(this.links)) l.gate = 0;
    this.sides = {};
    for (const name of SIDES) this.sides[name] = new Endpoint(this, name, this.config[name]);
    for (const name of SIDES) this.sides[name].handle.tick(0);
    this.listeners = new Set();
  }

  nextSeq() {
    return ++this.seq;
  }

  onChange(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  changed() {
    for (const fn of this.listeners) fn(this);
  }

  timelineNote(side, text, kind = 'info') {
    this.notes.push({ seq: this.nextSeq(), at: this.now, side, text, kind });
  }

  writeLink(toward, bytes, origin) {
    const link = this.links[toward];
    if (link.ended) return;
    const due = this.now + (this.network.latency || 0);
    link.write(bytes, origin, this.now, due, this.nextSeq());
  }

  closeTransport(name) {
    const side = this.sides[name];
    if (side.transportClosed) return;
    side.transportClosed = true;
    side.held = null;
    side.note('host closed the TCP connection', 'host');
    const out = this.links[peerOf(name)];
    out.ended = true;
    out.endedAt = this.nextSeq();
    this.links[name].dropped = true;
    this.timelineNote(name, `${name} closed the TCP connection`, 'transport');
  }

  // ------------------------------------------------------------------ operations (recorded)

  /** Applies one recorded operation; returns nothing, throws for an operation it does not know. */
  apply(op) {
    this.ops.push(op);
    switch (op.op) {
      case 'connect': return this.connect();
      case 'send': return this.queueSend(op);
      case 'ping': return this.queueControl(op.side, BUFFER_TYPE.PING_PONG, op.data ?? '');
      case 'pong': return this.queueControl(op.side, BUFFER_TYPE.UNSOLICITED_PONG, op.data ?? '');
      case 'close': return this.queueClose(op);
      case 'abort': return this.abort(op.side);
      case 'inject': return this.inject(op);
      case 'network': return this.setNetwork(op);
      case 'release': return this.release(op.toward);
      case 'corrupt': return this.corrupt(op);
      case 'advance': return this.advance(op.ms);
      case 'step': return this.step(op.side);
      case 'run': return this.run();
      case 'granularity': this.granularity = op.value; return undefined;
      default: throw new Error(`unknown operation ${JSON.stringify(op.op)}`);
    }
  }

  connect() {
    const client = this.sides.client;
    if (client.phase !== 'idle') throw new Error('already connected');
    const headers = client.handle.beginClientHandshake(this.subprotocols, [], []);
    client.note(`begin_client_handshake(${JSON.stringify(this.subprotocols)}) → ${headers.length} headers`, 'app');
    const request = [['Host', 'sim.wsaction.invalid'], ...headers];
    client.handshakeHeaders.request = request;
    client.write(this.engine.serializeRequestHead('GET', '/chat', request));
    client.note('host wrote GET /chat', 'host');
    client.phase = 'handshake';
  }

  queueSend({ side, type = 'text', data = '', hex: isHex = false, fragment = 0 }) {
    const text = type === 'text';
    const bytes = isHex ? hexBytes(data) : encoder.encode(data);
    const message = {};
    const parts = pieces(bytes, fragment, text);
    for (const p of parts) {
      this.sides[side].sendQueue.push({
        bufferType: p.bufferType, buffer: p.bytes, message, dropRest: true,
        label: parts.length > 1 ? `${p.bytes.length}-byte piece` : `${p.bytes.length} bytes`,
      });
    }
  }

  queueControl(side, bufferType, data) {
    const bytes = typeof data === 'string' ? encoder.encode(data) : data;
    this.sides[side].sendQueue.push({ bufferType, buffer: bytes, label: `${bytes.length} bytes` });
  }

  queueClose({ side, code = 1000, reason = '' }) {
    const buffer = code == null ? null : { status: code, reason: encoder.encode(reason) };
    this.sides[side].sendQueue.push({ bufferType: BUFFER_TYPE.CLOSE, buffer, label: code == null ? 'no status' : `status ${code}` });
  }

  abort(side) {
    const s = this.sides[side];
    s.handle.abort();
    s.note('abort()', 'app');
    this.timelineNote(side, `${side} aborted its handle`, 'error');
  }

  inject({ toward, hex: text }) {
    const bytes = hexBytes(text);
    this.writeLink(toward, bytes, 'inject');
    this.timelineNote(peerOf(toward), `${bytes.length} hand-made bytes injected toward the ${toward}`, 'inject');
  }

  setNetwork({ chunk, latency, paused }) {
    if (chunk != null) this.network.chunk = Math.max(0, chunk | 0);
    if (latency != null) this.network.latency = Math.max(0, latency | 0);
    if (paused != null && paused !== this.network.paused) {
      this.network.paused = paused;
      for (const link of Object.values(this.links)) link.gate = paused ? link.delivered : Infinity;
    }
  }

  /** With the link paused: lets one more chunk through toward `toward`. */
  release(toward) {
    const link = this.links[toward];
    const step = this.network.chunk > 0 ? this.network.chunk : Infinity;
    link.gate = Math.min(link.length, Math.max(link.gate, link.delivered) + step);
  }

  corrupt({ toward, offset, xor = 0x01 }) {
    const link = this.links[toward];
    if (offset < link.delivered) throw new Error(`byte ${offset} was already delivered`);
    if (!link.corrupt(offset, xor)) link.pendingCorruptions.push({ offset, xor });
  }

  /** Moves the virtual clock on by `ms`, ticking both handles at each deadline on the way. */
  advance(ms) {
    const target = this.now + ms;
    for (let guard = 0; guard < 10000; guard++) {
      const next = this.nextEventTime();
      if (next == null || next > target || next <= this.now) break;
      this.setTime(next);
      if (this.granularity === 'run') this.run();
    }
    this.setTime(target);
  }

  setTime(t) {
    this.now = t;
    for (const name of SIDES) {
      const side = this.sides[name];
      if (!side.transportClosed) side.handle.tick(t);
    }
  }

  nextDeadline() {
    let best = null;
    for (const name of SIDES) {
      const side = this.sides[name];
      if (side.transportClosed) continue;
      const d = side.handle.nextDeadline();
      if (d != null && (best == null || d < best)) best = d;
    }
    return best;
  }

  nextEventTime() {
    const times = [this.nextDeadline()];
    for (const link of Object.values(this.links)) times.push(link.nextDue(this.now));
    const valid = times.filter((t) => t != null);
    return valid.length ? Math.min(...valid) : null;
  }

  /** One unit of work on `side` (or on whichever side has work, client first). */
  step(side) {
    this.stepping = true;
    try {
      if (side) return this.sides[side].step();
      return this.sides.client.step() || this.sides.server.step();
    } finally {
      this.stepping = false;
    }
  }

  /** Works both sides until neither has anything to do, moving the clock on to bytes in flight. */
  run(limit = 200000) {
    for (let i = 0; i < limit; i++) {
      if (this.sides.client.step() || this.sides.server.step()) continue;
      const due = [this.links.client.nextDue(this.now), this.links.server.nextDue(this.now)].filter((t) => t != null);
      if (due.length === 0) return;
      this.setTime(Math.min(...due));
    }
    this.timelineNote('client', `run stopped after ${limit} steps`, 'error');
  }

  // ------------------------------------------------------------------ views

  /** The timeline: decoded frames of both directions and notes, in the order they happened. */
  timeline() {
    const rows = [];
    for (const toward of SIDES) {
      const link = this.links[toward];
      const from = peerOf(toward);
      const items = decodeStream(link.view(), true);
      for (const item of items) {
        const seg = link.segments.find((s) => s.start <= item.start && item.start < s.end) ?? link.segments[link.segments.length - 1];
        if (!seg) continue;
        const size = item.end - item.start;
        const delivered = Math.max(0, Math.min(link.delivered, item.end) - item.start);
        const chunks = link.deliveries.filter((d) => d.end > item.start && d.start < item.end);
        const lastChunk = delivered === size && chunks.length ? chunks[chunks.length - 1] : null;
        const corrupted = [];
        for (const [offset, c] of link.corrupted) if (offset >= item.start && offset < item.end) corrupted.push({ offset, ...c });
        rows.push({
          type: 'item', item, from, toward, origin: seg.origin, seq: seg.seq, at: seg.at,
          size, delivered, chunks: chunks.length, deliveredAt: lastChunk ? lastChunk.at : null,
          dropped: link.dropped && delivered < size, corrupted,
          bytes: link.bytes.slice(item.start, item.end),
        });
      }
    }
    for (const note of this.notes) rows.push({ type: 'note', ...note });
    rows.sort((a, b) => a.seq - b.seq);
    return rows;
  }

  /** A signature of the session's observable result, for replay checks. */
  fingerprint() {
    const hexOf = (link) => Array.from(link.view(), (b) => b.toString(16).padStart(2, '0')).join('');
    return JSON.stringify({
      now: this.now,
      toServer: hexOf(this.links.server),
      toClient: hexOf(this.links.client),
      states: SIDES.map((s) => this.sides[s].state),
      indications: SIDES.map((s) => this.sides[s].indications.map((i) => [i.bufferType, Array.from(i.bytes), i.closeStatus])),
    });
  }
}

export function hexBytes(text) {
  const cleaned = String(text).replace(/0x/gi, '').replace(/[\s,]+/g, '');
  if (cleaned.length % 2 !== 0 || /[^0-9a-f]/i.test(cleaned)) throw new Error(`not hex bytes: ${text}`);
  const out = new Uint8Array(cleaned.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(cleaned.slice(2 * i, 2 * i + 2), 16);
  return out;
}
