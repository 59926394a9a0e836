// Echo server on Node, written as for ws (only the import differs):
// `node pkg/examples/echo-node.js 8080` (port 0 picks a free one). Echoes text and binary
// messages, picks the subprotocol echo or chat, and prints "listening <port>" when ready.
import { WebSocketServer } from '../node.js';

const port = Number(process.argv[2] ?? 8080);
const wss = new WebSocketServer({
  port,
  host: process.argv[3] ?? '127.0.0.1',
  handleProtocols: (protocols) => ['echo', 'chat'].find((p) => protocols.has(p)) ?? false,
});
wss.on('connection', (ws) => {
  ws.on('error', (err) => console.error(`connection failed: ${err.message}`));
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});
wss.on('listening', () => console.log(`listening ${wss.address().port}`));
const stop = () => {
  for (const ws of wss.clients) ws.close(1001, 'server shutting down');
  wss.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
