// `make bench-conns`: memory and handshake figures for many connections, wsaction beside ws in the
// same run. This process is the load generator (raw sockets: a fixed upgrade request, the close
// frame of RFC 6455 §5.5.1); each server runs in its own process (open files are capped at 20,000
// a process) and reports its own memory (server-node.mjs, server-deno.ts). Printed:
//   idle memory per connection at each count (RSS and wasm memory, minus the server's baseline),
//   memory once they have all closed, time per 1,000 handshakes as the count grows, the largest
//   count reached, peak and after memory for 100 concurrent 1 MiB echoes, and (handles.mjs)
//   memory per open server handle with 100,000 handles driven in memory (no sockets).
//
//   node tests/load/bench-conns.mjs [--servers ws,node,deno,deno-native] [--counts 1000,10000,19000] [--handles 100000]

import { spawn, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const DENO = process.env.DENO ?? path.join(root, 'tests/js/node_modules/.bin/deno');

const SERVERS = {
  ws: { label: 'ws 8 (Node)', cmd: ['node', '--expose-gc', 'tests/load/server-node.mjs', 'ws'] },
  node: { label: 'wsaction (Node)', cmd: ['node', '--expose-gc', 'tests/load/server-node.mjs', 'wsaction'] },
  deno: { label: 'wsaction (Deno)', cmd: [DENO, 'run', '--allow-net', '--allow-read', '--v8-flags=--expose-gc', 'tests/load/server-deno.ts'] },
  // Deno's built-in WebSocket: the Deno runtime's own cost per connection, beside wsaction's adapter.
  'deno-native': { label: 'Deno.upgradeWebSocket', cmd: [DENO, 'run', '--allow-net', '--v8-flags=--expose-gc', 'tests/load/server-deno-native.ts'] },
};

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}
const servers = option('servers', 'ws,node,deno,deno-native').split(',');
const counts = option('counts', '1000,10000,19000').split(',').map(Number);
const handleCount = Number(option('handles', '100000'));
const IN_FLIGHT = 100; // handshakes under way at once
const ECHOES = 100;
const ECHO_BYTES = 1024 * 1024;
const HANDLES_BUDGET_MS = Number(option('handles-budget', '180')) * 1000;

// ---------------------------------------------------------------- the server process

function startServer(kind) {
  const child = spawn(SERVERS[kind].cmd[0], SERVERS[kind].cmd.slice(1), { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${kind} server did not start: ${output}`)), 30000);
    const take = (chunk) => {
      output += chunk;
      const m = /listening (\d+) (\d+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]), statsPort: Number(m[2]), output: () => output });
      }
    };
    child.stdout.on('data', take);
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('exit', (code) => reject(new Error(`${kind} server exited (${code}): ${output}`)));
  });
}

async function stopServer(server) {
  if (server.child.exitCode !== null) return;
  const exited = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.kill('SIGKILL');
  await exited;
}

/** The server's own figures (after its GCs) and its RSS as the kernel counts it. */
async function stats(server) {
  const response = await fetch(`http://127.0.0.1:${server.statsPort}/stats`);
  const own = await response.json();
  return { ...own, ...procStatus(server.child.pid) };
}

function procStatus(pid) {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(text)?.[1] ?? NaN) * 1024;
  return { vmRss: kb('VmRSS'), vmHwm: kb('VmHWM') };
}

// ---------------------------------------------------------------- raw client connections

const REQUEST = Buffer.from(
  'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
);
// Close 1000, masked with a zero key (the mask bit is set, as RFC 6455 §5.1 requires of a client).
const CLOSE = Buffer.from([0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8]);

// Connections come from 64 loopback source addresses (127.0.1.0 to 127.0.1.63): from one address,
// past about 14,000 connections to one port Linux's choice of an ephemeral port slows every
// connect() down (it prefers even ports, and then searches), which would time the load generator
// instead of the server.
const SOURCES = Array.from({ length: 64 }, (_, i) => `127.0.1.${i}`);
let opened = 0;

/** One connection: resolves with its socket once the 101 is in. */
function openOne(port) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress: SOURCES[opened++ % SOURCES.length] });
    let head = Buffer.alloc(0);
    const timer = setTimeout(() => fail(new Error('no 101 within 60 s')), 60000);
    const fail = (err) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('closed before the 101')));
    socket.on('connect', () => socket.write(REQUEST));
    const onData = (chunk) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.removeAllListeners('error');
      socket.removeAllListeners('close');
      if (!head.subarray(0, 13).equals(Buffer.from('HTTP/1.1 101 '))) {
        socket.destroy();
        reject(new Error(`answered ${head.subarray(0, head.indexOf('\r\n')).toString()}`));
        return;
      }
      socket.on('error', () => {});
      socket.on('data', () => {});
      resolve(socket);
    };
    socket.on('data', onData);
  });
}

