// wsaction's own API (the promise-style conveniences, WebSocketStream and the engine class),
// imported from the package root: the import issue 8's item 4 says failed (TS2305).
import {
  connect,
  createServer,
  constants,
  Connection,
  WebSocketHandle,
  WebSocketStream,
  WsActionError,
  type CloseResult,
  type Message,
} from 'wsaction';
import WebSocketDefault, { WebSocket } from 'wsaction';

const server = createServer({ port: 0, protocols: ['chat'] }, (connection: Connection) => {
  connection.on('message', (data) => console.log(data));
});
const address = await server.listening;
console.log(address?.port);

const connection: Connection = await connect(`ws://127.0.0.1:${address?.port}`, { protocols: ['chat'], handshakeTimeout: 5000 });
await connection.send('hello');
for await (const message of connection) {
  const m: Message = message;
  console.log(m.data, m.isBinary);
  break;
}
const result: CloseResult = await connection.close(1000, 'done');
console.log(result.code, result.wasClean, connection instanceof WebSocket, WebSocketDefault === WebSocket);
await server.close();

const stream = new WebSocketStream('ws://127.0.0.1:1/', { protocols: ['chat'] });
const { readable, writable } = await stream.opened;
const writer = writable.getWriter();
await writer.write('hi');
const reader = readable.getReader();
const { value } = await reader.read();
console.log(typeof value === 'string' ? value : value?.byteLength);
stream.close({ closeCode: 1000, reason: 'bye' });

const handle = WebSocketHandle.createClient({ receiveBufferSize: 4096 });
const headers = handle.beginClientHandshake(['chat']);
console.log(headers.length, constants.BufferType.UTF8_MESSAGE);
try {
  handle.send(constants.BufferType.UTF8_MESSAGE, new Uint8Array(1));
} catch (err) {
  if (err instanceof WsActionError) console.log(err.code, err.local);
}
handle.free();
