// The usage patterns of ws's README (and the options and events they lean on), each written once
// against the ws API. A runner calls every case with a client implementation and a server
// implementation (ws's or wsaction's) and the same assertions must hold for each pairing.
//
// Each case takes ({ client, server }) where both are { name, WebSocket, WebSocketServer,
// createWebSocketStream }. Server-side code uses only `server`, client-side code only `client`,
// as two separate programs would. Every case stops the servers and sockets it started.

import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { Readable, Writable } from 'node:stream';
import {
  closeServer,
  listeningHttp,
  listeningServer,
  next,
  nextMessage,
  open,
  requireApi,
  shut,
  sleep,
  text,
  until,
} from './harness.mjs';

export const cases = [];
/**
 * `whatwgClient`: the client side uses only the WHATWG API (so a browser's or
 * Deno's own WebSocket can be the client). `gap`: { client?: name, why } marks a known gap of
 * that client implementation: the runners still run the case there, as a to-do (knownGap()).
 */
function scenario(name, run, { whatwgClient = false, gap = null } = {}) {
  cases.push({ name, run, whatwgClient, gap });
}

/** Why `testCase` is a known gap on `pairing` (a to-do there), or false. */
export function knownGap(testCase, pairing) {
  return testCase.gap && testCase.gap.client === pairing.client.name ? testCase.gap.why : false;
}

// README "Simple server" + "Sending and receiving text data" + "Sending binary data" +
// "How to get the IP address of the client".
scenario('echo: text and binary round trip, message(data, isBinary)', async ({ client, server }) => {
  const { wss, url } = await listeningServer(server);
  let remoteAddress = null;
  wss.on('connection', function connection(ws, req) {
    remoteAddress = req.socket.remoteAddress;
    ws.on('error', (err) => assert.fail(`server socket error: ${err.message}`));
    ws.on('message', function message(data, isBinary) {
      ws.send(data, { binary: isBinary });
    });
  });
  const ws = await open(client, url);
  try {
    assert.equal(ws.readyState, client.WebSocket.OPEN);
    assert.equal(ws.url, new URL(url).href);
    const replies = [];
    ws.on('message', (data, isBinary) => replies.push({ data, isBinary }));
    ws.send('something');
    const array = new Float32Array(5).map((_, i) => i / 2);
    ws.send(array);
    ws.send(Buffer.from([0xff, 0x00, 0x80]));
    ws.send('', { binary: false });
    await until(() => replies.length === 4, 'four echoes arrived');
    assert.ok(Buffer.isBuffer(replies[0].data), 'default binaryType nodebuffer: a text message is a Buffer too');
    assert.deepEqual(replies.map((r) => r.isBinary), [false, true, true, false]);
    assert.equal(text(replies[0].data), 'something');
    assert.deepEqual(new Uint8Array(replies[1].data), new Uint8Array(array.buffer));
    assert.deepEqual([...replies[2].data], [0xff, 0x00, 0x80]);
    assert.equal(replies[3].data.length, 0);
    assert.equal(remoteAddress, '127.0.0.1');
  } finally {
    await shut(ws);
    await closeServer(wss);
  }
});

