// A Node `ws` client against the component's echo server started with --keep-alive MS: idle for
// eight intervals, it must see the engine's keep-alive pings (ws answers each with a pong, which
// keeps the connection up), then an echo and a 1000 close still work. Proves the server sleeps
// until the engine's next deadline and ticks it there, on an event loop with no fixed lifetime.
// Usage: node keepalive-client.mjs ws://127.0.0.1:PORT/ INTERVAL_MS
import { createRequire } from 'node:module';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

// ws is installed with the jco tests' dependencies (tests/jco/package.json).
const WebSocket = createRequire(new URL('../jco/package.json', import.meta.url))('ws');
const [url, intervalArg] = process.argv.slice(2);
const interval = Number(intervalArg);
const timeout = setTimeout(() => { console.error('keepalive-client: timed out'); process.exit(1); }, 30000);

const socket = new WebSocket(url);
let pings = 0;
socket.on('ping', () => { pings += 1; });
await new Promise((resolve, reject) => { socket.once('open', resolve); socket.once('error', reject); });
await sleep(interval * 8);
// At least one ping per two intervals: the first after `interval` of silence, then again after
// each pong (the engine counts silence since the last frame it received).
assert.ok(pings >= 3, `expected keep-alive pings every ${interval} ms of silence, saw ${pings} in ${interval * 8} ms`);
console.log(`keep-alive: ${pings} pings in ${interval * 8} ms of silence, each answered by ws`);

const echoed = new Promise((resolve) => socket.once('message', (data) => resolve(String(data))));
socket.send('still here');
assert.equal(await echoed, 'still here');
const closed = new Promise((resolve) => socket.once('close', (code) => resolve(code)));
socket.close(1000, 'bye');
assert.equal(await closed, 1000);
console.log('keep-alive: echo after the idle time, close 1000 both ways');
clearTimeout(timeout);
