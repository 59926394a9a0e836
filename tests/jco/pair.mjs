// The pair scenario through the component transpiled by jco, in Node: a client handle and a
// server handle wired back to back over a wire that splits bytes at random points; handshake
// with a subprotocol, text both ways, 1 MiB binary, ping/pong, close both ways. Then bad input
// (stale ids, wrong states, bad properties, malformed headers) must come back as error variants.
import assert from 'node:assert/strict';
import { engine, attempt } from './component.mjs';

let seed = 0x9e3779b9;
const random = (n) => { seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0; return seed % n; };
const utf8 = new TextEncoder();
const concat = (a, b) => { const o = new Uint8Array(a.length + b.length); o.set(a); o.set(b, a.length); return o; };

const OPTIONS = { keepReceiving: true, maxOutBytes: undefined };
const SEND = { compress: true };

function makePeer(handle) {
  return { handle, inbox: new Uint8Array(0), partial: [], messages: [], pongs: [], close: null };
}
// One side's turn: one `drain` crossing (the core's driver) with a random slice of what waits for
// it; its output goes to the other side.
function turn(me, other, maxSplit) {
  const n = Math.min(me.inbox.length, 1 + random(maxSplit));
  const r = me.handle.drain(me.inbox.slice(0, n), false, OPTIONS);
  me.inbox = me.inbox.subarray(r.consumed);
  if (r.out.length > 0) other.inbox = concat(other.inbox, r.out);
  for (const { tag, val: a } of r.indications) {
    if (tag !== 'receive-complete') continue;
    if (a.bufferType === 'close') me.close = { status: a.closeStatus, reason: new TextDecoder().decode(a.bytes) };
    else if (a.bufferType === 'ping-pong') me.pongs.push(Buffer.from(a.bytes).toString());
    else {
      me.partial.push(Buffer.from(a.bytes));
      if (a.bufferType.endsWith('message')) {
        me.messages.push({ text: a.bufferType === 'utf8-message', data: Buffer.concat(me.partial) });
        me.partial = [];
      }
    }
  }
  assert.equal(r.violation, undefined, 'no peer error between two wsaction handles');
  return r.consumed > 0 || r.out.length > 0 || r.indications.length > 0;
}
function settle(c, s, maxSplit) {
  for (let i = 0; i < 10_000_000; i++) {
    const x = turn(c, s, maxSplit), y = turn(s, c, maxSplit);
    if (!x && !y) return;
  }
  throw new Error('never quiet');
}

for (const maxSplit of [1, 7, 4096, 1 << 30]) {
  const client = engine.Handle.createClient([], undefined);
  const server = engine.Handle.createServer([], undefined);
  client.tick(0n);
  server.tick(0n);
  const request = client.beginClientHandshake(['chat', 'superchat'], [], []);
  request.push({ name: 'Host', value: 'pair.test' });
  const response = server.beginServerHandshake('superchat', [], request);
  assert.equal(client.endClientHandshake(response).selectedSubprotocol, 1);
  client.receive(undefined);
  server.receive(undefined);
  const c = makePeer(client), s = makePeer(server);

  client.send('utf8-message', { tag: 'data', val: utf8.encode('hello, κόσμε') }, 1n);
  server.send('utf8-message', { tag: 'data', val: utf8.encode('hello, κόσμε') }, 2n);
  settle(c, s, maxSplit);
  assert.deepEqual(c.messages.map((m) => m.data.toString()), ['hello, κόσμε']);
  assert.deepEqual(s.messages.map((m) => m.data.toString()), ['hello, κόσμε']);

  const big = Buffer.alloc(1 << 20);
  for (let i = 0; i < big.length; i++) big[i] = (Math.imul(i, 2654435761) >>> 13) & 0xff;
  client.send('binary-message', { tag: 'data', val: big }, 3n);
  settle(c, s, Math.max(maxSplit, 4096));
  assert.ok(s.messages.at(-1).data.equals(big) && !s.messages.at(-1).text, '1 MiB arrives whole');

  server.send('ping-pong', { tag: 'data', val: utf8.encode('beat') }, undefined);
  settle(c, s, maxSplit);
  assert.deepEqual(s.pongs, ['beat']);

  client.send('close', { tag: 'close-status', val: { status: 1000, reason: utf8.encode('bye') } }, undefined);
  settle(c, s, maxSplit);
  assert.deepEqual(s.close, { status: 1000, reason: 'bye' });
  assert.equal(server.state(), 'close-received');
  server.send('close', { tag: 'close-status', val: { status: 1000, reason: utf8.encode('bye') } }, undefined);
  settle(c, s, maxSplit);
  assert.deepEqual(c.close, { status: 1000, reason: 'bye' });
  assert.equal(client.state(), 'closed');
  assert.equal(server.state(), 'closed');
  console.log(`pair (reads of at most ${maxSplit} bytes): handshake, text both ways, 1 MiB, ping/pong, close 1000 both ways`);
}

