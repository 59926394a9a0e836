// make bench-js, part 2: echo servers over loopback, each in its own process, driven by the same
// load generator (loadgen.mjs: raw sockets, neither ws nor wsaction) in a third process:
//   ws with bufferutil | wsaction's Node adapter (createServer) | the component under wasmtime
//   (when WASMTIME_HOST and COMPONENT name a built host and component).
// Prints echoed messages/s per server and the ratios to ws.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const WARMUP = 1;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);

const cases = [
  // name, message size, connections, messages in flight per connection
  ['16 B, 64 in flight', 16, 1, 64],
  // Issue 12's 16 B case has 64 in flight; at that window neither wsaction's server nor the load
  // generator is busy (the CPU table below): 512 shows what a server does when it is the wall.
  ['16 B, 512 in flight', 16, 1, 512],
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

const CLOCK_TICKS = 100; // USER_HZ: 100 on Linux for every architecture Node runs on

/**
 * A process's user and system CPU so far in microseconds, from /proc (Linux), or null elsewhere;
 * `measure` takes it around the load generator's whole run.
 */
function processCpu(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    const tick = 1e6 / CLOCK_TICKS;
    return { user: Number(fields[11]) * tick, system: Number(fields[12]) * tick };
  } catch {
    return null;
  }
}

async function measure(server, [, size, connections, inFlight]) {
  const { child, port, log } = await startServer(server);
  try {
    const before = processCpu(child.pid);
    const result = await runLoad(port, size, connections, inFlight);
    const after = processCpu(child.pid);
    // The server's CPU covers the handshakes and the warm-up second too, which the count does
    // not: the counted seconds' share of the run is taken (an estimate, good to a few per cent at
    // a steady rate). The load generator measures its counted seconds itself.
    const share = result.seconds / (result.seconds + WARMUP);
    const perMessage = (us) => (us * share) / result.messages;
    result.serverCpu = before && after ? { user: perMessage(after.user - before.user), system: perMessage(after.system - before.system) } : null;
    result.busy = before && after ? ((after.user - before.user + after.system - before.system) * share) / (result.seconds * 1e6) : null;
    result.loadBusy = (result.cpu.user + result.cpu.system) / (result.seconds * 1e6);
    return result;
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
const cpuRows = [];
for (const c of cases) {
  const best = servers.map(() => null);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, server] of servers.entries()) {
      const result = await measure(server, c);
      if (best[i] === null || result.rate > best[i].rate) best[i] = result;
    }
  }
  const rates = best.map((r) => r.rate);
  const cells = [c[0].padEnd(24), ...rates.map((r) => `${Math.round(r)} msg/s`.padStart(15)), ...rates.slice(1).map((r) => (r / rates[0]).toFixed(2).padStart(14))];
  if (servers.length > 2) cells.push((rates[2] / rates[1]).toFixed(2).padStart(14));
  console.log(cells.join(' '));
  cpuRows.push([c[0], best]);
}
// Where each best run's time went: CPU per echoed message of the server and of the load generator
// (user + system microseconds), and how busy each was (1.00 = a whole core). A server near 1.00
// was the wall; system time is the kernel's TCP work, which no server in user space avoids.
console.log('CPU per echoed message, us user + system (busy: cores used), in the best run above:');
console.log(['case'.padEnd(24), ...servers.map((s) => s.name.padStart(30)), 'load generator with each'.padStart(26)].join(' '));
const us = (cpu) => (cpu ? `${cpu.user.toFixed(1)} + ${cpu.system.toFixed(1)}` : 'n/a');
for (const [name, best] of cpuRows) {
  const cells = best.map((r) => `${us(r.serverCpu)} (${r.busy === null ? 'n/a' : r.busy.toFixed(2)})`.padStart(30));
  const load = best.map((r) => r.loadBusy.toFixed(2)).join(' / ');
  console.log([name.padEnd(24), ...cells, load.padStart(26)].join(' '));
}
