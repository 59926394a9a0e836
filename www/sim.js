// The simulation: a wsaction client handle and a wsaction server handle in the page, wired
// through a simulated network, driven by a host loop that follows the drain contract one action
// at a time. A session is a scenario (tests/scenarios/README.md): seeds, properties, handshake,
// steps; everything the person does is recorded, so a session exports as a scenario file and
// replays byte for byte (seeded mask keys, virtual time, a deterministic scheduler).
//
// The scheduler is the scenario runner's: after each step, `run` repeats drain(client),
// drain(server) until neither makes progress, so the events each side records are the ones every
// other host records for the same file. The simulator adds what a runner has no need for: the
// HTTP upgrade on the wire, chunked and delayed delivery, a paused link released step by step,
// corrupted bytes, single steps (one action at a time), and closing the transport.
//
// No DOM here: the page renders it, and tests can run it wherever pkg/browser.js loads. The loop
// is the plain websocket.h loop on purpose, one action at a time (the page teaches it); hosts
// that do not show each action use the core's driver (handle.drain) instead.

import { decodeStream } from './frames.js';
import { constants } from '../pkg/browser.js';

// The websocket.h numbers come from the engine (one table in the core), never from copies here.
export const BUFFER_TYPE = { ...constants.BufferType };
export const BUFFER_TYPE_NAME = Object.fromEntries(Object.entries(BUFFER_TYPE).map(([k, v]) => [v, k]));
export const ACTION = { ...constants.Action };
export const ACTION_NAME = Object.fromEntries(Object.entries(ACTION).map(([k, v]) => [v, k]));
export const QUEUE_ALL = constants.ActionQueue.ALL;
const QUEUE_NAME = Object.fromEntries(Object.entries(constants.ActionQueue).map(([k, v]) => [v, k.toLowerCase()]));
/** Steps of the scenario format; every other operation is the simulator's own. */
export const SCENARIO_OPS = new Set(['send', 'close', 'ping', 'pong', 'abort', 'tick', 'inject']);
export const SIDES = ['client', 'server'];
export const peerOf = (side) => (side === 'client' ? 'server' : 'client');
export const HOST_HEADER = 'wsaction.test';

const encoder = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const looseUtf8 = new TextDecoder('utf-8');

