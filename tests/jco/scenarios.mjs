// The shared scenario suite (tests/scenarios/*.json; format in tests/scenarios/README.md) run
// through the component transpiled by jco, in Node. Writes the results file given as argv[2]
// ({"host": "jco", "results": {...}}) and exits 1 if any scenario failed.
// Usage: node scenarios.mjs RESULTS.json [SCENARIO_DIR]
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { engine, attempt, errorCode, errorCloseCode, typeName, typeCase } from './component.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(process.argv[2] ?? join(here, '../artifacts/scenario-results/jco.json'));
const dir = resolve(process.argv[3] ?? join(here, '../scenarios'));

const hex = (bytes) => Buffer.from(bytes).toString('hex');
const fromHex = (s) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const OPTIONS = { keepReceiving: true, maxOutBytes: undefined };
const utf8 = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });
function fnv1a(bytes) {
  let h = 0x811c9dc5;
  for (const b of bytes) { h ^= b; h = Math.imul(h, 0x01000193) >>> 0; }
  return h.toString(16).padStart(8, '0');
}
function payload(step) {
  if (typeof step.text === 'string') return utf8.encode(step.text);
  if (typeof step.hex === 'string') return fromHex(step.hex);
  if (step.fill) return new Uint8Array(step.fill.length).fill(step.fill.byte);
  return new Uint8Array(0);
}
// The scenario's property names are the WIT record's field names in camelCase, which jco uses.
// A scenario's properties (JS names) as the WIT list of property-value cases (kebab names).
function properties(spec) {
  return Object.entries(spec?.properties ?? {}).map(([name, value]) => ({
    tag: name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`),
    val: ['maxFrameSize', 'maxMessageSize'].includes(name) ? BigInt(value) : value,
  }));
}
const ok = (r, what) => {
  if ('error' in r) throw new Error(`${what}: ${JSON.stringify(r.error, (k, v) => typeof v === 'bigint' ? String(v) : v)}`);
  return r.ok;
};
function recordError(events, error) {
  const event = { error: errorCode(error) };
  const close = errorCloseCode(error);
  if (close !== undefined) event.closeCode = close;
  events.push(event);
}
function receivedEvent(r) {
  const event = { received: typeName(r.bufferType) };
  if (r.bufferType === 'close') {
    event.status = r.closeStatus ?? null;
    event.reason = decoder.decode(r.bytes);
  } else if (r.bytes.length <= 64) {
    if (r.bufferType.startsWith('utf8')) event.text = decoder.decode(r.bytes);
    else event.hex = hex(r.bytes);
  } else {
    event.length = r.bytes.length;
    event.fnv1a = fnv1a(r.bytes);
  }
  return event;
}

// The README's drain(side) on the component's driver: one `drain` crossing per read of at most
// `chunk` bytes; the loop and its rules are the engine's.
function drain(side, peer, chunk) {
  let progressed = false;
  for (;;) {
    const n = chunk === 0 ? side.wire.length : Math.min(side.wire.length, chunk);
    const r = ok(attempt(() => side.handle.drain(Uint8Array.from(side.wire.subarray(0, n)), false, OPTIONS)), 'drain');
    side.wire = side.wire.subarray(r.consumed);
    if (r.out.length > 0) peer.wire = concat(peer.wire, r.out);
    for (const indication of r.indications) {
      if (indication.tag === 'send-complete') side.events.push({ sendComplete: typeName(indication.val.bufferType) });
      else side.events.push(receivedEvent(indication.val));
    }
    if (r.violation !== undefined) recordError(side.events, r.violation);
    const moved = r.consumed > 0 || r.out.length > 0 || r.indications.length > 0 || r.violation !== undefined || r.failingCloseWaits;
    if (!moved) return progressed;
    progressed = true;
  }
}
function concat(a, b) {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
function run(client, server, chunk) {
  for (let i = 0; i < 1_000_000; i++) {
    const a = drain(client, server, chunk);
    const b = drain(server, client, chunk);
    if (!a && !b) return;
  }
  throw new Error('the pair never went quiet');
}
function makeSide(create, spec, defaultSeed) {
  const seed = BigInt(spec?.seed ?? defaultSeed);
  const handle = ok(attempt(() => create(properties(spec), seed)), 'create the handle');
  return { handle, wire: new Uint8Array(0), events: [] };
}
function perform(side, step) {
  const data = payload(step);
  let r;
  switch (step.op) {
    case 'send': r = attempt(() => side.handle.send(typeCase(step.type), { tag: 'data', val: data }, undefined)); break;
    case 'close': {
      const buffer = step.status === undefined ? undefined
        : { tag: 'close-status', val: { status: step.status, reason: utf8.encode(step.reason ?? '') } };
      r = attempt(() => side.handle.send('close', buffer, undefined));
      break;
    }
    case 'ping': r = attempt(() => side.handle.send('ping-pong', { tag: 'data', val: data }, undefined)); break;
    case 'pong': r = attempt(() => side.handle.send('unsolicited-pong', { tag: 'data', val: data }, undefined)); break;
    case 'abort': r = attempt(() => side.handle.abort()); break;
    default: throw new Error(`unknown op ${step.op}`);
  }
  if ('error' in r) recordError(side.events, r.error);
}

export function runScenario(scenario, chunk) {
  const client = makeSide((p, s) => engine.Handle.createClient(p, s), scenario.client, 1);
  const server = makeSide((p, s) => engine.Handle.createServer(p, s), scenario.server, 2);
  client.handle.tick(0n);
  server.handle.tick(0n);
  const offered = scenario.handshake?.subprotocols ?? [];
  const request = ok(attempt(() => client.handle.beginClientHandshake(offered, [], [])), 'begin client handshake');
  request.push({ name: 'Host', value: 'wsaction.test' });
  const response = ok(attempt(() => server.handle.beginServerHandshake(scenario.handshake?.serverSelects, [], request)), 'begin server handshake');
  ok(attempt(() => client.handle.endClientHandshake(response)), 'end client handshake');
  ok(attempt(() => client.handle.receive(undefined)), 'client receive');
  ok(attempt(() => server.handle.receive(undefined)), 'server receive');
  for (const step of scenario.steps) {
    if (step.op === 'tick') {
      client.handle.tick(BigInt(step.now));
      server.handle.tick(BigInt(step.now));
    } else if (step.op === 'inject') {
      const target = step.toward === 'server' ? server : client;
      target.wire = concat(target.wire, payload(step));
    } else {
      perform(step.side === 'client' ? client : server, step);
    }
    run(client, server, chunk);
  }
  const result = {
    subprotocol: client.handle.subprotocol() ?? null,
    client: { events: client.events, state: client.handle.state() },
    server: { events: server.events, state: server.handle.state() },
  };
  client.handle[Symbol.dispose]?.();
  server.handle[Symbol.dispose]?.();
  return result;
}

function check(scenario, actual) {
  const expect = scenario.expect ?? {};
  if ('subprotocol' in expect && actual.subprotocol !== expect.subprotocol) {
    return `subprotocol ${actual.subprotocol} != ${expect.subprotocol}`;
  }
  for (const side of ['client', 'server']) {
    for (const field of ['events', 'state']) {
      const wanted = expect[side]?.[field];
      if (wanted !== undefined && !isDeepStrictEqual(actual[side][field], wanted)) {
        return `${side} ${field}: expected ${JSON.stringify(wanted)}, actual ${JSON.stringify(actual[side][field])}`;
      }
    }
  }
  return null;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const results = {};
  let failed = 0;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    const scenario = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    let outcome = 'pass';
    for (const chunk of scenario.chunks ?? [0, 1, 7]) {
      try {
        const why = check(scenario, runScenario(scenario, chunk));
        if (why) { outcome = `fail: chunk ${chunk}: ${why}`; break; }
      } catch (e) {
        outcome = `fail: chunk ${chunk}: ${e.message}`;
        break;
      }
    }
    if (outcome !== 'pass') failed++;
    results[scenario.name] = outcome;
    console.log(`${scenario.name}: ${outcome}`);
  }
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ host: 'jco', results }, null, 2) + '\n');
  const total = Object.keys(results).length;
  console.log(`jco: ${total - failed} of ${total} scenarios passed; results in ${out}`);
  process.exit(failed ? 1 : 0);
}
