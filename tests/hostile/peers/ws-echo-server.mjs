// The reference server: a `ws` echo server as a ws user writes one (an 'error' listener on each
// socket, defaults otherwise). Prints "listening PORT" once bound (port 0 picks a free one).
import { WebSocketServer } from 'ws';

const server = new WebSocketServer({ host: '127.0.0.1', port: Number(process.argv[2] ?? 0) });
server.on('listening', () => console.log(`listening ${server.address().port}`));
server.on('connection', (socket) => {
  socket.on('error', () => {}); // the close code ws sends is the test's concern, not a crash
  socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
