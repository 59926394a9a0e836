// The Deno echo server under load, for bench-conns.mjs:
// `deno run --allow-net --allow-read --v8-flags=--expose-gc server-deno.ts`.
// Prints "listening PORT STATS_PORT"; GET http://127.0.0.1:STATS_PORT/stats answers
// { rss, heapUsed, external, wasm, connections } as JSON, after two full GCs.
import { serve } from '../../pkg/deno.js';
import { _memory } from '../../pkg/dist/wsaction.js';

let open = 0;
const server = serve({ port: 0, hostname: '127.0.0.1' }, (connection) => {
  open++;
  connection.on('message', (data: string | Uint8Array, isBinary: boolean) => connection.send(data, { binary: isBinary }));
  connection.on('close', () => open--);
});
const gc = (globalThis as { gc?: () => void }).gc;
const stats = Deno.serve({ port: 0, hostname: '127.0.0.1', onListen: () => {} }, () => {
  gc?.();
  gc?.();
  const m = Deno.memoryUsage();
  return Response.json({ rss: m.rss, heapUsed: m.heapUsed, external: m.external, wasm: _memory().buffer.byteLength, connections: open });
});
console.log(`listening ${(server.addr as Deno.NetAddr).port} ${(stats.addr as Deno.NetAddr).port}`);
