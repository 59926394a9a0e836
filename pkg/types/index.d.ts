// The types a resolver sees when it names no runtime condition (TypeScript's moduleResolution
// `bundler`, or `node10` through package.json's top-level `types`): the Node entry's, the
// package's `main`. Resolvers that name a runtime get that runtime's file (package.json exports).
export * from './node.js';
export { default } from './node.js';
