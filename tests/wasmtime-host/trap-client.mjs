// Node `ws` clients against the component's echo server started with `--per-instance 5
// --max-instance-memory BYTES` (an instance whose memory would grow past BYTES traps): a trap in
// one instance must fail that instance's connections cleanly and nothing else (issue 10: "if a
// trap happens anyway, the adapter fails every handle of that wasm instance cleanly (1011),
// starts a fresh instance, and keeps accepting").
//
// Three `ws` connections, a raw-socket peer that never reads and one whose request head is not
// complete yet share instance A; a sixth connection is on instance B. One of A's sends a message
// larger than BYTES; echoing it needs more memory than A may have, so A traps. Then:
//  - each of A's three `ws` connections closes with 1011 (a close frame, not a dropped socket: the
//    victim, whose message was cut off mid-way, and the two that were idle), without waiting for
//    the peer that does not read;
//  - the peer that does not read holds echoes the server cannot write within 5 s: its TCP
//    connection is closed without a close frame (none can follow part of a frame);
//  - the peer whose head was not complete is answered 503 (with Retry-After) once it is;
//  - B's connection still echoes;
//  - five new connections echo (B has room for four, so the fifth is on a fresh instance).
// Usage: node trap-client.mjs ws://127.0.0.1:PORT/ BYTES
import { createRequire } from 'node:module';
import assert from 'node:assert/strict';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

// ws is installed with the jco tests' dependencies (tests/jco/package.json).
const WebSocket = createRequire(new URL('../jco/package.json', import.meta.url))('ws');
const [url, bytesArg] = process.argv.slice(2);
const ceiling = Number(bytesArg);
const timeout = setTimeout(() => { console.error('trap-client: timed out'); process.exit(1); }, 30000);

function open() {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { maxPayload: 64 * 1024 * 1024 });
    socket.once('open', () => resolve(socket));
    socket.once('unexpected-response', (req, res) => reject(new Error(`upgrade answered ${res.statusCode}`)));
    socket.once('error', reject);
  });
}

/** Sends `text` and resolves with the echo, or rejects when the connection closes first. */
function echo(socket, text) {
  return new Promise((resolve, reject) => {
    const onMessage = (data) => { socket.off('close', onClose); resolve(String(data)); };
    const onClose = (code) => { socket.off('message', onMessage); reject(new Error(`closed with ${code} instead of echoing`)); };
    socket.once('message', onMessage);
    socket.once('close', onClose);
    socket.send(text);
  });
}

/**
 * A raw TCP peer that upgrades, then stops reading and writes `floodBytes` of binary messages:
 * the server's echoes pile up unwritten. `rest()` reads again and resolves, once the connection
 * is over, with the opcodes of the whole frames the kernel still had and the bytes after them.
 */
