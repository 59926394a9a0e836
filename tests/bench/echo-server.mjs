// An echo server for make bench-js, one per process: `node echo-server.mjs ws` (ws with bufferutil,
// as production runs it) or `node echo-server.mjs wsaction` (wsaction's Node adapter,
// createServer). Listens on 127.0.0.1, port 0, and prints "listening on ws://127.0.0.1:PORT/".
import { WebSocketServer } from 'ws';
import { describeWs } from './ws-path.mjs';

const kind = process.argv[2];
let port;
if (kind === 'ws') {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise((resolve) => server.once('listening', resolve));
  server.on('connection', (socket) => socket.on('message', (data, binary) => socket.send(data, { binary })));
  port = server.address().port;
  const path = describeWs();
  console.error(`ws ${path.version}: mask/unmask by ${path.mask}; UTF-8 by ${path.utf8}`);
} else if (kind === 'wsaction') {
  const { createServer } = await import('../../pkg/node.js');
  const server = createServer({ host: '127.0.0.1', port: 0 });
  server.on('connection', (c) => c.on('message', (data, binary) => c.send(data, { binary })));
  port = (await server.listening).port;
} else {
  console.error('usage: node echo-server.mjs ws|wsaction');
  process.exit(2);
}
console.log(`listening on ws://127.0.0.1:${port}/`);
// Exit cleanly when the bench stops the server (so `node --cpu-prof` writes its profile).
process.on('SIGTERM', () => process.exit(0));