// The WHATWG style on the same object (what browser code and libraries such as graphql-ws use).
scenario('WHATWG style: onopen, addEventListener, MessageEvent, CloseEvent, binaryType', async ({ client, server }) => {
  const { wss, url } = await listeningServer(server);
  const serverClose = new Promise((resolve) => {
    wss.on('connection', (ws) => {
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
      ws.on('close', (code, reason) => resolve({ code, reason: text(reason) }));
    });
  });
  const ws = new client.WebSocket(url);
  assert.equal(ws.readyState, client.WebSocket.CONNECTING);
  assert.equal(ws.CONNECTING, 0);
  assert.equal(ws.OPEN, 1);
  assert.equal(ws.CLOSING, 2);
  assert.equal(ws.CLOSED, 3);
  ws.binaryType = 'arraybuffer';
  const events = [];
  const opened = new Promise((resolve) => {
    ws.onopen = (event) => {
      events.push(`open:${event.type}`);
      resolve();
    };
  });
  const messages = [];
  const onMessage = (event) => messages.push(event.data);
  ws.addEventListener('message', onMessage);
  const closeEvent = new Promise((resolve) => {
    ws.onclose = (event) => resolve(event);
  });
  try {
    await opened;
    ws.send('text');
    ws.send(new Uint8Array([1, 2, 3]));
    await until(() => messages.length === 2, 'two MessageEvents arrived');
    assert.equal(messages[0], 'text', 'a text MessageEvent carries a string');
    assert.ok(messages[1] instanceof ArrayBuffer, 'binaryType arraybuffer gives an ArrayBuffer');
    assert.deepEqual([...new Uint8Array(messages[1])], [1, 2, 3]);
    ws.removeEventListener('message', onMessage);
    ws.send('after removeEventListener');
    ws.close(4000, 'bye');
    assert.equal(ws.readyState, client.WebSocket.CLOSING);
    const event = await closeEvent;
    assert.equal(event.type, 'close');
    assert.equal(event.code, 4000, 'the server echoes the close code');
    assert.equal(event.wasClean, true);
    assert.equal(messages.length, 2, 'a removed listener hears nothing');
    assert.equal(ws.readyState, client.WebSocket.CLOSED);
    assert.deepEqual(await serverClose, { code: 4000, reason: 'bye' });
    assert.deepEqual(events, ['open:open']);
  } finally {
    await shut(ws);
    await closeServer(wss);
  }
}, { whatwgClient: true });

// README "Server broadcast": to every client, and to every client but the sender.
scenario('broadcast: to all clients and to all but the sender (wss.clients)', async ({ client, server }) => {
  const { wss, url } = await listeningServer(server);
  wss.on('connection', function connection(ws) {
    ws.on('error', (err) => assert.fail(`server socket error: ${err.message}`));
    ws.on('message', function message(data, isBinary) {
      const everyone = text(data).startsWith('all:');
      wss.clients.forEach(function each(other) {
        if ((everyone || other !== ws) && other.readyState === server.WebSocket.OPEN) {
          other.send(data, { binary: isBinary });
        }
      });
    });
  });
  const sockets = await Promise.all([open(client, url), open(client, url), open(client, url)]);
  try {
    await until(() => wss.clients.size === 3, 'the server tracks three clients');
    const heard = sockets.map(() => []);
    sockets.forEach((ws, i) => ws.on('message', (data) => heard[i].push(text(data))));
    sockets[0].send('all:hello');
    await until(() => heard.every((h) => h.length === 1), 'every client heard the broadcast');
    sockets[1].send('others:hi');
    await until(() => heard[0].length === 2 && heard[2].length === 2, 'the others heard the second broadcast');
    await sleep(20);
    assert.deepEqual(heard, [['all:hello', 'others:hi'], ['all:hello'], ['all:hello', 'others:hi']]);
    sockets[2].close();
    await until(() => wss.clients.size === 2, 'a closed client leaves wss.clients');
  } finally {
    await Promise.all(sockets.map(shut));
    await closeServer(wss);
  }
});

// A server that speaks first: the greeting is sent in the 'connection' listener, so it often
// leaves in the same TCP segment as the 101. Twenty clients at once.
scenario('a server that sends first on connection: every client gets the greeting', async ({ client, server }) => {
  const { wss, url } = await listeningServer(server);
  let n = 0;
  wss.on('connection', (ws) => {
    n += 1;
    ws.send(`welcome #${n}`);
    ws.send(Buffer.from('binary hello'));
  });
  const sockets = [];
  try {
    const firsts = await Promise.all(
      Array.from({ length: 20 }, () => {
        const ws = new client.WebSocket(url);
        sockets.push(ws);
        const got = [];
        return new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`a client heard ${got.length} of 2 greetings in 3000 ms`)), 3000);
          ws.on('error', reject);
          ws.on('message', (data, isBinary) => {
            got.push([text(data), isBinary]);
            if (got.length === 2) {
              clearTimeout(timer);
              resolve(got);
            }
          });
        });
      }),
    );
    for (const got of firsts) {
      assert.match(got[0][0], /^welcome #\d+$/);
      assert.deepEqual(got.map((g) => g[1]), [false, true]);
      assert.equal(got[1][0], 'binary hello');
    }
  } finally {
    await Promise.all(sockets.map(shut));
    await closeServer(wss);
  }
});

