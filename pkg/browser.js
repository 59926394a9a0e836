// wsaction in browsers (and any runtime with fetch and WebAssembly): the engine class and helpers.
// Browsers have no raw sockets, so there is no adapter here: drive a WebSocketHandle over any
// byte transport you have (or an in-memory pair, as the simulator does), or hand the handle and
// the transport to Connection.fromTransport for the promise-style connection.
// The engine loaded here leaves permessage-deflate out (the smaller download): to make handles
// with `perMessageDeflate: true`, `await loadPerMessageDeflate()` first, which fetches the
// deflate build (dist/wsaction_deflate_bg.wasm).
import init from './dist/wsaction.js';
import { engineApi } from './src/values.js';

await init({ module_or_path: new URL('./dist/wsaction_bg.wasm', import.meta.url) });

export const { constants, WsActionError } = engineApi();
export * from './src/api.js';
export { Connection } from './src/convenience.js';
export { Event, MessageEvent, CloseEvent, ErrorEvent } from './src/events.js';
