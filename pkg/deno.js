/* @ts-self-types="./types/deno.d.ts" */
// wsaction for Deno: the engine class, and the adapter (connect over Deno.connect/connectTls,
// serve over Deno.listen with the engine's HTTP head helpers).
import { initSync } from './dist/wsaction.js';
import { engineApi } from './src/values.js';

const wasmUrl = new URL('./dist/wsaction_bg.wasm', import.meta.url);
const wasmBytes = wasmUrl.protocol === 'file:'
  ? await Deno.readFile(wasmUrl)
  : new Uint8Array(await (await fetch(wasmUrl)).arrayBuffer());
initSync({ module: wasmBytes });

export const { constants, WsActionError } = engineApi();
export * from './src/api.js';
export { Connection } from './src/connection.js';
export { connect, serve } from './src/deno-adapter.js';
