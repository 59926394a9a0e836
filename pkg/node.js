// wsaction for Node.js (ESM): the engine class, and the adapter (connect, handleUpgrade, createServer).
import './src/node-crypto.js'; // first: Node 18 has no global Web Crypto without a flag
import { readFileSync } from 'node:fs';
import { initSync } from './dist/wsaction.js';
import { engineApi } from './src/values.js';

initSync({ module: readFileSync(new URL('./dist/wsaction_bg.wasm', import.meta.url)) });

export const { constants, WsActionError } = engineApi();
export * from './src/api.js';
export { Connection } from './src/connection.js';
export { connect, handleUpgrade, createServer, WebSocketServer } from './src/node-adapter.js';
