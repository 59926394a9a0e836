// The Deno echo server under load, for bench-conns.mjs:
// `deno run --allow-net --allow-read --v8-flags=--expose-gc server-deno.ts`.
// Prints "listening PORT STATS_PORT"; GET http://127.0.0.1:STATS_PORT/stats answers
// { rss, heapUsed, external, wasm, connections } as JSON, after two full GCs.
import * as wsaction from '../../pkg/deno.js';
import { _memory } from '../../pkg/dist/wsaction.js';

// deno-lint-ignore no-explicit-any
const { WebSocketServer } = wsaction as any;
const server = new WebSocketServer({ port: 0, host: '127.0.0.1', maxPayload: 64 * 1024 * 1024 });
// deno-lint-ignore no-explicit-any
server.on('connection', (socket: any) => {
  socket.on('error', () => {});
  socket.on('message', (data: Uint8Array, isBinary: boolean) => socket.send(data, { binary: isBinary }));
});
await new Promise((resolve) => server.once('listening', resolve));
const gc = (globalThis as { gc?: () => void }).gc;
const stats = Deno.serve({ port: 0, hostname: '127.0.0.1', onListen: () => {} }, () => {
  gc?.();
  gc?.();
  const m = Deno.memoryUsage();
  return Response.json({ rss: m.rss, heapUsed: m.heapUsed, external: m.external, wasm: _memory().buffer.byteLength, connections: server.clients.size });
});
console.log(`listening ${server.address().port} ${(stats.addr as Deno.NetAddr).port}`);
