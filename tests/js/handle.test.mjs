// node:test for the WebSocketHandle class: the action loop for every buffer type, fragment
// indications with a small receive buffer, errors with their codes, argument checks, and a seeded
// random sequence of API calls that must never trap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  WebSocketHandle,
  WsActionError,
  constants,
  globalProperty,
  parseRequestHead,
  parseResponseHead,
  serializeRequestHead,
  serializeResponseHead,
  reasonPhrase,
  acceptKey,
  offeredSubprotocols,
  checkRequestLine,
} from '../../pkg/node.js';

const { BufferType: B, Action: A, ActionQueue: Q, State: S, HResult: H } = constants;
const enc = new TextEncoder();
const dec = new TextDecoder();

/** A client and a server handle, handshake done, wired through two byte queues. */
function pair(clientProps = {}, serverProps = {}, protocols = []) {
  const client = WebSocketHandle.createClient(clientProps, 1);
  const server = WebSocketHandle.createServer(serverProps, 2);
  client.tick(0);
  server.tick(0);
  const request = client.beginClientHandshake(protocols, [], [['Host', 'example.com']]);
  request.push(['Host', 'example.com']);
  const response = server.beginServerHandshake(protocols[0] ?? null, [], request);
  const result = client.endClientHandshake(response);
  return { client, server, result, c: endpoint(client), s: endpoint(server) };
}

/** The host side of one handle: its outbound wire bytes and what it was told. */
function endpoint(handle) {
  return { handle, out: [], held: null, received: [], sent: [] };
}

/** Drains one endpoint with getAction/completeAction; reads from `wireIn` when a receive is held. */
function drain(ep, wireIn) {
  for (let guard = 0; guard < 100000; guard++) {
    // A held receive waits for bytes; the send queue can still have work meanwhile.
    if (ep.held !== null && wireIn.length > 0) {
      const chunk = wireIn[0];
      const n = Math.min(chunk.length, ep.held.receiveCapacity);
      if (n === chunk.length) wireIn.shift();
      else wireIn[0] = chunk.subarray(n);
      ep.handle.completeReceive(ep.held.id, chunk.subarray(0, n));
      ep.held = null;
    }
    const a = ep.handle.getAction(Q.ALL);
    switch (a.kind) {
      case A.NO_ACTION:
        return;
      case A.SEND_TO_NETWORK:
        ep.out.push(a.bytes);
        ep.handle.completeAction(a.id, a.bytes.length);
        break;
      case A.RECEIVE_FROM_NETWORK:
        ep.held = a;
        break;
      case A.INDICATE_RECEIVE_COMPLETE:
        ep.received.push(a);
        ep.handle.completeAction(a.id, 0);
        break;
      case A.INDICATE_SEND_COMPLETE:
        ep.sent.push(a);
        ep.handle.completeAction(a.id, 0);
        break;
      default:
        throw new Error(`unknown action kind ${a.kind}`);
    }
  }
  throw new Error('drain did not settle');
}

function exchange(p, rounds = 6) {
  for (let i = 0; i < rounds; i++) {
    drain(p.c, p.s.out);
    drain(p.s, p.c.out);
  }
}

test('handshake negotiates a subprotocol and opens both handles', () => {
  const p = pair({}, {}, ['chat', 'superchat']);
  assert.equal(p.result.selectedSubprotocol, 0);
  assert.deepEqual(p.result.selectedExtensions, []);
  assert.equal(p.client.state, S.OPEN);
  assert.equal(p.server.state, S.OPEN);
  assert.equal(p.client.stateName, 'open');
  assert.equal(p.client.subprotocol, 'chat');
  assert.equal(p.server.subprotocol, 'chat');
  assert.equal(p.client.role, 'client');
  assert.deepEqual(p.client.extensions, []);
  p.server.endServerHandshake();
});

test('perMessageDeflate: both handles negotiate it and messages cross compressed (RSV1), inflated whole', () => {
  const p = pair(
    { perMessageDeflate: true, receiveBufferSize: 65536 },
    { perMessageDeflate: true, deflateServerMaxWindowBits: 10 },
  );
  assert.deepEqual(p.client.extensions, ['permessage-deflate; server_max_window_bits=10']);
  assert.deepEqual(p.server.extensions, ['permessage-deflate; server_max_window_bits=10']);
  const text = JSON.stringify(Array.from({ length: 500 }, (_, i) => ({ id: i, name: 'alpha', tags: ['a', 'b'] })));
  p.server.send(B.UTF8_MESSAGE, enc.encode(text), 1);
  p.client.receive(2);
  drain(p.s, p.c.out);
  // The first byte on the wire: FIN, RSV1, text; the wire far smaller than the message.
  const wire = Buffer.concat(p.s.out.map((b) => Buffer.from(b)));
  exchange(p);
  assert.equal(wire[0], 0xc1);
  assert.ok(wire.length * 5 < text.length, `${wire.length} bytes for ${text.length}`);
  // One receive, one indication: the whole message, inflated (the receive buffer holds it).
  assert.equal(p.c.received.length, 1);
  assert.equal(p.c.received[0].bufferType, B.UTF8_MESSAGE);
  assert.equal(dec.decode(p.c.received[0].bytes), text);
  // Out of range values are refused by the property table.
  assert.throws(() => WebSocketHandle.createClient({ deflateClientMaxWindowBits: 7 }), { code: 'PROPERTY_OUT_OF_RANGE' });
});

