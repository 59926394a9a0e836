// Node `ws` clients against the component's echo server started with `--per-instance 3
// --max-instance-memory BYTES` (an instance whose memory would grow past BYTES traps): a trap in
// one instance must fail that instance's connections cleanly and nothing else (issue 10: "if a
// trap happens anyway, the adapter fails every handle of that wasm instance cleanly (1011),
// starts a fresh instance, and keeps accepting").
//
// Three connections share instance A, a fourth is on instance B. One of A's sends a message
// larger than BYTES; echoing it needs more memory than A may have, so A traps. Then:
//  - each of A's three connections closes with 1011 (a close frame, not a dropped socket: the
//    victim, whose message was cut off mid-way, and the two that were idle);
//  - B's connection still echoes;
//  - three new connections echo (B has room for two, so the third is on a fresh instance).
// Usage: node trap-client.mjs ws://127.0.0.1:PORT/ BYTES
import { createRequire } from 'node:module';
import assert from 'node:assert/strict';

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

const closed = (socket) => new Promise((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: String(reason) })));

// Opened one after another, so the server places them in that order: A, A, A, then B.
const onA = [await open(), await open(), await open()];
const onB = await open();
for (const [i, socket] of [...onA, onB].entries()) assert.equal(await echo(socket, `hello ${i}`), `hello ${i}`);
console.log('four connections echo (three on instance A, one on instance B)');

const closes = onA.map(closed);
const victim = onA[0];
victim.on('error', () => {}); // the server may close while the rest of the message is still going out
victim.send(Buffer.alloc(ceiling + 2 * 1024 * 1024, 0x61));
const codes = await Promise.all(closes);
assert.deepEqual(codes.map((c) => c.code), [1011, 1011, 1011], `instance A's connections: ${JSON.stringify(codes)}`);
console.log(`a message of ${ceiling + 2 * 1024 * 1024} bytes trapped instance A: its three connections closed with 1011`);

assert.equal(onB.readyState, WebSocket.OPEN, 'instance B\'s connection is still open');
assert.equal(await echo(onB, 'B after the trap'), 'B after the trap');
console.log('instance B\'s connection still echoes');

const fresh = [await open(), await open(), await open()];
for (const [i, socket] of fresh.entries()) assert.equal(await echo(socket, `new ${i}`), `new ${i}`);
console.log('three new connections echo (the third on a fresh instance): the server keeps accepting');

await Promise.all([onB, ...fresh].map((socket) => {
  const done = closed(socket);
  socket.close(1000);
  return done;
}));
clearTimeout(timeout);
console.log('trap-client: all passed');
