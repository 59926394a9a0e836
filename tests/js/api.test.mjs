// The Node API layer (pkg/src): regressions of issue 8's faults, each written against what a user
// does, with real peers (ws 8) and raw-socket peers that write the 101 and frames as they like.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { createHash } from 'node:crypto';
import { WebSocketServer as WsServer, WebSocket as WsClient } from 'ws';
import { connect, createServer } from '../../pkg/node.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms))),
  ]);
}

/** An unmasked server frame (RFC 6455 5.2) carrying `payload` (< 126 bytes) with `opcode`. */
function serverFrame(opcode, payload) {
  const bytes = Buffer.from(payload);
  return Buffer.concat([Buffer.from([0x80 | opcode, bytes.length]), bytes]);
}

/** A masked client frame (RFC 6455 5.3) carrying `payload` (< 126 bytes). */
function clientFrame(opcode, payload) {
  const bytes = Buffer.from(payload);
  const mask = Buffer.from([1, 2, 3, 4]);
  const masked = Buffer.from(bytes.map((b, i) => b ^ mask[i % 4]));
  return Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | bytes.length]), mask, masked]);
}

/**
 * A raw TCP server that answers an upgrade with a 101 followed at once by `frames`, written as
 * `mode` says: 'one' (the 101 and the frames in one write), 'separate' (one write each) or
 * 'bytes' (one byte per write). Every later byte from the client is ignored until it closes.
 */
async function rawServer(frames, mode) {
  const sockets = new Set();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let head = '';
    const onData = async (chunk) => {
      head += chunk.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      socket.on('data', () => {});
      const key = /sec-websocket-key:\s*(\S+)/i.exec(head)[1];
      const accept = createHash('sha1').update(key + GUID).digest('base64');
      const response = Buffer.from(
        `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
        'latin1',
      );
      const writes =
        mode === 'one'
          ? [Buffer.concat([response, ...frames])]
          : mode === 'separate'
            ? [response, ...frames]
            : [...Buffer.concat([response, ...frames])].map((b) => Buffer.from([b]));
      for (const w of writes) {
        socket.write(w);
        if (mode === 'bytes') await new Promise((r) => setImmediate(r));
      }
    };
    socket.on('data', onData);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `ws://127.0.0.1:${server.address().port}/`,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(r));
    },
  };
}

describe('issue 8 (1): nothing is emitted before the caller could listen', () => {
  for (const mode of ['one', 'separate', 'bytes']) {
    test(`connect(): messages written with the 101 (${mode}) reach a listener added after await`, async () => {
      const server = await rawServer([serverFrame(1, 'greeting'), serverFrame(2, [1, 2, 3]), serverFrame(1, 'third')], mode);
      try {
        for (let round = 0; round < 5; round++) {
          const c = await connect(server.url);
          const got = [];
          const all = new Promise((resolve) =>
            c.on('message', (data, isBinary) => {
              got.push(isBinary ? [...data] : data);
              if (got.length === 3) resolve();
            }),
          );
          await withTimeout(all, 3000, `the three messages (round ${round}, got ${JSON.stringify(got)})`);
          assert.deepEqual(got, ['greeting', [1, 2, 3], 'third']);
          c.terminate();
        }
      } finally {
        await server.close();
      }
    });
  }

  test('connect(): the async iterator attached after await sees a greeting sent with the 101', async () => {
    const server = await rawServer([serverFrame(1, 'hello'), serverFrame(8, Buffer.from([0x03, 0xe8]))], 'one');
    try {
      const c = await connect(server.url);
      const seen = [];
      for await (const { data } of c) seen.push(data);
      assert.deepEqual(seen, ['hello']);
    } finally {
      await server.close();
    }
  });

  test('a ws server that sends on connection: every greeting arrives (20 connections)', async () => {
    const wss = new WsServer({ host: '127.0.0.1', port: 0 });
    await new Promise((r) => wss.once('listening', r));
    wss.on('connection', (socket) => socket.send('welcome'));
    try {
      let received = 0;
      for (let i = 0; i < 20; i++) {
        const c = await connect(`ws://127.0.0.1:${wss.address().port}/`);
        const greeting = await withTimeout(new Promise((r) => c.once('message', r)), 3000, `greeting ${i}`);
        if (greeting === 'welcome') received++;
        await c.close();
      }
      assert.equal(received, 20);
    } finally {
      await new Promise((r) => wss.close(r));
    }
  });

  test('server side: frames sent in the same write as the upgrade request (head) reach the connection listener', async () => {
    const server = createServer({ port: 0, host: '127.0.0.1' });
    const got = [];
    let done;
    const all = new Promise((r) => (done = r));
    server.on('connection', (c) =>
      c.on('message', (data) => {
        got.push(data);
        if (got.length === 2) done();
      }),
    );
    const { port } = await server.listening;
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => {});
    const request =
      `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';
    socket.write(Buffer.concat([Buffer.from(request, 'latin1'), clientFrame(1, 'first'), clientFrame(1, 'second')]));
    try {
      await withTimeout(all, 3000, 'both head messages');
      assert.deepEqual(got, ['first', 'second']);
    } finally {
      socket.destroy();
      await server.close();
    }
  });
});

describe('issue 8 (2): close() with a code or reason that may not be sent throws at once', () => {
  test('999, 1004, 1005 with a reason, 1006, 1015, 2999, 5000 and a 124-byte reason throw; a later close(1000) works', async () => {
    const wss = new WsServer({ host: '127.0.0.1', port: 0 });
    await new Promise((r) => wss.once('listening', r));
    const serverClose = new Promise((resolve) =>
      wss.on('connection', (socket) => socket.on('close', (code, reason) => resolve([code, reason.toString()]))),
    );
    try {
      const c = await connect(`ws://127.0.0.1:${wss.address().port}/`);
      for (const code of [999, 1004, 1006, 1015, 2999, 5000, 1.5, -1]) {
        assert.throws(() => c.close(code), TypeError, `close(${code})`);
      }
      assert.throws(() => c.close(1005, 'a reason with no code'), TypeError);
      assert.throws(() => c.close(1000, 'x'.repeat(124)), RangeError);
      assert.throws(() => c.close(1000, 'é'.repeat(62)), RangeError, '124 bytes of UTF-8');
      const result = await withTimeout(c.close(1000, 'é'.repeat(61)), 3000, 'the valid close');
      assert.equal(result.code, 1000);
      assert.equal(result.wasClean, true);
      assert.deepEqual(await serverClose, [1000, 'é'.repeat(61)]);
    } finally {
      await new Promise((r) => wss.close(r));
    }
  });
});

