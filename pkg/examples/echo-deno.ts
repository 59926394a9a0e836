// Echo server on Deno: `deno run --allow-net --allow-read pkg/examples/echo-deno.ts 8080`
// (port 0 picks a free one). Echoes text and binary messages and answers close; prints
// "listening <port>" when ready.
import { serve } from '../deno.js';

const port = Number(Deno.args[0] ?? 8080);
const server = serve({ port, hostname: Deno.args[1] ?? '127.0.0.1', protocols: ['echo', 'chat'] }, (connection) => {
  connection.on('message', (data: string | Uint8Array, isBinary: boolean) => connection.send(data, { binary: isBinary }));
});
console.log(`listening ${(server.addr as Deno.NetAddr).port}`);
Deno.addSignalListener('SIGINT', async () => {
  await server.close();
  Deno.exit(0);
});