// A client that completes the handshake by hand and then never answers a ping: a dead peer.
async function deadPeer(url) {
  const { hostname, port, pathname } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  await next(socket, 'connect');
  const key = Buffer.from('dead peer key 16').toString('base64');
  socket.write(
    `GET ${pathname} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  const [chunk] = await next(socket, 'data');
  assert.match(chunk.toString('latin1'), /^HTTP\/1\.1 101 /);
  socket.on('data', () => {}); // reads the pings and ignores them
  socket.on('error', () => {});
  return socket;
}

// README "How to detect and close broken connections", the server half: the server pings every
// interval and terminates a client that did not pong since the last one.
scenario('heartbeat (server): isAlive, ping/pong, terminate the dead peer', async ({ client, server }) => {
  const { wss, url } = await listeningServer(server);
  const INTERVAL = 40;
  function heartbeat() {
    this.isAlive = true;
    this.pongs = (this.pongs ?? 0) + 1;
  }
  const closedOnServer = [];
  wss.on('connection', function connection(ws) {
    ws.isAlive = true;
    ws.on('error', () => {});
    ws.on('pong', heartbeat);
    ws.on('close', (code) => closedOnServer.push(code));
  });
  const interval = setInterval(function ping() {
    wss.clients.forEach(function each(ws) {
      if (ws.isAlive === false) return ws.terminate();
      ws.isAlive = false;
      ws.ping();
    });
  }, INTERVAL);
  let serverClosed = false;
  wss.on('close', function close() {
    serverClosed = true;
    clearInterval(interval);
  });

  const live = await open(client, url); // answers pings by itself (autoPong)
  const dead = await deadPeer(url);
  try {
    await until(() => closedOnServer.length === 1, 'the server terminated the dead peer', 2000);
    assert.deepEqual(closedOnServer, [1006], 'terminate() closes without a close frame: 1006');
    await until(() => dead.destroyed || dead.readableEnded, 'the dead peer saw its socket end');
    const [liveOnServer] = wss.clients;
    await until(() => liveOnServer.pongs >= 3, 'three pongs from the live client');
    assert.equal(live.readyState, client.WebSocket.OPEN, 'the live client is still open');
    assert.equal(wss.clients.size, 1);
    const liveClosed = next(live, 'close');
    live.close(1000);
    await liveClosed;
    await closeServer(wss);
    assert.ok(serverClosed, "wss.close() emits 'close' (the README clears its interval there)");
  } finally {
    clearInterval(interval);
    dead.destroy();
    await shut(live);
    if (!serverClosed) await closeServer(wss);
  }
});

// The client half: a 'ping' listener resets a timer that would terminate a silent connection
// (the listener's `this` is the WebSocket, and data is the ping's payload).
scenario("heartbeat (client): 'ping' events reset the client's timer", async ({ client, server }) => {
  const { wss, url } = await listeningServer(server);
  const INTERVAL = 30;
  const interval = setInterval(() => wss.clients.forEach((ws) => ws.ping('beat')), INTERVAL);
  const live = new client.WebSocket(url);
  const payloads = [];
  let thisWasTheSocket = true;
  let terminatedForSilence = false;
  function heartbeat(data) {
    if (this !== live) thisWasTheSocket = false;
    if (data !== undefined) payloads.push(text(data));
    clearTimeout(this.pingTimeout);
    this.pingTimeout = setTimeout(() => {
      terminatedForSilence = true;
      this.terminate();
    }, INTERVAL * 10);
  }
  live.on('error', () => {});
  live.on('open', heartbeat);
  live.on('ping', heartbeat);
  live.on('close', function clear() {
    clearTimeout(this.pingTimeout);
  });
  try {
    await until(() => payloads.length >= 3, "three 'ping' events on the client", 2000);
    assert.deepEqual(payloads.slice(0, 3), ['beat', 'beat', 'beat']);
    assert.ok(thisWasTheSocket, "a listener's `this` is the WebSocket");
    assert.equal(terminatedForSilence, false);
    assert.equal(live.readyState, client.WebSocket.OPEN);
  } finally {
    clearInterval(interval);
    await shut(live);
    await closeServer(wss);
  }
});

// ws's autoPong: false: the engine leaves the ping unanswered and the application answers it from
// its 'ping' listener with a pong of its own choosing (RFC 6455 5.5.3 lets a pong carry any data).
scenario("autoPong: false: the client answers the server's ping itself", async ({ client, server }) => {
  const { wss, url } = await listeningServer(server);
  const pongs = [];
  wss.on('connection', (ws) => {
    ws.on('pong', (data) => pongs.push(text(data)));
    ws.ping('first');
  });
  const live = new client.WebSocket(url, { autoPong: false });
  const pings = [];
  live.on('error', () => {});
  live.on('ping', (data) => {
    pings.push(text(data));
    // Nothing went back yet: with autoPong on, the pong would precede this listener's.
    setTimeout(() => live.pong(`answer to ${text(data)}`), 50);
  });
  try {
    await until(() => pongs.length >= 1, "the server's 'pong'", 2000);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(pings, ['first']);
    assert.deepEqual(pongs, ['answer to first'], 'only the application answered');
  } finally {
    await shut(live);
    await closeServer(wss);
  }
});

/** Waits for a rejected handshake: resolves with the response the client saw. */
function rejected(api, url, options) {
  const ws = new api.WebSocket(url, options);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the rejected client neither errored nor closed in 3000 ms')), 3000);
    let response = null;
    ws.on('unexpected-response', (req, res) => {
      response = { status: res.statusCode, headers: res.headers };
      ws.terminate(); // with this listener attached, ending the attempt is the caller's job (ws docs)
    });
    ws.on('open', () => reject(new Error('the handshake should have been rejected, but it opened')));
    ws.on('error', () => {});
    ws.on('close', (code) => {
      clearTimeout(timer);
      resolve({ response, code, readyState: ws.readyState });
    });
  });
}

/** Waits for a rejected handshake without an 'unexpected-response' listener: the 'error' it emits. */
function rejectedWithError(api, url, options) {
  const ws = new api.WebSocket(url, options);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no error within 3000 ms')), 3000);
    let error = null;
    ws.on('open', () => reject(new Error('the handshake should have been rejected, but it opened')));
    ws.on('error', (err) => {
      error = err;
    });
    ws.on('close', (code) => {
      clearTimeout(timer);
      resolve({ error, code });
    });
  });
}

// README "Client authentication" as verifyClient: sync (true/false), and async with a chosen status
// and headers; info carries origin, secure and the request.
scenario('verifyClient: sync and async, with a chosen status and headers', async ({ client, server }) => {
  const seen = [];
  const sync = await listeningServer(server, {
    verifyClient: (info) => {
      seen.push({ origin: info.origin, secure: info.secure, url: info.req.url });
      return info.req.headers.authorization === 'Bearer good';
    },
  });
  const async = await listeningServer(server, {
    verifyClient: (info, done) => {
      setTimeout(() => {
        if (new URL(info.req.url, 'ws://x').searchParams.get('token') === 'good') done(true);
        else done(false, 403, 'Forbidden', { 'X-Why': 'bad token' });
      }, 5);
    },
  });
  sync.wss.on('connection', (ws) => ws.send('in'));
  async.wss.on('connection', (ws) => ws.send('in'));
  const sockets = [];
  try {
    const denied = await rejected(client, `${sync.url}/sync`, { headers: { Authorization: 'Bearer bad' }, origin: 'https://app.example' });
    assert.equal(denied.response?.status, 401, 'verifyClient false answers 401');
    assert.equal(denied.code, 1006);
    assert.equal(denied.readyState, client.WebSocket.CLOSED);
    assert.deepEqual(seen[0], { origin: 'https://app.example', secure: false, url: '/sync' });

    const plain = await rejectedWithError(client, `${sync.url}/sync`);
    assert.match(String(plain.error?.message), /Unexpected server response: 401/);

    const ok = await open(client, `${sync.url}/sync`, undefined, { headers: { Authorization: 'Bearer good' } });
    sockets.push(ok);
    assert.equal(text((await nextMessage(ok)).data), 'in');

    const forbidden = await rejected(client, `${async.url}/?token=bad`);
    assert.equal(forbidden.response?.status, 403);
    assert.equal(forbidden.response?.headers['x-why'], 'bad token');
    const fine = await open(client, `${async.url}/?token=good`);
    sockets.push(fine);
    assert.equal(text((await nextMessage(fine)).data), 'in');
  } finally {
    await Promise.all(sockets.map(shut));
    await closeServer(sync.wss);
    await closeServer(async.wss);
  }
});

// README "Client authentication": noServer, the http server's 'upgrade' authenticates, then
// wss.handleUpgrade and wss.emit('connection', ws, request, client).
scenario('client authentication with noServer + handleUpgrade + emit(connection, ws, req, client)', async ({ client, server }) => {
  const wss = new server.WebSocketServer({ noServer: true });
  const received = [];
  wss.on('connection', function connection(ws, request, user) {
    ws.on('error', () => {});
    ws.on('message', function message(data) {
      received.push(`${text(data)} from ${user} at ${request.url}`);
      ws.send('ack');
    });
  });
  const { server: httpServer, port } = await listeningHttp(http);
  function authenticate(request, callback) {
    const token = request.headers['x-token'];
    setTimeout(() => (token === 'alice-token' ? callback(null, 'alice') : callback(new Error('no'))), 1);
  }
  httpServer.on('upgrade', function upgrade(request, socket, head) {
    socket.on('error', () => {});
    authenticate(request, function done(err, user) {
      if (err || !user) {
        socket.write('HTTP/1.1 401 Unauthorized\r\n\r\n');
        socket.destroy();
        return;
      }
      wss.handleUpgrade(request, socket, head, function upgraded(ws) {
        wss.emit('connection', ws, request, user);
      });
    });
  });
  const url = `ws://127.0.0.1:${port}/chat`;
  const ws = await open(client, url, undefined, { headers: { 'X-Token': 'alice-token' } });
  try {
    ws.send('hi');
    assert.equal(text((await nextMessage(ws)).data), 'ack');
    assert.deepEqual(received, ['hi from alice at /chat']);
    assert.equal(wss.clients.size, 1, 'handleUpgrade tracks the client');
    const denied = await rejected(client, url, { headers: { 'X-Token': 'mallory' } });
    assert.equal(denied.response?.status, 401);
    assert.equal(denied.code, 1006);
  } finally {
    await shut(ws);
    await closeServer(wss);
    httpServer.close();
  }
});