export function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function hexBytes(text) {
  const cleaned = String(text).replace(/0x/gi, '').replace(/[\s,]+/g, '');
  if (cleaned.length % 2 !== 0 || /[^0-9a-f]/i.test(cleaned)) throw new Error(`not hex bytes: ${JSON.stringify(text)}`);
  const out = new Uint8Array(cleaned.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(cleaned.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function fnv1a(bytes) {
  let hash = 0x811c9dc5;
  for (const b of bytes) {
    hash ^= b;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}

/** A step's payload: `text`, `hex` or `fill`, as the scenario format writes them. */
export function stepPayload(step) {
  if (typeof step.text === 'string') return encoder.encode(step.text);
  if (typeof step.hex === 'string') return hexBytes(step.hex);
  if (step.fill) return new Uint8Array(step.fill.length).fill(step.fill.byte);
  return new Uint8Array(0);
}

/** The shortest way the format writes `bytes`: text if it is UTF-8, fill if one byte repeats, else hex. */
export function payloadFields(bytes, preferText) {
  if (bytes.length >= 16 && bytes.every((b) => b === bytes[0])) return { fill: { byte: bytes[0], length: bytes.length } };
  if (preferText) {
    try {
      return { text: strictUtf8.decode(bytes) };
    } catch {
      // not UTF-8 on its own (a piece cut inside a code point, or meant to be invalid)
    }
  }
  return { hex: toHex(bytes) };
}

/** The event a scenario runner records for an IndicateReceiveComplete. */
export function receivedEvent(action) {
  const type = BUFFER_TYPE_NAME[action.bufferType];
  const event = { received: type };
  if (action.bufferType === BUFFER_TYPE.CLOSE) {
    event.status = action.closeStatus;
    event.reason = looseUtf8.decode(action.bytes);
  } else if (action.bytes.length <= 64) {
    if (type.startsWith('UTF8')) event.text = looseUtf8.decode(action.bytes);
    else event.hex = toHex(action.bytes);
  } else {
    event.length = action.bytes.length;
    event.fnv1a = fnv1a(action.bytes);
  }
  return event;
}

/** The engine's property object for scenario properties (the format spells one mode differently). */
export function engineProperties(properties = {}) {
  const out = { ...properties };
  if (out.keepAliveMode === 'unsolicited-pong') out.keepAliveMode = 'unsolicitedPong';
  return out;
}

/** One direction of the TCP connection: every byte that entered, who wrote it, what was delivered. */
export class Link {
  constructor(toward) {
    this.toward = toward;
    this.bytes = new Uint8Array(256);
    this.length = 0;
    this.segments = []; // { start, end, at, due, origin, seq }
    this.deliveries = []; // { start, end, at, seq }
    this.delivered = 0;
    this.gate = Infinity; // with the network paused: deliver up to here
    this.pendingCorruptions = []; // { offset, xor } for bytes not written yet
    this.corrupted = new Map(); // offset -> { xor, original }
    this.ended = false; // the writer closed the connection
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

  /** XORs one byte not yet delivered; false when that byte has not been written yet. */
  corrupt(offset, xor) {
    if (offset >= this.length) return false;
    if (!this.corrupted.has(offset)) this.corrupted.set(offset, { xor: 0, original: this.bytes[offset] });
    this.bytes[offset] ^= xor;
    this.corrupted.get(offset).xor ^= xor;
    return true;
  }

  /** How many bytes have arrived (are due) and may pass the gate. */
  deliverable(now) {
    if (this.dropped) return 0;
    let end = this.delivered;
    for (const s of this.segments) {
      if (s.end <= this.delivered) continue;
      if (s.due > now) break;
      end = s.end;
    }
    return Math.max(0, Math.min(end, this.gate) - this.delivered);
  }

  /** When the next byte not yet delivered arrives, if that is later than now. */
  nextDue(now) {
    if (this.dropped) return null;
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

/** The decoded items of one link as timeline rows. */
export function linkRows(link, from, toward) {
  const rows = [];
  for (const item of decodeStream(link.view(), true)) {
    const seg = link.segments.find((s) => s.start <= item.start && item.start < s.end) ?? link.segments[link.segments.length - 1];
    if (!seg) continue;
    const size = item.end - item.start;
    const delivered = Math.max(0, Math.min(link.delivered, item.end) - item.start);
    const chunks = link.deliveries.filter((d) => d.end > item.start && d.start < item.end);
    const corrupted = [];
    for (const [offset, c] of link.corrupted) if (offset >= item.start && offset < item.end) corrupted.push({ offset, ...c });
    rows.push({
      type: 'item', item, from, toward, origin: seg.origin, seq: seg.seq, at: seg.at,
      size, delivered, chunks: chunks.length,
      deliveredAt: delivered === size && chunks.length ? chunks[chunks.length - 1].at : null,
      lost: link.dropped && delivered < size, corrupted,
      bytes: link.bytes.slice(item.start, item.end),
    });
  }
  return rows;
}

/** One endpoint: a handle and the host around it (its application and its action loop). */
class Endpoint {
  constructor(sim, name, spec) {
    this.sim = sim;
    this.name = name;
    this.spec = spec;
    const properties = engineProperties(spec.properties);
    const seed = spec.seed ?? (name === 'client' ? 1 : 2);
    this.handle = name === 'client'
      ? sim.engine.WebSocketHandle.createClient(properties, seed)
      : sim.engine.WebSocketHandle.createServer(properties, seed);
    // 'idle' (client before connect), 'handshake', 'open' (frames flow), 'rejected'
    this.phase = name === 'client' ? 'idle' : 'handshake';
    this.head = new Uint8Array(0);
    this.inbox = new Uint8Array(0); // bytes read with the HTTP head that belong to the frames
    this.held = null; // a ReceiveFromNetwork not yet completed: { id, capacity }
    this.pending = null; // step mode: an action got and shown, performed on the next step
    this.sendQueue = []; // step mode: sends waiting for the outstanding one to complete
    this.receiveQueued = false;
    this.transportClosed = false;
    this.log = []; // the action log: { seq, at, text, kind }
    this.events = []; // scenario events: { sendComplete } / { received, ... } / { error, closeCode }
    this.indications = []; // every IndicateReceiveComplete, with its bytes
    this.handshake = { request: null, response: null, status: null };
    this.nextContext = 1;
  }

  get state() {
    return this.handle.stateName;
  }

  note(text, kind = 'info') {
    this.log.push({ seq: this.sim.nextSeq(), at: this.sim.now, text, kind });
  }

  record(event) {
    this.events.push(event);
  }

  recordError(e, what) {
    const event = { error: e.code ?? e.name ?? 'Error' };
    if (e.closeCode) event.closeCode = e.closeCode;
    this.record(event);
    this.note(`${what} → ${describeError(e)}`, 'error');
  }

  get inLink() {
    return this.sim.links[this.name];
  }

  write(bytes) {
    this.sim.writeLink(peerOf(this.name), bytes, this.name);
  }

  /** How many bytes one read takes now (0: nothing to read). */
  readable(capacity) {
    if (this.transportClosed) return 0;
    const avail = this.inLink.deliverable(this.sim.now);
    const chunk = this.sim.network.chunk > 0 ? this.sim.network.chunk : Infinity;
    return Math.min(avail, chunk, capacity);
  }

  read(count, capacity) {
    if (this.inbox.length > 0) {
      const n = Math.min(this.inbox.length, capacity, this.sim.network.chunk || Infinity);
      const bytes = this.inbox.slice(0, n);
      this.inbox = this.inbox.slice(n);
      return bytes;
    }
    return this.inLink.take(count, this.sim.now, this.sim.nextSeq());
  }

  waiting(capacity) {
    if (this.inbox.length > 0) return Math.min(this.inbox.length, capacity);
    return this.readable(capacity);
  }

  /** Does one unit of work (one action got, performed or completed); false when there is none. */
  step() {
    if (this.transportClosed) return false;
    if (this.phase === 'handshake') return this.handshakeStep();
    if (this.phase !== 'open') return false;
    if (this.pending) return this.perform();
    if (this.held) {
      const n = this.waiting(this.held.capacity);
      if (n > 0) return this.completeReceive(this.read(n, this.held.capacity));
      const link = this.inLink;
      if (link.ended && link.delivered >= link.length) return this.completeReceive(new Uint8Array(0), 'the peer closed the connection');
    }
    if (this.appStep()) return true;
    return this.getAction();
  }

  completeReceive(bytes, why) {
    const { id } = this.held;
    this.held = null;
    const what = bytes.length === 0 ? 'end of stream' : `${bytes.length} byte${bytes.length === 1 ? '' : 's'}`;
    try {
      this.handle.completeReceive(id, bytes);
      this.note(`complete_action(#${id}, ${what} read)${why ? ` (${why})` : ''}`, 'complete');
    } catch (e) {
      this.recordError(e, `complete_action(#${id})`);
    }
    return true;
  }

  /** The application's part in step mode and after indications: queue a receive, a waiting send. */
  appStep() {
    if (this.receiveQueued) {
      this.receiveQueued = false;
      const state = this.state;
      if (state === 'open' || state === 'close-sent') {
        try {
          this.handle.receive(this.nextContext++);
          this.note('receive()', 'app');
        } catch (e) {
          this.recordError(e, 'receive()');
        }
        return true;
      }
    }
    if (this.sendQueue.length > 0 && !this.sendBusy()) {
      this.sendNow(this.sendQueue.shift());
      return true;
    }
    return false;
  }

  /** A send of ours is with the engine and has not been indicated complete yet. */
  sendBusy() {
    return this.outstandingSend > 0;
  }

  sendNow(step) {
    const type = BUFFER_TYPE[step.bufferTypeName];
    const label = `${BUFFER_TYPE_NAME[type]}, ${step.label}`;
    try {
      this.handle.send(type, step.buffer, this.nextContext++);
      this.outstandingSend = (this.outstandingSend ?? 0) + 1;
      this.note(`send(${label})`, 'app');
    } catch (e) {
      this.recordError(e, `send(${label})`);
    }
  }

  getAction() {
    let action;
    try {
      action = this.handle.getAction(QUEUE_ALL);
    } catch (e) {
      this.recordError(e, 'get_action');
      if (e.closeCode) this.sim.timelineNote(this.name, `${this.name}: ${e.violation ?? e.code} → fails the connection with ${e.closeCode}`, 'error');
      return true;
    }
    if (action.kind === ACTION.NO_ACTION) return false;
    this.pending = action;
    const parts = [`#${action.id} ${ACTION_NAME[action.kind]}`, `${QUEUE_NAME[action.queue] ?? action.queue} queue`];
    if (action.bufferType != null) parts.push(BUFFER_TYPE_NAME[action.bufferType]);
    if (action.kind === ACTION.SEND_TO_NETWORK) parts.push(`${action.bytes.length} bytes`);
    if (action.kind === ACTION.RECEIVE_FROM_NETWORK) parts.push(`up to ${action.receiveCapacity} bytes`);
    if (action.kind === ACTION.INDICATE_RECEIVE_COMPLETE) parts.push(`${action.bytes.length} bytes`);
    if (action.closeStatus != null) parts.push(`status ${action.closeStatus}`);
    if (action.context == null && action.kind !== ACTION.RECEIVE_FROM_NETWORK) parts.push("engine's own");
    this.note(`get_action → ${parts.join(', ')}`, 'action');
    if (this.sim.stepping && this.sim.granularity === 'step') return true; // performed on the next step
    return this.perform();
  }

  /** Performs the action from get_action and completes it (a ReceiveFromNetwork waits for bytes). */
  perform() {
    const action = this.pending;
    this.pending = null;
    const complete = (n, text) => {
      try {
        this.handle.completeAction(action.id, n);
        this.note(`complete_action(#${action.id}, ${n})${text ? ` ${text}` : ''}`, 'complete');
      } catch (e) {
        this.recordError(e, `complete_action(#${action.id})`);
      }
    };
    switch (action.kind) {
      case ACTION.SEND_TO_NETWORK:
        this.write(action.bytes);
        complete(action.bytes.length, '(written)');
        break;
      case ACTION.RECEIVE_FROM_NETWORK: {
        this.held = { id: action.id, capacity: action.receiveCapacity };
        const n = this.waiting(action.receiveCapacity);
        if (n > 0) return this.completeReceive(this.read(n, action.receiveCapacity));
        this.note(`holding #${action.id} until bytes arrive`, 'host');
        break;
      }
      case ACTION.INDICATE_SEND_COMPLETE:
        this.record({ sendComplete: BUFFER_TYPE_NAME[action.bufferType] });
        this.outstandingSend = Math.max(0, (this.outstandingSend ?? 0) - 1);
        complete(0);
        break;
      case ACTION.INDICATE_RECEIVE_COMPLETE:
        this.record(receivedEvent(action));
        this.indications.push({ seq: this.sim.nextSeq(), at: this.sim.now, ...action });
        complete(0);
        this.receiveQueued = true;
        break;
      default:
        break;
    }
    return true;
  }

  /** The HTTP upgrade, run by the host before the handle sees frames. */
  handshakeStep() {
    const n = this.readable(16384);
    if (n === 0) return false;
    const chunk = this.read(n, 16384);
    const head = new Uint8Array(this.head.length + chunk.length);
    head.set(this.head);
    head.set(chunk, this.head.length);
    this.head = head;
    this.note(`host read ${n} byte${n === 1 ? '' : 's'} of the HTTP head`, 'host');
    return this.name === 'server' ? this.serverHead() : this.clientHead();
  }

  serverHead() {
    const engine = this.sim.engine;
    let parsed;
    try {
      parsed = this.handle.parseRequestHead(this.head);
    } catch (e) {
      return this.reject(e);
    }
    if (!parsed) return true;
    this.handshake.request = parsed.headers;
    const selects = this.sim.handshake.serverSelects ?? null;
    try {
      engine.checkRequestLine(parsed.method, parsed.minorVersion);
      const headers = this.handle.beginServerHandshake(selects, [], parsed.headers);
      this.note(`begin_server_handshake(${selects ? JSON.stringify(selects) : 'no subprotocol'}) → ${headers.length} headers`, 'app');
      this.handshake.response = headers;
      this.handshake.status = 101;
      this.write(engine.serializeResponseHead(101, 'Switching Protocols', headers));
      this.note('host wrote 101 Switching Protocols', 'host');
    } catch (e) {
      return this.reject(e);
    }
    this.open(parsed.consumed);
    return true;
  }

  open(consumed) {
    this.phase = 'open';
    this.inbox = this.head.slice(consumed);
    this.head = new Uint8Array(0);
    this.receiveQueued = true;
  }

  reject(e) {
    const engine = this.sim.engine;
    const status = e.httpStatus ?? 400;
    this.recordError(e, 'handshake');
    const headers = [...(e.httpHeaders ?? []), ['Content-Length', '0'], ['Connection', 'close']];
    this.handshake.status = status;
    this.handshake.response = headers;
    this.write(engine.serializeResponseHead(status, engine.reasonPhrase(status), headers));
    this.note(`host wrote ${status} ${engine.reasonPhrase(status)}`, 'host');
    this.phase = 'rejected';
    this.sim.timelineNote(this.name, `server rejected the handshake with ${status}`, 'error');
    this.sim.closeTransport(this.name);
    return true;
  }

  clientHead() {
    let parsed;
    try {
      parsed = this.handle.parseResponseHead(this.head);
    } catch (e) {
      return this.refuse(e, 'the response head');
    }
    if (!parsed) return true;
    this.handshake.response = parsed.headers;
    this.handshake.status = parsed.status;
    if (parsed.status !== 101) {
      return this.refuse({ code: 'HANDSHAKE_REFUSED', message: `the server answered ${parsed.status} ${parsed.reason}` }, 'the response');
    }
    try {
      const result = this.handle.endClientHandshake(parsed.headers);
      const chosen = result.selectedSubprotocol != null ? this.sim.handshake.subprotocols[result.selectedSubprotocol] : null;
      this.note(`end_client_handshake → accepted${chosen ? `, subprotocol ${JSON.stringify(chosen)}` : ''}`, 'app');
    } catch (e) {
      return this.refuse(e, 'end_client_handshake');
    }
    this.open(parsed.consumed);
    return true;
  }

  refuse(e, what) {
    this.recordError(e, what);
    this.phase = 'rejected';
    this.sim.timelineNote(this.name, `client refused the handshake: ${e.code}`, 'error');
    this.sim.closeTransport(this.name);
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

/**
 * The send steps for a message of `bytes` sent in pieces of `size` bytes (0: whole): each piece
 * a *_FRAGMENT send, the last a *_MESSAGE send, each payload written as the format writes it.
 */
export function sendSteps(side, bytes, { text, size = 0 }) {
  const last = text ? 'UTF8_MESSAGE' : 'BINARY_MESSAGE';
  const more = text ? 'UTF8_FRAGMENT' : 'BINARY_FRAGMENT';
  if (!size || size >= bytes.length) return [{ side, op: 'send', type: last, ...payloadFields(bytes, text) }];
  const steps = [];
  for (let at = 0; at < bytes.length; at += size) {
    const end = Math.min(bytes.length, at + size);
    steps.push({ side, op: 'send', type: end === bytes.length ? last : more, ...payloadFields(bytes.slice(at, end), text) });
  }
  return steps;
}

const clone = (v) => JSON.parse(JSON.stringify(v ?? null));

export class Simulation {
  /**
   * `engine` is the module namespace of the JS class's web build; `scenario` a scenario object
   * (its steps are not applied here: see `Simulation.replay`). `options.chunk` picks the delivery
   * chunk (default: the scenario's first `chunks` value).
   */
  constructor(engine, scenario = {}, options = {}) {
    this.engine = engine;
    this.scenario = clone(scenario) ?? {};
    const chunks = this.scenario.chunks ?? [0, 1, 7];
    this.network = { chunk: options.chunk ?? chunks[0] ?? 0, latency: 0, paused: false };
    this.handshake = { subprotocols: [], serverSelects: null, ...(this.scenario.handshake ?? {}) };
    this.granularity = options.granularity ?? 'run'; // 'run': each operation runs until quiet; 'step': one action per step
    this.startGranularity = this.granularity;
    this.initialChunk = this.network.chunk;
    this.now = 0;
    this.seq = 0;
    this.log = []; // every operation applied, in order (scenario steps and the simulator's own)
    this.notes = []; // timeline notes: { seq, at, side, text, kind }
    this.stepping = false;
    this.links = { server: new Link('server'), client: new Link('client') };
    this.sides = {};
    for (const name of SIDES) this.sides[name] = new Endpoint(this, name, this.scenario[name] ?? {});
    for (const name of SIDES) this.sides[name].handle.tick(0);
    this.connect();
    if (this.granularity === 'run') this.run();
  }

  /** A simulation of `scenario` with its recorded operations (or its steps) applied. */
  static replay(engine, scenario, options = {}) {
    const log = scenario.simulator?.log;
    const sim = new Simulation(engine, scenario, { granularity: scenario.simulator?.granularity ?? 'run', ...options });
    for (const op of log ?? scenario.steps ?? []) sim.apply(op);
    return sim;
  }

  nextSeq() {
    return ++this.seq;
  }

  timelineNote(side, text, kind = 'info') {
    this.notes.push({ seq: this.nextSeq(), at: this.now, side, text, kind });
  }

  writeLink(toward, bytes, origin) {
    const link = this.links[toward];
    link.write(bytes, origin, this.now, this.now + (this.network.latency || 0), this.nextSeq());
  }

  /** Step 2 of the runner, on the wire: the client writes its upgrade request. */
  connect() {
    const client = this.sides.client;
    const headers = client.handle.beginClientHandshake(this.handshake.subprotocols, [], []);
    client.note(`begin_client_handshake(${JSON.stringify(this.handshake.subprotocols)}) → ${headers.length} headers`, 'app');
    const request = [...headers, ['Host', HOST_HEADER]];
    client.handshake.request = request;
    client.write(this.engine.serializeRequestHead('GET', '/', request));
    client.note('host wrote GET / (upgrade request)', 'host');
    client.phase = 'handshake';
  }

  closeTransport(name) {
    const side = this.sides[name];
    if (side.transportClosed) return;
    side.transportClosed = true;
    side.held = null;
    side.note('host closed the TCP connection', 'host');
    this.links[peerOf(name)].ended = true;
    this.links[name].dropped = true;
    this.timelineNote(name, `${name} closed the TCP connection`, 'transport');
  }

  // ------------------------------------------------------------------ operations (recorded)

  /** Applies one operation (a scenario step or a simulator operation) and records it. */
  apply(op) {
    this.log.push(clone(op));
    const s = op.side && this.sides[op.side];
    if (op.side && !s) throw new Error(`unknown side ${JSON.stringify(op.side)}`);
    switch (op.op) {
      case 'send': {
        if (!(op.type in BUFFER_TYPE) || !op.type.match(/MESSAGE|FRAGMENT/)) throw new Error(`send type ${op.type}`);
        const bytes = stepPayload(op);
        this.appSend(s, { bufferTypeName: op.type, buffer: bytes, label: `${bytes.length} bytes` });
        break;
      }
      case 'ping':
      case 'pong': {
        const bytes = stepPayload(op);
        this.appSend(s, { bufferTypeName: op.op === 'ping' ? 'PING_PONG' : 'UNSOLICITED_PONG', buffer: bytes, label: `${bytes.length} bytes` });
        break;
      }
      case 'close': {
        const buffer = op.status == null ? null : { status: op.status, reason: op.reason ?? '' };
        this.appSend(s, { bufferTypeName: 'CLOSE', buffer, label: op.status == null ? 'no status' : `status ${op.status}${op.reason ? ` ${JSON.stringify(op.reason)}` : ''}` });
        break;
      }
      case 'abort':
        s.handle.abort();
        s.note('abort()', 'app');
        this.timelineNote(op.side, `${op.side} aborted its handle`, 'error');
        break;
      case 'tick':
        if (!(op.now >= this.now)) throw new Error(`tick to ${op.now}: the clock is at ${this.now} and never goes back`);
        this.setTime(op.now);
        this.timelineNote('clock', `clock → ${op.now} ms`, 'clock');
        break;
      case 'inject': {
        const bytes = hexBytes(op.hex);
        if (!SIDES.includes(op.toward)) throw new Error(`inject toward ${op.toward}`);
        this.writeLink(op.toward, bytes, 'inject');
        break;
      }
      case 'network':
        this.setNetwork(op);
        break;
      case 'release':
        this.release(op.toward);
        break;
      case 'corrupt':
        this.corrupt(op);
        break;
      case 'closeTransport':
        this.closeTransport(op.side);
        break;
      case 'granularity':
        this.granularity = op.value === 'step' ? 'step' : 'run';
        break;
      case 'step':
        this.step(op.side);
        return;
      case 'run':
        this.run();
        return;
      default:
        throw new Error(`unknown operation ${JSON.stringify(op.op)}`);
    }
    if (this.granularity === 'run') this.run();
  }

  /** A send step: straight to the handle (as the runner does), or queued while one is outstanding in step mode. */
  appSend(side, piece) {
    if (this.granularity === 'step' && (side.sendBusy() || side.sendQueue.length > 0)) side.sendQueue.push(piece);
    else side.sendNow(piece);
  }

  setNetwork({ chunk, latency, paused }) {
    if (chunk != null) this.network.chunk = Math.max(0, chunk | 0);
    if (latency != null) this.network.latency = Math.max(0, latency | 0);
    if (paused != null && paused !== this.network.paused) {
      this.network.paused = paused;
      for (const link of Object.values(this.links)) link.gate = paused ? link.delivered : Infinity;
    }
  }

  /** With the network paused: lets one more chunk through toward `toward`. */
  release(toward) {
    const link = this.links[toward];
    const step = this.network.chunk > 0 ? this.network.chunk : Infinity;
    link.gate = Math.min(link.length, Math.max(link.gate, link.delivered) + step);
  }

  corrupt({ toward, offset, xor = 0x01 }) {
    const link = this.links[toward];
    if (!(offset >= 0)) throw new Error('corrupt: offset must be a byte offset in the stream');
    if (offset < link.delivered) throw new Error(`byte ${offset} toward the ${toward} was already delivered`);
    if (!link.corrupt(offset, xor & 0xff)) link.pendingCorruptions.push({ offset, xor: xor & 0xff });
  }

  setTime(t) {
    this.now = t;
    for (const name of SIDES) this.sides[name].handle.tick(t);
  }

  /** The earliest engine deadline of either handle. */
  nextDeadline() {
    const all = SIDES.map((n) => this.sides[n].handle.nextDeadline()).filter((d) => d != null);
    return all.length ? Math.min(...all) : null;
  }

  /** One unit of work on `side`, or on whichever side has work (client first). */
  step(side) {
    this.stepping = true;
    try {
      if (side) return this.sides[side].step();
      return this.sides.client.step() || this.sides.server.step();
    } finally {
      this.stepping = false;
    }
  }

  /** The runner's run: drain(client), drain(server) until neither moves; then bytes in flight (latency). */
  run(limit = 1_000_000) {
    let budget = limit;
    const drain = (side) => {
      let progressed = false;
      while (budget-- > 0 && side.step()) progressed = true;
      return progressed;
    };
    for (;;) {
      const a = drain(this.sides.client);
      const b = drain(this.sides.server);
      if (budget <= 0) {
        this.timelineNote('clock', `run stopped after ${limit} steps`, 'error');
        return;
      }
      if (a || b) continue;
      const due = SIDES.map((n) => this.links[n].nextDue(this.now)).filter((t) => t != null);
      if (due.length === 0) return;
      this.setTime(Math.min(...due));
    }
  }

  // ------------------------------------------------------------------ views and export

  /** The timeline: decoded items of both directions and notes, in the order they happened. */
  timeline() {
    const rows = SIDES.flatMap((toward) => linkRows(this.links[toward], peerOf(toward), toward));
    for (const note of this.notes) rows.push({ type: 'note', ...note });
    rows.sort((a, b) => a.seq - b.seq);
    return rows;
  }

  /** True when the session used something the scenario format cannot say (see `exportScenario`). */
  usesSimulatorOps() {
    return this.startGranularity !== 'run' || this.log.some((op) => !SCENARIO_OPS.has(op.op));
  }

  /**
   * The session as a scenario file: the format's fields, the steps taken, and what each side
   * observed as `expect`, so any host can check it. A session that used the simulator's own
   * operations (network settings, single steps, corruption) also carries them under `simulator`,
   * which the simulator replays byte for byte; other runners read only the format's fields.
   */
  exportScenario(name = this.scenario.name ?? 'session', description = this.scenario.description) {
    const out = { name };
    if (description) out.description = description;
    for (const side of SIDES) {
      const spec = this.scenario[side];
      if (spec && (spec.seed != null || Object.keys(spec.properties ?? {}).length)) out[side] = clone(spec);
    }
    if (this.scenario.handshake) out.handshake = clone(this.scenario.handshake);
    const networkChanged = this.log.some((op) => op.op === 'network');
    out.chunks = this.scenario.chunks && !networkChanged ? clone(this.scenario.chunks) : [this.initialChunk];
    out.steps = this.log.filter((op) => SCENARIO_OPS.has(op.op)).map(clone);
    out.expect = {};
    const subprotocol = this.sides.client.handle.subprotocol;
    if (subprotocol) out.expect.subprotocol = subprotocol;
    for (const side of SIDES) out.expect[side] = { events: clone(this.sides[side].events), state: this.sides[side].state };
    if (this.usesSimulatorOps()) {
      out.simulator = { granularity: this.startGranularity, log: this.log.map(clone) };
    }
    return out;
  }

  /** Each side's observed events and state against a scenario's `expect`: { side: { pass, why } }. */
  check(expect = this.scenario.expect) {
    const result = {};
    if (!expect) return result;
    for (const side of SIDES) {
      const want = expect[side];
      if (!want) continue;
      const got = this.sides[side];
      let why = null;
      if (want.events && canonical(want.events) !== canonical(got.events)) {
        why = `events differ: expected ${canonical(want.events)}, got ${canonical(got.events)}`;
      } else if (want.state && want.state !== got.state) {
        why = `state ${got.state}, expected ${want.state}`;
      }
      result[side] = { pass: !why, why };
    }
    if (expect.subprotocol !== undefined) {
      const got = this.sides.client.handle.subprotocol ?? null;
      result.subprotocol = { pass: got === expect.subprotocol, why: got === expect.subprotocol ? null : `subprotocol ${got}` };
    }
    return result;
  }

  /** A digest of everything observable, for replay checks: both wires, states, events, clock. */
  fingerprint() {
    return JSON.stringify({
      now: this.now,
      toServer: toHex(this.links.server.view()),
      toClient: toHex(this.links.client.view()),
      states: SIDES.map((s) => this.sides[s].state),
      events: SIDES.map((s) => this.sides[s].events),
    });
  }
}

/** JSON with sorted keys, for comparing events whatever order their fields were written in. */
export function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
