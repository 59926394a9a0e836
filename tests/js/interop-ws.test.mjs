// Interop over loopback with ws 8, both directions: the wsaction Node client against a ws
// server, and a ws client against the wsaction Node server. Text, binary, empty, 16 MiB,
// fragmented, ping/pong, close codes and reasons both ways, a negotiated subprotocol.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { WebSocketServer as WsServer, WebSocket as WsClient } from 'ws';
import { connect, createServer, handleUpgrade } from '../../pkg/node.js';

const BIG = 16 * 1024 * 1024;

function bigPayload() {
  const data = new Uint8Array(BIG);
  for (let i = 0; i < data.length; i += 4096) data[i] = (i / 4096) & 0xff;
  data[BIG - 1] = 0x5a;
  return data;
}

/** The next `count` 'message' events of a wsaction connection, as [data, isBinary]. */
function nextMessages(connection, count) {
  return new Promise((resolve) => {
    const got = [];
    const on = (data, isBinary) => {
      got.push([data, isBinary]);
      if (got.length === count) {
        connection.off('message', on);
        resolve(got);
      }
    };
    connection.on('message', on);
  });
}

function wsNextMessages(socket, count) {
  return new Promise((resolve) => {
    const got = [];
    const on = (data, isBinary) => {
      got.push([data, isBinary]);
      if (got.length === count) {
        socket.off('message', on);
        resolve(got);
      }
    };
    socket.on('message', on);
  });
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms))),
  ]);
}

describe('wsaction Node client against a ws 8 server', () => {
  let wss;
  let url;
  const serverSockets = [];

  const ready = new Promise((resolve) => {
    wss = new WsServer({ host: '127.0.0.1', port: 0, handleProtocols: (set) => (set.has('chat') ? 'chat' : false) }, () => {
      url = `ws://127.0.0.1:${wss.address().port}/path?q=1`;
      resolve();
    });
    wss.on('connection', (socket, req) => {
      serverSockets.push({ socket, req });
      socket.on('message', (data, isBinary) => {
        const text = isBinary ? null : data.toString();
        if (text === 'please close') socket.close(4002, 'server bye');
        else if (text === 'please ping') socket.ping(Buffer.from('from ws'));
        else if (text === 'please fragment') {
          socket.send('abc', { fin: false });
          socket.send('def', { fin: false });
          socket.send('ghi', { fin: true });
        } else socket.send(data, { binary: isBinary });
      });
    });
  });

  after(() => new Promise((resolve) => wss.close(resolve)));

  test('subprotocol, headers, text, binary, empty, fragmented, 16 MiB, ping/pong, client close', async () => {
    await ready;
    const c = await connect(url, { protocols: ['chat', 'other'], headers: { 'X-Test': 'yes' } });
    assert.equal(c.protocol, 'chat');
    const { req } = serverSockets.at(-1);
    assert.equal(req.headers['x-test'], 'yes');
    assert.equal(req.url, '/path?q=1');

    let got = nextMessages(c, 3);
    c.send('héllo wörld');
    c.send(new Uint8Array([0, 1, 2, 255]));
    c.send('');
    got = await got;
    assert.deepEqual(got[0], ['héllo wörld', false]);
    assert.deepEqual([...got[1][0]], [0, 1, 2, 255]);
    assert.equal(got[1][1], true);
    assert.deepEqual(got[2], ['', false]);

    // Fragmented both ways: our fragments reach ws as one message; ws's fragments reach us as one.
    got = nextMessages(c, 2);
    c.send('part one, ', { fin: false });
    c.send('part two, ', { fin: false });
    c.send('the end', { fin: true });
    c.send('please fragment');
    got = await got;
    assert.deepEqual(got[0], ['part one, part two, the end', false]);
    assert.deepEqual(got[1], ['abcdefghi', false]);

    const big = bigPayload();
    got = nextMessages(c, 1);
    await c.send(big);
    const [[echo, isBinary]] = await withTimeout(got, 30000, '16 MiB echo');
    assert.equal(isBinary, true);
    assert.equal(echo.length, BIG);
    assert.equal(Buffer.compare(Buffer.from(echo.buffer, echo.byteOffset, echo.length), Buffer.from(big)), 0);

    // Our ping gets ws's pong; ws's ping gets the engine's pong.
    const pong = new Promise((resolve) => c.once('pong', resolve));
    c.ping('are you there');
    assert.equal(new TextDecoder().decode(await pong), 'are you there');
    const { socket } = serverSockets.at(-1);
    const wsPong = new Promise((resolve) => socket.once('pong', resolve));
    c.send('please ping');
    assert.equal((await wsPong).toString(), 'from ws');

    const serverClose = new Promise((resolve) => socket.once('close', (code, reason) => resolve([code, reason.toString()])));
    const result = await c.close(4001, 'client bye');
    assert.deepEqual(await serverClose, [4001, 'client bye']);
    assert.equal(result.code, 4001);
    assert.equal(result.wasClean, true);
  });

  test('the server closes with a code and reason', async () => {
    await ready;
    const c = await connect(url);
    assert.equal(c.protocol, '');
    const closed = new Promise((resolve) => c.once('close', (code, reason) => resolve([code, reason])));
    c.send('please close');
    assert.deepEqual(await withTimeout(closed, 5000, 'server close'), [4002, 'server bye']);
    assert.equal(c.closeCode, 4002);
    assert.equal(c.closeReason, 'server bye');
  });

  test('the async iterator yields messages and ends at close', async () => {
    await ready;
    const c = await connect(url);
    c.send('one');
    c.send(new Uint8Array([2]));
    c.send('please close');
    const seen = [];
    for await (const { data, isBinary } of c) seen.push(isBinary ? [...data] : data);
    assert.deepEqual(seen, ['one', [2]]);
    assert.equal(c.closeCode, 4002);
  });

  test('a refused upgrade and a closed port reject connect', async () => {
    await ready;
    const plain = http.createServer((req, res) => res.writeHead(404).end());
    await new Promise((r) => plain.listen(0, '127.0.0.1', r));
    await assert.rejects(connect(`ws://127.0.0.1:${plain.address().port}/`), (err) => err.httpStatus === 404);
    const port = plain.address().port;
    await new Promise((r) => plain.close(r));
    await assert.rejects(connect(`ws://127.0.0.1:${port}/`), (err) => err.code === 'ECONNREFUSED');
    await assert.rejects(connect('ftp://x/'), TypeError);
  });
});