/** Opens connections until `sockets` holds `target`; returns ms per batch of 1,000, or throws. */
async function openUpTo(port, sockets, target, batchTimes, progress = false) {
  let batchStart = performance.now();
  let next = sockets.length;
  let failure = null;
  const worker = async () => {
    while (next < target && !failure) {
      next++;
      try {
        sockets.push(await openOne(port));
      } catch (err) {
        failure ??= err;
      }
      if (sockets.length % 1000 === 0 && sockets.length > batchTimes.length * 1000) {
        batchTimes.push(performance.now() - batchStart);
        batchStart = performance.now();
        if (progress) process.stdout.write(`    ${sockets.length}: ${(batchTimes.at(-1) / 1000).toFixed(2)} s for the last 1,000\n`);
      }
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  if (failure) throw failure;
}

/** Sends each a close frame and waits until the server has closed them all. */
async function closeAll(sockets) {
  await Promise.all(
    sockets.map(
      (socket) =>
        new Promise((resolve) => {
          if (socket.destroyed) return resolve();
          const timer = setTimeout(() => {
            socket.destroy();
            resolve();
          }, 30000);
          socket.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
          socket.on('end', () => socket.destroy());
          socket.write(CLOSE);
        }),
    ),
  );
  sockets.length = 0;
}

/** A masked binary frame of ECHO_BYTES (zero key), and how many bytes its unmasked echo takes. */
const echoFrame = (() => {
  const head = Buffer.from([0x82, 0xff, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0]); // 127: 64-bit length 0x100000, then the key
  return { bytes: Buffer.concat([head, Buffer.alloc(ECHO_BYTES, 0x5a)]), echoLength: 10 + ECHO_BYTES };
})();

async function echoRound(server, sockets) {
  let peak = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      peak = Math.max(peak, procStatus(server.child.pid).vmRss);
      await sleep(10);
    }
  })();
  const started = performance.now();
  await Promise.all(
    sockets.map(
      (socket) =>
        new Promise((resolve, reject) => {
          let got = 0;
          socket.removeAllListeners('data');
          const timer = setTimeout(() => reject(new Error(`echo: ${got} of ${echoFrame.echoLength} bytes after 60 s`)), 60000);
          socket.on('data', (chunk) => {
            got += chunk.length;
            if (got >= echoFrame.echoLength) {
              clearTimeout(timer);
              resolve();
            }
          });
          socket.write(echoFrame.bytes);
        }),
    ),
  );
  const ms = performance.now() - started;
  sampling = false;
  await sampler;
  return { ms, peak: Math.max(peak, procStatus(server.child.pid).vmHwm) };
}

// ---------------------------------------------------------------- the runs

const MB = (n) => (n === null || n === undefined || Number.isNaN(n) ? '-' : `${(n / 1e6).toFixed(1)} MB`);
const perConn = (n, count) => (n === null || Number.isNaN(n) ? '-' : `${((n / count) / 1024).toFixed(1)} KiB`);

async function idleRun(kind) {
  const server = await startServer(kind);
  const result = { kind, at: [], batchTimes: [], reached: 0, stopped: null };
  try {
    const base = await stats(server);
    result.base = base;
    const sockets = [];
    for (const count of counts) {
      try {
        await openUpTo(server.port, sockets, count, result.batchTimes, true);
      } catch (err) {
        result.stopped = `${err.message} (at ${sockets.length})`;
      }
      result.reached = sockets.length;
      if (server.child.exitCode !== null) {
        result.stopped = `the server exited (${server.child.exitCode}) at ${sockets.length}: ${server.output().trim().split('\n').slice(-2).join(' | ')}`;
        break;
      }
      await sleep(500);
      const s = await stats(server);
      result.at.push({ count: sockets.length, rss: s.vmRss - base.vmRss, wasm: s.wasm === null ? null : s.wasm - base.wasm, serverCount: s.connections, totalRss: s.vmRss, totalWasm: s.wasm });
      console.log(`  ${SERVERS[kind].label}: ${sockets.length} open, server RSS ${MB(s.vmRss)}, wasm ${MB(s.wasm)}, server counts ${s.connections}`);
      if (result.stopped) break;
    }
    if (server.child.exitCode === null) {
      await closeAll(sockets);
      await sleep(2500); // the adapters' 2 s grace before a socket is destroyed
      const after = await stats(server);
      result.after = { rss: after.vmRss, wasm: after.wasm, serverCount: after.connections };
    }
  } finally {
    await stopServer(server);
  }
  return result;
}

