// wsaction in browsers: the engine class and its helpers (browsers have no raw sockets, so no
// adapter; drive a WebSocketHandle over any byte transport).
export * from './core.js';
