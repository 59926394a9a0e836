/* @ts-self-types="./types/deno.d.ts" */
// wsaction for Deno: the ws-compatible WebSocket and WebSocketServer (over Deno.connect /
// connectTls and Deno.listen / listenTls), WebSocketStream, createWebSocketStream, the
// promise-style conveniences (connect, serve, Connection), and the engine class.
import { initSync } from './dist/wsaction.js';
import { engineApi } from './src/values.js';
import { initEnginePool } from './src/pool.js';
import { DEFLATE_WASM_URL, loadPerMessageDeflate, setDeflateLoader } from './src/builds.js';
import { WebSocket } from './src/websocket.js';

const wasmUrl = new URL('./dist/wsaction_bg.wasm', import.meta.url);
const local = wasmUrl.protocol === 'file:';
const wasmBytes = local ? await Deno.readFile(wasmUrl) : new Uint8Array(await (await fetch(wasmUrl)).arrayBuffer());
// Compiled once: the engine instance pool (src/pool.js) makes more instances of the same module.
const wasmModule = new WebAssembly.Module(wasmBytes);
initSync({ module: wasmModule });
initEnginePool(wasmModule);
// The default build leaves permessage-deflate out (src/builds.js). A local package compiles the
// deflate build on the first handle that asks for it; a remote one fetches it now, since the ws
// classes make their handles synchronously (and ws's client asks for permessage-deflate by default).
if (local) setDeflateLoader(() => new WebAssembly.Module(Deno.readFileSync(DEFLATE_WASM_URL)));
else await loadPerMessageDeflate();

export const { constants, WsActionError } = engineApi();
export * from './src/api.js';
export { WebSocket };
export { WebSocketServer } from './src/server.js';
export { createWebSocketStream } from './src/stream.js';
export { WebSocketStream } from './src/websocket-stream.js';
export { Event, MessageEvent, CloseEvent, ErrorEvent } from './src/events.js';
export { Connection, connect } from './src/convenience.js';
export { serve } from './src/deno-adapter.js';
export { ConnectionServer } from './src/convenience.js';
export default WebSocket;
