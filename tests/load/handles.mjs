// Open server handles in memory, no sockets: `node --expose-gc handles.mjs COUNT adapter|websocket.h`.
// Each handle is made as a server connection makes it (WebSocketHandle.createServer, the request's
// headers through beginServerHandshake, then a receive queued and its RECEIVE_FROM_NETWORK action
// taken, which is what an idle connection holds). Prints one JSON line: how many were made (the
// first error stops it), and RSS and wasm memory above the baseline.
// `adapter`: the Node/Deno adapters' properties (pkg/src/connection.js DEFAULT_PROPERTIES);
// `websocket.h`: the engine's own defaults. A time budget in ms may follow (default 180 s).
import { WebSocketHandle, constants } from '../../pkg/node.js';
import * as engine from '../../pkg/dist/wsaction.js';
import { DEFAULT_PROPERTIES } from '../../pkg/src/connection.js';

const count = Number(process.argv[2] ?? 100000);
const which = process.argv[3] ?? 'adapter';
// Today's engine grows wasm memory on every adapter-sized handle (seconds per 1,000): stop at a time budget.
const budgetMs = Number(process.argv[4] ?? 180000);
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
    created: handles.length - failedHandle,
    error,
    ms: Math.round(ms),
    rss: end.rss - base.rss,
    wasm: end.wasm - base.wasm,
    totalRss: end.rss,
    totalWasm: end.wasm,
  }),
);
