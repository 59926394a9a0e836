/* @ts-self-types="./websocket-stream.d.ts" */
// Deno resolves the ./websocket-stream.js specifiers of the .d.ts files to this file and its declarations
// (TypeScript maps ./websocket-stream.js to ./websocket-stream.d.ts itself). No code: types only.
export {};
