/* @ts-self-types="./node.d.ts" */
// Deno resolves the ./node.js specifiers of the .d.ts files to this file and its declarations
// (TypeScript maps ./node.js to ./node.d.ts itself). No code: types only.
export {};
