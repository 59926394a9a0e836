// A Node `ws` client that checks an echo server: text, binary, 1 MiB, ping, close.
// Exits 0 only when every echo matches. Usage: node ws-client.mjs ws://127.0.0.1:PORT/
import WebSocket from 'ws';
import assert from 'node:assert/strict';

const url = process.argv[2];
const socket = new WebSocket(url);
const queue = [];
let waiter = null;
socket.on('message', (data, isBinary) => {
  const item = { data: Buffer.from(data), isBinary };
  if (waiter) { const w = waiter; waiter = null; w(item); } else queue.push(item);
});
const next = () => new Promise((resolve) => {
  if (queue.length) resolve(queue.shift()); else waiter = resolve;
});
const timeout = setTimeout(() => { console.error('ws-client: timed out'); process.exit(1); }, 30000);

await new Promise((resolve, reject) => { socket.once('open', resolve); socket.once('error', reject); });

const text = 'hello from node ws \u{1F980}';
socket.send(text);
let echo = await next();
assert.equal(echo.isBinary, false);
assert.equal(echo.data.toString('utf8'), text);
console.log(`text: ${Buffer.byteLength(text)} bytes echoed`);

const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
socket.send(binary);
echo = await next();
assert.equal(echo.isBinary, true);
assert.deepEqual(echo.data, binary);
console.log('binary: 256 bytes echoed');

const big = Buffer.alloc(1024 * 1024);
for (let i = 0; i < big.length; i++) big[i] = (Math.imul(i, 2654435761) >>> 13) & 0xff;
socket.send(big);
echo = await next();
assert.equal(echo.isBinary, true);
assert.equal(echo.data.length, big.length);
assert.ok(echo.data.equals(big));
console.log('binary: 1048576 bytes (1 MiB) echoed');

const pong = new Promise((resolve) => socket.once('pong', resolve));
socket.ping(Buffer.from('node ping'));
assert.equal((await pong).toString(), 'node ping');
console.log('ping: pong came back with the payload');

const closed = new Promise((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
socket.close(1000, 'bye');
const { code, reason } = await closed;
assert.equal(code, 1000);
assert.equal(reason, 'bye');
console.log(`close: ${code} "${reason}" echoed`);
clearTimeout(timeout);
console.log('ws-client: all checks passed');
