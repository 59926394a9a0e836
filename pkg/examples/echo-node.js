// Echo server on Node: `node pkg/examples/echo-node.js 8080` (port 0 picks a free one).
// Echoes text and binary messages and answers close; prints "listening <port>" when ready.
import { createServer } from '../node.js';

const port = Number(process.argv[2] ?? 8080);
const server = createServer({ port, host: process.argv[3] ?? '127.0.0.1', protocols: ['echo', 'chat'] });
server.on('connection', (connection) => {
  connection.on('message', (data, isBinary) => connection.send(data, { binary: isBinary }));
  connection.on('pong', () => {});
});
const address = await server.listening;
console.log(`listening ${address.port}`);
const stop = async () => {
  await server.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
