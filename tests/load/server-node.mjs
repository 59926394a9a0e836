// An echo server under load, for bench-conns.mjs and faults.test.mjs:
// `node --expose-gc server-node.mjs wsaction|ws [PROPERTIES_JSON]` (wsaction: the handle
// properties every connection gets, e.g. '{"receiveBufferSize":8388608}').
// Prints "listening PORT STATS_PORT"; GET http://127.0.0.1:STATS_PORT/stats answers its own
// figures as JSON (after two full GCs, so both servers are measured the same way):
// { rss, heapUsed, external, arrayBuffers, wasm (bytes of wasm memory of every engine instance,
// wsaction only), wasmFirstInstance (the first instance's), connections }.
// GET /fill?left=BYTES (wsaction only, for faults.test.mjs) grows the first engine instance's wasm
// memory from outside until at most BYTES of wasm32's 4 GiB are left (fast.js's
// fillMemoryForTests), then answers the stats.
// Every message is echoed, except the text "!send N", answered with a binary message of N MiB
// (a server that sends a large message of its own, for faults.test.mjs).
import http from 'node:http';

const MiB = 1024 * 1024;
/** What the server sends back for a message: the echo, or the large message "!send N" asks for. */
function answer(data, isBinary) {
  const m = isBinary ? null : /^!send (\d+)$/.exec(String(data));
  return m ? [new Uint8Array(Number(m[1]) * MiB).fill(0x6d), { binary: true }] : [data, { binary: isBinary }];
}

const kind = process.argv[2];
// The same server code for both: wsaction's WebSocketServer is a drop-in for ws's.
let WebSocketServer;
let wasmBytes = () => null;
let firstInstanceBytes = () => null;
let fill = null;
let options = {};
if (kind === 'wsaction') {
  ({ WebSocketServer } = await import('../../pkg/node.js'));
  const pool = await import('../../pkg/src/pool.js');
  // WSACTION_INSTANCE_SPREAD_BYTES: how full one engine instance gets before connections go to
  // another (faults.test.mjs fills one instance to wasm32's ceiling).
  if (process.env.WSACTION_INSTANCE_SPREAD_BYTES) pool.setInstanceSpreadBytes(Number(process.env.WSACTION_INSTANCE_SPREAD_BYTES));
  // The wasm memory of every engine instance of the pool, and of the first (the fullest).
  wasmBytes = () => pool.poolStats().instances.reduce((n, i) => n + i.memory, 0);
  firstInstanceBytes = () => pool.poolStats().instances.find((i) => i.id === 0)?.memory ?? null;
  const [{ fillMemoryForTests }, firstGlue] = await Promise.all([import('../../pkg/src/fast.js'), import('../../pkg/dist/wsaction.js')]);
  fill = (left) => fillMemoryForTests(firstGlue, left);
  if (process.argv[3]) options = { properties: JSON.parse(process.argv[3]) };
} else if (kind === 'ws') {
  ({ WebSocketServer } = await import('ws'));
} else {
  throw new Error(`usage: node --expose-gc server-node.mjs wsaction|ws [PROPERTIES_JSON] (got ${kind})`);
}
const server = new WebSocketServer({ port: 0, host: '127.0.0.1', maxPayload: 64 * MiB, ...options });
server.on('connection', (socket) => {
  socket.on('error', () => {});
  socket.on('message', (data, isBinary) => socket.send(...answer(data, isBinary)));
});
await new Promise((resolve) => server.once('listening', resolve));
const port = server.address().port;
const connections = () => server.clients.size;

const stats = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  if (url.pathname === '/fill' && fill) fill(Number(url.searchParams.get('left')));
  if (globalThis.gc) {
    globalThis.gc();
    globalThis.gc();
  }
  const m = process.memoryUsage();
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify({ rss: m.rss, heapTotal: m.heapTotal, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, wasm: wasmBytes(), wasmFirstInstance: firstInstanceBytes(), connections: connections() }));
});
stats.listen(0, '127.0.0.1', () => console.log(`listening ${port} ${stats.address().port}`));