test('two builds: the default wasm leaves permessage-deflate out (and says so); handles asking for it come from the deflate build', async () => {
  const { readFileSync } = await import('node:fs');
  const dist = new URL('../../pkg/dist/', import.meta.url);
  // A bare glue instance of each build, without pkg/src's routing: what the wasm itself does.
  const bare = async (wasm, id) => {
    const glue = await import(`../../pkg/dist/wsaction.js?bare=${id}`);
    glue.initSync({ module: new WebAssembly.Module(readFileSync(new URL(wasm, dist))) });
    return glue.WebSocketHandle;
  };
  const Small = await bare('wsaction_bg.wasm', 'small');
  const Deflate = await bare('wsaction_deflate_bg.wasm', 'deflate');
  for (const create of ['createClient', 'createServer']) {
    assert.throws(() => Small[create]({ perMessageDeflate: true }), (err) => {
      assert.equal(err.code, 'UNSUPPORTED_PROPERTY');
      assert.match(err.message, /leaves permessage-deflate out/);
      return true;
    });
    Small[create]({ perMessageDeflate: false }).free();
    Deflate[create]({ perMessageDeflate: true }).free();
  }
  // The default build answers an offer as a server with deflate off does: no extension.
  const server = Small.createServer({}, 2);
  const response = server.beginServerHandshake(null, [], [
    ['Host', 'x'], ['Upgrade', 'websocket'], ['Connection', 'Upgrade'], ['Sec-WebSocket-Version', '13'],
    ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='], ['Sec-WebSocket-Extensions', 'permessage-deflate; client_max_window_bits'],
  ]);
  assert.ok(!response.some(([name]) => name.toLowerCase() === 'sec-websocket-extensions'));
  server.free();
  // The package's class hands perMessageDeflate handles to the deflate build (another class), the rest it makes itself.
  const routed = WebSocketHandle.createServer({ perMessageDeflate: true });
  const plain = WebSocketHandle.createServer({ perMessageDeflate: false });
  assert.ok(!(routed instanceof WebSocketHandle));
  assert.ok(plain instanceof WebSocketHandle);
  assert.equal(typeof routed.sendAndDrain, 'function', 'the deflate build has the fast paths too');
  // The connection flow finds the routed handle's instance (so a trap there fails its connections).
  const { instanceOf } = await import('../../pkg/src/pool.js');
  assert.equal(instanceOf(routed)?.deflate, true);
  assert.equal(instanceOf(plain)?.deflate, false);
  routed.free();
  plain.free();
  const sizes = ['wsaction_bg.wasm', 'wsaction_deflate_bg.wasm'].map((f) => readFileSync(new URL(f, dist)).length);
  assert.ok(sizes[0] < sizes[1] * 0.8, `the default wasm (${sizes[0]} bytes) is smaller than the deflate build (${sizes[1]})`);
});

test('every buffer type through the action loop', () => {
  const p = pair();
  p.server.receive(11);
  p.client.send(B.UTF8_MESSAGE, enc.encode('héllo'), 5);
  exchange(p);
  assert.equal(p.c.sent.length, 1);
  assert.equal(p.c.sent[0].bufferType, B.UTF8_MESSAGE);
  assert.equal(p.c.sent[0].context, 5);
  let r = p.s.received.shift();
  assert.equal(r.bufferType, B.UTF8_MESSAGE);
  assert.equal(r.context, 11);
  assert.equal(dec.decode(r.bytes), 'héllo');

  p.server.receive();
  p.client.send(B.BINARY_MESSAGE, new Uint8Array([0, 1, 2, 255]));
  exchange(p);
  r = p.s.received.shift();
  assert.equal(r.bufferType, B.BINARY_MESSAGE);
  assert.equal(r.context, null);
  assert.deepEqual([...r.bytes], [0, 1, 2, 255]);

  // Fragments sent: the receiver sees one message (the buffer is big enough), per websocket.h
  // pieces do not follow the wire framing.
  p.server.receive();
  p.client.send(B.BINARY_FRAGMENT, new Uint8Array([1, 2]));
  exchange(p);
  p.client.send(B.BINARY_MESSAGE, new Uint8Array([3]));
  exchange(p);
  const pieces = p.s.received.splice(0);
  assert.deepEqual(pieces.flatMap((x) => [...x.bytes]), [1, 2, 3]);
  assert.equal(pieces.at(-1).bufferType, B.BINARY_MESSAGE);

  p.server.receive();
  p.client.send(B.UTF8_FRAGMENT, enc.encode('ab'));
  exchange(p);
  p.client.send(B.UTF8_MESSAGE, enc.encode('cd'));
  exchange(p);
  const text = p.s.received.splice(0);
  assert.equal(text.map((x) => dec.decode(x.bytes)).join(''), 'abcd');
  assert.equal(text.at(-1).bufferType, B.UTF8_MESSAGE);

  // Empty message.
  p.server.receive();
  p.client.send(B.UTF8_MESSAGE, new Uint8Array(0));
  exchange(p);
  r = p.s.received.shift();
  assert.equal(r.bufferType, B.UTF8_MESSAGE);
  assert.equal(r.bytes.length, 0);

  // A ping is answered by the engine; the pong is indicated to the pinger as PING_PONG.
  p.client.receive();
  p.server.receive();
  p.client.send(B.PING_PONG, enc.encode('are you there'));
  exchange(p);
  r = p.c.received.shift();
  assert.equal(r.bufferType, B.PING_PONG);
  assert.equal(dec.decode(r.bytes), 'are you there');
  assert.equal(p.s.received.length, 0, 'a ping is not indicated to the receiver');

  // An unsolicited pong arrives as a pong indication.
  p.client.receive();
  p.server.send(B.UNSOLICITED_PONG, enc.encode('tick'));
  exchange(p);
  r = p.c.received.shift();
  assert.equal(r.bufferType, B.PING_PONG);
  assert.equal(dec.decode(r.bytes), 'tick');

  // Close with status and reason from the server; the client answers; both end CLOSED.
  p.client.receive();
  p.server.send(B.CLOSE, { status: 4001, reason: 'going' });
  exchange(p);
  r = p.c.received.shift();
  assert.equal(r.bufferType, B.CLOSE);
  assert.equal(r.closeStatus, 4001);
  assert.equal(dec.decode(r.bytes), 'going');
  assert.equal(p.client.state, S.CLOSE_RECEIVED);
  p.client.send(B.CLOSE, { status: 4001, reason: enc.encode('ok') });
  exchange(p);
  r = p.s.received.at(-1);
  assert.equal(r.bufferType, B.CLOSE);
  assert.equal(r.closeStatus, 4001);
  assert.equal(dec.decode(r.bytes), 'ok');
  assert.equal(p.client.state, S.CLOSED);
  assert.equal(p.server.state, S.CLOSED);
  p.client.free();
  p.server.free();
});

test('a close without status is indicated as 1005; a dropped stream as 1006', () => {
  const p = pair();
  p.server.receive();
  p.client.send(B.CLOSE, null);
  exchange(p);
  assert.equal(p.s.received[0].closeStatus, constants.CloseStatus.EMPTY);

  const q = pair();
  q.server.receive();
  drain(q.s, []);
  q.server.completeReceive(q.s.held.id, new Uint8Array(0));
  q.s.held = null;
  drain(q.s, []);
  assert.equal(q.s.received[0].bufferType, B.CLOSE);
  assert.equal(q.s.received[0].closeStatus, constants.CloseStatus.ABORTED);
});

