// make bench-js, part 2: echo servers over loopback, each in its own process, driven by the same
// load generator (loadgen.mjs: raw sockets, neither ws nor wsaction) in a third process:
//   ws with bufferutil | wsaction's Node adapter (createServer) | the component under wasmtime
//   (when WASMTIME_HOST and COMPONENT name a built host and component).
// Prints echoed messages/s per server and the ratios to ws.
import { spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const WARMUP = 1;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);

const cases = [
  // name, message size, connections, messages in flight per connection
  ['16 B, 64 in flight', 16, 1, 64],
  ['1 KiB, 50 connections', 1024, 50, 1],
  ['64 KiB, 8 in flight', 64 * 1024, 1, 8],
  ['1 KiB, 500 conns x1', 1024, 500, 1],
];

const servers = [
  { name: 'ws+bufferutil', command: [process.execPath, `${here}echo-server.mjs`, 'ws'] },
  { name: 'wsaction Node', command: [process.execPath, `${here}echo-server.mjs`, 'wsaction'] },
];
if (process.env.WASMTIME_HOST && process.env.COMPONENT) {
  servers.push({
    name: 'wasmtime host',
    command: [process.env.WASMTIME_HOST, '--component', process.env.COMPONENT, 'echo-server', '--port', '0'],
  });
}

function startServer(server) {
  return new Promise((resolve, reject) => {
    const child = spawn(server.command[0], server.command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/ws:\/\/127\.0\.0\.1:(\d+)\//);
      if (m) resolve({ child, port: Number(m[1]), log: () => err });
    });
    child.stderr.on('data', (d) => (err += d));
    child.once('exit', (code) => reject(new Error(`${server.name} exited (${code}) before listening: ${err}`)));
  });
}

function runLoad(port, size, connections, inFlight) {
  return new Promise((resolve, reject) => {
    const args = [`${here}loadgen.mjs`, '127.0.0.1', port, size, connections, inFlight, WARMUP, SECONDS].map(String);
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`loadgen exited ${code}`))));
  });
}

async function measure(server, [, size, connections, inFlight]) {
  const { child, port, log } = await startServer(server);
  try {
    return (await runLoad(port, size, connections, inFlight)).rate;
  } catch (e) {
    throw new Error(`${server.name}: ${e.message}\n${log()}`);
  } finally {
    child.kill();
    await new Promise((r) => child.once('exit', r));
  }
}

console.log(`echo over loopback on ${cpus()[0].model} x${cpus().length}, Node ${process.version}: one load generator process (raw sockets) for every server; best of ${ROUNDS} runs of ${SECONDS}s after ${WARMUP}s warm-up`);
{
  const { child, log } = await startServer(servers[0]);
  child.kill();
  await new Promise((r) => child.once('exit', r));
  console.log(log().trim());
}
const header = ['case'.padEnd(24), ...servers.map((s) => s.name.padStart(15)), ...servers.slice(1).map((s) => `${s.name.split(' ')[0]}/ws`.padStart(14))];
if (servers.length > 2) header.push('wasmtime/Node'.padStart(14));
console.log(header.join(' '));
for (const c of cases) {
  const best = servers.map(() => 0);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, server] of servers.entries()) best[i] = Math.max(best[i], await measure(server, c));
  }
  const cells = [c[0].padEnd(24), ...best.map((r) => `${Math.round(r)} msg/s`.padStart(15)), ...best.slice(1).map((r) => (r / best[0]).toFixed(2).padStart(14))];
  if (servers.length > 2) cells.push((best[2] / best[1]).toFixed(2).padStart(14));
  console.log(cells.join(' '));
}
