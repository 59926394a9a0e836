// wsaction's Deno client as an echo client, written as for ws: echoes every message with its type
// until the connection ends, prints one "outcome: ..." line and exits by itself (a watchdog exits
// 3 if nothing ends it).
// Usage: deno run --allow-net --allow-read wsaction-deno-client.ts ws://127.0.0.1:PORT/PATH
import { WebSocket } from '../../../pkg/deno.js';

const watchdog = setTimeout(() => {
  console.log('outcome: hung');
  Deno.exit(3);
}, 20000);
const socket = new WebSocket(Deno.args[0]);
socket.on('message', (data: Uint8Array | string, isBinary: boolean) => socket.send(data, { binary: isBinary }));
socket.on('error', (err: Error) => console.log(`error: ${err.message}`));
socket.on('close', (code: number, reason: Uint8Array | string) => {
  console.log(`outcome: closed ${code} ${reason}`);
  clearTimeout(watchdog);
});
