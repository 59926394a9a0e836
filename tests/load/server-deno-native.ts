// Deno's own WebSocket server (Deno.serve and Deno.upgradeWebSocket), for bench-conns.mjs: what a
// Deno connection costs with the runtime's built-in WebSocket, beside wsaction's Deno adapter
// (server-deno.ts), as ws is Node's. The same echo and the same stats port:
// `deno run --allow-net --v8-flags=--expose-gc server-deno-native.ts`.
// Prints "listening PORT STATS_PORT"; GET http://127.0.0.1:STATS_PORT/stats answers
// { rss, heapUsed, external, wasm: null, connections } as JSON, after two full GCs.
let connections = 0;
const server = Deno.serve({ port: 0, hostname: '127.0.0.1', onListen: () => {} }, (request) => {
  const { socket, response } = Deno.upgradeWebSocket(request);
  socket.binaryType = 'arraybuffer';
  socket.onopen = () => connections++;
  socket.onmessage = (event) => socket.send(event.data);
  socket.onclose = () => connections--;
  socket.onerror = () => {};
  return response;
});
const gc = (globalThis as { gc?: () => void }).gc;
const stats = Deno.serve({ port: 0, hostname: '127.0.0.1', onListen: () => {} }, () => {
  gc?.();
  gc?.();
  const m = Deno.memoryUsage();
  return Response.json({ rss: m.rss, heapUsed: m.heapUsed, external: m.external, wasm: null, connections });
});
console.log(`listening ${server.addr.port} ${stats.addr.port}`);
