// Open server handles in memory, no sockets: `node --expose-gc handles.mjs COUNT adapter|websocket.h`.
// Each handle is made as a server connection makes it (WebSocketHandle.createServer, the request's
// headers through beginServerHandshake, then a receive queued and its RECEIVE_FROM_NETWORK action
// taken, which is what an idle connection holds). Prints one JSON line: how many were made (the
// first error stops it), and RSS and wasm memory above the baseline.
// `adapter`: the Node/Deno adapters' properties (pkg/src/connection.js DEFAULT_PROPERTIES);
// `websocket.h`: the engine's own defaults. A time budget in ms may follow (default 180 s), then
// `idle` (the default) or `closed`: each handle is then also closed as a peer closes it (its
// masked close frame through completeReceive, the close answered and written), and kept, as the
// adapters keep a closed handle until its socket is gone.
import { WebSocketHandle, constants } from '../../pkg/node.js';
import * as engine from '../../pkg/dist/wsaction.js';
import { DEFAULT_PROPERTIES } from '../../pkg/src/connection.js';

const count = Number(process.argv[2] ?? 100000);
const which = process.argv[3] ?? 'adapter';
// Today's engine grows wasm memory on every adapter-sized handle (seconds per 1,000): stop at a time budget.
const budgetMs = Number(process.argv[4] ?? 180000);
const closed = process.argv[5] === 'closed';
const properties = which === 'adapter' ? { ...DEFAULT_PROPERTIES } : {};
const wasmBytes = () => engine._memory().buffer.byteLength;
const measure = () => {
  globalThis.gc?.();
  globalThis.gc?.();
  return { rss: process.memoryUsage().rss, wasm: wasmBytes() };
};

const request = [
  ['Host', '127.0.0.1'],
  ['Upgrade', 'websocket'],
  ['Connection', 'Upgrade'],
  ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='],
  ['Sec-WebSocket-Version', '13'],
];
// A client's close frame (RFC 6455 5.5.1): FIN + close opcode, masked, status 1000 and "bye".
const closeFrame = (() => {
  const mask = [0x37, 0xfa, 0x21, 0x3d];
  const payload = [0x03, 0xe8, ...new TextEncoder().encode('bye')];
  return Uint8Array.from([0x88, 0x80 | payload.length, ...mask, ...payload.map((b, i) => b ^ mask[i % 4])]);
})();

/** The peer closes: its close frame in the held read, the indication taken, ours sent and written. */
function closeAsPeer(handle, receiveId, i) {
  const { Action, ActionQueue, BufferType, State } = constants;
  handle.completeReceive(receiveId, closeFrame);
  for (let step = 0; step < 10 && handle.state !== State.CLOSED; step++) {
    const action = handle.getAction(ActionQueue.ALL);
    if (action.kind === Action.INDICATE_RECEIVE_COMPLETE && action.bufferType === BufferType.CLOSE) {
      handle.completeAction(action.id, 0);
      handle.send(BufferType.CLOSE, { status: action.closeStatus });
    } else if (action.kind === Action.SEND_TO_NETWORK || action.kind === Action.INDICATE_SEND_COMPLETE) {
      handle.completeAction(action.id, action.bytes?.length ?? 0);
    } else if (action.kind !== Action.NO_ACTION) {
      throw new Error(`handle ${i}: unexpected action kind ${action.kind} while closing`);
    }
  }
  if (handle.state !== State.CLOSED) throw new Error(`handle ${i}: not closed (state ${handle.state})`);
}

const base = measure();
const handles = [];
let error = null;
let failedHandle = 0;
const started = performance.now();
try {
  for (let i = 0; i < count; i++) {
    if (performance.now() - started > budgetMs) {
      error = `the time budget of ${budgetMs / 1000} s ran out`;
      break;
    }
    const handle = WebSocketHandle.createServer(properties);
    handles.push(handle);
    handle.beginServerHandshake(null, [], request);
    handle.endServerHandshake();
    handle.receive();
    const action = handle.getAction(constants.ActionQueue.ALL);
    if (action.kind !== constants.Action.RECEIVE_FROM_NETWORK) throw new Error(`handle ${i}: expected a receive action, got kind ${action.kind}`);
    if (closed) closeAsPeer(handle, action.id, i);
  }
} catch (err) {
  error = `${err.constructor.name}: ${err.message}`;
  failedHandle = 1; // the handle that failed is in the list
}
const ms = performance.now() - started;
const end = measure();
console.log(
  JSON.stringify({
    properties: `${which} ${JSON.stringify(properties)}`,
    closed,
    created: handles.length - failedHandle,
    error,
    ms: Math.round(ms),
    rss: end.rss - base.rss,
    wasm: end.wasm - base.wasm,
    totalRss: end.rss,
    totalWasm: end.wasm,
  }),
);
