// wss:// over loopback: the wsaction Node client against a ws 8 server behind node:https, and a
// ws client against the wsaction server taking over an https server's upgrade. The certificate
// is made by openssl for this run (self-signed, SAN IP:127.0.0.1) and trusted through `ca`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer as WsServer, WebSocket as WsClient } from 'ws';
import { connect, handleUpgrade } from '../../pkg/node.js';

let dir;
let key;
let cert;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'wsaction-tls-'));
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=wsaction.test',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
  ], { stdio: 'ignore' });
  key = readFileSync(join(dir, 'key.pem'));
  cert = readFileSync(join(dir, 'cert.pem'));
});

after(() => rmSync(dir, { recursive: true, force: true }));

function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}

test('wsaction client over wss:// to a ws server behind https', async () => {
  const server = https.createServer({ key, cert });
  const wss = new WsServer({ server });
  wss.on('connection', (socket) => socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary })));
  const port = await listen(server);
  try {
    // Without the certificate trusted, the TLS handshake is refused.
    await assert.rejects(connect(`wss://127.0.0.1:${port}/`));
    const c = await connect(`wss://127.0.0.1:${port}/`, { tls: { ca: cert } });
    const got = new Promise((resolve) => {
      const messages = [];
      c.on('message', (data, isBinary) => {
        messages.push([isBinary ? [...data] : data, isBinary]);
        if (messages.length === 2) resolve(messages);
      });
    });
    c.send('over TLS');
    c.send(new Uint8Array([1, 2, 3]));
    assert.deepEqual(await got, [['over TLS', false], [[1, 2, 3], true]]);
    const closed = await c.close(1000, 'tls done');
    assert.equal(closed.code, 1000);
    assert.equal(closed.reason, 'tls done');
  } finally {
    wss.close();
    server.closeAllConnections?.();
    await new Promise((resolve) => server.close(resolve));
  }
});

test('ws client over wss:// to the wsaction server on an https upgrade', async () => {
  const server = https.createServer({ key, cert });
  server.on('upgrade', (req, socket, head) => {
    const c = handleUpgrade(req, socket, head);
    c?.on('message', (data, isBinary) => c.send(data, { binary: isBinary }));
  });
  const port = await listen(server);
  try {
    const client = new WsClient(`wss://127.0.0.1:${port}/`, { ca: cert });
    await new Promise((resolve, reject) => { client.once('open', resolve); client.once('error', reject); });
    const echoed = new Promise((resolve) => client.once('message', (data, isBinary) => resolve([String(data), isBinary])));
    client.send('secure echo');
    assert.deepEqual(await echoed, ['secure echo', false]);
    const closed = new Promise((resolve) => client.once('close', (code, reason) => resolve([code, String(reason)])));
    client.close(4000, 'bye');
    assert.deepEqual(await closed, [4000, 'bye']);
  } finally {
    server.closeAllConnections?.();
    await new Promise((resolve) => server.close(resolve));
  }
});
