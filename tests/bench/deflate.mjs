// `make bench-deflate`: permessage-deflate beside ws in the same run. For each implementation (ws
// with perMessageDeflate, the wsaction ws-style classes with perMessageDeflate: the same option
// names and defaults; client and server of the same implementation), a client sends N messages
// to an echo server over 127.0.0.1 through a counting relay and waits for every echo. Reported
// per workload: bytes on the wire (both directions, framing included, the handshake excluded),
// messages/s (round trips, pipelined), and the process's CPU time per message (both ends and the
// relay run in this process; the relay costs both the same).
//
// Workloads: a JSON-like text (records as a feed or API sends them), where deflate wins, and
// random binary, where it cannot: compression should step aside (below the threshold with
// no_context_takeover, or by the compressor's stored blocks otherwise) and cost little.
//
// Each row is measured in SLOTS slots (default 5) that alternate which implementation goes first,
// after a warm-up run of each; the row shows the best slot's rate and CPU, and the range of the
// rates. One short run per implementation (as this file first did, 500 round trips, about 20 ms
// a row) measured the machine's other work as much as the code: on the shared 2-core machine the
// same build's random-binary, deflate-off row ranged from 4,840 to 15,289 msg/s in twelve runs of
// that row alone, and README's 5,322 msg/s against ws's 24,374 did not come back in any later
// run, of that build or this one (profiles showed no binary-only path: the time is the same
// fast.js send and drain as for text). Best of alternating slots, wsaction is at or above ws there.
//
// Usage: node tests/bench/deflate.mjs [messages=2000] [size=4096] [slots=5]
import { once } from 'node:events';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { WebSocketServer as WsServer, WebSocket as WsClient } from 'ws';
import { WebSocket, WebSocketServer } from '../../pkg/node.js';
import { describeWs } from './ws-path.mjs';

const MESSAGES = Number(process.argv[2] ?? 2000);
const SIZE = Number(process.argv[3] ?? 4096);
const SLOTS = Number(process.argv[4] ?? 5);

/** A JSON-like text of about `size` bytes, different per message (ids, values) as a feed is. */
function jsonMessage(i, size) {
  const records = [];
  let text = '';
  for (let n = 0; text.length < size; n++) {
    records.push({ id: i * 100 + n, symbol: ['ACME', 'GLOBEX', 'INITECH'][n % 3], price: (i * 31 + n * 7) % 1000 + 0.25, volume: (i + n) * 13, side: n % 2 ? 'buy' : 'sell', ts: 1700000000000 + i * 1000 + n });
    text = JSON.stringify(records);
  }
  return text.slice(0, size - 1) + ']';
}

const WORKLOADS = {
  'JSON-like text': Array.from({ length: 64 }, (_, i) => jsonMessage(i, SIZE)),
  'random binary': Array.from({ length: 64 }, () => randomBytes(SIZE)),
};

const IMPLEMENTATIONS = {
  ws: { Server: WsServer, Client: WsClient },
  wsaction: { Server: WebSocketServer, Client: WebSocket },
};

// The option sets: ws's defaults, and no context takeover (where ws's threshold applies).
const DEFLATE_OPTIONS = {
  'defaults (context takeover)': true,
  'no_context_takeover both ways': { serverNoContextTakeover: true, clientNoContextTakeover: true },
  'off': false,
};

async function countingRelay(port) {
  const counts = { bytes: 0 };
  const relay = net.createServer((inbound) => {
    const outbound = net.connect(port, '127.0.0.1');
    inbound.setNoDelay(true);
    outbound.setNoDelay(true);
    inbound.on('data', (b) => (counts.bytes += b.length));
    outbound.on('data', (b) => (counts.bytes += b.length));
    inbound.pipe(outbound);
    outbound.pipe(inbound);
    inbound.on('error', () => outbound.destroy());
    outbound.on('error', () => inbound.destroy());
  });
  await new Promise((resolve) => relay.listen(0, '127.0.0.1', resolve));
  return { port: relay.address().port, counts, close: () => new Promise((resolve) => relay.close(resolve)) };
}

async function run(implementation, perMessageDeflate, messages) {
  const { Server, Client } = IMPLEMENTATIONS[implementation];
  const server = new Server({ port: 0, host: '127.0.0.1', perMessageDeflate });
  await once(server, 'listening');
  server.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  const relay = await countingRelay(server.address().port);
  const client = new Client(`ws://127.0.0.1:${relay.port}/`, { perMessageDeflate });
  await once(client, 'open');
  const agreed = client.extensions || '(none)';
  const handshakeBytes = relay.counts.bytes;
  let received = 0;
  const done = new Promise((resolve) => {
    client.on('message', () => {
      received++;
      if (received === MESSAGES) resolve();
    });
  });
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  // Pipelined, 64 in flight at most: a steady stream rather than one burst.
  let sent = 0;
  const pump = () => {
    while (sent < MESSAGES && sent - received < 64) client.send(messages[sent++ % messages.length]);
  };
  client.on('message', pump);
  pump();
  await done;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const used = process.cpuUsage(cpu);
  const wire = relay.counts.bytes - handshakeBytes;
  client.close(1000);
  await once(client, 'close');
  await relay.close();
  await new Promise((resolve) => server.close(resolve));
  return { agreed, wire, perSecond: MESSAGES / seconds, cpuMicros: (used.user + used.system) / MESSAGES };
}

/** The row's figures: the best slot's rate and CPU, with every slot's rate as a range. */
function summarize(results) {
  const best = results.reduce((a, b) => (b.perSecond > a.perSecond ? b : a));
  const rates = results.map((r) => Math.round(r.perSecond));
  return { ...best, low: Math.min(...rates), high: Math.max(...rates) };
}

const ws = describeWs();
console.log(`permessage-deflate: ${MESSAGES} round trips of ${SIZE}-byte messages per row, best of ${SLOTS} alternating slots, Node ${process.version}, ws ${ws.version} (mask: ${ws.mask})`);
console.log('wire: bytes both ways after the handshake; CPU: this process (both ends and the relay) per round trip, in the best slot\n');
const payloadBytes = 2 * MESSAGES * SIZE;
const names = Object.keys(IMPLEMENTATIONS);
for (const [workload, messages] of Object.entries(WORKLOADS)) {
  console.log(`${workload} (${payloadBytes} payload bytes both ways)`);
  console.log(`  ${'options'.padEnd(30)} ${'impl'.padEnd(9)} ${'wire bytes'.padStart(11)} ${'ratio'.padStart(6)} ${'msg/s'.padStart(8)} ${'(range)'.padStart(15)} ${'CPU µs/msg'.padStart(11)}`);
  for (const [label, options] of Object.entries(DEFLATE_OPTIONS)) {
    const results = Object.fromEntries(names.map((name) => [name, []]));
    for (const name of names) await run(name, options, messages); // warm-up
    for (let slot = 0; slot < SLOTS; slot++) {
      // Alternate who goes first, so neither always runs right after the other's garbage.
      for (const name of slot % 2 ? [...names].reverse() : names) results[name].push(await run(name, options, messages));
    }
    for (const name of names) {
      const r = summarize(results[name]);
      console.log(`  ${label.padEnd(30)} ${name.padEnd(9)} ${String(r.wire).padStart(11)} ${(r.wire / payloadBytes).toFixed(3).padStart(6)} ${Math.round(r.perSecond).toString().padStart(8)} ${`(${r.low}-${r.high})`.padStart(15)} ${r.cpuMicros.toFixed(1).padStart(11)}`);
    }
  }
  console.log('');
}