// README "Multiple servers sharing a single HTTP/S server": noServer servers chosen by pathname.
scenario('several servers on one http server: noServer, routed by pathname', async ({ client, server }) => {
  const wss1 = new server.WebSocketServer({ noServer: true });
  const wss2 = new server.WebSocketServer({ noServer: true });
  wss1.on('connection', (ws, req) => ws.send(`one ${req.url}`));
  wss2.on('connection', (ws, req) => ws.send(`two ${req.url}`));
  const { server: httpServer, port } = await listeningHttp(http, (req, res) => res.end('plain http'));
  httpServer.on('upgrade', function upgrade(request, socket, head) {
    const { pathname } = new URL(request.url, 'wss://base.url');
    if (pathname === '/foo') {
      wss1.handleUpgrade(request, socket, head, (ws) => wss1.emit('connection', ws, request));
    } else if (pathname === '/bar') {
      wss2.handleUpgrade(request, socket, head, (ws) => wss2.emit('connection', ws, request));
    } else {
      socket.destroy();
    }
  });
  const sockets = [];
  try {
    const foo = new client.WebSocket(`ws://127.0.0.1:${port}/foo?x=1`);
    const bar = new client.WebSocket(`ws://127.0.0.1:${port}/bar`);
    sockets.push(foo, bar);
    const [[fromFoo], [fromBar]] = await Promise.all([next(foo, 'message'), next(bar, 'message')]);
    assert.equal(text(fromFoo), 'one /foo?x=1');
    assert.equal(text(fromBar), 'two /bar');
    const other = await rejectedWithError(client, `ws://127.0.0.1:${port}/other`);
    assert.equal(other.code, 1006);
    assert.ok(other.error, 'a destroyed upgrade is an error on the client');
    const body = await (await fetch(`http://127.0.0.1:${port}/`)).text();
    assert.equal(body, 'plain http', 'plain requests still reach the http handler');
  } finally {
    await Promise.all(sockets.map(shut));
    await closeServer(wss1);
    await closeServer(wss2);
    httpServer.close();
  }
});