describe('issue 8 (3): leaving for-await with many messages queued', () => {
  test('break with 200 messages queued: the socket reads again and close() is clean', async () => {
    const wss = new WsServer({ host: '127.0.0.1', port: 0 });
    await new Promise((r) => wss.once('listening', r));
    wss.on('connection', (socket) => {
      socket.on('message', (data, isBinary) => {
        if (data.toString() === 'burst') for (let i = 0; i < 200; i++) socket.send(`m${i}`);
        else socket.send(data, { binary: isBinary });
      });
    });
    try {
      const c = await connect(`ws://127.0.0.1:${wss.address().port}/`);
      c.send('burst');
      let first = null;
      for await (const { data } of c) {
        // Let the whole burst arrive and queue up behind the iterator before leaving it.
        await new Promise((r) => setTimeout(r, 200));
        first = data;
        break;
      }
      assert.equal(first, 'm0');
      // Reading goes on: an echo after the burst still arrives.
      const echo = new Promise((resolve) => c.on('message', (data) => data === 'after' && resolve(data)));
      c.send('after');
      assert.equal(await withTimeout(echo, 3000, 'the echo after leaving the loop'), 'after');
      const result = await withTimeout(c.close(1000), 3000, 'close after leaving the loop');
      assert.equal(result.code, 1000);
      assert.equal(result.wasClean, true);
    } finally {
      await new Promise((r) => wss.close(r));
    }
  });
});