// The driver's trace through the component: each input and action, with its bytes.
{
  const client = engine.Handle.createClient([], 3n);
  const server = engine.Handle.createServer([], 4n);
  const request = client.beginClientHandshake([], [], []);
  request.push({ name: 'Host', value: 'trace.test' });
  client.endClientHandshake(server.beginServerHandshake(undefined, [], request));
  server.receive(undefined);
  server.setTrace(true);
  const sent = client.sendAndDrain('binary-message', { tag: 'data', val: utf8.encode('traced') }, SEND, OPTIONS);
  assert.equal(sent.trace.length, 0, 'no trace unless set-trace(true)');
  const read = server.drain(sent.out, false, OPTIONS);
  const steps = read.trace.map((e) => (e.tag === 'input' ? `input ${e.val.call} ${e.val.bytes.length}` : `${e.tag} ${e.val.tag}`));
  assert.deepEqual(steps, [
    'action receive-from-network',
    `input complete_receive ${sent.out.length}`,
    'action indicate-receive-complete',
    'action receive-from-network',
  ]);
  assert.equal(Buffer.from(read.trace[2].val.val.bytes).toString(), 'traced');
  server.setTrace(false);
  assert.equal(server.drain(new Uint8Array(0), false, OPTIONS).trace.length, 0);
  console.log(`trace: ${steps.join(', ')}`);
}

// permessage-deflate through the component: the engine negotiates it from the properties, and
// send-and-drain's send-options say per message whether it goes out compressed (RFC 7692 6: RSV1
// on the first frame) or not (compress false: RSV1 clear, the payload as is).
{
  const deflate = [{ tag: 'per-message-deflate', val: true }, { tag: 'deflate-threshold', val: 0 }];
  const client = engine.Handle.createClient(deflate, 5n);
  const server = engine.Handle.createServer(deflate, 6n);
  const request = client.beginClientHandshake([], [], []);
  request.push({ name: 'Host', value: 'deflate.test' });
  client.endClientHandshake(server.beginServerHandshake(undefined, [], request));
  assert.deepEqual(client.extensions(), ['permessage-deflate']);
  assert.deepEqual(server.extensions(), ['permessage-deflate']);
  server.receive(undefined);
  const text = utf8.encode('{"price": 100, "currency": "EUR"} '.repeat(300));
  const received = [];
  for (const compress of [true, false, true]) {
    const sent = client.sendAndDrain('utf8-message', { tag: 'data', val: text }, { compress }, OPTIONS);
    const rsv1 = (sent.out[0] & 0x40) !== 0;
    assert.equal(rsv1, compress, `compress ${compress}: RSV1 ${rsv1}`);
    // Compressed, 10,500 bytes of repeated JSON are a few dozen; uncompressed, the whole text and a masked header.
    if (compress) assert.ok(sent.out.length < 200, `compressed to ${sent.out.length}`);
    else assert.equal(sent.out.length, text.length + 2 + 2 + 4);
    const read = server.drain(sent.out, false, OPTIONS);
    assert.equal(read.violation, undefined);
    // Pieces of at most the receive buffer (4096), then the message's last piece.
    const pieces = read.indications.filter(({ tag }) => tag === 'receive-complete').map(({ val }) => val);
    assert.equal(pieces.at(-1).bufferType, 'utf8-message');
    received.push(Buffer.concat(pieces.map((piece) => piece.bytes)));
    console.log(`deflate: send-and-drain with compress ${compress}: ${sent.out.length} bytes on the wire, RSV1 ${rsv1}`);
  }
  assert.equal(received.length, 3);
  for (const message of received) assert.ok(message.equals(text), 'each message arrives intact');
}

// Bad input: every case comes back as an error variant (attempt rethrows anything else).
const h = engine.Handle.createClient([], 7n);
const cases = [
  ['stale action id', () => h.completeAction(12345, 0), 'unknown-action'],
  ['send before the handshake', () => h.send('utf8-message', { tag: 'data', val: new Uint8Array(1) }, undefined), 'invalid-state'],
  ['server call on a client', () => h.beginServerHandshake(undefined, [], []), 'invalid-argument'],
  ['receive buffer below 256', () => engine.Handle.createClient([{ tag: 'receive-buffer-size', val: 1 }], undefined), 'property-out-of-range'],
  ['allocated buffer', () => engine.Handle.createServer([{ tag: 'allocated-buffer' }], undefined), 'unsupported-property'],
  ['header with CR LF', () => h.beginClientHandshake([], [], [{ name: 'X', value: 'a\r\nInjected: 1' }]), 'invalid-argument'],
  ['garbage HTTP head', () => engine.parseRequestHead(utf8.encode('\x00\x01 garbage\r\n\r\n'), {}), 'malformed-http'],
  ['bad response', () => { h.beginClientHandshake([], [], []); return h.endClientHandshake([{ name: 'Upgrade', value: 'websocket' }]); }, 'handshake-failed'],
];
// A receive-from-network takes bytes through complete-receive; complete-action only takes 0 for it.
const open = engine.Handle.createClient([], 8n);
const server2 = engine.Handle.createServer([], 9n);
const req = open.beginClientHandshake([], [], []);
req.push({ name: 'Host', value: 'x' });
open.endClientHandshake(server2.beginServerHandshake(undefined, [], req));
open.receive(undefined);
const held = open.getAction('all');
assert.equal(held.tag, 'receive-from-network');
cases.push(['complete-action(n > 0) on a receive-from-network', () => open.completeAction(held.val.id, 5), 'invalid-argument']);
cases.push(['complete-receive over the capacity', () => open.completeReceive(held.val.id, new Uint8Array(held.val.capacity + 1)), 'invalid-argument']);
cases.push(['hostile frame (reserved opcode)', () => { open.completeReceive(held.val.id, Uint8Array.from([0x83, 0x00])); return open.getAction('all'); }, 'protocol-violation']);
for (const [what, fn, tag] of cases) {
  const r = attempt(fn);
  assert.ok('error' in r, `${what}: expected an error`);
  assert.equal(r.error.tag, tag, what);
  console.log(`bad input: ${what} -> ${tag}`);
}
console.log('jco pair: all checks passed');
