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
