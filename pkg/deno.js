/* @ts-self-types="./types/deno.d.ts" */
// wsaction for Deno: the ws-compatible WebSocket and WebSocketServer (over Deno.connect /
// connectTls and Deno.listen / listenTls), WebSocketStream, createWebSocketStream, the
// promise-style conveniences (connect, serve, Connection), and the engine class.
import { initSync } from './dist/wsaction.js';
import { engineApi } from './src/values.js';
import { initEnginePool } from './src/pool.js';
import { WebSocket } from './src/websocket.js';

const wasmUrl = new URL('./dist/wsaction_bg.wasm', import.meta.url);
const wasmBytes = wasmUrl.protocol === 'file:'
  ? await Deno.readFile(wasmUrl)
  : new Uint8Array(await (await fetch(wasmUrl)).arrayBuffer());
// Compiled once: the engine instance pool (src/pool.js) makes more instances of the same module.
const wasmModule = new WebAssembly.Module(wasmBytes);
initSync({ module: wasmModule });
initEnginePool(wasmModule);

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