async function echoRun(kind) {
  const server = await startServer(kind);
  try {
    const base = await stats(server);
    const sockets = [];
    await openUpTo(server.port, sockets, ECHOES, []);
    const { ms, peak } = await echoRound(server, sockets);
    await sleep(500);
    const after = await stats(server);
    await closeAll(sockets);
    return { kind, base, ms, peak, after };
  } finally {
    await stopServer(server);
  }
}

function handlesRun(properties) {
  const out = execFileSync('node', ['--expose-gc', path.join(here, 'handles.mjs'), String(handleCount), properties, String(HANDLES_BUDGET_MS)], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split('\n').at(-1));
}

// ---------------------------------------------------------------- main

const cpu = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown CPU';
const wsVersion = JSON.parse(readFileSync(path.join(here, 'node_modules/ws/package.json'), 'utf8')).version;
let bufferutil = 'no';
try {
  const { createRequire } = await import('node:module');
  createRequire(path.join(here, 'node_modules/ws/index.js'))('bufferutil');
  bufferutil = 'yes';
} catch {}
console.log(`bench-conns: ${new Date().toISOString()}, ${os.cpus().length} CPUs (nproc ${execFileSync('nproc').toString().trim()}), ${cpu}`);
console.log(`node ${process.version}, ws ${wsVersion} (bufferutil: ${bufferutil}); counts ${counts.join(', ')}; ${IN_FLIGHT} handshakes in flight; load average ${os.loadavg()[0].toFixed(1)}`);

const idle = [];
const echo = [];
for (const kind of servers) {
  console.log(`${SERVERS[kind].label}: idle connections`);
  idle.push(await idleRun(kind));
  console.log(`${SERVERS[kind].label}: ${ECHOES} concurrent 1 MiB echoes`);
  try {
    echo.push(await echoRun(kind));
  } catch (err) {
    echo.push({ kind, error: err.message });
  }
}

console.log('\nIdle memory per connection (server RSS and wasm memory above its baseline, after GC)');
const header = ['server', ...counts.map((c) => `${c} conns`), 'after all closed', 'largest count'];
const rows = idle.map((r) => [
  SERVERS[r.kind].label,
  ...counts.map((c) => {
    const at = r.at.find((a) => a.count === c);
    if (!at) return 'not reached';
    return `${perConn(at.rss, c)} RSS${at.wasm === null ? '' : `, ${perConn(at.wasm, c)} wasm`} (${MB(at.totalRss)})`;
  }),
  r.after ? `${MB(r.after.rss)} RSS${r.after.wasm === null ? '' : `, ${MB(r.after.wasm)} wasm`}` : 'server died',
  `${r.reached}${r.stopped ? ` (stopped: ${r.stopped})` : ''}`,
]);
printTable(header, rows);

console.log('\nTime per 1,000 handshakes as the count grows (seconds; batch ending at N connections)');
const marks = [1, 2, 5, 10, 15, 19].filter((k) => k * 1000 <= Math.max(...counts));
printTable(['server', ...marks.map((k) => `${k}k`)], idle.map((r) => [SERVERS[r.kind].label, ...marks.map((k) => (r.batchTimes[k - 1] === undefined ? '-' : (r.batchTimes[k - 1] / 1000).toFixed(2)))]));

console.log(`\n${ECHOES} concurrent 1 MiB echoes (server RSS: baseline, peak, after; wasm after)`);
printTable(
  ['server', 'baseline', 'peak', 'after', 'wasm after', 'time'],
  echo.map((e) => (e.error ? [SERVERS[e.kind].label, `failed: ${e.error}`, '', '', '', ''] : [SERVERS[e.kind].label, MB(e.base.vmRss), MB(e.peak), MB(e.after.vmRss), MB(e.after.wasm), `${(e.ms / 1000).toFixed(2)} s`])),
);

if (handleCount > 0) {
  console.log(`\n${handleCount} open server handles in one process, in memory (WebSocketHandle.createServer + beginServerHandshake + a receive held)`);
  const handleRows = [];
  for (const properties of ['adapter', 'websocket.h']) {
    const r = handlesRun(properties);
    handleRows.push([
      r.properties,
      `${r.created}${r.error ? ` (stopped: ${r.error})` : ''}`,
      perConn(r.rss, r.created),
      perConn(r.wasm, r.created),
      MB(r.totalRss),
      MB(r.totalWasm),
    ]);
  }
  printTable(['properties', 'handles', 'RSS per handle', 'wasm per handle', 'RSS', 'wasm'], handleRows);
}

console.log(`\nload average at the end: ${os.loadavg()[0].toFixed(1)} (other work on the machine slows every server of the run alike)`);

function printTable(head, body) {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => String(r[i]).length)));
  const line = (cells) => `| ${cells.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`;
  console.log(line(head));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of body) console.log(line(r));
}