describe('issue 8 (6): a server on the caller\'s http server', () => {
  test('listening waits for the http server, path leaves other upgrades alone, close() leaves the http server open', async () => {
    const httpServer = http.createServer((req, res) => res.end('plain'));
    const server = createServer({ server: httpServer, path: '/wsaction' });
    server.on('connection', (c) => c.on('message', (data) => c.send(`wsaction:${data}`)));
    // Another WebSocket endpoint on the same http server (as Vite's or socket.io's would be).
    const other = new WsServer({ noServer: true });
    other.on('connection', (socket) => socket.on('message', (data) => socket.send(`other:${data}`)));
    httpServer.on('upgrade', (req, socket, head) => {
      if (req.url.startsWith('/other')) other.handleUpgrade(req, socket, head, (ws) => other.emit('connection', ws, req));
    });
    const listening = server.listening;
    httpServer.listen(0, '127.0.0.1');
    const address = await withTimeout(listening, 3000, 'listening');
    assert.equal(address.port, httpServer.address().port);
    const base = `ws://127.0.0.1:${address.port}`;

    const ask = async (url, text) => {
      const ws = new WsClient(url);
      await new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
      const reply = new Promise((r) => ws.once('message', (d) => r(d.toString())));
      ws.send(text);
      const answer = await withTimeout(reply, 3000, `reply from ${url}`);
      ws.close();
      return answer;
    };
    try {
      assert.equal(await ask(`${base}/wsaction?x=1`, 'a'), 'wsaction:a');
      assert.equal(await ask(`${base}/other`, 'b'), 'other:b');

      await server.close();
      assert.equal(httpServer.listening, true, 'the caller\'s http server is still listening');
      const body = await new Promise((resolve, reject) =>
        http.get(`http://127.0.0.1:${address.port}/`, (res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () => resolve(text));
        }).on('error', reject),
      );
      assert.equal(body, 'plain');
      assert.equal(await ask(`${base}/other`, 'c'), 'other:c');
    } finally {
      httpServer.closeAllConnections?.();
      await new Promise((r) => httpServer.close(r));
      other.close();
    }
  });
});

// ---------------------------------------------------------------- ws drop-in: the same code on ws and wsaction

import * as ws from 'ws';
import * as wsaction from '../../pkg/node.js';
import { once, on } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const IMPLEMENTATIONS = [
  ['ws', { WebSocket: ws.WebSocket, WebSocketServer: ws.WebSocketServer, createWebSocketStream: ws.createWebSocketStream }],
  ['wsaction', { WebSocket: wsaction.WebSocket, WebSocketServer: wsaction.WebSocketServer, createWebSocketStream: wsaction.createWebSocketStream }],
];

async function listening(wss) {
  if (!wss.address()) await once(wss, 'listening');
  return wss.address().port;
}

function closeServer(wss) {
  for (const client of wss.clients ?? []) client.terminate();
  return new Promise((r) => wss.close(() => r()));
}

