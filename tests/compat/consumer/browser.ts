// A browser consumer (the `browser` export condition, the DOM lib, no @types/node): the engine
// class, and the promise-style Connection over a transport of one's own.
import { Connection, constants, MessageEvent, WebSocketHandle, type CloseResult, type Transport, type TransportSink } from 'wsaction';

const handle = WebSocketHandle.createClient({ receiveBufferSize: 4096 });
const requestHeaders = handle.beginClientHandshake(['chat']);
console.log(requestHeaders.length, constants.Action.SEND_TO_NETWORK);

const sinks: TransportSink[] = [];
const transport: Transport = {
  start(sink) {
    sinks.push(sink);
  },
  write: (bytes: Uint8Array) => bytes.length > 0,
  end() {},
  destroy() {},
};
const connection: Connection = Connection.fromTransport(handle, transport);
connection.on('message', (data, isBinary) => console.log(typeof data === 'string' ? data : data.byteLength, isBinary));
connection.onmessage = (event: MessageEvent) => console.log(event.data);
connection.addEventListener('close', (event) => console.log(event.code, event.wasClean));
sinks[0]?._input(new Uint8Array([0x81, 0x00])); // an empty text frame from the peer
await connection.send('hello');
const result: CloseResult = await connection.close(1000);
console.log(result.code, new TextEncoder().encode('x') instanceof Uint8Array);
