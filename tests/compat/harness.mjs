// What the compatibility tests share: the implementations under test (ws, the reference, and
// wsaction's Node or Deno entry), the client x server pairings they run in, and small waiting helpers
// that time out with a message instead of hanging.
//
// Runs on Node and on Deno (through Deno's node: modules), so it imports nothing Node-only
// beyond node: built-ins that Deno provides.

import { Buffer } from 'node:buffer';

/** The names a ws user imports, taken from a module namespace (ws's or wsaction's). */
export function wsApi(name, module) {
  const api = {
    name,
    WebSocket: module.WebSocket ?? module.default,
    WebSocketServer: module.WebSocketServer ?? module.Server,
    createWebSocketStream: module.createWebSocketStream,
  };
  return api;
}

/**
 * The four pairings of client and server implementations. 'ws' and 'wsaction' are the two
 * runs every case must pass with the same assertions; the two mixed ones say which half fails
 * when only one does.
 */
export function pairings(ws, wsaction) {
  return [
    { label: 'ws', client: ws, server: ws },
    { label: 'wsaction', client: wsaction, server: wsaction },
    { label: 'wsaction client / ws server', client: wsaction, server: ws },
    { label: 'ws client / wsaction server', client: ws, server: wsaction },
  ];
}

/** Throws a clear error when an implementation lacks a name the case uses. */
export function requireApi(api, ...names) {
  const missing = names.filter((n) => typeof api[n] !== 'function');
  if (missing.length) throw new Error(`${api.name} does not export ${missing.join(', ')}`);
}

/** Throws a clear error when either side of a pairing lacks the two classes every case uses. */
export function requireClasses({ client, server }) {
  requireApi(client, 'WebSocket', 'WebSocketServer');
  requireApi(server, 'WebSocket', 'WebSocketServer');
}

/** Resolves with the arguments of the next `event` (an array), or rejects after `ms`. */
export function next(emitter, event, ms = 3000, what = event) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.removeListener(event, listener);
      reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
    }, ms);
    const listener = (...args) => {
      clearTimeout(timer);
      resolve(args);
    };
    emitter.once(event, listener);
  });
}

/** Resolves once `condition()` is true (polled), or rejects after `ms` naming `what`. */
export async function until(condition, what, ms = 3000) {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting until ${what}`);
    await sleep(5);
  }
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A WebSocketServer on 127.0.0.1 and an ephemeral port, once it listens. */
export async function listeningServer(api, options = {}) {
  const wss = new api.WebSocketServer({ port: 0, host: '127.0.0.1', ...options });
  await next(wss, 'listening', 3000, `${api.name} WebSocketServer 'listening'`);
  return { wss, url: `ws://127.0.0.1:${wss.address().port}` };
}

/** A node:http server listening on 127.0.0.1 and an ephemeral port. */
export async function listeningHttp(http, handler) {
  const server = http.createServer(handler);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: server.address().port };
}

/** Ends every client of a ws-style server abruptly, then closes the server (ws waits for them). */
export async function closeServer(wss) {
  if (wss.clients) for (const client of wss.clients) client.terminate();
  await new Promise((resolve) => wss.close(() => resolve()));
}

const inboxes = new WeakMap();

/**
 * Opens a ws-style client and resolves once 'open' fires (rejects on 'error' first). Its messages
 * are collected from construction on, as a ws user's synchronously attached listener would hear
 * them (ws itself may emit a message that came with the 101 before a promise continuation runs),
 * and read with nextMessage().
 */
export function open(api, url, protocols, options) {
  const ws = new api.WebSocket(url, protocols, options);
  const inbox = { messages: [], waiter: null };
  inboxes.set(ws, inbox);
  ws.on('message', (data, isBinary) => {
    inbox.messages.push({ data, isBinary });
    inbox.waiter?.();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${api.name} client: no 'open' within 3000 ms for ${url}`)), 3000);
    ws.once('open', () => {
      clearTimeout(timer);
      ws.removeListener('error', onError);
      resolve(ws);
    });
    const onError = (err) => {
      clearTimeout(timer);
      reject(err);
    };
    ws.once('error', onError);
  });
}

/** The next message an open() client received: { data, isBinary }. */
export async function nextMessage(ws, ms = 3000) {
  const inbox = inboxes.get(ws);
  if (!inbox.messages.length) {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for a message`)), ms);
      inbox.waiter = () => {
        clearTimeout(timer);
        inbox.waiter = null;
        resolve();
      };
    });
  }
  return inbox.messages.shift();
}

/** Closes a client if it is not closed yet and waits for its 'close'. */
export async function shut(ws) {
  if (ws.readyState === 3) return;
  const closed = next(ws, 'close', 3000, "the client's 'close'");
  ws.terminate();
  await closed;
}

/** Text of a ws-style message payload (a Buffer, an ArrayBuffer, or Buffer fragments). */
export function text(data) {
  if (typeof data === 'string') return data;
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
}