test('a message larger than a small receive buffer arrives as fragment indications', () => {
  const p = pair({}, { receiveBufferSize: 256 });
  const text = 'ü'.repeat(500); // 1000 bytes, code points of 2 bytes
  p.client.send(B.UTF8_MESSAGE, enc.encode(text));
  const pieces = [];
  for (let i = 0; i < 20 && (pieces.length === 0 || pieces.at(-1).bufferType !== B.UTF8_MESSAGE); i++) {
    p.server.receive();
    exchange(p, 2);
    pieces.push(...p.s.received.splice(0));
  }
  assert.ok(pieces.length >= 4, `got ${pieces.length} pieces`);
  for (const piece of pieces.slice(0, -1)) {
    assert.equal(piece.bufferType, B.UTF8_FRAGMENT);
    assert.ok(piece.bytes.length <= 256);
    dec.decode(piece.bytes); // each piece ends on a code point boundary
    assert.doesNotThrow(() => new TextDecoder('utf-8', { fatal: true }).decode(piece.bytes));
  }
  assert.equal(pieces.at(-1).bufferType, B.UTF8_MESSAGE);
  assert.equal(pieces.map((x) => dec.decode(x.bytes)).join(''), text);

  const binary = new Uint8Array(700).map((_, i) => i & 0xff);
  p.client.send(B.BINARY_MESSAGE, binary);
  const parts = [];
  for (let i = 0; i < 20 && (parts.length === 0 || parts.at(-1).bufferType !== B.BINARY_MESSAGE); i++) {
    p.server.receive();
    exchange(p, 2);
    parts.push(...p.s.received.splice(0));
  }
  assert.deepEqual(parts.map((x) => x.bufferType), [B.BINARY_FRAGMENT, B.BINARY_FRAGMENT, B.BINARY_MESSAGE]);
  assert.deepEqual(parts.map((x) => x.bytes.length), [256, 256, 188]);
});

test('a small send buffer splits a masked frame into several SendToNetwork actions', () => {
  const p = pair({ sendBufferSize: 16 });
  p.client.send(B.BINARY_MESSAGE, new Uint8Array(100));
  const chunks = [];
  for (;;) {
    const a = p.client.getAction(Q.SEND);
    if (a.kind !== A.SEND_TO_NETWORK) {
      assert.equal(a.kind, A.INDICATE_SEND_COMPLETE);
      p.client.completeAction(a.id, 0);
      break;
    }
    chunks.push(a.bytes);
    p.client.completeAction(a.id, a.bytes.length);
  }
  assert.ok(chunks.length > 1);
  assert.ok(chunks.every((c) => c.length <= 16));
});

test('a seed makes handshake keys and mask keys repeat', () => {
  const run = (seed) => {
    const h = WebSocketHandle.createClient({}, seed);
    const headers = h.beginClientHandshake([], [], []);
    return headers.find(([n]) => n === 'Sec-WebSocket-Key')[1];
  };
  assert.equal(run(42), run(42));
  assert.equal(run(42n), run(42));
  assert.notEqual(run(42), run(43));
  // Without a seed the key comes from crypto.getRandomValues.
  assert.notEqual(run(undefined), run(undefined));
});

test('errors carry stable codes, HRESULTs, close codes and HTTP answers', () => {
  // A stale action id.
  const p = pair();
  p.client.send(B.BINARY_MESSAGE, new Uint8Array([1]));
  const a = p.client.getAction(Q.SEND);
  p.client.completeAction(a.id, a.bytes.length);
  let err = catchError(() => p.client.completeAction(a.id, a.bytes.length));
  assert.ok(err instanceof WsActionError);
  assert.ok(err instanceof Error);
  assert.equal(err.name, 'WsActionError');
  assert.equal(err.code, 'UNKNOWN_ACTION');
  assert.equal(err.hresult, H.E_HANDLE);
  assert.equal(err.local, true);
  assert.equal(err.closeCode, null);

  // A second send while one is outstanding.
  err = catchError(() => p.client.send(B.BINARY_MESSAGE, new Uint8Array([2])));
  assert.equal(err.code, 'OPERATION_PENDING');
  assert.equal(err.hresult, H.E_INVALID_PROTOCOL_OPERATION);

  // Send before the handshake.
  const fresh = WebSocketHandle.createClient();
  err = catchError(() => fresh.send(B.UTF8_MESSAGE, enc.encode('x')));
  assert.equal(err.code, 'INVALID_STATE');

  // Properties.
  err = catchError(() => WebSocketHandle.createServer({ allocatedBuffer: new Uint8Array(10) }));
  assert.equal(err.code, 'UNSUPPORTED_PROPERTY');
  assert.equal(err.hresult, H.E_INVALIDARG);
  err = catchError(() => WebSocketHandle.createServer({ receiveBufferSize: 10 }));
  assert.equal(err.code, 'PROPERTY_OUT_OF_RANGE');

  // A request without Sec-WebSocket-Version 13: 426 with the version header to answer with.
  const server = WebSocketHandle.createServer();
  err = catchError(() =>
    server.beginServerHandshake(null, [], [
      ['Host', 'x'],
      ['Upgrade', 'websocket'],
      ['Connection', 'Upgrade'],
      ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='],
      ['Sec-WebSocket-Version', '8'],
    ]),
  );
  assert.equal(err.code, 'HANDSHAKE_FAILED');
  assert.equal(err.httpStatus, 426);
  assert.deepEqual(err.httpHeaders, [['Sec-WebSocket-Version', '13']]);
  assert.equal(err.local, false);
  assert.ok(server.failure instanceof WsActionError);

  // A bad Sec-WebSocket-Accept fails the client.
  const client = WebSocketHandle.createClient();
  client.beginClientHandshake([], [], []);
  err = catchError(() => client.endClientHandshake([
    ['Upgrade', 'websocket'],
    ['Connection', 'Upgrade'],
    ['Sec-WebSocket-Accept', 'wrong'],
  ]));
  assert.equal(err.code, 'HANDSHAKE_FAILED');
  assert.equal(client.state, S.CLOSED);

  // A peer's unmasked frame at a server: PROTOCOL_VIOLATION with close code 1002, and the
  // failing close frame is queued.
  const q = pair();
  q.server.receive();
  drain(q.s, []);
  q.server.completeReceive(q.s.held.id, new Uint8Array([0x81, 0x01, 0x41]));
  q.s.held = null;
  err = catchError(() => q.server.getAction(Q.ALL));
  assert.equal(err.code, 'PROTOCOL_VIOLATION');
  assert.equal(err.violation, 'UNMASKED_CLIENT_FRAME');
  assert.equal(err.closeCode, 1002);
  assert.equal(err.hresult, H.E_INVALID_PROTOCOL_FORMAT);
  const close = q.server.getAction(Q.ALL);
  assert.equal(close.kind, A.SEND_TO_NETWORK);
  assert.equal(close.bufferType, B.CLOSE);
  assert.deepEqual([...close.bytes.subarray(0, 4)], [0x88, close.bytes[1], 0x03, 0xea]);

  // Invalid UTF-8 in a text message: 1007.
  const u = pair({ disableMasking: true });
  u.server.receive();
  drain(u.s, []);
  u.server.completeReceive(u.s.held.id, new Uint8Array([0x81, 0x82, 0, 0, 0, 0, 0xc3, 0x28]));
  u.s.held = null;
  err = catchError(() => u.server.getAction(Q.ALL));
  assert.equal(err.closeCode, 1007);
  assert.equal(err.violation, 'INVALID_UTF8');

  // Global properties.
  assert.equal(globalProperty(5), 30000);
  assert.deepEqual(globalProperty(6), [13]);
  err = catchError(() => globalProperty(1));
  assert.equal(err.code, 'INVALID_ARGUMENT');
});