// `new WebSocketServer({ server, path })` beside the caller's own routes: the path is served, other
// upgrade paths are refused with 400 (as ws does), plain requests still work, and close() leaves
// the caller's server listening.
scenario('{ server, path }: shares the caller\'s http server and close() leaves it running', async ({ client, server }) => {
  const { server: httpServer, port } = await listeningHttp(http, (req, res) => res.end(`http ${req.url}`));
  const wss = new server.WebSocketServer({ server: httpServer, path: '/ws' });
  wss.on('connection', (ws, req) => ws.send(`ws ${req.url}`));
  const sockets = [];
  try {
    assert.equal(wss.address().port, port, "address() is the shared server's");
    assert.equal(wss.shouldHandle({ url: '/ws?a=b' }), true);
    assert.equal(wss.shouldHandle({ url: '/other' }), false);
    const ws = await open(client, `ws://127.0.0.1:${port}/ws?a=b`);
    sockets.push(ws);
    assert.equal(text((await nextMessage(ws)).data), 'ws /ws?a=b');
    const wrongPath = await rejected(client, `ws://127.0.0.1:${port}/elsewhere`);
    assert.equal(wrongPath.response?.status, 400);
    assert.equal(await (await fetch(`http://127.0.0.1:${port}/page`)).text(), 'http /page');

    await shut(ws);
    const closed = next(wss, 'close', 3000, "wss 'close'");
    wss.close();
    await closed;
    assert.equal(httpServer.listening, true, "close() leaves the caller's server listening");
    assert.equal(await (await fetch(`http://127.0.0.1:${port}/after`)).text(), 'http /after');
  } finally {
    await Promise.all(sockets.map(shut));
    await new Promise((resolve) => httpServer.close(resolve));
  }
});

