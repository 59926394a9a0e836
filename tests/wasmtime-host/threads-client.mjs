// Node `ws` clients against the component's echo server, counting the server's threads: the
// connections are tasks on one event loop, so 200 open connections add no thread of their own
// (issue 10 item 7: the host ran one OS thread per connection). Linux: /proc/PID/status.
// Usage: node threads-client.mjs ws://127.0.0.1:PORT/ SERVER_PID
import { createRequire } from 'node:module';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

// ws is installed with the jco tests' dependencies (tests/jco/package.json).
const WebSocket = createRequire(new URL('../jco/package.json', import.meta.url))('ws');
const [url, pid] = process.argv.slice(2);
const CONNECTIONS = 200;
const timeout = setTimeout(() => { console.error('threads-client: timed out'); process.exit(1); }, 30000);

const threads = () => Number(/^Threads:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
const open = () => new Promise((resolve, reject) => {
  const socket = new WebSocket(url);
  socket.once('open', () => resolve(socket));
  socket.once('error', reject);
});
const echo = (socket, text) => new Promise((resolve) => {
  socket.once('message', (data) => resolve(String(data)));
  socket.send(text);
});

const before = threads();
const sockets = await Promise.all(Array.from({ length: CONNECTIONS }, open));
const echoes = await Promise.all(sockets.map((socket, i) => echo(socket, `connection ${i}`)));
assert.deepEqual(echoes, sockets.map((_, i) => `connection ${i}`));
const during = threads();
console.log(`${CONNECTIONS} open connections, each echoed: the server has ${during} threads (${before} before)`);
// A few threads of the runtime's own may come and go; a thread per connection would add 200.
assert.ok(during - before < 10, `the server grew from ${before} to ${during} threads with ${CONNECTIONS} connections`);
await Promise.all(sockets.map((socket) => new Promise((resolve) => {
  socket.once('close', resolve);
  socket.close(1000);
})));
clearTimeout(timeout);
console.log('threads-client: all passed');
