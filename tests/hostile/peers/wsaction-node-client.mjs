// wsaction's Node client as an echo client, written as for ws (only the import differs from
// ws-echo-client.mjs): echoes every message with its type until the connection ends, prints one
// "outcome: ..." line and exits by itself (a watchdog exits 3 if nothing ends it).
// Usage: node wsaction-node-client.mjs ws://127.0.0.1:PORT/PATH
import { WebSocket } from '../../../pkg/node.js';

const watchdog = setTimeout(() => {
  console.log('outcome: hung');
  process.exit(3);
}, 20000);
const socket = new WebSocket(process.argv[2]);
socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
socket.on('error', (err) => console.log(`error: ${err.message}`));
socket.on('close', (code, reason) => {
  console.log(`outcome: closed ${code} ${reason}`);
  clearTimeout(watchdog);
});