test('wrong argument types are TypeError or RangeError, never a wasm RuntimeError', () => {
  const p = pair();
  const h = p.client;
  const cases = [
    [() => h.send(B.UTF8_MESSAGE, 'a string'), TypeError],
    [() => h.send(B.BINARY_MESSAGE, [1, 2, 3]), TypeError],
    [() => h.send('x', new Uint8Array(1)), TypeError],
    [() => h.send(12, new Uint8Array(1)), RangeError],
    [() => h.send(-1, new Uint8Array(1)), RangeError],
    [() => h.send(B.UTF8_MESSAGE, new Uint8Array(1), -3), RangeError],
    [() => h.send(B.UTF8_MESSAGE, new Uint8Array(1), 'ctx'), TypeError],
    [() => h.send(B.UTF8_MESSAGE, new Uint8Array(1), 2 ** 60), RangeError],
    [() => h.send(B.CLOSE, { status: 'x' }), TypeError],
    [() => h.send(B.CLOSE, { status: 70000 }), RangeError],
    [() => h.send(B.CLOSE, { status: 1000, reason: 5 }), TypeError],
    [() => h.send(B.CLOSE, { status: 1000, reason: new Uint8Array(200) }), RangeError],
    [() => h.send(B.CLOSE, { status: 1000, reason: 'x'.repeat(200) }), WsActionError],
    [() => h.send(B.PING_PONG, new Uint8Array(126)), WsActionError],
    [() => h.completeAction('abc', 0), TypeError],
    [() => h.completeAction(-1, 0), RangeError],
    [() => h.completeAction(2 ** 40, 0), RangeError],
    [() => h.completeAction(1.5, 0), RangeError],
    [() => h.completeAction(999, 0), WsActionError],
    [() => h.completeAction(1, -1), RangeError],
    [() => h.completeReceive(1, 'bytes'), TypeError],
    [() => h.completeReceive(999, new Uint8Array(1)), WsActionError],
    [() => h.getAction(7), RangeError],
    [() => h.getAction('all'), TypeError],
    [() => h.receive({}), TypeError],
    [() => h.tick(-1), RangeError],
    [() => h.tick('now'), TypeError],
    [() => h.drain(true, -5), RangeError],
    [() => WebSocketHandle.createClient({ receiveBufferSize: -5 }), RangeError],
    [() => WebSocketHandle.createClient({ receiveBufferSize: 2 ** 40 }), RangeError],
    [() => WebSocketHandle.createClient({ receiveBufferSize: 'big' }), TypeError],
    [() => WebSocketHandle.createClient({ bogus: 1 }), TypeError],
    [() => WebSocketHandle.createClient({ disableMasking: 1 }), TypeError],
    [() => WebSocketHandle.createClient({ keepAliveMode: 'loud' }), RangeError],
    [() => WebSocketHandle.createClient('props'), TypeError],
    [() => WebSocketHandle.createClient({}, -1), RangeError],
    [() => WebSocketHandle.createClient({}, 2n ** 64n), RangeError],
    [() => WebSocketHandle.createClient({}, 'seed'), TypeError],
    [() => WebSocketHandle.createClient().beginClientHandshake('chat'), TypeError],
    [() => WebSocketHandle.createClient().beginClientHandshake([1]), TypeError],
    [() => WebSocketHandle.createClient().beginClientHandshake([], [], [['a']]), TypeError],
    [() => WebSocketHandle.createClient().beginClientHandshake([], [], [[1, 2]]), TypeError],
    [() => WebSocketHandle.createClient().beginClientHandshake(['bad token']), WsActionError],
    [() => WebSocketHandle.createServer().beginServerHandshake(5, [], []), TypeError],
    [() => WebSocketHandle.createServer().beginClientHandshake([], [], []), WsActionError],
    [() => parseRequestHead('GET / HTTP/1.1'), TypeError],
    [() => parseRequestHead(new Uint8Array(1), { maxHandshakeHeaders: -1 }), RangeError],
    [() => serializeResponseHead(101, 5, []), TypeError],
    [() => serializeResponseHead(1e6, 'x', []), RangeError],
    [() => serializeRequestHead('GET', '/', [['Bad Name', 'v']]), WsActionError],
    [() => globalProperty('5'), TypeError],
    [() => checkRequestLine('GET', -1), RangeError],
    [() => acceptKey(5), TypeError],
  ];
  for (const [call, kind] of cases) {
    const err = catchError(call);
    assert.ok(!(err instanceof WebAssembly.RuntimeError), `${call}: RuntimeError ${err.message}`);
    assert.ok(err instanceof kind, `${call}: expected ${kind.name}, got ${err?.constructor?.name}: ${err?.message}`);
  }
  // The handle still works after all of that.
  p.server.receive();
  h.send(B.UTF8_MESSAGE, enc.encode('still alive'));
  exchange(p);
  assert.equal(dec.decode(p.s.received.at(-1).bytes), 'still alive');
});

