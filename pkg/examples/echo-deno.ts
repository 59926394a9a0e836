// Echo server on Deno, written as for ws (only the import differs):
// `deno run --allow-net --allow-read pkg/examples/echo-deno.ts 8080` (port 0 picks a free
// one). Echoes text and binary messages and prints "listening <port>" when ready.
import * as wsaction from '../deno.js';

// deno-lint-ignore no-explicit-any
const { WebSocketServer } = wsaction as any; // typed in pkg/types once the declarations land

const port = Number(Deno.args[0] ?? 8080);
const wss = new WebSocketServer({ port, host: Deno.args[1] ?? '127.0.0.1' });
// deno-lint-ignore no-explicit-any
wss.on('connection', (ws: any) => {
  ws.on('error', (err: Error) => console.error(`connection failed: ${err.message}`));
  ws.on('message', (data: Uint8Array, isBinary: boolean) => ws.send(data, { binary: isBinary }));
});
wss.on('listening', () => console.log(`listening ${wss.address().port}`));
Deno.addSignalListener('SIGINT', () => {
  for (const ws of wss.clients) ws.close(1001, 'server shutting down');
  wss.close(() => Deno.exit(0));
});
