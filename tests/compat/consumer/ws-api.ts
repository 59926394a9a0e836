// A consumer written against ws's API (the README's patterns). package.test.mjs type-checks it
// twice with the same code: importing from 'ws' (with @types/ws) and from 'wsaction'.
import { createServer, type IncomingMessage } from 'node:http';
import { WebSocket, WebSocketServer, createWebSocketStream } from 'ws';

const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', clientTracking: true, maxPayload: 1 << 20 });
wss.on('connection', function connection(ws, request: IncomingMessage) {
  const ip: string | undefined = request.socket.remoteAddress;
  ws.on('error', console.error);
  ws.on('message', function message(data, isBinary) {
    wss.clients.forEach(function each(client) {
      if (client !== ws && client.readyState === WebSocket.OPEN) client.send(data, { binary: isBinary });
    });
  });
  ws.send(`hello ${ip}`);
});
wss.on('listening', () => console.log(wss.address()));

// Client authentication with noServer and handleUpgrade.
const server = createServer();
const authed = new WebSocketServer({ noServer: true });
server.on('upgrade', (request, socket, head) => {
  authed.handleUpgrade(request, socket, head, (ws) => authed.emit('connection', ws, request));
});

// verifyClient and handleProtocols.
const checked = new WebSocketServer({
  server,
  path: '/checked',
  verifyClient: (info, done) => done(info.req.headers.authorization === 'Bearer x', 401, 'Unauthorized'),
  handleProtocols: (protocols: Set<string>) => (protocols.has('chat') ? 'chat' : false),
});
checked.on('headers', (headers: string[]) => headers.push('X-Extra: 1'));
checked.close(() => console.log('closed'));

// The heartbeat.
interface Alive extends WebSocket {
  isAlive?: boolean;
}
const interval = setInterval(() => {
  wss.clients.forEach((ws: Alive) => {
    if (ws.isAlive === false) return ws.terminate();
    ws.isAlive = false;
    ws.ping();
  });
}, 30000);
wss.on('close', () => clearInterval(interval));

// A client, ws style and WHATWG style.
const client = new WebSocket('ws://127.0.0.1:8080/path', ['chat'], { headers: { Authorization: 'Bearer x' }, handshakeTimeout: 1000 });
client.binaryType = 'arraybuffer';
client.on('open', function open(this: WebSocket) {
  this.send('something');
  this.send(new Uint8Array([1, 2, 3]), { binary: true }, (err?: Error) => err && console.error(err));
});
client.on('message', (data, isBinary: boolean) => console.log(Array.isArray(data) ? data.length : data.byteLength, isBinary));
client.on('close', (code: number, reason: Buffer) => console.log(code, reason.toString()));
client.on('ping', (data: Buffer) => console.log(data.length));
client.on('unexpected-response', (_request, response) => console.log(response.statusCode));
client.onmessage = (event) => console.log(event.data);
client.addEventListener('close', (event) => console.log(event.code, event.reason, event.wasClean));
client.close(1000, 'bye');
const state: number = client.readyState;
console.log(state, client.protocol, client.bufferedAmount, client.url);

// Streams.
const duplex = createWebSocketStream(client, { encoding: 'utf8' });
duplex.on('data', (chunk: string) => console.log(chunk));
