/* @ts-self-types="./core.d.ts" */
// Deno resolves the ./core.js specifiers of the .d.ts files to this file and its declarations
// (TypeScript maps ./core.js to ./core.d.ts itself). No code: types only.
export {};