describe('ws 8 client against the wsaction Node server', () => {
  let server;
  let url;
  const connections = [];
  const ready = (async () => {
    server = createServer({ port: 0, host: '127.0.0.1', protocols: ['chat'] });
    server.on('connection', (c) => {
      connections.push(c);
      c.on('message', (data, isBinary) => {
        if (!isBinary && data === 'please close') c.close(4004, 'wsaction bye');
        else if (!isBinary && data === 'please ping') c.ping('from wsaction');
        else if (!isBinary && data === 'please fragment') {
          c.send('x', { fin: false });
          c.send(new TextEncoder().encode('y'), { fin: false, text: true });
          c.send('z');
        } else c.send(data, { binary: isBinary });
      });
    });
    const { port } = await server.listening;
    url = `ws://127.0.0.1:${port}/`;
  })();

  after(() => server.close());

  function open(protocols) {
    return new Promise((resolve, reject) => {
      const ws = new WsClient(url, protocols, { maxPayload: 64 * 1024 * 1024 });
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
    });
  }

  test('subprotocol, text, binary, empty, fragmented, 16 MiB, ping/pong, client close', async () => {
    await ready;
    const ws = await open(['other', 'chat']);
    assert.equal(ws.protocol, 'chat');
    const server = connections.at(-1);
    assert.equal(server.protocol, 'chat');

    let got = wsNextMessages(ws, 3);
    ws.send('héllo');
    ws.send(Buffer.from([9, 8, 7]));
    ws.send('');
    got = await got;
    assert.deepEqual([got[0][0].toString(), got[0][1]], ['héllo', false]);
    assert.deepEqual([[...got[1][0]], got[1][1]], [[9, 8, 7], true]);
    assert.deepEqual([got[2][0].toString(), got[2][1]], ['', false]);

    got = wsNextMessages(ws, 2);
    ws.send('frag-', { fin: false });
    ws.send('ment', { fin: true });
    ws.send('please fragment');
    got = await got;
    assert.equal(got[0][0].toString(), 'frag-ment');
    assert.equal(got[1][0].toString(), 'xyz');
    assert.equal(got[1][1], false);

    const big = bigPayload();
    got = wsNextMessages(ws, 1);
    ws.send(big);
    const [[echo]] = await withTimeout(got, 30000, '16 MiB echo');
    assert.equal(echo.length, BIG);
    assert.equal(Buffer.compare(echo, Buffer.from(big)), 0);

    const pong = new Promise((resolve) => ws.once('pong', resolve));
    ws.ping('ws ping');
    assert.equal((await pong).toString(), 'ws ping');
    const ping = new Promise((resolve) => ws.once('ping', resolve));
    const serverPong = new Promise((resolve) => server.once('pong', resolve));
    ws.send('please ping');
    assert.equal((await ping).toString(), 'from wsaction');
    assert.equal(new TextDecoder().decode(await serverPong), 'from wsaction');

    const serverClosed = server.closed;
    const closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve([code, reason.toString()])));
    ws.close(4003, 'ws bye');
    assert.deepEqual(await closed, [4003, 'ws bye']);
    const result = await serverClosed;
    assert.equal(result.code, 4003);
    assert.equal(result.reason, 'ws bye');
  });

  test('the wsaction server closes with a code and reason', async () => {
    await ready;
    const ws = await open();
    assert.equal(ws.protocol, '');
    const closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve([code, reason.toString()])));
    ws.send('please close');
    assert.deepEqual(await withTimeout(closed, 5000, 'wsaction close'), [4004, 'wsaction bye']);
  });

  test('a bad upgrade request gets the HTTP answer the engine names', async () => {
    await ready;
    const { port } = server.address();
    const status = await new Promise((resolve, reject) => {
      const req = http.request({
        host: '127.0.0.1',
        port,
        headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '8', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' },
      });
      req.on('response', (res) => resolve([res.statusCode, res.headers['sec-websocket-version']]));
      req.on('upgrade', () => reject(new Error('upgraded')));
      req.on('error', reject);
      req.end();
    });
    assert.deepEqual(status, [426, '13']);
  });

  test('a peer violation fails the connection with 1002 and closes the socket', async () => {
    await ready;
    const ws = await open();
    const closed = new Promise((resolve) => ws.once('close', (code) => resolve(code)));
    const server = connections.at(-1);
    const errored = new Promise((resolve) => server.once('error', resolve));
    // An unmasked frame from a client (RFC 6455 5.1) written straight to ws's socket.
    ws._socket.write(Buffer.from([0x81, 0x02, 0x68, 0x69]));
    const err = await errored;
    assert.equal(err.code, 'PROTOCOL_VIOLATION');
    assert.equal(err.closeCode, 1002);
    assert.equal(await withTimeout(closed, 5000, 'violation close'), 1002);
    await server.closed;
  });
});

