// The JS host's runner for tests/scenarios/*.json (format: tests/scenarios/README.md), shared by
// Node (scenarios.test.mjs) and Deno (scenarios.deno.test.ts): the same class, the same steps.

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function payload(step) {
  if (typeof step.text === 'string') return encoder.encode(step.text);
  if (typeof step.hex === 'string') return decodeHex(step.hex);
  if (step.fill) return new Uint8Array(step.fill.length).fill(step.fill.byte);
  return new Uint8Array(0);
}

function decodeHex(hex) {
  const digits = hex.replace(/\s+/g, '');
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function encodeHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function fnv1a(bytes) {
  let hash = 0x811c9dc5;
  for (const b of bytes) {
    hash ^= b;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}

function concat(a, b) {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** Deep equality of JSON values, ignoring key order. */
export function jsonEqual(a, b) {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) return a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
}

/** Runs one scenario at one chunk size with the engine `api` ({WebSocketHandle, constants}). */
export function runScenario(api, scenario, chunk) {
  const { WebSocketHandle, constants } = api;
  const B = constants.BufferType;
  const A = constants.Action;
  const typeName = Object.fromEntries(Object.entries(B).map(([name, value]) => [value, name]));

  const makeSide = (create, spec = {}, defaultSeed) => ({
    handle: create(spec.properties ?? {}, spec.seed ?? defaultSeed),
    wireIn: new Uint8Array(0),
    held: null,
    events: [],
  });
  const client = makeSide(WebSocketHandle.createClient, scenario.client, 1);
  const server = makeSide(WebSocketHandle.createServer, scenario.server, 2);

  const recordError = (side, err) => {
    if (typeof err?.code !== 'string' || err.name !== 'WsActionError') throw err;
    const event = { error: err.code };
    if (err.closeCode !== null) event.closeCode = err.closeCode;
    side.events.push(event);
  };
  const take = (side, capacity) => {
    const limit = chunk === 0 ? Infinity : chunk;
    const n = Math.min(side.wireIn.length, capacity, limit);
    const bytes = side.wireIn.slice(0, n);
    side.wireIn = side.wireIn.subarray(n);
    return bytes;
  };
  const receivedEvent = (action) => {
    const name = typeName[action.bufferType];
    const event = { received: name };
    if (action.bufferType === B.CLOSE) {
      event.status = action.closeStatus;
      event.reason = decoder.decode(action.bytes);
    } else if (action.bytes.length <= 64) {
      if (action.bufferType === B.UTF8_MESSAGE || action.bufferType === B.UTF8_FRAGMENT) event.text = decoder.decode(action.bytes);
      else event.hex = encodeHex(action.bytes);
    } else {
      event.length = action.bytes.length;
      event.fnv1a = fnv1a(action.bytes);
    }
    return event;
  };

  // The README's drain(side), on the core's driver (`drain`): the loop and its rules are the
  // engine's; this only hands over one read (at most `chunk` bytes) per call and records events.
  const drain = (side, peer) => {
    let progressed = false;
    const h = side.handle;
    for (;;) {
      if (side.held && side.wireIn.length > 0) {
        const { id, capacity } = side.held;
        side.held = null;
        h.completeReceive(id, take(side, capacity));
        progressed = true;
      }
      const r = h.drain(true);
      if (r.out.length > 0) peer.wireIn = concat(peer.wireIn, r.out);
      const ev = r.events;
      for (let i = 0; i < ev.length; i += 6) {
        if (ev[i] === A.INDICATE_SEND_COMPLETE) side.events.push({ sendComplete: typeName[ev[i + 1]] });
        else {
          const closeStatus = ev[i + 2] >= 0 ? ev[i + 2] : null;
          side.events.push(receivedEvent({ bufferType: ev[i + 1], closeStatus, bytes: r.payload.subarray(ev[i + 4], ev[i + 5]) }));
        }
      }
      if (r.error) recordError(side, r.error);
      if (r.receiveId !== 0) side.held = { id: r.receiveId, capacity: r.receiveCapacity };
      const moved = r.out.length > 0 || ev.length > 0 || r.error !== null || h.failingCloseWaits;
      if (!moved && !(side.held && side.wireIn.length > 0)) return progressed;
      progressed = true;
    }
  };
  const run = () => {
    for (;;) {
      const a = drain(client, server);
      const b = drain(server, client);
      if (!a && !b) return;
    }
  };
  const perform = (side, step) => {
    const h = side.handle;
    try {
      switch (step.op) {
        case 'send':
          h.send(B[step.type], payload(step));
          break;
        case 'close':
          h.send(B.CLOSE, typeof step.status === 'number' ? { status: step.status, reason: step.reason ?? '' } : null);
          break;
        case 'ping':
          h.send(B.PING_PONG, payload(step));
          break;
        case 'pong':
          h.send(B.UNSOLICITED_PONG, payload(step));
          break;
        case 'abort':
          h.abort();
          break;
        default:
          throw new Error(`unknown op ${step.op}`);
      }
    } catch (err) {
      recordError(side, err);
    }
  };

  try {
    client.handle.tick(0);
    server.handle.tick(0);
    const request = client.handle.beginClientHandshake(scenario.handshake?.subprotocols ?? [], [], []);
    request.push(['Host', 'wsaction.test']);
    const response = server.handle.beginServerHandshake(scenario.handshake?.serverSelects ?? null, [], request);
    client.handle.endClientHandshake(response);
    client.handle.receive();
    server.handle.receive();
    for (const step of scenario.steps) {
      if (step.op === 'tick') {
        client.handle.tick(step.now);
        server.handle.tick(step.now);
      } else if (step.op === 'inject') {
        const target = step.toward === 'server' ? server : client;
        target.wireIn = concat(target.wireIn, payload(step));
      } else {
        perform(step.side === 'server' ? server : client, step);
      }
      run();
    }
    return {
      subprotocol: client.handle.subprotocol,
      client: { events: client.events, state: client.handle.stateName },
      server: { events: server.events, state: server.handle.stateName },
    };
  } finally {
    client.handle.free();
    server.handle.free();
  }
}

/** Compares a run with the scenario's expectations: null when it matches, else why not. */
export function check(scenario, actual) {
  const expect = scenario.expect ?? {};
  if ('subprotocol' in expect && !jsonEqual(actual.subprotocol, expect.subprotocol)) {
    return `subprotocol ${JSON.stringify(actual.subprotocol)} != ${JSON.stringify(expect.subprotocol)}`;
  }
  for (const side of ['client', 'server']) {
    for (const field of ['events', 'state']) {
      const wanted = expect[side]?.[field];
      if (wanted !== undefined && !jsonEqual(actual[side][field], wanted)) {
        return `${side} ${field}:\n  expected ${JSON.stringify(wanted)}\n  actual   ${JSON.stringify(actual[side][field])}`;
      }
    }
  }
  return null;
}

/** Runs every scenario at each of its chunk sizes; returns { name: 'pass' | 'fail: why' }. */
export function runAll(api, scenarios) {
  const results = {};
  for (const scenario of scenarios) {
    let outcome = 'pass';
    for (const chunk of scenario.chunks ?? [0, 1, 7]) {
      let why;
      try {
        why = check(scenario, runScenario(api, scenario, chunk));
      } catch (err) {
        why = `threw ${err?.name}: ${err?.message}`;
      }
      if (why) {
        outcome = `fail: chunk ${chunk}: ${why}`;
        break;
      }
    }
    results[scenario.name] = outcome;
  }
  return results;
}
