// A Node `ws` client that holds one connection to the component's echo server for SECONDS (130 in
// net-tests.sh), echoing a message every 10 s, then closes with 1000 and expects 1000 back. The
// host used to cut every connection at 120 s without a close frame (issue 10, fault 7); a server
// has no fixed connection lifetime, so the connection must outlive that by a margin.
// Usage: node lifetime-client.mjs ws://127.0.0.1:PORT/ SECONDS
import { createRequire } from 'node:module';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

// ws is installed with the jco tests' dependencies (tests/jco/package.json).
const WebSocket = createRequire(new URL('../jco/package.json', import.meta.url))('ws');
const [url, secondsArg] = process.argv.slice(2);
const seconds = Number(secondsArg);
const started = Date.now();
const elapsed = () => ((Date.now() - started) / 1000).toFixed(1);
const timeout = setTimeout(() => {
  console.error(`lifetime-client: timed out after ${elapsed()} s`);
  process.exit(1);
}, (seconds + 30) * 1000);

const socket = new WebSocket(url);
// A close or error before we close is the fault: report when it came and what the server sent.
let ours = false;
const early = new Promise((_, reject) => {
  socket.on('close', (code) => { if (!ours) reject(new Error(`the server ended the connection after ${elapsed()} s (close code ${code})`)); });
  socket.on('error', (error) => reject(new Error(`error after ${elapsed()} s: ${error.message}`)));
});
early.catch(() => {});
await Promise.race([new Promise((resolve) => socket.once('open', resolve)), early]);

const echo = async (text) => {
  const echoed = new Promise((resolve) => socket.once('message', (data) => resolve(String(data))));
  socket.send(text);
  assert.equal(await Promise.race([echoed, early]), text);
};
let sent = 0;
while ((Date.now() - started) / 1000 < seconds) {
  await echo(`at ${elapsed()} s`);
  sent += 1;
  await Promise.race([sleep(Math.min(10000, Math.max(0, seconds * 1000 - (Date.now() - started)))), early]);
}
await echo('last');
ours = true;
const closed = new Promise((resolve) => socket.once('close', (code) => resolve(code)));
socket.close(1000, 'done');
assert.equal(await closed, 1000);
console.log(`lifetime: one connection held ${elapsed()} s (${sent + 1} echoes, one every 10 s), then close 1000 both ways`);
clearTimeout(timeout);