for (const [name, { WebSocket, WebSocketServer, createWebSocketStream }] of IMPLEMENTATIONS) {
  describe(`ws README patterns on ${name}`, () => {
    test('echo with text and binary, isBinary, Buffers, readyState, protocol, url, events.once/on', async () => {
      const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', handleProtocols: (set, req) => (set.has('chat') && req.url === '/echo' ? 'chat' : false) });
      wss.on('connection', (socket, req) => {
        assert.equal(req.url, '/echo');
        socket.on('message', (data, isBinary) => {
          assert.ok(Buffer.isBuffer(data));
          socket.send(data, { binary: isBinary });
        });
      });
      const port = await listening(wss);
      const client = new WebSocket(`ws://127.0.0.1:${port}/echo`, ['other', 'chat']);
      assert.equal(client.readyState, WebSocket.CONNECTING);
      assert.equal(client.url, `ws://127.0.0.1:${port}/echo`);
      await once(client, 'open');
      assert.equal(client.readyState, WebSocket.OPEN);
      assert.equal(client.OPEN, 1);
      assert.equal(client.protocol, 'chat');
      assert.equal(client.extensions, '');
      assert.equal(client.binaryType, 'nodebuffer');
      const messages = on(client, 'message');
      client.send('héllo');
      client.send(Buffer.from([1, 2, 3]));
      client.send(new Uint8Array([4]).buffer);
      client.send(42);
      const got = [];
      for await (const [data, isBinary] of messages) {
        got.push([Buffer.isBuffer(data), isBinary ? [...data] : data.toString(), isBinary]);
        if (got.length === 4) break;
      }
      assert.deepEqual(got, [[true, 'héllo', false], [true, [1, 2, 3], true], [true, [4], true], [true, '42', false]]);
      client.binaryType = 'arraybuffer';
      client.send(Buffer.from([7, 8]));
      const [ab, isBinary] = await once(client, 'message');
      assert.ok(ab instanceof ArrayBuffer);
      assert.deepEqual([[...new Uint8Array(ab)], isBinary], [[7, 8], true]);
      client.binaryType = 'fragments';
      client.send(Buffer.from([9]));
      const [fragments] = await once(client, 'message');
      assert.ok(Array.isArray(fragments));
      assert.deepEqual([...Buffer.concat(fragments)], [9]);
      const sent = await new Promise((resolve) => client.send('with a callback', (err) => resolve(err)));
      assert.ok(sent === undefined || sent === null);
      client.close(4000, 'bye');
      assert.equal(client.readyState, WebSocket.CLOSING);
      const [code, reason] = await once(client, 'close');
      assert.equal(client.readyState, WebSocket.CLOSED);
      assert.equal(code, 4000);
      assert.ok(Buffer.isBuffer(reason));
      assert.equal(reason.toString(), 'bye');
      const err = await new Promise((resolve) => client.send('late', resolve));
      assert.match(err.message, /WebSocket is not open: readyState 3 \(CLOSED\)/);
      await closeServer(wss);
    });

    test('a server that sends first, broadcast to clients, server close', async () => {
      const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
      wss.on('connection', (socket) => {
        socket.send('welcome');
        socket.on('message', (data, isBinary) => {
          for (const client of wss.clients) if (client.readyState === WebSocket.OPEN) client.send(data, { binary: isBinary });
        });
      });
      const port = await listening(wss);
      const clients = [];
      for (let i = 0; i < 3; i++) {
        const client = new WebSocket(`ws://127.0.0.1:${port}/`);
        const greeting = once(client, 'message');
        await once(client, 'open');
        assert.equal(String((await greeting)[0]), 'welcome');
        clients.push(client);
      }
      assert.equal(wss.clients.size, 3);
      const heard = clients.map((c) => once(c, 'message'));
      clients[0].send('to all');
      for (const [data] of await Promise.all(heard)) assert.equal(String(data), 'to all');
      const closes = clients.map((c) => once(c, 'close'));
      for (const c of wss.clients) c.close(1001, 'going');
      for (const [code, reason] of await Promise.all(closes)) assert.deepEqual([code, String(reason)], [1001, 'going']);
      await closeServer(wss);
    });

    test('ping/pong heartbeat and terminate', async () => {
      const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
      const serverSide = once(wss, 'connection');
      const port = await listening(wss);
      const client = new WebSocket(`ws://127.0.0.1:${port}/`);
      await once(client, 'open');
      const [socket] = await serverSide;
      socket.isAlive = false;
      socket.on('pong', () => (socket.isAlive = true));
      const pong = once(socket, 'pong');
      socket.ping();
      await pong;
      assert.equal(socket.isAlive, true);
      const clientPong = once(client, 'pong');
      client.ping(Buffer.from('payload'));
      assert.equal(String((await clientPong)[0]), 'payload');
      assert.throws(() => client.ping(Buffer.alloc(126)), RangeError);
      const closed = once(client, 'close');
      socket.terminate();
      const [code] = await closed;
      assert.equal(code, 1006);
      await closeServer(wss);
    });

    test('close() validates like ws: TypeError and RangeError, at once', async () => {
      const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
      const port = await listening(wss);
      const client = new WebSocket(`ws://127.0.0.1:${port}/`);
      assert.throws(() => client.send('too early'), /not open: readyState 0 \(CONNECTING\)/);
      await once(client, 'open');
      for (const code of [999, 1004, 1005, 1006, 1015, 2000, 5000]) assert.throws(() => client.close(code), TypeError, String(code));
      assert.throws(() => client.close(1000, 'x'.repeat(124)), RangeError);
      assert.equal(client.readyState, WebSocket.OPEN);
      await closeServer(wss);
    });

    test('client authentication: verifyClient sync and async with a status and headers', async () => {
      const wss = new WebSocketServer({
        port: 0,
        host: '127.0.0.1',
        verifyClient: (info, done) => {
          assert.equal(typeof info.secure, 'boolean');
          if (info.req.headers.authorization === 'Bearer good') done(true);
          else setTimeout(() => done(false, 403, 'Forbidden here', { 'X-Why': 'token' }), 5);
        },
      });
      const port = await listening(wss);
      const refused = new WebSocket(`ws://127.0.0.1:${port}/`, { headers: { Authorization: 'Bearer bad' } });
      const [req, res] = await once(refused, 'unexpected-response');
      assert.equal(res.statusCode, 403);
      assert.equal(res.headers['x-why'], 'token');
      assert.ok(req);
      refused.on('error', () => {}); // ws fails a socket still connecting on terminate()
      refused.terminate();
      const accepted = new WebSocket(`ws://127.0.0.1:${port}/`, { headers: { Authorization: 'Bearer good' } });
      await once(accepted, 'open');
      accepted.close();
      await once(accepted, 'close');
      await closeServer(wss);

      const sync = new WebSocketServer({ port: 0, host: '127.0.0.1', verifyClient: (info) => info.origin === 'https://good.example' });
      const syncPort = await listening(sync);
      const bad = new WebSocket(`ws://127.0.0.1:${syncPort}/`, { origin: 'https://evil.example' });
      const [error] = await once(bad, 'error');
      assert.match(error.message, /Unexpected server response: 401/);
      const good = new WebSocket(`ws://127.0.0.1:${syncPort}/`, { origin: 'https://good.example' });
      await once(good, 'open');
      good.terminate();
      await closeServer(sync);
    });

    test('several servers on one http server: noServer + handleUpgrade, headers event; close leaves the http server', async () => {
      const httpServer = http.createServer((req, res) => res.end('plain'));
      const byPath = new WebSocketServer({ noServer: true, path: '/one' });
      const manual = new WebSocketServer({ noServer: true });
      byPath.on('headers', (headers) => headers.push('X-Server: one'));
      byPath.on('connection', (s) => s.send('one'));
      manual.on('connection', (s, req) => s.send(`manual ${req.url}`));
      httpServer.on('upgrade', (req, socket, head) => {
        if (byPath.shouldHandle(req)) byPath.handleUpgrade(req, socket, head, (s) => byPath.emit('connection', s, req));
        else if (req.url === '/two') manual.handleUpgrade(req, socket, head, (s) => manual.emit('connection', s, req));
        else socket.destroy();
      });
      await new Promise((r) => httpServer.listen(0, '127.0.0.1', r));
      assert.throws(() => manual.address(), /noServer/);
      const port = httpServer.address().port;
      const first = new WebSocket(`ws://127.0.0.1:${port}/one`);
      const upgrade = once(first, 'upgrade');
      assert.equal(String((await once(first, 'message'))[0]), 'one');
      assert.equal((await upgrade)[0].headers['x-server'], 'one');
      const second = new WebSocket(`ws://127.0.0.1:${port}/two`);
      assert.equal(String((await once(second, 'message'))[0]), 'manual /two');
      first.terminate();
      second.terminate();
      await new Promise((r) => byPath.close(r));
      await new Promise((r) => manual.close(r));
      assert.equal(httpServer.listening, true);
      httpServer.closeAllConnections?.();
      await new Promise((r) => httpServer.close(r));
    });

    test('createWebSocketStream: a Duplex both ways with backpressure', async () => {
      const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
      wss.on('connection', (socket) => {
        const duplex = createWebSocketStream(socket, { encoding: 'utf8' });
        duplex.pipe(duplex); // echo through the stream
      });
      const port = await listening(wss);
      const client = new WebSocket(`ws://127.0.0.1:${port}/`);
      const duplex = createWebSocketStream(client, { encoding: 'utf8' });
      let text = '';
      duplex.on('data', (chunk) => (text += chunk));
      const total = 2000;
      for (let i = 0; i < total; i++) duplex.write(`line ${i}\n`);
      while (text.split('\n').length <= total) await new Promise((r) => setTimeout(r, 10));
      assert.equal(text.split('\n')[total - 1], `line ${total - 1}`);
      duplex.end();
      await once(client, 'close');
      await closeServer(wss);
    });

    test('WHATWG style on the same object: onopen, addEventListener, MessageEvent, CloseEvent', async () => {
      const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
      wss.on('connection', (s) => s.on('message', (data, isBinary) => (String(data) === 'close' ? s.close(4001, 'done') : s.send(data, { binary: isBinary }))));
      const port = await listening(wss);
      const client = new WebSocket(`ws://127.0.0.1:${port}/`);
      await new Promise((resolve) => (client.onopen = resolve));
      const events = [];
      const handler = (event) => events.push(['listener', event.type, event.data]);
      client.addEventListener('message', handler);
      client.onmessage = (event) => events.push(['onmessage', event.type, event.data, event.target === client]);
      client.send('text');
      await new Promise((r) => client.addEventListener('message', r, { once: true }));
      assert.deepEqual(events, [['listener', 'message', 'text'], ['onmessage', 'message', 'text', true]]);
      client.removeEventListener('message', handler);
      client.onmessage = null;
      const closed = new Promise((resolve) => (client.onclose = resolve));
      client.send('close');
      const event = await closed;
      assert.deepEqual([event.code, event.reason, event.wasClean], [4001, 'done', true]);
      assert.equal(events.length, 2);
      await closeServer(wss);
    });

    test('send(Blob) is binary and keeps its place among the sends around it', async () => {
      const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
      const received = [];
      let done;
      const all = new Promise((r) => (done = r));
      wss.on('connection', (s) =>
        s.on('message', (data, isBinary) => {
          received.push([String(data), isBinary]);
          if (received.length === 4) done();
        }),
      );
      const port = await listening(wss);
      const client = new WebSocket(`ws://127.0.0.1:${port}/`);
      await once(client, 'open');
      client.send('before');
      client.send(new Blob(['a blob, ', 'in parts']));
      client.send('after');
      const sent = new Promise((resolve) => client.send(new Blob(['last']), resolve));
      await all;
      assert.ok((await sent) == null);
      assert.deepEqual(received, [['before', false], ['a blob, in parts', true], ['after', false], ['last', true]]);
      client.terminate();
      await closeServer(wss);
    });

    test('wsClientError: a bad upgrade request is the listener\'s to answer', async () => {
      const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
      wss.on('wsClientError', (err, socket, req) => {
        assert.ok(err instanceof Error);
        assert.equal(req.headers['sec-websocket-version'], '12');
        socket.end('HTTP/1.1 418 I\'m a teapot\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      });
      const port = await listening(wss);
      const status = await new Promise((resolve, reject) => {
        const req = http.request({
          host: '127.0.0.1',
          port,
          headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '12', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' },
        });
        req.on('response', (res) => resolve(res.statusCode));
        req.on('error', reject);
        req.end();
      });
      assert.equal(status, 418);
      await closeServer(wss);
    });

    test('pause() holds messages until resume()', async () => {
      const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
      wss.on('connection', (s) => s.on('message', () => s.send('reply')));
      const port = await listening(wss);
      const client = new WebSocket(`ws://127.0.0.1:${port}/`);
      await once(client, 'open');
      client.pause();
      assert.equal(client.isPaused, true);
      let got = 0;
      client.on('message', () => got++);
      client.send('x');
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(got, 0);
      client.resume();
      await once(client, 'message');
      assert.equal(got, 1);
      client.terminate();
      await closeServer(wss);
    });

    test('redirects: followRedirects with the redirect event, maxRedirects, unexpected-response off', async () => {
      const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
      const port = await listening(wss);
      const redirector = http.createServer();
      let hops = 0;
      redirector.on('upgrade', (req, socket) => {
        hops++;
        socket.end(`HTTP/1.1 302 Found\r\nLocation: ${req.url === '/loop' ? '/loop' : `ws://127.0.0.1:${port}/target`}\r\nContent-Length: 0\r\n\r\n`);
      });
      await new Promise((r) => redirector.listen(0, '127.0.0.1', r));
      const base = `ws://127.0.0.1:${redirector.address().port}`;
      const client = new WebSocket(`${base}/start`, { followRedirects: true });
      const redirected = once(client, 'redirect');
      await once(client, 'open');
      assert.equal((await redirected)[0], `ws://127.0.0.1:${port}/target`);
      assert.equal(client.url, `ws://127.0.0.1:${port}/target`);
      client.terminate();
      const looping = new WebSocket(`${base}/loop`, { followRedirects: true, maxRedirects: 2 });
      const [err] = await once(looping, 'error');
      assert.match(err.message, /Maximum redirects exceeded/);
      assert.equal(hops, 4);
      redirector.closeAllConnections?.();
      await new Promise((r) => redirector.close(r));
      await closeServer(wss);
    });

    test('ws+unix: addresses and createConnection', async () => {
      const socketPath = join(tmpdir(), `wsaction-${name}-${process.pid}.sock`);
      const httpServer = http.createServer();
      const wss = new WebSocketServer({ server: httpServer });
      wss.on('connection', (s) => s.send('over a unix socket'));
      await new Promise((r) => httpServer.listen(socketPath, r));
      const client = new WebSocket(`ws+unix:${socketPath}:/path`);
      assert.equal(String((await once(client, 'message'))[0]), 'over a unix socket');
      client.terminate();
      const viaCreate = new WebSocket('ws://example.invalid/', { createConnection: () => net.connect(socketPath) });
      assert.equal(String((await once(viaCreate, 'message'))[0]), 'over a unix socket');
      viaCreate.terminate();
      await new Promise((r) => wss.close(r));
      httpServer.closeAllConnections?.();
      await new Promise((r) => httpServer.close(r));
    });

    test('handshake failures: handshakeTimeout, a refused upgrade, a closed port: error then close 1006', async () => {
      const silent = net.createServer(() => {});
      const plain = http.createServer((req, res) => res.writeHead(404).end());
      await new Promise((r) => silent.listen(0, '127.0.0.1', r));
      await new Promise((r) => plain.listen(0, '127.0.0.1', r));
      try {
        const cases = [
          [`ws://127.0.0.1:${silent.address().port}/`, { handshakeTimeout: 100 }, /Opening handshake has timed out/],
          [`ws://127.0.0.1:${plain.address().port}/`, {}, /Unexpected server response: 404/],
        ];
        for (const [url, options, message] of cases) {
          const client = new WebSocket(url, options);
          // 'close' comes in the same tick as 'error' (and events.once would reject on 'error').
          const closed = new Promise((resolve) => client.once('close', resolve));
          const [err] = await once(client, 'error');
          assert.match(err.message, message);
          const code = await closed;
          assert.equal(code, 1006);
          assert.equal(client.readyState, WebSocket.CLOSED);
        }
        const port = plain.address().port;
        await new Promise((r) => plain.close(r));
        const refused = new WebSocket(`ws://127.0.0.1:${port}/`);
        const [err] = await once(refused, 'error');
        assert.equal(err.code, 'ECONNREFUSED');
        assert.throws(() => new WebSocket('ftp://example.com/'), SyntaxError);
        assert.throws(() => new WebSocket('ws://example.com/#fragment'), SyntaxError);
        assert.throws(() => new WebSocket('ws://example.com/', ['a', 'a']), SyntaxError);
      } finally {
        silent.close();
        if (plain.listening) plain.close();
      }
    });

    test('a message larger than 16 MiB in one frame passes the default maxPayload (100 MiB)', async () => {
      const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
      wss.on('connection', (s) => s.on('message', (data) => s.send(String(data.length))));
      const port = await listening(wss);
      const client = new WebSocket(`ws://127.0.0.1:${port}/`);
      await once(client, 'open');
      client.send(Buffer.alloc(20 * 1024 * 1024, 1));
      assert.equal(String((await once(client, 'message'))[0]), String(20 * 1024 * 1024));
      client.terminate();
      await closeServer(wss);
    });

    test('maxPayload: a larger message closes with 1009', async () => {
      const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', maxPayload: 1024 });
      const serverError = new Promise((resolve) => wss.on('connection', (s) => s.on('error', resolve)));
      const port = await listening(wss);
      const client = new WebSocket(`ws://127.0.0.1:${port}/`);
      await once(client, 'open');
      client.send(Buffer.alloc(2048));
      const [code] = await once(client, 'close');
      assert.equal(code, 1009);
      await serverError;
      await closeServer(wss);
    });
  });
}

describe('wsaction only', () => {
  /** A raw client that completes the handshake and then reads and ignores everything (never closes). */
  async function silentClient(port) {
    const socket = net.connect(port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    socket.on('error', () => {});
    return socket;
  }

  /** Makes `method` of every engine handle throw `error` until the returned function restores it. */
  function engineFault(method, error) {
    const proto = wsaction.WebSocketHandle.prototype;
    const original = proto[method];
    proto[method] = function () {
      throw error;
    };
    return () => {
      proto[method] = original;
    };
  }

  test('an engine error while a server connection starts fails that connection, not the process', async () => {
    const wss = new wsaction.WebSocketServer({ port: 0, host: '127.0.0.1' });
    const port = await listening(wss);
    const fault = new Error('engine fault: receive');
    const restore = engineFault('receive', fault);
    const errors = [];
    // The listener is attached in the 'connection' event, as ws's README does (an 'error' with no
    // listener throws, as in ws).
    wss.once('connection', (s) => s.on('error', (err) => errors.push(err)));
    try {
      const [serverSide] = await Promise.all([once(wss, 'connection').then(([s]) => s), silentClient(port)]);
      // (events.once would reject at the 'error' event.)
      const code = await withTimeout(new Promise((r) => serverSide.on('close', r)), 2000, "the failed connection's close");
      assert.equal(code, 1006);
      assert.deepEqual(errors, [fault]);
    } finally {
      restore();
    }
    // The server goes on: a new client opens and echoes.
    const echo = new wsaction.WebSocket(`ws://127.0.0.1:${port}/`);
    wss.once('connection', (s) => s.on('message', (data) => s.send(data)));
    await once(echo, 'open');
    echo.send('still here');
    assert.equal(String((await once(echo, 'message'))[0]), 'still here');
    echo.close();
    await once(echo, 'close');
    await closeServer(wss);
  });

  test("an engine error in a connection's timer fails that connection, not the process", async () => {
    const wss = new wsaction.WebSocketServer({ port: 0, host: '127.0.0.1', closeTimeout: 50 });
    const port = await listening(wss);
    const errors = [];
    wss.once('connection', (s) => s.on('error', (err) => errors.push(err)));
    const [serverSide, socket] = await Promise.all([once(wss, 'connection').then(([s]) => s), silentClient(port)]);
    const fault = new Error('engine fault: tick');
    const restore = engineFault('tick', fault);
    try {
      // The peer never answers our close: the close timer fires and its tick throws.
      serverSide.close(1000);
      // (events.once would reject at the 'error' event.)
      const code = await withTimeout(new Promise((r) => serverSide.on('close', r)), 2000, "the failed connection's close");
      assert.equal(code, 1006);
      assert.deepEqual(errors, [fault]);
    } finally {
      restore();
      socket.destroy();
    }
    await closeServer(wss);
  });

  test('default export is WebSocket; the error event listener is optional for conveniences only', () => {
    assert.equal(wsaction.default, wsaction.WebSocket);
  });

  test('WebSocketStream: opened, readable/writable, close({closeCode, reason}), closed', async () => {
    const wss = new ws.WebSocketServer({ port: 0, host: '127.0.0.1' });
    wss.on('connection', (s) => s.on('message', (data, isBinary) => s.send(data, { binary: isBinary })));
    const port = await listening(wss);
    const stream = new wsaction.WebSocketStream(`ws://127.0.0.1:${port}/`);
    const { readable, writable, protocol, extensions } = await stream.opened;
    assert.deepEqual([protocol, extensions], ['', '']);
    const writer = writable.getWriter();
    const reader = readable.getReader();
    await writer.write('hello');
    await writer.write(new Uint8Array([1, 2]));
    assert.equal((await reader.read()).value, 'hello');
    assert.deepEqual([...(await reader.read()).value], [1, 2]);
    assert.throws(() => stream.close({ closeCode: 1006 }));
    stream.close({ closeCode: 4000, reason: 'stream done' });
    assert.deepEqual(await stream.closed, { closeCode: 4000, reason: 'stream done' });
    assert.equal((await reader.read()).done, true);
    await closeServer(wss);
  });

  test('WebSocketStream: an aborted signal ends the handshake', async () => {
    const controller = new AbortController();
    const silent = net.createServer(() => {});
    await new Promise((r) => silent.listen(0, '127.0.0.1', r));
    const stream = new wsaction.WebSocketStream(`ws://127.0.0.1:${silent.address().port}/`, { signal: controller.signal });
    controller.abort();
    await assert.rejects(stream.opened);
    await assert.rejects(stream.closed);
    await new Promise((r) => silent.close(r));
  });
});

/** Sends a valid upgrade request on a raw socket; resolves with the status line and headers of the answer. */
function rawUpgrade(port) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      resolve({ status: Number(statusLine.split(' ')[1]), headers, socket });
    });
    socket.write(
      `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
  });
}

describe('issue 10: limits a server sets, answered 503 with Retry-After at the upgrade', () => {
  test('maxConnections: 2 (WebSocketServer): the third upgrade is refused with 503, one more is taken once one closed', async () => {
    const wss = new wsaction.WebSocketServer({ port: 0, host: '127.0.0.1', maxConnections: 2 });
    await new Promise((r) => wss.once('listening', r));
    const { port } = wss.address();
    try {
      const first = await rawUpgrade(port);
      const second = await rawUpgrade(port);
      assert.equal(first.status, 101);
      assert.equal(second.status, 101);
      const third = await rawUpgrade(port);
      assert.equal(third.status, 503);
      assert.ok(Number(third.headers['retry-after']) > 0, `Retry-After: ${third.headers['retry-after']}`);
      third.socket.destroy();
      const closed = new Promise((r) => [...wss.clients][0].once('close', r));
      first.socket.destroy();
      await withTimeout(closed, 3000, 'the first connection closes');
      const fourth = await rawUpgrade(port);
      assert.equal(fourth.status, 101, 'a place freed by a closed connection is taken again');
      second.socket.destroy();
      fourth.socket.destroy();
    } finally {
      await new Promise((r) => wss.close(r));
    }
  });

  test('createServer({ maxConnections: 1 }) and wasmMemoryBudget: refused with 503', async () => {
    const server = createServer({ maxConnections: 1 });
    const { port } = await server.listening;
    const first = await rawUpgrade(port);
    const second = await rawUpgrade(port);
    assert.deepEqual([first.status, second.status], [101, 503]);
    first.socket.destroy();
    second.socket.destroy();
    await server.close();
    // A budget smaller than one handle's buffers (64 KiB received twice, 256 KiB to send) refuses the first.
    const budgeted = createServer({ wasmMemoryBudget: 256 * 1024 });
    const refused = await rawUpgrade((await budgeted.listening).port);
    assert.equal(refused.status, 503);
    refused.socket.destroy();
    await budgeted.close();
  });
});
