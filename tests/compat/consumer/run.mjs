// Runs in a scratch project where the packed tarball was installed: imports wsaction by its
// package name and talks to a ws echo server (ws's path comes in WS_MODULE). Prints one line per
// check, and exits non-zero on the first failure.
import assert from 'node:assert/strict';

const { WebSocketServer } = await import(process.env.WS_MODULE);
const wsaction = await import('wsaction');

const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
await new Promise((resolve) => wss.on('listening', resolve));
wss.on('connection', (ws) => {
  ws.send('greeting');
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});
const url = `ws://127.0.0.1:${wss.address().port}`;

/** Waits until `condition()` holds, failing with `what` after two seconds. */
async function until(condition, what) {
  const deadline = Date.now() + 2000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

try {
  // The promise-style convenience.
  const connection = await wsaction.connect(url);
  const seen = [];
  connection.on('message', (data) => seen.push(String(data)));
  await connection.send('over connect()');
  await until(() => seen.length >= 2, `connect() got the greeting and the echo (got ${JSON.stringify(seen)})`);
  assert.deepEqual(seen, ['greeting', 'over connect()']);
  await connection.close(1000);
  console.log(`connect(): ok on Node ${process.versions.node}`);

  // The ws drop-in.
  assert.equal(typeof wsaction.WebSocket, 'function', 'wsaction exports WebSocket');
  const ws = new wsaction.WebSocket(url);
  const got = [];
  ws.on('message', (data, isBinary) => got.push([String(data), isBinary]));
  await new Promise((resolve, reject) => {
    ws.on('open', resolve);
    ws.on('error', reject);
  });
  ws.send('over new WebSocket');
  await until(() => got.length >= 2, `new WebSocket() got the greeting and the echo (got ${JSON.stringify(got)})`);
  assert.deepEqual(got, [['greeting', false], ['over new WebSocket', false]]);
  await new Promise((resolve) => {
    ws.on('close', resolve);
    ws.close(1000);
  });
  console.log(`new WebSocket(): ok on Node ${process.versions.node}`);
} finally {
  for (const client of wss.clients) client.terminate();
  wss.close();
  setTimeout(() => process.exit(process.exitCode ?? 0), 100).unref();
}
