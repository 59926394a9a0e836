// make bench-js, part 1: the wsaction JS class against ws with bufferutil (tests/bench's ws, the one
// a production server runs), in one Node process, on the same bytes:
//  1. parse: the same masked client wire bytes through a wsaction server handle (completeReceive +
//     drain) and through ws's Receiver, fed in 64 KiB chunks; both unmask and check UTF-8 of text;
//  2. frame: masked client frames from a wsaction client handle (sendAndDrain, one call per message:
//     the fair comparison with ws's Sender.frame, which masks the caller's buffer in place) and
//     ws's Sender.frame; then 16 B messages framed 64 per sendMany call against 64 Sender.frame calls.
// Prints messages/s, MB/s and the wsaction/ws ratio for each case. (Part 2, echo.mjs, runs servers.)
import { Receiver, Sender } from 'ws';
import { cpus } from 'node:os';
import { describeWs } from './ws-path.mjs';
import { WebSocketHandle, constants } from '../../pkg/node.js';

const B = constants.BufferType;
const CHUNK = 64 * 1024;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 1.5);
const SLOTS = 5;
const BATCH = 64;

function mixedUtf8(length) {
  const sample = 'ascii text, κόσμε, 日本語のテキスト, emoji 🎉🚀, ';
  const bytes = new TextEncoder().encode(sample.repeat(Math.ceil(length / sample.length) + 1));
  let end = length;
  while ((bytes[end] & 0xc0) === 0x80) end--; // end on a code point boundary
  return bytes.slice(0, end);
}

const cases = [
  { name: '16 B binary', type: B.BINARY_MESSAGE, payload: new Uint8Array(16).fill(7), count: 4096 },
  { name: '1 KiB binary', type: B.BINARY_MESSAGE, payload: new Uint8Array(1024).fill(7), count: 1024 },
  { name: '1 MiB binary', type: B.BINARY_MESSAGE, payload: new Uint8Array(1 << 20).fill(7), count: 8 },
  { name: '64 KiB UTF-8', type: B.UTF8_MESSAGE, payload: mixedUtf8(64 * 1024), count: 64 },
];

function openPair(clientProps = {}, serverProps = {}) {
  // No seed: mask keys from the default source (crypto.getRandomValues, pooled), as users get.
  const client = WebSocketHandle.createClient(clientProps);
  const server = WebSocketHandle.createServer(serverProps, 2);
  const request = client.beginClientHandshake([], [], []);
  request.push(['Host', 'bench']);
  client.endClientHandshake(server.beginServerHandshake(null, [], request));
  return { client, server };
}

/** The masked wire bytes of `count` messages, as a wsaction client frames them. */
function wireBytes(c) {
  const { client, server } = openPair({ sendBufferSize: 16 * 1024 * 1024 });
  const parts = [];
  let total = 0;
  for (let i = 0; i < c.count; i++) {
    client.send(c.type, c.payload);
    const r = client.drain(false);
    parts.push(r.out);
    total += r.out.length;
  }
  client.free();
  server.free();
  const wire = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    wire.set(p, at);
    at += p.length;
  }
  return wire;
}

/**
 * Runs both sides in turns (the machine is shared: SLOTS slots of SECONDS/SLOTS each, alternating)
 * and keeps each side's best slot; `once` handles `c.count` messages. Returns msgs/s and MB/s.
 */
function race(c, onceA, onceB) {
  const best = [0, 0];
  const sides = [onceA, onceB];
  for (const once of sides) once(); // warm up
  for (let slot = 0; slot < SLOTS; slot++) {
    sides.forEach((once, i) => {
      let rounds = 0;
      const start = process.hrtime.bigint();
      let elapsed = 0;
      do {
        once();
        rounds++;
        elapsed = Number(process.hrtime.bigint() - start) / 1e9;
      } while (elapsed < SECONDS / SLOTS);
      best[i] = Math.max(best[i], (rounds * c.count) / elapsed);
    });
  }
  return best.map((messages) => ({ messages, mbps: (messages * c.payload.length) / 1e6 }));
}

function parseWsaction(c, wire, drainName = 'drain') {
  const { client, server } = openPair({}, { receiveBufferSize: CHUNK });
  const drain = server[drainName];
  client.free();
  server.receive();
  let held = server.drain(true);
  let id = held.receiveId;
  let capacity = held.receiveCapacity;
  return () => {
    let messages = 0;
    let offset = 0;
    while (offset < wire.length) {
      const n = Math.min(capacity, wire.length - offset, CHUNK);
      server.completeReceive(id, wire.subarray(offset, offset + n));
      offset += n;
      const r = drain.call(server, true);
      const ev = r.events;
      for (let i = 0; i < ev.length; i += 6) if (ev[i + 1] === B.BINARY_MESSAGE || ev[i + 1] === B.UTF8_MESSAGE) messages++;
      id = r.receiveId;
      capacity = r.receiveCapacity;
    }
    if (messages !== c.count) throw new Error(`wsaction parsed ${messages} of ${c.count}`);
  };
}