// README "Use the Node.js streams API": createWebSocketStream on both ends, text with an encoding,
// and a megabyte through pipeline() with backpressure both ways.
scenario('createWebSocketStream: a Duplex both ways, pipeline of 1 MiB, end() closes', async ({ client, server }) => {
  requireApi(client, 'createWebSocketStream');
  requireApi(server, 'createWebSocketStream');
  const { wss, url } = await listeningServer(server);
  const serverClosed = [];
  wss.on('connection', (ws) => {
    ws.on('close', (code) => serverClosed.push(code));
    const duplex = server.createWebSocketStream(ws);
    duplex.on('error', () => {});
    duplex.pipe(duplex); // an echo server written with streams
  });
  const ws = new client.WebSocket(url);
  const duplex = client.createWebSocketStream(ws, { encoding: 'utf8' });
  try {
    duplex.on('error', (err) => assert.fail(`client stream error: ${err.message}`));
    duplex.write('hello ');
    duplex.write('world');
    let got = '';
    await until(() => {
      let chunk;
      while ((chunk = duplex.read()) !== null) got += chunk;
      return got === 'hello world';
    }, 'the echoed text came back through the stream');

    const binary = client.createWebSocketStream(await open(client, url));
    const total = 1024 * 1024;
    const block = Buffer.alloc(16 * 1024);
    const source = Readable.from(
      (function* () {
        for (let i = 0; i < total / block.length; i++) yield Buffer.from(block.fill(i & 0xff));
      })(),
    );
    const expected = createHash('sha256');
    for (let i = 0; i < total / block.length; i++) expected.update(Buffer.alloc(block.length, i & 0xff));
    const hash = createHash('sha256');
    let received = 0;
    const sink = new Writable({
      write(chunk, _encoding, callback) {
        hash.update(chunk);
        received += chunk.length;
        callback();
      },
    });
    source.pipe(binary, { end: false }); // ending the stream would close the socket before the echo is back
    binary.pipe(sink);
    await until(() => received === total, 'the whole megabyte echoed back', 5000);
    assert.equal(hash.digest('hex'), expected.digest('hex'), 'the bytes came back in order');

    const clientClosed = next(ws, 'close');
    duplex.end();
    await clientClosed;
    await until(() => serverClosed.length >= 1, 'the server saw the client leave');
  } finally {
    duplex.destroy();
    await shut(ws);
    await closeServer(wss);
  }
});