test('HTTP head helpers parse in pieces, serialize, and bound heads', () => {
  const head = enc.encode('GET /chat HTTP/1.1\r\nHost: a\r\nSec-WebSocket-Protocol: x, y\r\n\r\nrest');
  assert.equal(parseRequestHead(head.subarray(0, 20)), null);
  const parsed = parseRequestHead(head);
  assert.equal(parsed.method, 'GET');
  assert.equal(parsed.target, '/chat');
  assert.equal(parsed.minorVersion, 1);
  assert.deepEqual(parsed.headers[0], ['Host', 'a']);
  assert.equal(dec.decode(head.subarray(parsed.consumed)), 'rest');
  assert.deepEqual(offeredSubprotocols(parsed.headers), ['x', 'y']);

  const response = serializeResponseHead(101, null, [['Upgrade', 'websocket']]);
  assert.equal(dec.decode(response), 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n');
  const back = parseResponseHead(response);
  assert.equal(back.status, 101);
  assert.equal(back.reason, 'Switching Protocols');
  assert.equal(reasonPhrase(426), 'Upgrade Required');
  assert.equal(dec.decode(serializeRequestHead('GET', '/', [['Host', 'h']])), 'GET / HTTP/1.1\r\nHost: h\r\n\r\n');
  assert.equal(acceptKey('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');

  const long = enc.encode('GET / HTTP/1.1\r\nX: ' + 'a'.repeat(400));
  const err = catchError(() => parseRequestHead(long, { maxHandshakeHeaderBytes: 256 }));
  assert.equal(err.httpStatus, 431);
  assert.equal(catchError(() => checkRequestLine('POST', 1)).httpStatus, 405);
  // A handle parses with its own limits.
  const h = WebSocketHandle.createServer({ maxHandshakeHeaderBytes: 256 });
  assert.equal(catchError(() => h.parseRequestHead(long)).httpStatus, 431);
});

test('keep-alive pings and the close timeout run from tick', () => {
  const p = pair({ keepAliveInterval: 1000, keepAliveTimeout: 500 });
  p.client.tick(0);
  assert.equal(p.client.nextDeadline(), 1000);
  p.client.receive();
  p.client.tick(1000);
  drain(p.c, []);
  const ping = p.c.out.at(-1);
  assert.equal(ping[0], 0x89, 'a ping frame went out');
  assert.equal(p.client.nextDeadline(), 1500);
  p.client.tick(1500);
  drain(p.c, []);
  assert.equal(p.client.state, S.CLOSED);
  assert.equal(p.client.failure.code, 'TIMEOUT');
  assert.equal(p.client.failure.closeCode, 1011);

  const q = pair({ closeTimeout: 200 });
  q.client.send(B.CLOSE, { status: 1000, reason: '' });
  drain(q.c, []);
  assert.equal(q.client.state, S.CLOSE_SENT);
  assert.equal(q.client.nextDeadline(), 200);
  q.client.tick(250);
  assert.equal(q.client.state, S.CLOSED);
  assert.equal(q.client.failure.code, 'TIMEOUT');
  assert.equal(q.client.nextDeadline(), null);
});

test('abort drains queued work and refuses new work', () => {
  const p = pair();
  p.server.receive(3);
  p.server.abort();
  assert.equal(p.server.state, S.ABORTED);
  drain(p.s, []);
  assert.equal(p.s.received[0].bufferType, B.CLOSE);
  assert.equal(p.s.received[0].closeStatus, 1006);
  assert.equal(catchError(() => p.server.send(B.UTF8_MESSAGE, enc.encode('x'))).code, 'INVALID_STATE');
});

test('drain batches the action loop: bytes out, events, the held receive', () => {
  const p = pair();
  p.server.receive();
  const first = p.server.drain(true);
  assert.ok(first.receiveId > 0);
  assert.equal(first.out.length, 0);
  p.client.send(B.UTF8_MESSAGE, enc.encode('one'));
  const sent = p.client.drain(false);
  assert.equal(sent.events.length, 6);
  assert.equal(sent.events[0], A.INDICATE_SEND_COMPLETE);
  p.client.send(B.BINARY_MESSAGE, new Uint8Array([9]));
  const sent2 = p.client.drain(false);
  const wire = new Uint8Array([...sent.out, ...sent2.out]);
  p.server.completeReceive(first.receiveId, wire);
  const got = p.server.drain(true);
  assert.equal(got.events.length, 12);
  const ev = got.events;
  assert.equal(ev[0], A.INDICATE_RECEIVE_COMPLETE);
  assert.equal(ev[1], B.UTF8_MESSAGE);
  assert.equal(dec.decode(got.payload.subarray(ev[4], ev[5])), 'one');
  assert.equal(ev[7], B.BINARY_MESSAGE);
  assert.deepEqual([...got.payload.subarray(ev[10], ev[11])], [9]);
  assert.ok(got.receiveId > 0, 'a receive is re-queued and held again');
  assert.equal(got.state, S.OPEN);
  assert.equal(got.error, null);
});

/** Every SEND_TO_NETWORK byte of one send through the getAction loop (websocket.h's way). */
function sendByActions(handle, type, data) {
  handle.send(type, data);
  const parts = [];
  for (let a = handle.getAction(Q.ALL); a.kind !== A.NO_ACTION; a = handle.getAction(Q.ALL)) {
    if (a.kind === A.SEND_TO_NETWORK) parts.push(...a.bytes);
    handle.completeAction(a.id, a.kind === A.SEND_TO_NETWORK ? a.bytes.length : 0);
  }
  return new Uint8Array(parts);
}

/** The messages a server handle parses out of `wire` (fragment indications joined). */
function parse(server, wire) {
  server.receive();
  let r = server.drain(true);
  const messages = [];
  let parts = [];
  for (let at = 0; at < wire.length; ) {
    const n = Math.min(r.receiveCapacity, wire.length - at);
    server.completeReceive(r.receiveId, wire.subarray(at, at + n));
    at += n;
    r = server.drain(true);
    for (let i = 0; i < r.events.length; i += 6) {
      const type = r.events[i + 1];
      parts.push(...r.payload.subarray(r.events[i + 4], r.events[i + 5]));
      if (type === B.UTF8_FRAGMENT || type === B.BINARY_FRAGMENT) continue;
      messages.push({ type, bytes: new Uint8Array(parts) });
      parts = [];
    }
  }
  return messages;
}

test('sendAndDrain frames what send and the getAction loop frame, and reports the send complete', () => {
  const a = pair();
  const b = pair();
  for (const size of [0, 5, 16, 125, 126, 1000, 70000]) {
    const data = new Uint8Array(size).map((_, i) => i * 7);
    const expected = sendByActions(a.client, B.BINARY_MESSAGE, data);
    const r = b.client.sendAndDrain(B.BINARY_MESSAGE, data, false);
    assert.deepEqual(r.out, expected, `${size} bytes`);
    assert.deepEqual([...r.events], [A.INDICATE_SEND_COMPLETE, B.BINARY_MESSAGE, -1, -1, 0, 0]);
    assert.equal(r.receiveId, 0);
    assert.equal(r.state, S.OPEN);
    assert.equal(r.error, null);
  }
  // CLOSE takes {status, reason} on the same call.
  const close = b.client.sendAndDrain(B.CLOSE, { status: 1000, reason: 'bye' }, false);
  assert.deepEqual(close.out, sendByActions(a.client, B.CLOSE, { status: 1000, reason: 'bye' }));
  assert.equal(close.state, S.CLOSE_SENT);
  assert.equal(catchError(() => b.client.sendAndDrain(B.BINARY_MESSAGE, new Uint8Array(1), false)).code, 'INVALID_STATE');
});

test('copying results are the caller\'s: small frames share slabs but never each other\'s bytes', () => {
  // Frames of up to 4 KiB are carved from 64 KiB slabs (pkg/src/fast.js): 600 frames of 1-4,096
  // bytes cross several slabs; each must keep its own bytes after every later call.
  const p = pair({ sendBufferSize: 16 * 1024 });
  const kept = [];
  for (let i = 0; i < 600; i++) {
    const size = [1, 31, 32, 33, 1000, 4000, 4096][i % 7];
    const data = new Uint8Array(size).fill(i % 256);
    const r = p.server.sendAndDrain(B.BINARY_MESSAGE, data, false);
    kept.push({ out: r.out, size, fill: i % 256 });
  }
  for (const [i, { out, size, fill }] of kept.entries()) {
    const header = size < 126 ? 2 : 4; // a server's frames are unmasked
    assert.equal(out.length, header + size, `result ${i}`);
    assert.ok(out.subarray(header).every((b) => b === fill), `result ${i} (${size} bytes) kept its bytes`);
  }
  const small = kept.filter((k) => k.out.length <= 4096);
  const slabs = new Set(small.map((k) => k.out.buffer));
  assert.ok(slabs.size > 1 && slabs.size < small.length / 10, `${slabs.size} slabs for ${small.length} results`);
  // Frames past 4 KiB (a 4,096-byte message and its header) have memory of their own.
  for (const { out } of kept.filter((k) => k.out.length > 4096)) assert.equal(out.byteLength, out.buffer.byteLength);
  // Payloads, which applications keep as messages, never lie in a slab: a kept message keeps no
  // 64 KiB slab alive (on Node a small one shares Node's 8 KiB pool).
  const wire = p.client.sendAndDrain(B.BINARY_MESSAGE, new Uint8Array(16).fill(9), false).out;
  p.server.receive();
  const held = p.server.drain(true);
  p.server.completeReceive(held.receiveId, wire);
  const got = p.server.drain(true);
  assert.deepEqual([...got.payload], new Array(16).fill(9));
  assert.ok(!slabs.has(got.payload.buffer) && got.payload.buffer.byteLength < 64 * 1024, `payload in a ${got.payload.buffer.byteLength}-byte buffer`);
});

test('sendAndDrain through a message larger than the scratch area keeps its views right', () => {
  const p = pair({ sendBufferSize: 4096 });
  const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => i % 251);
  const r1 = p.client.sendAndDrain(B.BINARY_MESSAGE, big, false);
  assert.equal(r1.out.length, big.length + 14); // 2 + 8 length bytes + 4 mask key bytes
  const r2 = p.client.sendAndDrain(B.UTF8_MESSAGE, enc.encode('small after big'), false);
  const got = parse(p.server, new Uint8Array([...r1.out, ...r2.out]));
  assert.equal(got.length, 2);
  assert.deepEqual(got[0].bytes, big);
  assert.equal(dec.decode(got[1].bytes), 'small after big');
});

test('the view calls frame and parse what the copying calls do, into one reused result', () => {
  const a = pair(); // same seeds: the same mask keys on both clients
  const b = pair();
  const c = pair();
  let previous = null;
  for (const size of [0, 5, 126, 70000, 2 * 1024 * 1024]) {
    const data = new Uint8Array(size).map((_, i) => i * 13);
    const copied = a.client.sendAndDrain(B.BINARY_MESSAGE, data, false);
    const viewed = b.client.sendAndDrainView(B.BINARY_MESSAGE, data, false);
    assert.deepEqual(new Uint8Array(viewed.out), copied.out, `${size} bytes, sendAndDrainView`);
    assert.deepEqual([...viewed.events], [...copied.events]);
    assert.equal(viewed.state, S.OPEN);
    assert.ok(previous === null || previous === viewed, 'one result object, refilled by each view call');
    previous = viewed;
    // Framed from bytes written straight into wasm memory.
    c.client.sendBuffer(size).set(data);
    const inPlace = c.client.sendBufferAndDrain(B.BINARY_MESSAGE, size, false);
    assert.deepEqual(new Uint8Array(inPlace.out), copied.out, `${size} bytes, sendBufferAndDrain`);
    assert.equal(inPlace, viewed);
  }
  // Like-sized messages get the same view objects back (the driver reuses its buffers, so no new
  // view per call), holding each call's bytes; after the memory grew, new views over the new memory.
  const views = [];
  for (const [fill, size] of [[1, 100], [2, 100], [3, 8 * 1024 * 1024], [4, 100]]) {
    const copied = a.client.sendAndDrain(B.BINARY_MESSAGE, new Uint8Array(size).fill(fill), false);
    const viewed = b.client.sendAndDrainView(B.BINARY_MESSAGE, new Uint8Array(size).fill(fill), false);
    assert.deepEqual(new Uint8Array(viewed.out), copied.out, `fill ${fill}`);
    assert.deepEqual([...viewed.events], [...copied.events]);
    views.push(viewed.out);
  }
  assert.equal(views[1], views[0], 'a like-sized send reuses the view');
  assert.ok(views[3].byteLength === 106 && views[3].buffer.byteLength > 0);
  // Receiving through drainView: the same payload bytes and events as drain.
  const wire = a.client.sendAndDrain(B.UTF8_MESSAGE, enc.encode('héllo through a view'), false).out;
  for (const server of [a.server, b.server]) server.receive();
  let copied = a.server.drain(true);
  let viewed = b.server.drainView(true);
  assert.equal(viewed.receiveId !== 0, true);
  a.server.completeReceive(copied.receiveId, wire);
  b.server.completeReceive(viewed.receiveId, wire);
  copied = a.server.drain(true);
  viewed = b.server.drainView(true);
  assert.deepEqual([...viewed.events], [...copied.events]);
  assert.equal(dec.decode(viewed.payload.subarray(viewed.events[4], viewed.events[5])), 'héllo through a view');
  // Bad lengths: TypeError or RangeError, and nothing sent.
  for (const [call, type] of [
    [() => c.client.sendBuffer('7'), TypeError],
    [() => c.client.sendBuffer(-1), RangeError],
    [() => c.client.sendBuffer(1.5), RangeError],
    [() => c.client.sendBuffer(300 * 1024 * 1024), RangeError],
    [() => c.client.sendBufferAndDrain(B.BINARY_MESSAGE, 300 * 1024 * 1024, false), RangeError],
    [() => c.client.sendBufferAndDrain(B.BINARY_MESSAGE, -1, false), RangeError],
  ]) {
    assert.throws(call, type);
  }
  assert.equal(c.client.drainView(false).out.length, 0);
});

test('after a refused large send gave the scratch space back, the next sends still find it', () => {
  const p = pair();
  const bad = new Uint8Array(2 * 1024 * 1024).fill(0x61);
  bad[bad.length - 1] = 0xff; // not UTF-8: refused after the payload went into the scratch input
  assert.equal(catchError(() => p.client.sendAndDrain(B.UTF8_MESSAGE, bad, false)).code, 'INVALID_ARGUMENT');
  const next = new Uint8Array(1536 * 1024).map((_, i) => i % 253);
  const r = p.client.sendAndDrain(B.BINARY_MESSAGE, next, false);
  assert.equal(r.out.length, next.length + 14);
  const got = parse(p.server, r.out);
  assert.deepEqual(got[0].bytes, next);
  assert.equal(catchError(() => p.client.sendAndDrainView(B.UTF8_MESSAGE, bad, false)).code, 'INVALID_ARGUMENT');
  p.client.sendBuffer(next.length).set(next);
  assert.equal(p.client.sendBufferAndDrain(B.BINARY_MESSAGE, next.length, false).out.length, next.length + 14);
});

test('sendMany frames N messages in one call, as N sendAndDrain calls do', () => {
  const a = pair();
  const b = pair();
  const messages = Array.from({ length: 40 }, (_, i) => enc.encode(`message ${i} `.repeat(i % 5)));
  const one = messages.map((m) => [...a.client.sendAndDrain(B.UTF8_MESSAGE, m, false).out]).flat();
  const r = b.client.sendMany(B.UTF8_MESSAGE, messages, false);
  assert.deepEqual(r.out, new Uint8Array(one));
  assert.equal(r.sent, messages.length);
  assert.equal(r.sendError, null);
  assert.equal(r.events.length, 0, "the batch's own send completions are counted in sent, not listed");
  assert.equal(r.state, S.OPEN);
  const got = parse(b.server, r.out);
  assert.deepEqual(got.map((m) => dec.decode(m.bytes)), messages.map((m) => dec.decode(m)));
  assert.ok(got.every((m) => m.type === B.UTF8_MESSAGE));
  // An empty batch is a drain.
  const empty = b.client.sendMany(B.BINARY_MESSAGE, [], false);
  assert.equal(empty.out.length, 0);
  assert.equal(empty.sent, 0);
});

test('sendMany keeps receiving: a held receive and the peer messages it meets are reported', () => {
  const p = pair();
  p.server.receive();
  const held = p.server.drain(true);
  const wire = p.client.sendAndDrain(B.BINARY_MESSAGE, new Uint8Array([1, 2, 3]), false).out;
  p.server.completeReceive(held.receiveId, wire);
  const r = p.server.sendMany(B.BINARY_MESSAGE, [new Uint8Array([4]), new Uint8Array([5])], true);
  assert.equal(r.sent, 2);
  assert.deepEqual([...r.events.subarray(0, 2)], [A.INDICATE_RECEIVE_COMPLETE, B.BINARY_MESSAGE]);
  assert.deepEqual([...r.payload.subarray(r.events[4], r.events[5])], [1, 2, 3]);
  assert.ok(r.receiveId > 0, 'the re-queued receive is held');
  assert.deepEqual([...r.out], [0x82, 1, 4, 0x82, 1, 5]);
});

test('sendMany: bad arguments are TypeError or RangeError, refusals WsActionError', () => {
  const p = pair();
  const h = p.client;
  const m = new Uint8Array(2);
  for (const [call, type] of [
    [() => h.sendMany(B.BINARY_MESSAGE, m, false), TypeError],
    [() => h.sendMany(B.BINARY_MESSAGE, null, false), TypeError],
    [() => h.sendMany(B.BINARY_MESSAGE, [m, 'text'], false), TypeError],
    [() => h.sendMany(B.BINARY_MESSAGE, [m, new Uint16Array(2)], false), TypeError],
    [() => h.sendMany('binary', [m], false), TypeError],
    [() => h.sendMany(7, [m], false), RangeError],
    [() => h.sendMany(0x80000009, [m], false), RangeError],
    [() => h.sendMany(B.BINARY_MESSAGE, new Array(65537).fill(m), false), RangeError],
    [() => h.sendMany(B.CLOSE, [m], false), WsActionError],
    [() => h.sendMany(B.PING_PONG, [new Uint8Array(126)], false), WsActionError],
    [() => h.sendAndDrain(B.BINARY_MESSAGE, 'text', false), TypeError],
    [() => h.sendAndDrain(-1, m, false), RangeError],
  ]) {
    const err = catchError(call);
    assert.ok(err instanceof type, `${call}: ${err}`);
  }
  // Nothing above was sent: the next frames are the first.
  const r = h.sendMany(B.BINARY_MESSAGE, [m], false);
  assert.equal(r.sent, 1);
  assert.equal(parse(p.server, r.out).length, 1);
});

test('sendMany stops at a refused message: the frames before it are in out, the refusal in sendError', () => {
  const p = pair();
  const bad = new Uint8Array([0xff, 0xfe]);
  const r = p.client.sendMany(B.UTF8_MESSAGE, [enc.encode('a'), enc.encode('b'), bad, enc.encode('d')], false);
  assert.equal(r.sent, 2);
  assert.ok(r.sendError instanceof WsActionError);
  assert.equal(r.sendError.code, 'INVALID_ARGUMENT');
  const got = parse(p.server, r.out);
  assert.deepEqual(got.map((m) => dec.decode(m.bytes)), ['a', 'b']);
  // The handle goes on.
  const next = p.client.sendMany(B.UTF8_MESSAGE, [enc.encode('d')], false);
  assert.equal(next.sent, 1);
  assert.equal(next.sendError, null);
  // A refusal of the first message is thrown (nothing was sent).
  assert.equal(catchError(() => p.client.sendMany(B.UTF8_MESSAGE, [bad, enc.encode('e')], false)).code, 'INVALID_ARGUMENT');
  p.client.sendAndDrain(B.CLOSE, { status: 1000 }, false);
  assert.equal(catchError(() => p.client.sendMany(B.BINARY_MESSAGE, [bad], false)).code, 'INVALID_STATE');
});

test('text of 256 bytes and more is UTF-8-checked by Node before the send, and still refused when invalid (RFC 6455 8.1)', () => {
  const p = pair();
  const valid = enc.encode('κόσμε '.repeat(100));
  const invalid = Uint8Array.of(...valid, 0xff);
  assert.equal(catchError(() => p.client.sendAndDrain(B.UTF8_MESSAGE, invalid, false)).code, 'INVALID_ARGUMENT');
  assert.equal(catchError(() => p.client.sendAndDrainView(B.UTF8_MESSAGE, invalid, false)).code, 'INVALID_ARGUMENT');
  p.client.sendBuffer(invalid.length).set(invalid);
  assert.equal(catchError(() => p.client.sendBufferAndDrain(B.UTF8_MESSAGE, invalid.length, false)).code, 'INVALID_ARGUMENT');
  // A piece valid on its own that ends a fragmented message whose open code point it does not
  // complete: the engine's validator, which holds that code point, refuses it.
  const wire = [p.client.sendAndDrain(B.UTF8_FRAGMENT, Uint8Array.of(0x63, 0xc3), false).out];
  const ascii = enc.encode('('.repeat(300));
  assert.equal(catchError(() => p.client.sendAndDrain(B.UTF8_MESSAGE, ascii, false)).code, 'INVALID_ARGUMENT');
  wire.push(p.client.sendAndDrain(B.UTF8_MESSAGE, Uint8Array.of(0xa9, ...ascii), false).out);
  wire.push(p.client.sendAndDrain(B.UTF8_MESSAGE, valid, false).out);
  const messages = parse(p.server, new Uint8Array(Buffer.concat(wire)));
  assert.deepEqual(messages.map((m) => dec.decode(m.bytes)), [`cé${'('.repeat(300)}`, dec.decode(valid)]);
});

test('a call back into wsaction from inside one (a replaced getRandomValues) is an error, not a trap', () => {
  const outer = WebSocketHandle.createClient(); // crypto randomness: the engine calls getRandomValues
  const inner = pair();
  const server = WebSocketHandle.createServer({}, 3);
  const request = outer.beginClientHandshake([], [], [['Host', 'x']]);
  outer.endClientHandshake(server.beginServerHandshake(null, [], [...request, ['Host', 'x']]));
  const original = globalThis.crypto.getRandomValues;
  let innerError = null;
  globalThis.crypto.getRandomValues = function reentering(array) {
    try {
      inner.client.sendAndDrain(B.BINARY_MESSAGE, new Uint8Array([1]), false);
    } catch (err) {
      innerError = err;
      throw err;
    }
    return original.call(globalThis.crypto, array);
  };
  let outerError = null;
  try {
    // The module's pool of 4,096 random bytes runs out within 1,024 frames; its refill calls getRandomValues.
    for (let i = 0; i < 1100; i++) outer.sendAndDrain(B.BINARY_MESSAGE, new Uint8Array([2]), false);
  } catch (err) {
    outerError = err;
  } finally {
    globalThis.crypto.getRandomValues = original;
  }
  assert.ok(innerError instanceof Error && !(innerError instanceof WebAssembly.RuntimeError), String(innerError));
  assert.match(innerError.message, /called again from inside a call/);
  assert.ok(outerError instanceof WsActionError, String(outerError));
  assert.equal(outerError.code, 'RANDOM_UNAVAILABLE');
  // Both handles work afterwards.
  assert.equal(outer.sendAndDrain(B.BINARY_MESSAGE, new Uint8Array([2]), false).out.length, 7);
  assert.equal(inner.client.sendAndDrain(B.BINARY_MESSAGE, new Uint8Array([1]), false).out.length, 7);
});

/** xorshift32: a seeded sequence for the random API test. */
function rng(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

test('thousands of seeded random API calls never trap', () => {
  const random = rng(20240611);
  const pick = (list) => list[Math.floor(random() * list.length)];
  const numbers = [0, 1, 2, 3, 7, -1, 0.5, 2 ** 31, 2 ** 32, 2 ** 53, NaN, Infinity, 0x80000000, 0x80000004, 0x80000006, 0x80000007];
  const values = [undefined, null, 'str', {}, [], [['a', 'b']], new Uint8Array(3), new Uint8Array(300), 5, true, 10n, { status: 1000, reason: 'r' }, { status: 1, reason: 'x' }];
  const types = Object.values(B);
  let handles = [];
  const fresh = () => {
    const p = pair({ receiveBufferSize: 256, sendBufferSize: 16 }, { receiveBufferSize: 256 });
    return [p.client, p.server];
  };
  handles = fresh();
  const held = new Map();
  const counts = { ok: 0, TypeError: 0, RangeError: 0, WsActionError: 0 };
  const wire = [[], []];
  for (let i = 0; i < 6000; i++) {
    if (i % 500 === 0) {
      for (const h of handles) h.free();
      handles = fresh();
      wire[0] = [];
      wire[1] = [];
    }
    const side = Math.floor(random() * 2);
    const h = handles[side];
    const calls = [
      () => h.send(pick(types), pick(values), pick([undefined, 1, -1, 'x'])),
      () => h.send(pick(numbers), pick(values)),
      () => h.send(pick([B.UTF8_MESSAGE, B.BINARY_MESSAGE, B.BINARY_FRAGMENT]), new Uint8Array(Math.floor(random() * 600))),
      () => h.receive(pick([undefined, 3, -2, 'x'])),
      () => {
        const a = h.getAction(pick([Q.ALL, Q.SEND, Q.RECEIVE, 3, 0, 4, 'q', NaN]));
        if (a.kind === A.SEND_TO_NETWORK) wire[side].push(a.bytes);
        if (a.kind !== A.NO_ACTION) held.set(side, a);
      },
      () => {
        const a = held.get(side);
        if (a && a.kind === A.RECEIVE_FROM_NETWORK && wire[1 - side].length) {
          const chunk = wire[1 - side].shift();
          h.completeReceive(a.id, chunk.subarray(0, Math.min(chunk.length, a.receiveCapacity)));
        } else if (a) {
          h.completeAction(a.id, pick([a.bytes.length, 0, 1, 99999]));
        }
      },
      () => h.completeAction(pick(numbers), pick(numbers)),
      () => h.completeReceive(pick(numbers), pick(values)),
      () => h.tick(pick([...numbers, i * 10])),
      () => h.nextDeadline(),
      () => h.drain(pick([true, false]), pick([undefined, 0, 1, 100000])),
      () => h.sendAndDrain(pick(numbers), pick(values), pick([true, false, undefined])),
      () => h.sendMany(pick([...numbers, ...types]), pick([values, [new Uint8Array(5), new Uint8Array(0)], 'x', [new Uint8Array(3)]]), pick([true, false])),
      () => (random() < 0.05 ? h.abort() : h.state),
      () => h.failure,
      () => h.beginClientHandshake(pick(values), pick(values), pick(values)),
      () => h.beginServerHandshake(pick(values), pick(values), pick(values)),
      () => h.endClientHandshake(pick(values)),
      () => parseRequestHead(pick(values), pick(values)),
      () => serializeResponseHead(pick(numbers), pick(values), pick(values)),
    ];
    try {
      pick(calls)();
      counts.ok++;
    } catch (err) {
      assert.ok(!(err instanceof WebAssembly.RuntimeError), `call ${i}: wasm trap: ${err.stack}`);
      const name = err instanceof WsActionError ? 'WsActionError' : err.constructor.name;
      assert.ok(name in counts, `call ${i}: unexpected ${name}: ${err.message}`);
      counts[name]++;
    }
  }
  for (const h of handles) h.free();
  assert.ok(counts.ok > 1000 && counts.TypeError > 100 && counts.RangeError > 100 && counts.WsActionError > 100, JSON.stringify(counts));
});

function catchError(fn) {
  try {
    fn();
  } catch (err) {
    return err;
  }
  assert.fail(`expected ${fn} to throw`);
}
