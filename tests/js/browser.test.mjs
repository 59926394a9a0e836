// Chromium's native WebSocket (Debian chromium driven by playwright-core) against the wsaction
// Node server: text and binary messages both ways and a close with code and reason. The page is
// served by the same node:http server the WebSocket upgrades on, on 127.0.0.1. Chromium offers
// permessage-deflate: a ws-style WebSocketServer with perMessageDeflate accepts it and exchanges
// compressed messages with the page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { createServer, WebSocketServer } from '../../pkg/node.js';

const PAGE = `<!doctype html><meta charset="utf-8"><title>wsaction browser test</title>
<script>
window.runTest = (url) => new Promise((resolve, reject) => {
  const seen = [];
  const ws = new WebSocket(url, ['chat']);
  ws.binaryType = 'arraybuffer';
  ws.onerror = () => reject(new Error('websocket error'));
  ws.onopen = () => {
    seen.push(['protocol', ws.protocol]);
    ws.send('hello from chromium');
    ws.send(new Uint8Array([1, 2, 3, 250]));
    ws.send('x'.repeat(300000));
    ws.send('please close');
  };
  ws.onmessage = (e) => {
    if (typeof e.data === 'string') seen.push(['text', e.data.length > 100 ? 'long:' + e.data.length : e.data]);
    else seen.push(['binary', Array.from(new Uint8Array(e.data))]);
  };
  ws.onclose = (e) => { seen.push(['close', e.code, e.reason, e.wasClean]); resolve(seen); };
});
window.deflateTest = (url, text) => new Promise((resolve, reject) => {
  const seen = [];
  const ws = new WebSocket(url);
  ws.onerror = () => reject(new Error('websocket error'));
  ws.onopen = () => {
    seen.push(['extensions', ws.extensions]);
    ws.send(text);
    ws.send('short');
    ws.send(text);
  };
  ws.onmessage = (e) => {
    seen.push(['echo', e.data === text ? 'text' : e.data]);
    if (seen.length === 4) ws.close(1000, 'done');
  };
  ws.onclose = (e) => { seen.push(['close', e.code, e.wasClean]); resolve(seen); };
});
window.clientClose = (url) => new Promise((resolve) => {
  const ws = new WebSocket(url);
  ws.onopen = () => ws.close(4020, 'browser bye');
  ws.onclose = (e) => resolve([e.code, e.reason, e.wasClean]);
});
</script>`;

/** Chromium with a fresh profile directory (playwright passes it as --user-data-dir). */
async function launchChromium(profile) {
  return chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
}

test('Chromium native WebSocket against the wsaction Node server', async () => {
  const httpServer = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(PAGE);
  });
  const wss = createServer({ server: httpServer, protocols: ['chat'] });
  const serverCloses = [];
  wss.on('connection', (c) => {
    c.on('message', (data, isBinary) => {
      if (data === 'please close') c.close(4021, 'server bye');
      else c.send(data, { binary: isBinary });
    });
    c.closed.then((r) => serverCloses.push([r.code, r.reason]));
  });
  await new Promise((r) => httpServer.listen(0, '127.0.0.1', r));
  const { port } = httpServer.address();
  const profile = mkdtempSync(join(tmpdir(), 'wsaction-chromium-'));
  const browser = await launchChromium(profile);
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${port}/`);
    const url = `ws://127.0.0.1:${port}/`;
    const seen = await page.evaluate((u) => window.runTest(u), url);
    assert.deepEqual(seen, [
      ['protocol', 'chat'],
      ['text', 'hello from chromium'],
      ['binary', [1, 2, 3, 250]],
      ['text', 'long:300000'],
      ['close', 4021, 'server bye', true],
    ]);
    const closed = await page.evaluate((u) => window.clientClose(u), url);
    assert.deepEqual(closed, [4020, 'browser bye', true]);
    // Both server connections ended (the socket is closed, not left open).
    for (let i = 0; i < 50 && serverCloses.length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(serverCloses.sort(), [[4020, 'browser bye'], [4021, 'server bye']]);
  } finally {
    await browser.close();
    await wss.close(); // ends the WebSocket connections and leaves the http server to its owner
    httpServer.closeAllConnections();
    await new Promise((r) => httpServer.close(r));
    rmSync(profile, { recursive: true, force: true });
  }
});

test("Chromium's WebSocket offers permessage-deflate; a WebSocketServer with perMessageDeflate accepts it and both send compressed", async () => {
  const httpServer = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(PAGE);
  });
  // The bytes each connection read and wrote: the page load's and the WebSocket's.
  const sockets = [];
  httpServer.on('connection', (socket) => sockets.push(socket));
  const wss = new WebSocketServer({ server: httpServer, perMessageDeflate: true });
  const agreed = [];
  wss.on('connection', (ws, request) => {
    agreed.push([ws.extensions, ws._agreedExtensions, request.headers['sec-websocket-extensions']]);
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  await new Promise((r) => httpServer.listen(0, '127.0.0.1', r));
  const { port } = httpServer.address();
  const profile = mkdtempSync(join(tmpdir(), 'wsaction-chromium-'));
  const browser = await launchChromium(profile);
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${port}/`);
    const text = JSON.stringify(Array.from({ length: 2000 }, (_, i) => ({ id: i, name: 'alpha', value: i * 7.5, tags: ['a', 'b'] })));
    const seen = await page.evaluate(([u, t]) => window.deflateTest(u, t), [`ws://127.0.0.1:${port}/`, text]);
    // Chromium's extensions attribute names what the server agreed to.
    assert.deepEqual(seen, [
      ['extensions', 'permessage-deflate'],
      ['echo', 'text'],
      ['echo', 'short'],
      ['echo', 'text'],
      ['close', 1000, true],
    ]);
    assert.equal(agreed.length, 1);
    assert.equal(agreed[0][0], 'permessage-deflate');
    assert.deepEqual(agreed[0][1], ['permessage-deflate']); // context takeover, windows of 15 both ways
    assert.match(agreed[0][2], /permessage-deflate/, 'Chromium offered it');
    // Two long texts each way went compressed: the WebSocket connection's bytes are a small
    // part of them (the page load's connection adds its page, under 2 KiB).
    let read = 0;
    let written = 0;
    for (const socket of sockets) {
      read += socket.bytesRead;
      written += socket.bytesWritten;
    }
    assert.ok(read * 5 < text.length * 2, `${read} bytes read for ${text.length * 2} bytes of text`);
    assert.ok(written * 5 < text.length * 2, `${written} bytes written for ${text.length * 2} bytes of text`);
  } finally {
    await browser.close();
    await new Promise((resolve) => wss.close(resolve));
    httpServer.closeAllConnections();
    await new Promise((r) => httpServer.close(r));
    rmSync(profile, { recursive: true, force: true });
  }
});
