// wsaction for Node.js (ESM): the ws-compatible WebSocket and WebSocketServer (and
// createWebSocketStream, WebSocketStream), the promise-style conveniences (connect,
// createServer, handleUpgrade, Connection), and the engine class.
import './src/node-crypto.js'; // first: Node 18 has no global Web Crypto without a flag
import { readFileSync } from 'node:fs';
import * as nodeBuffer from 'node:buffer'; // isUtf8: Node 18.14+ (a named import would fail on 18.0)
import { initSync } from './dist/wsaction.js';
import { engineApi } from './src/values.js';
import { initEnginePool } from './src/pool.js';
import { DEFLATE_WASM_URL, setDeflateLoader } from './src/builds.js';
import { useResultAllocator, useUtf8Check } from './src/fast.js';
import { WebSocket } from './src/websocket.js';

// Compiled once: the engine instance pool (src/pool.js) makes more instances of the same module.
// The default build leaves permessage-deflate out; the deflate build is compiled on the first
// handle that asks for it (src/builds.js).
const wasmModule = new WebAssembly.Module(readFileSync(new URL('./dist/wsaction_bg.wasm', import.meta.url)));
initSync({ module: wasmModule });
initEnginePool(wasmModule);
setDeflateLoader(() => new WebAssembly.Module(readFileSync(DEFLATE_WASM_URL)));
// Text sends of 256 bytes and more are UTF-8-checked by Node (simdutf), not in wasm (src/fast.js).
// Without it (Node before 18.14) the engine checks.
if (typeof nodeBuffer.isUtf8 === 'function') useUtf8Check(nodeBuffer.isUtf8);
// Memory for the copying calls' results (src/fast.js), both the slabs small results are carved
// from and each large result: Uint8Arrays over Buffer.allocUnsafe (no zero fill).
useResultAllocator((length) => {
  const pooled = nodeBuffer.Buffer.allocUnsafe(length);
  return new Uint8Array(pooled.buffer, pooled.byteOffset, length);
});

export const { constants, WsActionError } = engineApi();
export * from './src/api.js';
export { WebSocket };
export { WebSocketServer } from './src/server.js';
export { createWebSocketStream } from './src/stream.js';
export { WebSocketStream } from './src/websocket-stream.js';
export { Event, MessageEvent, CloseEvent, ErrorEvent } from './src/events.js';
export { Connection, connect } from './src/convenience.js';
export { handleUpgrade, createServer } from './src/node-adapter.js';
export { ConnectionServer } from './src/convenience.js';
export default WebSocket;
