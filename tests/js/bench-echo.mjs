// The echo load of `make bench-js` (a ws client keeping messages in flight) against any echo
// server, and against ws's own echo server in the same process for the ratio:
//   node tests/js/bench-echo.mjs ws://127.0.0.1:PORT/
// `make bench-component` runs it against the wasmtime host's echo server.
import { WebSocketServer as WsServer, WebSocket as WsClient } from 'ws';

const CASES = [
  ['16 B x64', 16, 100000, 64],
  ['64 KiB x8', 64 * 1024, 8000, 8],
];

/** Round trips with `inFlight` messages outstanding until `total` have come back; seconds taken. */
async function echo(url, payload, total, inFlight) {
  const ws = new WsClient(url);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const run = (n) =>
    new Promise((resolve) => {
      let sent = 0;
      let received = 0;
      const start = process.hrtime.bigint();
      ws.on('message', function onMessage() {
        received++;
        if (received === n) {
          ws.off('message', onMessage);
          resolve(Number(process.hrtime.bigint() - start) / 1e9);
        } else if (sent < n) {
          sent++;
          ws.send(payload);
        }
      });
      for (; sent < Math.min(inFlight, n); sent++) ws.send(payload);
    });
  await run(Math.min(total, 2000)); // warm up
  const seconds = await run(total);
  ws.close();
  return seconds;
}

const url = process.argv[2];
if (!url) {
  console.error('usage: node tests/js/bench-echo.mjs ws://127.0.0.1:PORT/');
  process.exit(2);
}
const wss = await new Promise((resolve) => {
  const s = new WsServer({ host: '127.0.0.1', port: 0 }, () => resolve(s));
});
wss.on('connection', (s) => s.on('message', (d, binary) => s.send(d, { binary })));
const wsUrl = `ws://127.0.0.1:${wss.address().port}/`;
// BENCH_CASE=0|1 runs one case; BENCH_NO_WS=1 skips ws (when measuring the server's CPU time).
const only = process.env.BENCH_CASE;
const cases = only === undefined ? CASES : [CASES[Number(only)]];
for (const [name, size, total, inFlight] of cases) {
  const payload = new Uint8Array(size).fill(1);
  const a = await echo(url, payload, total, inFlight);
  const rate = (s) => (total / s).toFixed(0).padStart(8);
  if (process.env.BENCH_NO_WS) {
    console.log(`echo ${name.padEnd(10)} server under test ${rate(a)} msg/s`);
    continue;
  }
  const b = await echo(wsUrl, payload, total, inFlight);
  console.log(`echo ${name.padEnd(10)} server under test ${rate(a)} msg/s | ws ${rate(b)} msg/s | ratio ${(b / a).toFixed(2)}`);
}
await new Promise((r) => wss.close(r));
