// A Node `ws` echo server on 127.0.0.1 for the component-as-client test. Prints
// "listening on ws://127.0.0.1:PORT/" once bound (port 0 picks a free one), echoes every message
// with its type, and answers pings (ws does that itself) and closes.
import { WebSocketServer } from 'ws';

const port = Number(process.argv[2] ?? 0);
const server = new WebSocketServer({ host: '127.0.0.1', port, maxPayload: 64 * 1024 * 1024 });
server.on('listening', () => {
  console.log(`listening on ws://127.0.0.1:${server.address().port}/`);
});
server.on('connection', (socket) => {
  socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
