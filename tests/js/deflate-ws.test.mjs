// permessage-deflate between wsaction and ws (perMessageDeflate on), both roles, on 127.0.0.1,
// at every window size 8..15 and with each no_context_takeover. wsaction's side turns deflate on
// through its engine properties (the ws-compatible classes pass `properties` to the handle); what
// ws accepted or offered is read from ws itself, and the bytes ws read off its socket show the
// traffic really went compressed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { WebSocketServer as WsServer, WebSocket as WsClient } from 'ws';
import { WebSocket, WebSocketServer } from '../../pkg/node.js';

const record = (i) => ({ id: i, name: 'alpha', kind: 'ticker', value: i * 7.5, tags: ['a', 'b', 'c'] });
const JSON_TEXT = JSON.stringify(Array.from({ length: 2000 }, (_, i) => record(i)));
const BINARY = Buffer.alloc(300_000, 7);

/** Sends each message and waits for its echo; returns the echoes. */
async function echoAll(socket, messages) {
  const echoes = [];
  for (const message of messages) {
    const reply = once(socket, 'message');
    socket.send(message);
    const [data, isBinary] = await reply;
    echoes.push(isBinary ? Buffer.from(data) : data.toString());
  }
  return echoes;
}

const settings = [
  {},
  { serverNoContextTakeover: true },
  { clientNoContextTakeover: true },
  ...[8, 9, 10, 11, 12, 13, 14, 15].map((bits) => ({ serverMaxWindowBits: bits, clientMaxWindowBits: bits })),
];

test('a wsaction client and a ws server with perMessageDeflate exchange compressed messages', async () => {
  for (const options of settings) {
    const server = new WsServer({ port: 0, host: '127.0.0.1', perMessageDeflate: { ...options, threshold: 0 } });
    await once(server, 'listening');
    let serverSide;
    server.on('connection', (ws) => {
      serverSide = ws;
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    });
    const client = new WebSocket(`ws://127.0.0.1:${server.address().port}/`, {
      properties: { perMessageDeflate: true },
    });
    await once(client, 'open');
    const echoes = await echoAll(client, [JSON_TEXT, BINARY, JSON_TEXT]);
    assert.equal(echoes[0], JSON_TEXT);
    assert.deepEqual(echoes[1], BINARY);
    assert.equal(echoes[2], JSON_TEXT);
    assert.match(serverSide.extensions, /^permessage-deflate/, `ws accepted: ${JSON.stringify(options)}`);
    const read = serverSide._socket.bytesRead;
    assert.ok(read * 5 < JSON_TEXT.length * 2 + BINARY.length, `${read} bytes on the wire (${JSON.stringify(options)})`);
    client.close(1000);
    await once(client, 'close');
    server.close();
  }
});

test('a ws client with perMessageDeflate and a wsaction server exchange compressed messages', async () => {
  for (const options of settings) {
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1', properties: { perMessageDeflate: true } });
    await once(server, 'listening');
    server.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
    const client = new WsClient(`ws://127.0.0.1:${server.address().port}/`, {
      perMessageDeflate: { ...options, threshold: 0 },
    });
    await once(client, 'open');
    assert.match(client.extensions, /^permessage-deflate/, `our server accepted: ${JSON.stringify(options)}`);
    const echoes = await echoAll(client, [JSON_TEXT, BINARY, JSON_TEXT]);
    assert.equal(echoes[0], JSON_TEXT);
    assert.deepEqual(echoes[1], BINARY);
    assert.equal(echoes[2], JSON_TEXT);
    const read = client._socket.bytesRead;
    assert.ok(read * 5 < JSON_TEXT.length * 2 + BINARY.length, `${read} bytes on the wire (${JSON.stringify(options)})`);
    client.close(1000);
    await once(client, 'close');
    await new Promise((resolve) => server.close(resolve));
  }
});