// Subprotocol choice with handleProtocols(protocols: Set, request), extra response headers from the
// 'headers' event, and the client's 'upgrade' event that sees them.
scenario('handleProtocols(Set, req), the headers event and the client upgrade event', async ({ client, server }) => {
  const { wss, url } = await listeningServer(server, {
    handleProtocols: (protocols, request) => {
      assert.ok(protocols instanceof Set, 'handleProtocols gets a Set');
      assert.equal(typeof request.headers, 'object');
      return protocols.has('chat.v2') ? 'chat.v2' : false;
    },
  });
  wss.on('headers', (headers, request) => {
    assert.ok(Array.isArray(headers));
    if (request.url === '/cookie') headers.push('Set-Cookie: session=42');
  });
  wss.on('connection', (ws) => ws.send(`protocol ${ws.protocol}`));
  const sockets = [];
  try {
    const upgrade = new Promise((resolve) => {
      const ws = new client.WebSocket(`${url}/cookie`, ['chat.v1', 'chat.v2']);
      sockets.push(ws);
      ws.on('upgrade', (response) => resolve(response.headers['set-cookie']));
    });
    const ws = await open(client, `${url}/cookie`, ['chat.v1', 'chat.v2']);
    sockets.push(ws);
    assert.deepEqual(await upgrade, ['session=42']);
    assert.equal(ws.protocol, 'chat.v2');
    assert.equal(text((await nextMessage(ws)).data), 'protocol chat.v2');
    const none = await open(client, url);
    sockets.push(none);
    assert.equal(none.protocol, '', 'no subprotocol offered: none chosen');
    assert.equal(text((await nextMessage(none)).data), 'protocol ');
  } finally {
    await Promise.all(sockets.map(shut));
    await closeServer(wss);
  }
});

// close() validates its arguments as ws does (a TypeError / RangeError at once) and a valid close
// afterwards still runs the closing handshake.
scenario('close(): invalid codes and long reasons throw at once; a valid close still works', async ({ client, server }) => {
  const { wss, url } = await listeningServer(server);
  const serverSaw = [];
  wss.on('connection', (ws) => ws.on('close', (code, reason) => serverSaw.push([code, text(reason)])));
  const ws = await open(client, url);
  try {
    for (const code of [999, 1004, 1005, 1006, 1015, 5000]) {
      assert.throws(() => ws.close(code), TypeError, `close(${code}) throws a TypeError`);
    }
    assert.throws(() => ws.close(1000, 'x'.repeat(124)), RangeError, 'a reason over 123 bytes is a RangeError');
    assert.equal(ws.readyState, client.WebSocket.OPEN, 'a refused close leaves the socket open');
    const closed = next(ws, 'close');
    ws.close(1000, 'done');
    const [code, reason] = await closed;
    assert.equal(code, 1000);
    assert.equal(text(reason), 'done');
    await until(() => serverSaw.length === 1, "the server's close");
    assert.deepEqual(serverSaw, [[1000, 'done']]);
  } finally {
    await shut(ws);
    await closeServer(wss);
  }
});