function parseWs(c, wire) {
  const receiver = new Receiver({ isServer: true, maxPayload: 64 * 1024 * 1024 });
  let messages = 0;
  receiver.on('message', () => messages++);
  return () => {
    messages = 0;
    for (let offset = 0; offset < wire.length; offset += CHUNK) receiver.write(wire.subarray(offset, offset + CHUNK));
    if (messages !== c.count) throw new Error(`ws parsed ${messages} of ${c.count}`);
  };
}

function frameWsaction(c, sendName = 'sendAndDrain') {
  const { client, server } = openPair({ sendBufferSize: 16 * 1024 * 1024 });
  server.free();
  const send = client[sendName];
  return () => {
    for (let i = 0; i < c.count; i++) send.call(client, c.type, c.payload, false);
  };
}

/**
 * Frames from bytes already in wasm memory: the payload is written into `sendBuffer` once (as an
 * application would produce it there, e.g. with TextEncoder.encodeInto), as ws frames a buffer
 * that already exists; each call frames it, the result a view (sendBufferAndDrain).
 */
function frameWsactionInPlace(c) {
  const { client, server } = openPair({ sendBufferSize: 16 * 1024 * 1024 });
  server.free();
  const n = c.payload.length;
  return () => {
    client.sendBuffer(n).set(c.payload);
    for (let i = 0; i < c.count; i++) client.sendBufferAndDrain(c.type, n, false);
  };
}

/** 64 messages per sendMany call (one boundary crossing and one result for 64 frames). */
function frameWsactionBatched(c) {
  const { client, server } = openPair({ sendBufferSize: 16 * 1024 * 1024 });
  server.free();
  const batch = new Array(BATCH).fill(c.payload);
  return () => {
    for (let i = 0; i < c.count; i += BATCH) client.sendMany(c.type, batch, false);
  };
}

function frameWs(c) {
  const opcode = c.type === B.UTF8_MESSAGE ? 1 : 2;
  // readOnly: false lets ws mask this buffer in place (its fastest path), so it gets its own copy.
  const payload = c.payload.slice();
  return () => {
    for (let i = 0; i < c.count; i++) {
      Sender.frame(payload, { fin: true, mask: true, opcode, readOnly: false, rsv1: false });
    }
  };
}

function fmt(n) {
  return n >= 100 ? n.toFixed(0) : n.toFixed(1);
}

function row(kind, name, a, b) {
  const ratio = a.messages / b.messages;
  console.log(
    `${kind.padEnd(6)} ${name.padEnd(22)} wsaction ${fmt(a.messages).padStart(9)} msg/s ${fmt(a.mbps).padStart(7)} MB/s | ws ${fmt(b.messages).padStart(9)} msg/s ${fmt(b.mbps).padStart(7)} MB/s | ratio ${ratio.toFixed(2)}`,
  );
  return ratio;
}

const ws = describeWs();
console.log(`wsaction JS class vs ws ${ws.version} on Node ${process.version}, ${cpus()[0].model} x${cpus().length}, ${SECONDS}s per case, best of ${SLOTS} alternating slots`);
console.log(`ws code path: mask/unmask by ${ws.mask}; UTF-8 by ${ws.utf8}`);
console.log('parse: both unmask and check UTF-8 of text; frame: both mask with a fresh key from pooled crypto randomness;');
console.log('       wsaction also checks UTF-8 of the text it frames (ws Sender.frame does not) and copies the frame out');
console.log('       of wasm memory; ws masks the caller\'s buffer in place (readOnly: false) and returns [header, data]');
const ratios = [];
for (const c of cases) {
  const wire = wireBytes(c);
  ratios.push(row('parse', c.name, ...race(c, parseWsaction(c, wire), parseWs(c, wire))));
}
for (const c of cases) {
  ratios.push(row('frame', c.name, ...race(c, frameWsaction(c), frameWs(c))));
  if (c.payload.length === 16) {
    ratios.push(row('frame', `${c.name} x${BATCH}/call`, ...race(c, frameWsactionBatched(c), frameWs(c))));
  }
}
const geomean = (list) => Math.exp(list.reduce((s, r) => s + Math.log(r), 0) / list.length);
console.log(`geometric mean wsaction/ws ratio (parse and frame): ${geomean(ratios).toFixed(2)}`);

// The calls without the copy out of wasm memory: results as views valid until the next call
// (drainView, sendAndDrainView), and framing from bytes already in wasm memory (sendBuffer +
// sendBufferAndDrain). Same ws side as above.
console.log('views: drainView / sendAndDrainView (results are views over wasm memory, no copy out);');
console.log('       in place: sendBufferAndDrain frames bytes written once into sendBuffer (no copy in or out)');
const viewRatios = [];
for (const c of cases) {
  const wire = wireBytes(c);
  viewRatios.push(row('parse', `${c.name} view`, ...race(c, parseWsaction(c, wire, 'drainView'), parseWs(c, wire))));
}
for (const c of cases) {
  viewRatios.push(row('frame', `${c.name} view`, ...race(c, frameWsaction(c, 'sendAndDrainView'), frameWs(c))));
  viewRatios.push(row('frame', `${c.name} in place`, ...race(c, frameWsactionInPlace(c), frameWs(c))));
}
console.log(`geometric mean wsaction/ws ratio (views and in place): ${geomean(viewRatios).toFixed(2)}`);