async function stalledPeer(floodBytes) {
  const { port, hostname } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  await new Promise((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
  socket.write(`GET / HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
  let received = Buffer.alloc(0);
  await new Promise((resolve) => {
    const onData = (chunk) => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return;
      assert.match(received.subarray(0, end).toString('latin1'), /^HTTP\/1\.1 101 /, 'the stalled peer is upgraded');
      received = received.subarray(end + 4);
      socket.off('data', onData);
      socket.pause();
      resolve();
    };
    socket.on('data', onData);
  });
  socket.on('error', () => {}); // the server may reset it: that is one of the outcomes looked at
  const gone = new Promise((resolve) => socket.once('close', resolve));
  // Masked (key 0) binary frames of 60,000 bytes (RFC 6455 §5.2: a 16-bit length).
  const payload = 60000;
  const frame = Buffer.concat([Buffer.from([0x82, 0x80 | 126, payload >> 8, payload & 0xff, 0, 0, 0, 0]), Buffer.alloc(payload, 0x62)]);
  for (let sent = 0; sent < floodBytes; sent += payload) socket.write(frame);
  return {
    /** Whether the connection is over (the server closed or reset it). */
    isGone: () => socket.destroyed,
    rest: () => new Promise((resolve) => {
      socket.on('data', (chunk) => { received = Buffer.concat([received, chunk]); });
      gone.then(() => {
        const opcodes = [];
        let at = 0;
        while (at + 2 <= received.length) {
          let length = received[at + 1] & 0x7f;
          let header = 2;
          if (length === 126) { length = received.readUInt16BE(at + 2); header = 4; }
          else if (length === 127) { length = Number(received.readBigUInt64BE(at + 2)); header = 10; }
          if (at + header + length > received.length) break;
          opcodes.push(received[at] & 0x0f);
          at += header + length;
        }
        resolve({ opcodes, trailing: received.length - at });
      });
      socket.resume();
    }),
  };
}

/** A raw TCP peer that sent part of its request head: `finish()` sends the rest and resolves with the answer. */
async function halfHead() {
  const { port, hostname } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  await new Promise((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
  socket.write(`GET / HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\n`);
  let answer = '';
  socket.on('data', (chunk) => { answer += chunk.toString('latin1'); });
  const ended = new Promise((resolve) => socket.once('close', resolve));
  socket.on('error', () => {});
  return {
    finish: async () => {
      socket.write('Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
      await ended;
      return answer;
    },
  };
}

const closed = (socket) => new Promise((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: String(reason) })));

// Opened one after another, so the server places them in that order: A, A, A, A, A, then B.
const onA = [await open(), await open(), await open()];
const stalled = await stalledPeer(64 * 1024 * 1024);
const handshaking = await halfHead();
const onB = await open();
for (const [i, socket] of [...onA, onB].entries()) assert.equal(await echo(socket, `hello ${i}`), `hello ${i}`);
console.log('four ws connections echo (three on instance A, one on instance B); on A, a raw peer writes and does not read, another has sent half its head');
await sleep(1000); // the server stops reading the stalled peer once its echoes pile up

const closes = onA.map(closed);
const victim = onA[0];
victim.on('error', () => {}); // the server may close while the rest of the message is still going out
victim.send(Buffer.alloc(ceiling + 2 * 1024 * 1024, 0x61));
const trappedAt = Date.now();
const codes = await Promise.all(closes);
assert.deepEqual(codes.map((c) => c.code), [1011, 1011, 1011], `instance A's connections: ${JSON.stringify(codes)}`);
assert.ok(Date.now() - trappedAt < 3000, `the 1011s came after ${Date.now() - trappedAt} ms: they waited for the peer that does not read`);
console.log(`a message of ${ceiling + 2 * 1024 * 1024} bytes trapped instance A: its three ws connections closed with 1011`);

// The server gives pending bytes 5 s to leave (FINAL_FLUSH in serve.rs): the stalled peer reads
// again only once the server has closed its connection, so they cannot.
for (let waited = 0; waited < 15000 && !stalled.isGone(); waited += 100) await sleep(100);
assert.ok(stalled.isGone(), 'the server closed the connection of the peer that did not read');
// What the kernel kept of the stream after the server closed it (a reset may discard it) must be
// echoes only: no close frame after (or inside) a cut one.
const { opcodes, trailing } = await stalled.rest();
assert.ok(opcodes.every((op) => op === 2), `the stalled peer got echoes (binary frames) and nothing else: opcodes ${[...new Set(opcodes)]}`);
console.log(`the peer that did not read: its TCP connection closed by the server without a close frame (what it still read: ${opcodes.length} whole echoes, ${trailing} bytes of a cut one)`);

const answer = await handshaking.finish();
assert.match(answer, /^HTTP\/1\.1 503 Service Unavailable\r\n/, `the upgrade whose instance trapped: ${JSON.stringify(answer)}`);
assert.match(answer, /\r\nRetry-After: 1\r\n/i);
console.log('the peer whose head was not complete at the trap is answered 503 with Retry-After');

assert.equal(onB.readyState, WebSocket.OPEN, 'instance B\'s connection is still open');
assert.equal(await echo(onB, 'B after the trap'), 'B after the trap');
console.log('instance B\'s connection still echoes');

const fresh = [await open(), await open(), await open(), await open(), await open()];
for (const [i, socket] of fresh.entries()) assert.equal(await echo(socket, `new ${i}`), `new ${i}`);
console.log('five new connections echo (the fifth on a fresh instance): the server keeps accepting');

await Promise.all([onB, ...fresh].map((socket) => {
  const done = closed(socket);
  socket.close(1000);
  return done;
}));
clearTimeout(timeout);
console.log('trap-client: all passed');