test('handleUpgrade on an existing node:http server', async () => {
  const httpServer = http.createServer((req, res) => res.end('plain'));
  httpServer.on('upgrade', (req, socket, head) => {
    const c = handleUpgrade(req, socket, head, { handleProtocols: (offered) => offered.at(-1) });
    c?.on('message', (data) => c.send(`echo:${data}`));
  });
  await new Promise((r) => httpServer.listen(0, '127.0.0.1', r));
  const ws = new WsClient(`ws://127.0.0.1:${httpServer.address().port}/`, ['a', 'b']);
  await new Promise((r) => ws.once('open', r));
  assert.equal(ws.protocol, 'b');
  const reply = new Promise((r) => ws.once('message', (d) => r(d.toString())));
  ws.send('hi');
  assert.equal(await reply, 'echo:hi');
  const closed = new Promise((r) => ws.once('close', r));
  ws.close();
  await closed;
  await new Promise((r) => httpServer.close(r));
});

test('sends queued behind backpressure go out in batches, in order, each promise settled', async () => {
  const received = [];
  let done;
  const all = new Promise((r) => (done = r));
  const wss = await new Promise((resolve) => {
    const s = new WsServer({ host: '127.0.0.1', port: 0, maxPayload: 64 * 1024 * 1024 }, () => resolve(s));
  });
  wss.on('connection', (socket) =>
    socket.on('message', (data, isBinary) => {
      received.push(isBinary ? data.length : data.toString());
      if (data.toString() === 'last') done();
    }),
  );
  // Count the adapter's sendMany calls (the batched path) on the class it uses.
  const { WebSocketHandle } = await import('../../pkg/node.js');
  const sendMany = WebSocketHandle.prototype.sendMany;
  let batches = 0;
  let batched = 0;
  WebSocketHandle.prototype.sendMany = function counted(type, messages, keep) {
    batches++;
    batched += messages.length;
    return sendMany.call(this, type, messages, keep);
  };
  try {
    const c = await connect(`ws://127.0.0.1:${wss.address().port}/`);
    // 8 MiB first: the socket stops taking bytes, so the small sends queue up behind it.
    const sends = [c.send(new Uint8Array(8 * 1024 * 1024))];
    const expected = [8 * 1024 * 1024];
    for (let i = 0; i < 1000; i++) {
      if (i === 500) {
        // Invalid UTF-8 sent as text: the engine refuses this one message only.
        sends.push(c.send(new Uint8Array([0xff]), { text: true }));
        continue;
      }
      const text = `small ${i}`;
      sends.push(c.send(text));
      expected.push(text);
    }
    sends.push(c.send('last'));
    expected.push('last');
    const settled = await withTimeout(Promise.allSettled(sends), 20000, 'sends settle');
    await withTimeout(all, 20000, 'the server gets the last message');
    assert.deepEqual(received, expected);
    const rejected = settled.filter((s) => s.status === 'rejected');
    assert.equal(rejected.length, 1);
    assert.equal(rejected[0].reason.code, 'INVALID_ARGUMENT');
    assert.equal(settled.indexOf(rejected[0]), 501);
    assert.ok(batches > 0 && batched > 500, `sendMany calls: ${batches} with ${batched} messages`);
    await c.close();
  } finally {
    WebSocketHandle.prototype.sendMany = sendMany;
    await new Promise((r) => wss.close(r));
  }
});
