// make bench-js: the wsaction class against ws 8 in one Node process.
//  1. parse: the same masked client wire bytes through a wsaction server handle (completeReceive +
//     drain) and through ws's Receiver, fed in 64 KiB chunks;
//  2. frame: masked client frames from a wsaction client handle (sendAndDrain, one call per message:
//     the fair comparison with ws's Sender.frame) and ws's Sender.frame; then 16 B messages
//     framed 64 per sendMany call against 64 Sender.frame calls;
//  3. echo: round trips over loopback, wsaction client + server against ws client + server.
// Prints messages/s, MB/s and the wsaction/ws ratio for each case.
import { Receiver, Sender, WebSocketServer as WsServer, WebSocket as WsClient } from 'ws';
import { cpus } from 'node:os';
import { WebSocketHandle, constants, connect, createServer } from '../../pkg/node.js';

const B = constants.BufferType;
const CHUNK = 64 * 1024;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 1);
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
  const client = WebSocketHandle.createClient(clientProps, 1);
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

/** Runs `once` (which handles `count` messages) repeatedly for SECONDS; returns msgs/s and MB/s. */
function measure(c, once) {
  once(); // warm up
  let rounds = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  do {
    once();
    rounds++;
    elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  } while (elapsed < SECONDS);
  const messages = (rounds * c.count) / elapsed;
  return { messages, mbps: (messages * c.payload.length) / 1e6 };
}

function parseWsaction(c, wire) {
  const { client, server } = openPair({}, { receiveBufferSize: CHUNK });
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
      const r = server.drain(true);
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

function frameWsaction(c) {
  const { client, server } = openPair({ sendBufferSize: 16 * 1024 * 1024 });
  server.free();
  return () => {
    for (let i = 0; i < c.count; i++) client.sendAndDrain(c.type, c.payload, false);
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
  return () => {
    for (let i = 0; i < c.count; i++) {
      Sender.frame(c.payload, { fin: true, mask: true, opcode, readOnly: false, rsv1: false });
    }
  };
}

/** Echo round trips: `inFlight` messages outstanding until `total` have come back. */
async function echo(sendOne, onMessage, total, inFlight) {
  return new Promise((resolve) => {
    let sent = 0;
    let received = 0;
    const start = process.hrtime.bigint();
    onMessage(() => {
      received++;
      if (received === total) resolve(Number(process.hrtime.bigint() - start) / 1e9);
      else if (sent < total) {
        sent++;
        sendOne();
      }
    });
    for (; sent < inFlight; sent++) sendOne();
  });
}

async function echoWsaction(payload, total, inFlight) {
  const server = createServer({ port: 0 });
  server.on('connection', (c) => c.on('message', (d, b) => c.send(d, { binary: b })));
  const { port } = await server.listening;
  const client = await connect(`ws://127.0.0.1:${port}/`);
  let handler = null;
  client.on('message', () => handler());
  const run = (n) => echo(() => client.send(payload), (fn) => (handler = fn), n, inFlight);
  await run(Math.min(total, 2000)); // warm up
  const seconds = await run(total);
  await client.close();
  await server.close();
  return seconds;
}

async function echoWs(payload, total, inFlight) {
  const wss = await new Promise((resolve) => {
    const s = new WsServer({ host: '127.0.0.1', port: 0 }, () => resolve(s));
  });
  wss.on('connection', (s) => s.on('message', (d, b) => s.send(d, { binary: b })));
  const ws = new WsClient(`ws://127.0.0.1:${wss.address().port}/`);
  await new Promise((r) => ws.once('open', r));
  let handler = null;
  ws.on('message', () => handler());
  const run = (n) => echo(() => ws.send(payload), (fn) => (handler = fn), n, inFlight);
  await run(Math.min(total, 2000));
  const seconds = await run(total);
  ws.close();
  await new Promise((r) => wss.close(r));
  return seconds;
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

console.log(`wsaction vs ws ${(await import('ws/package.json', { with: { type: 'json' } })).default.version} on Node ${process.version}, ${cpus()[0].model} x${cpus().length}, ${SECONDS}s per case`);
const ratios = [];
for (const c of cases) {
  const wire = wireBytes(c);
  ratios.push(row('parse', c.name, measure(c, parseWsaction(c, wire)), measure(c, parseWs(c, wire))));
}
for (const c of cases) {
  ratios.push(row('frame', c.name, measure(c, frameWsaction(c)), measure(c, frameWs(c))));
  if (c.payload.length === 16) {
    ratios.push(row('frame', `${c.name} x${BATCH}/call`, measure(c, frameWsactionBatched(c)), measure(c, frameWs(c))));
  }
}
for (const [name, size, total, inFlight] of [
  ['16 B x64', 16, 100000, 64],
  ['64 KiB x8', 64 * 1024, 8000, 8],
]) {
  const payload = new Uint8Array(size).fill(1);
  const a = await echoWsaction(payload, total, inFlight);
  const b = await echoWs(payload, total, inFlight);
  const ra = { messages: total / a, mbps: (total * size) / a / 1e6 };
  const rb = { messages: total / b, mbps: (total * size) / b / 1e6 };
  ratios.push(row('echo', name, ra, rb));
}
const geo = Math.exp(ratios.reduce((s, r) => s + Math.log(r), 0) / ratios.length);
console.log(`geometric mean wsaction/ws ratio: ${geo.toFixed(2)}`);
