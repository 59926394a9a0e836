// Messages that arrive with the 101 (raw-peer.mjs) must all reach the application: ws's
// `new WebSocket` (the reference), wsaction's `new WebSocket`, and wsaction's `connect()` with a
// listener attached after `await`, for each way of cutting the bytes into writes; and the same for
// a server whose raw client sends its frames right behind the upgrade request.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import WsWebSocket, { WebSocketServer as WsWebSocketServer } from 'ws';
import * as wsaction from '../../pkg/node.js';
import { EXPECTED_CLOSE, EXPECTED_MESSAGES, MODES, normalize, rawClientSends, startRawPeer } from './raw-peer.mjs';

/** `new WebSocket(url)` with listeners attached right after construction, as ws users do. */
function viaConstructor(WebSocket) {
  return (url) =>
    new Promise((resolve, reject) => {
      if (typeof WebSocket !== 'function') throw new Error('this implementation exports no WebSocket yet');
      const ws = new WebSocket(url);
      const messages = [];
      ws.on('message', (data, isBinary) => messages.push(normalize(data, isBinary)));
      ws.on('error', reject);
      ws.on('close', (code, reason) => resolve({ messages, close: { code, reason: String(reason) } }));
    });
}

/** `await connect(url)`, then a 'message' listener: nothing may be emitted before it is attached. */
async function viaConnect(url) {
  const connection = await wsaction.connect(url);
  const messages = [];
  connection.on('message', (data, isBinary) => messages.push(normalize(data, isBinary)));
  const { code, reason } = await connection.closed;
  return { messages, close: { code, reason } };
}

const clients = {
  'ws: new WebSocket': viaConstructor(WsWebSocket),
  'wsaction: new WebSocket': viaConstructor(wsaction.WebSocket),
  'wsaction: await connect()': viaConnect,
};

for (const [label, receive] of Object.entries(clients)) {
  describe(label, () => {
    for (const mode of MODES) {
      test(`101 and frames ${mode}: every message reaches the application, then the close`, { timeout: 10_000 }, async () => {
        const peer = await startRawPeer(mode);
        try {
          const got = await receive(peer.url);
          assert.deepEqual(got.messages, EXPECTED_MESSAGES);
          assert.deepEqual(got.close, EXPECTED_CLOSE);
        } finally {
          await peer.close();
        }
      });
    }
  });
}

// The server side: frames that follow the upgrade request in the same read (ws's `head`) reach the
// socket's 'message' listener, attached in the 'connection' listener.
for (const [label, WebSocketServer] of Object.entries({ 'ws: WebSocketServer': WsWebSocketServer, 'wsaction: WebSocketServer': wsaction.WebSocketServer })) {
  describe(label, () => {
    for (const mode of MODES) {
      test(`upgrade request and frames ${mode}: every message reaches the 'connection' socket, then the close`, { timeout: 10_000 }, async () => {
        if (typeof WebSocketServer !== 'function') throw new Error('this implementation exports no WebSocketServer yet');
        const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
        await new Promise((resolve) => wss.once('listening', resolve));
        const got = { messages: [], close: null };
        wss.on('connection', (ws) => {
          ws.on('message', (data, isBinary) => got.messages.push(normalize(data, isBinary)));
          ws.on('close', (code, reason) => (got.close = { code, reason: String(reason) }));
        });
        try {
          await rawClientSends(`ws://127.0.0.1:${wss.address().port}/raw`, mode);
          for (let waited = 0; got.close === null && waited < 2000; waited += 5) await new Promise((resolve) => setTimeout(resolve, 5));
          assert.deepEqual(got.messages, EXPECTED_MESSAGES);
          assert.deepEqual(got.close, EXPECTED_CLOSE);
        } finally {
          for (const client of wss.clients) client.terminate();
          await new Promise((resolve) => wss.close(() => resolve()));
        }
      });
    }
  });
}
