// The ordering rule against a hostile raw-socket peer: two complete messages and then a protocol
// violation arrive in one read; the echo server's replies go out before its failing close.
// The same assertion runs on ws, whose order wsaction keeps.
import test from 'node:test';
import assert from 'node:assert/strict';
import { WebSocketServer as WsServer } from 'ws';
import { createServer } from '../../pkg/node.js';
import { echoThenViolation, violationAlone, EXPECTED_ORDER } from './raw-peer.mjs';

test('ws: replies to messages before a violation go out before the failing close', async () => {
  const wss = await new Promise((resolve) => {
    const s = new WsServer({ host: '127.0.0.1', port: 0 }, () => resolve(s));
  });
  wss.on('connection', (s) => {
    s.on('error', () => {});
    s.on('message', (d, binary) => s.send(d, { binary }));
  });
  try {
    assert.equal(await echoThenViolation(wss.address().port), EXPECTED_ORDER);
    assert.equal(await violationAlone(wss.address().port), 'close:1002');
  } finally {
    await new Promise((r) => wss.close(r));
  }
});

test('wsaction Node server: replies to messages before a violation go out before the failing close', async () => {
  const server = createServer({ port: 0, host: '127.0.0.1' });
  const errors = [];
  server.on('connection', (c) => {
    c.on('error', (e) => errors.push(e.code));
    c.on('message', (d, binary) => c.send(d, { binary }));
  });
  const { port } = await server.listening;
  try {
    assert.equal(await echoThenViolation(port), EXPECTED_ORDER);
    assert.equal(await violationAlone(port), 'close:1002');
    assert.deepEqual(errors, ['PROTOCOL_VIOLATION', 'PROTOCOL_VIOLATION']);
  } finally {
    await server.close();
  }
});
