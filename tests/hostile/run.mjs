// The hostile-peer kit's runner: points every script of scripts.mjs at every host of the launcher
// table below, as a raw-socket client against each host's echo server and as a raw-socket server
// that each host's echo client connects to, and checks each script's expected outcome.
//
//   node tests/hostile/run.mjs [--hosts node,deno,wasmtime,ws] [--roles server,client] [--only NAME,...]
//
// `ws` runs every script too, to prove each one tests something a mature peer gets right, and to
// compare (where ws falls short of an expectation, its entry in KNOWN_FAILURES says so). A script a host is known to fail is listed in KNOWN_FAILURES with its issue: it
// prints KNOWN-FAIL and does not fail the run, but a known failure that passes fails the run
// (so the table stays true). Exits 1 on any other failure.
//
// Paths from the environment (the Makefile sets them): WASMTIME_HOST (the wsaction-wasmtime
// binary), WSACTION_COMPONENT (the component it loads), DENO (the deno binary).

import { spawn } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { OP, SAMPLE_KEY, acceptFor, closePayload, concat, frame, parseFrame, parseHead } from './wire.mjs';
import { clientScripts, serverScripts } from './scripts.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const cache = path.join(os.homedir(), '.cache/wsaction');
const DENO = process.env.DENO ?? path.join(root, 'tests/js/node_modules/.bin/deno');
const WASMTIME_HOST = process.env.WASMTIME_HOST ?? path.join(cache, 'host-target/release/wsaction-wasmtime');
const COMPONENT = process.env.WSACTION_COMPONENT ?? path.join(cache, 'target/component/wsaction.wasm');

/** How long an expected outcome may take to show on the wire. */
const EXPECT_MS = 5000;
/** How long a client process may take to exit once its connection is over. */
const CLIENT_EXIT_MS = 10000;

// ---------------------------------------------------------------- the launcher table
// `server` is the command of an echo server on a free port of 127.0.0.1 that prints
// "listening PORT" (or, the wasmtime host, "listening on ws://127.0.0.1:PORT/"); `client(url)` is
// the command of an echo client; `handledExit` says whether a client's exit is an orderly end (an
// error reported, no crash). Commands run from the repository root.
const HOSTS = {
  node: {
    server: ['node', 'pkg/examples/echo-node.js', '0'],
    client: (url) => ['node', 'tests/hostile/peers/wsaction-node-client.mjs', url],
    handledExit: (code) => code === 0,
  },
  deno: {
    server: [DENO, 'run', '--allow-net', '--allow-read', 'pkg/examples/echo-deno.ts', '0'],
    client: (url) => [DENO, 'run', '--allow-net', '--allow-read', 'tests/hostile/peers/wsaction-deno-client.ts', url],
    handledExit: (code) => code === 0,
  },
  wasmtime: {
    server: [WASMTIME_HOST, '--component', COMPONENT, 'echo-server', '--port', '0'],
    // The host's `echo-client` mode echoes every message until the connection is over: exit 0
    // after a closing handshake, 1 (with the reason) when the handshake or the connection failed;
    // a panic (101) or a signal is a crash.
    client: (url) => [WASMTIME_HOST, '--component', COMPONENT, 'echo-client', url],
    handledExit: (code, output) => (code === 0 || code === 1) && !/panicked|wasm trap/i.test(output),
  },
  ws: {
    server: ['node', 'tests/hostile/peers/ws-echo-server.mjs', '0'],
    client: (url) => ['node', 'tests/hostile/peers/ws-echo-client.mjs', url],
    handledExit: (code) => code === 0,
  },
};

// ---------------------------------------------------------------- the known failures
// "ROLE HOST SCRIPT" -> the issue that fixes it and what goes wrong. Keep it true: a listed
// script that passes fails the run until its line is removed.
const KNOWN_FAILURES = {
  'server ws never-read': { issue: 10, why: 'ws has no read backpressure either (its socket keeps reading while its writes pile up); issue 10 asks wsaction for it' },
};

// ---------------------------------------------------------------- a raw TCP peer

/** One TCP connection whose received bytes pile up in `buffer` until a check takes them. */
class RawPeer {
  constructor(socket) {
    this.socket = socket;
    this.buffer = new Uint8Array(0);
    this.ended = false; // FIN received
    this.closed = false;
    this.error = null;
    this.waiters = new Set();
    socket.setNoDelay(true);
    socket.on('data', (chunk) => {
      this.buffer = concat(this.buffer, chunk);
      this.#wake();
    });
    socket.on('end', () => {
      this.ended = true;
      this.#wake();
    });
    socket.on('error', (err) => {
      this.error = err;
      this.#wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.#wake();
    });
  }

  static connect(port) {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawPeer(socket));
      });
      socket.once('error', reject);
    });
  }

  get gone() {
    return this.ended || this.closed;
  }

  /** How the connection ended, for messages. */
  get endState() {
    if (this.error) return `the connection failed (${this.error.code ?? this.error.message})`;
    if (this.ended) return 'the peer closed the connection (FIN)';
    if (this.closed) return 'the connection closed';
    return 'the connection is open';
  }

  #wake() {
    for (const wake of this.waiters) wake();
  }

  /** Resolves with the first non-undefined value of check() (run on every event), or throws after ms. */
  until(check, ms, what) {
    return new Promise((resolve, reject) => {
      const attempt = () => {
        let value;
        try {
          value = check();
        } catch (err) {
          done();
          reject(err);
          return;
        }
        if (value !== undefined) {
          done();
          resolve(value);
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no ${what} within ${ms} ms (${this.endState}; ${this.buffer.length} bytes unread)`));
      }, ms);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(attempt);
      };
      this.waiters.add(attempt);
      attempt();
    });
  }

  /** Writes `data` in the stretches, chunk sizes and delays the step asks for. */
  async write(data, step) {
    const pace = step.pace ?? [{ chop: step.chop, delayMs: step.delayMs }];
    let at = 0;
    for (const [i, stretch] of pace.entries()) {
      const end = i === pace.length - 1 ? data.length : Math.min(data.length, at + stretch.bytes);
      const sizes = stretch.chop === undefined ? [end - at] : [stretch.chop].flat();
      for (let n = 0; at < end; n++) {
        if (this.gone || this.socket.destroyed) return;
        const size = Math.min(sizes[n % sizes.length], end - at);
        this.socket.write(data.subarray(at, at + size));
        at += size;
        if (stretch.delayMs > 0) await sleep(stretch.delayMs);
        else if (stretch.delayMs === 0) await new Promise(setImmediate);
      }
    }
  }

  /** The next HTTP head in the buffer (taken from it), or undefined while incomplete. */
  takeHead() {
    const head = parseHead(this.buffer);
    if (!head) return undefined;
    this.buffer = head.rest;
    return head;
  }

  /** The next frame in the buffer (taken from it), or undefined while incomplete. */
  takeFrame() {
    const f = parseFrame(this.buffer);
    if (!f) return undefined;
    this.buffer = this.buffer.subarray(f.size);
    return f;
  }

  reset() {
    this.socket.resetAndDestroy();
  }

  destroy() {
    if (!this.socket.destroyed) this.socket.destroy();
  }
}

// ---------------------------------------------------------------- steps and expectations
const printable = (b) => {
  const s = Buffer.from(b).toString('utf8');
  return s.length > 60 ? `${s.slice(0, 60)}... (${b.length} bytes)` : JSON.stringify(s);
};

/**
 * Reads whole messages and control frames from the peer. `masked` is what RFC 6455 §5.1 wants of
 * the peer's frames (a client masks, a server does not). Resolves with { kind: 'message', opcode,
 * payload } or { kind: 'close', code, reason }; pings are skipped, pongs' payloads kept in assembly.pongs.
 */
async function nextEvent(peer, masked, assembly) {
  for (;;) {
    const f = await peer.until(() => peer.takeFrame() ?? (peer.gone ? null : undefined), EXPECT_MS, 'frame');
    if (f === null) throw new Error(`${peer.endState} before the expected frames came`);
    if (f.masked !== masked) throw new Error(`the peer sent ${f.masked ? 'a masked' : 'an unmasked'} frame (opcode ${f.opcode}) (RFC 6455 §5.1)`);
    if (f.opcode === OP.CLOSE) {
      const code = f.payload.length >= 2 ? (f.payload[0] << 8) | f.payload[1] : 1005;
      return { kind: 'close', code, reason: Buffer.from(f.payload.subarray(2)).toString() };
    }
    if (f.opcode === OP.PONG) assembly.pongs.push(Buffer.from(f.payload).toString());
    if (f.opcode === OP.PING || f.opcode === OP.PONG) continue;
    if (f.opcode !== OP.CONTINUATION) assembly.opcode = f.opcode;
    assembly.parts.push(f.payload);
    if (f.fin) {
      const payload = concat(...assembly.parts);
      assembly.parts = [];
      return { kind: 'message', opcode: assembly.opcode, payload };
    }
  }
}

async function expectClose(peer, codes, masked) {
  const assembly = { parts: [], pongs: [] };
  const seen = [];
  for (;;) {
    const event = await nextEvent(peer, masked, assembly);
    if (event.kind === 'close') {
      if (!codes.includes(event.code)) throw new Error(`closed with ${event.code} "${event.reason}", expected ${codes.join(' or ')}`);
      return `close ${event.code}${seen.length ? ` after ${seen.length} message(s)` : ''}`;
    }
    seen.push(event);
  }
}

async function expectEchoes(peer, echoes, masked, pongs) {
  const assembly = { parts: [], pongs: [] };
  for (const [i, want] of echoes.entries()) {
    const event = await nextEvent(peer, masked, assembly);
    if (event.kind === 'close') throw new Error(`closed with ${event.code} "${event.reason}" before echo ${i + 1} of ${echoes.length}`);
    const wantOpcode = want.text !== undefined ? OP.TEXT : OP.BINARY;
    const wantPayload = want.text !== undefined ? Buffer.from(want.text) : Buffer.from(want.binary);
    if (event.opcode !== wantOpcode || !Buffer.from(event.payload).equals(wantPayload)) {
      throw new Error(`echo ${i + 1}: got opcode ${event.opcode} ${printable(event.payload)}, expected opcode ${wantOpcode} ${printable(wantPayload)}`);
    }
  }
  if (pongs && JSON.stringify(assembly.pongs) !== JSON.stringify(pongs)) {
    throw new Error(`pongs: got ${assembly.pongs.length} (${JSON.stringify(assembly.pongs.slice(0, 5))}...), expected ${pongs.length} (${JSON.stringify(pongs.slice(0, 5))}...)`);
  }
  // The connection stays up: a clean close both ways (RFC 6455 §7.1.2).
  peer.socket.write(frame({ opcode: OP.CLOSE, payload: closePayload(1000, 'kit done'), mask: !masked }));
  const event = await nextEvent(peer, masked, assembly);
  if (event.kind !== 'close' || event.code !== 1000) throw new Error(`after the echoes, a close 1000 was answered with ${event.kind === 'close' ? event.code : 'a message'}`);
  return `${echoes.length} echo(es)${pongs ? ` and ${pongs.length} pongs` : ''}, close 1000 answered`;
}

async function expectStatus(peer, expect) {
  const head = await peer.until(() => peer.takeHead() ?? (peer.gone ? null : undefined), EXPECT_MS, 'HTTP response');
  if (head === null) throw new Error(`${peer.endState} without an HTTP status (${peer.buffer.length} bytes came)`);
  if (!expect.status.includes(head.status)) throw new Error(`answered "${head.startLine}", expected ${expect.status.join(' or ')}`);
  if (expect.header) {
    const [name, pattern] = expect.header;
    const values = head.headers.get(name) ?? [];
    if (!values.some((v) => pattern.test(v))) throw new Error(`answered ${head.status} without ${name} matching ${pattern} (got ${JSON.stringify(values)})`);
  }
  return `status ${head.status}`;
}

/** Writes `frame` again and again without reading; records how much went out before writes stalled. */
async function flood(peer, { frame: bytes, totalBytes, stallMs }, record) {
  peer.socket.pause(); // never read: the kernel's receive window fills and the server's writes block
  let written = 0;
  while (written < totalBytes && !peer.gone) {
    written += bytes.length;
    if (!peer.socket.write(bytes)) {
      const drained = await Promise.race([
        new Promise((resolve) => peer.socket.once('drain', () => resolve(true))),
        sleep(stallMs).then(() => false),
      ]);
      if (!drained) break;
    }
  }
  record.flooded = written - peer.socket.writableLength;
}

async function runServerSteps(peer, script, record) {
  for (const step of script.steps) {
    if (step.send) await peer.write(step.send, step);
    else if (step.upgrade) {
      const head = await peer.until(() => peer.takeHead() ?? (peer.gone ? null : undefined), EXPECT_MS, '101 response');
      if (head === null) throw new Error(`${peer.endState} before the 101`);
      if (head.status !== 101) throw new Error(`the handshake was refused: "${head.startLine}"`);
      const accept = head.headers.get('sec-websocket-accept')?.[0];
      if (accept !== acceptFor(SAMPLE_KEY)) throw new Error(`Sec-WebSocket-Accept is ${accept}, expected ${acceptFor(SAMPLE_KEY)} (RFC 6455 §4.2.2)`);
    } else if (step.wait) await sleep(step.wait);
    else if (step.end) peer.socket.end();
    else if (step.reset) peer.reset();
    else if (step.flood) await flood(peer, step.flood, record);
    else throw new Error(`unknown server step ${JSON.stringify(Object.keys(step))}`);
  }
}

async function checkServerExpectation(peer, expect, record) {
  if (expect.status) return expectStatus(peer, expect);
  if (expect.close) return expectClose(peer, expect.close, false);
  if (expect.echoes) return expectEchoes(peer, expect.echoes, false, expect.pongs);
  if (expect.echoesOrEnds) {
    try {
      return await expectEchoes(peer, expect.echoesOrEnds, false);
    } catch (err) {
      if (!peer.gone) throw err;
      return `the server ended the connection (${peer.endState})`;
    }
  }
  if (expect.serverCloses) {
    await peer.until(() => (peer.gone ? true : undefined), EXPECT_MS, 'end of the connection from the server');
    return `the server ended the connection (${peer.endState})`;
  }
  if (expect.stallsBelow !== undefined) {
    const mib = (n) => `${(n / 1048576).toFixed(1)} MiB`;
    if (!(record.flooded < expect.stallsBelow)) throw new Error(`the server took ${mib(record.flooded)} without its echoes being read (limit ${mib(expect.stallsBelow)})`);
    return `the server stopped reading after ${mib(record.flooded)}`;
  }
  if (expect.peerGone) return 'reset by the kit';
  throw new Error(`unknown expectation ${JSON.stringify(expect)}`);
}

/** A well-behaved ws client: handshake, one echo, close 1000. The server must still serve. */
function normalConnection(port, label) {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/`);
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error('a normal connection afterwards got no echo within 5 s'));
    }, 5000);
    const fail = (err) => {
      clearTimeout(timer);
      socket.terminate();
      reject(new Error(`a normal connection afterwards failed: ${err.message}`));
    };
    socket.on('error', fail);
    socket.on('open', () => socket.send(`still serving after ${label}`));
    socket.on('message', (data) => {
      if (data.toString() !== `still serving after ${label}`) return fail(new Error(`wrong echo ${data}`));
      socket.close(1000);
    });
    socket.on('close', (code) => {
      clearTimeout(timer);
      if (code === 1000) resolve();
      else reject(new Error(`a normal connection afterwards closed with ${code}`));
    });
  });
}

// ---------------------------------------------------------------- processes

/** A started server or client process with its output kept for messages. */
function start(command, onLine) {
  const child = spawn(command[0], command.slice(1), { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  const proc = { child, output: '', exited: null };
  const take = (chunk) => {
    proc.output += chunk;
    if (proc.output.length > 20000) proc.output = proc.output.slice(-20000);
    if (onLine) for (const line of String(chunk).split('\n')) onLine(line);
  };
  child.stdout.on('data', take);
  child.stderr.on('data', take);
  proc.exitPromise = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      proc.exited = { code, signal };
      resolve(proc.exited);
    });
    child.on('error', (err) => {
      proc.output += `\nspawn failed: ${err.message}`;
      proc.exited = { code: null, signal: null, error: err };
      resolve(proc.exited);
    });
  });
  return proc;
}

const tail = (text, n = 4) => text.trim().split('\n').slice(-n).join(' | ');

async function startServer(host) {
  let resolvePort;
  const portPromise = new Promise((resolve) => (resolvePort = resolve));
  const proc = start(HOSTS[host].server, (line) => {
    const m = /listening (?:on ws:\/\/[^:/]+:)?(\d+)/.exec(line);
    if (m) resolvePort(Number(m[1]));
  });
  const port = await Promise.race([portPromise, proc.exitPromise.then(() => null), sleep(30000).then(() => null)]);
  if (!port) {
    proc.child.kill('SIGKILL');
    throw new Error(`the ${host} server did not start: ${tail(proc.output)}`);
  }
  return { proc, port };
}

async function stopProcess(proc) {
  if (proc.exited) return;
  proc.child.kill('SIGTERM');
  const exited = await Promise.race([proc.exitPromise, sleep(3000).then(() => null)]);
  if (!exited) {
    proc.child.kill('SIGKILL');
    await proc.exitPromise;
  }
}

// ---------------------------------------------------------------- the two roles

async function runServerRole(host, scripts, report) {
  let server = await startServer(host);
  try {
    for (const script of scripts) {
      const started = Date.now();
      let detail;
      let error = null;
      try {
        for (let i = 0; i < (script.times ?? 1); i++) {
          const peer = await RawPeer.connect(server.port);
          const record = {};
          try {
            await runServerSteps(peer, script, record);
            detail = await checkServerExpectation(peer, script.expect, record);
          } finally {
            peer.destroy();
          }
        }
      } catch (err) {
        error = err.message;
      }
      // Afterwards the server must still accept a normal connection.
      try {
        await normalConnection(server.port, script.name);
      } catch (err) {
        const died = server.proc.exited ? ` (the server process exited: code ${server.proc.exited.code}, signal ${server.proc.exited.signal}; ${tail(server.proc.output)})` : '';
        error = `${error ? `${error}; ` : ''}${err.message}${died}`;
      }
      report('server', host, script, error, detail, Date.now() - started);
      if (server.proc.exited || error) {
        // A dead or wedged server would fail every later script: start a fresh one.
        await stopProcess(server.proc);
        server = await startServer(host);
      }
    }
  } finally {
    await stopProcess(server.proc);
  }
}

/** The kit's server for the client role: hands each connection to the script named by its path. */
async function kitServer() {
  const waiting = new Map(); // path -> resolve(peer)
  const early = new Map();
  const server = net.createServer((socket) => {
    const peer = new RawPeer(socket);
    // The script is named by the request path; read the head before routing.
    peer
      .until(() => parseHead(peer.buffer) ?? (peer.gone ? null : undefined), 15000, 'request head')
      .then((head) => {
        if (!head) return peer.destroy();
        const name = head.startLine.split(' ')[1]?.slice(1);
        const resolve = waiting.get(name);
        if (resolve) resolve(peer);
        else early.set(name, peer);
      })
      .catch(() => peer.destroy());
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    /** The connection a client made for `name`. */
    accept(name, ms) {
      if (early.has(name)) {
        const peer = early.get(name);
        early.delete(name);
        return Promise.resolve(peer);
      }
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(name);
          reject(new Error(`the client did not connect within ${ms} ms`));
        }, ms);
        waiting.set(name, (peer) => {
          clearTimeout(timer);
          waiting.delete(name);
          resolve(peer);
        });
      });
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

async function runClientSteps(peer, script) {
  for (const step of script.steps) {
    if (step.respond) {
      const head = parseHead(peer.buffer);
      peer.buffer = head.rest;
      const key = head.headers.get('sec-websocket-key')?.[0];
      if (!key) throw new Error(`the client's request has no Sec-WebSocket-Key: "${head.startLine}"`);
      await peer.write(concat(step.respond(key), step.then ?? new Uint8Array(0)), step);
    } else if (step.send) await peer.write(step.send, step);
    else if (step.wait) await sleep(step.wait);
    else if (step.end) peer.socket.end();
    else if (step.reset) peer.reset();
    else throw new Error(`unknown client step ${JSON.stringify(Object.keys(step))}`);
  }
}

async function checkClientExpectation(peer, expect) {
  if (expect.close) return expectClose(peer, expect.close, true);
  if (expect.echoes) return expectEchoes(peer, expect.echoes, true);
  if (expect.handshakeFails) {
    await peer.until(() => (peer.gone || peer.buffer.length ? true : undefined), EXPECT_MS, 'end of the connection from the client');
    if (peer.buffer.length) throw new Error(`the client sent ${peer.buffer.length} bytes after a handshake it must fail (RFC 6455 §4.1)`);
    return `the client dropped the connection (${peer.endState})`;
  }
  if (expect.clientGone) return 'reset by the kit';
  throw new Error(`unknown expectation ${JSON.stringify(expect)}`);
}

async function runClientScript(host, kit, script) {
  const url = `ws://127.0.0.1:${kit.port}/${script.name}`;
  const proc = start(HOSTS[host].client(url));
  let detail;
  let error = null;
  try {
    const peer = await Promise.race([
      kit.accept(script.name, 30000),
      proc.exitPromise.then((e) => Promise.reject(new Error(`the client exited (code ${e.code}) before connecting: ${tail(proc.output)}`))),
    ]);
    try {
      await runClientSteps(peer, script);
      detail = await checkClientExpectation(peer, script.expect);
    } finally {
      peer.destroy();
    }
  } catch (err) {
    error = err.message;
  }
  // Afterwards the client must end by itself, without a crash.
  const exited = await Promise.race([proc.exitPromise, sleep(CLIENT_EXIT_MS).then(() => null)]);
  if (!exited) {
    proc.child.kill('SIGKILL');
    error = `${error ? `${error}; ` : ''}the client did not exit within ${CLIENT_EXIT_MS / 1000} s after its connection ended`;
  } else if (!HOSTS[host].handledExit(exited.code, proc.output)) {
    error = `${error ? `${error}; ` : ''}the client crashed (exit code ${exited.code}, signal ${exited.signal}): ${tail(proc.output)}`;
  }
  return { error, detail };
}

async function runClientRole(host, scripts, report, parallel) {
  const kit = await kitServer();
  try {
    // Known failures first: some of them wait out a timeout, which then overlaps the other scripts.
    const known = (script) => (KNOWN_FAILURES[`client ${host} ${script.name}`] ? 0 : 1);
    const queue = [...scripts].sort((a, b) => known(a) - known(b));
    const worker = async () => {
      for (let script = queue.shift(); script; script = queue.shift()) {
        const started = Date.now();
        const { error, detail } = await runClientScript(host, kit, script);
        report('client', host, script, error, detail, Date.now() - started);
      }
    };
    await Promise.all(Array.from({ length: parallel }, worker));
  } finally {
    await kit.close();
  }
}

// ---------------------------------------------------------------- main

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1].split(',') : fallback;
}

const hosts = option('hosts', Object.keys(HOSTS));
const roles = option('roles', ['server', 'client']);
const only = option('only', null);
for (const host of hosts) if (!HOSTS[host]) throw new Error(`unknown host ${host} (known: ${Object.keys(HOSTS).join(', ')})`);
const pick = (scripts) => (only ? scripts.filter((s) => only.includes(s.name)) : scripts);

const counts = { passed: 0, failed: 0, known: 0, unexpected: 0 };
const problems = [];
function report(role, host, script, error, detail, ms) {
  const key = `${role} ${host} ${script.name}`;
  const known = KNOWN_FAILURES[key];
  let line;
  if (known && error) {
    counts.known++;
    line = `KNOWN-FAIL ${key} (issue ${known.issue}: ${known.why}) -- ${error}`;
  } else if (known) {
    counts.unexpected++;
    line = `UNEXPECTED-PASS ${key}: listed as a known failure (issue ${known.issue}) but passed (${detail}); remove it from KNOWN_FAILURES`;
    problems.push(line);
  } else if (error) {
    counts.failed++;
    line = `FAIL ${key} [RFC 6455 ${script.rfc}] -- ${error}`;
    problems.push(line);
  } else {
    counts.passed++;
    line = `ok   ${key} -- ${detail}`;
  }
  console.log(`${line} [${ms} ms]`);
}

const started = Date.now();
const staleKnown = Object.keys(KNOWN_FAILURES).filter((key) => {
  const [role, , name] = key.split(' ');
  return !(role === 'server' ? serverScripts : clientScripts).some((s) => s.name === name);
});
if (staleKnown.length) {
  console.log(`KNOWN_FAILURES names scripts that do not exist: ${staleKnown.join(', ')}`);
  process.exit(1);
}
const groupTimes = [];
const timed = async (label, run) => {
  const t = Date.now();
  try {
    await run;
  } finally {
    groupTimes.push(`${label} ${((Date.now() - t) / 1000).toFixed(1)} s`);
  }
};
const jobs = [];
for (const host of hosts) {
  if (roles.includes('server')) jobs.push(timed(`server ${host}`, runServerRole(host, pick(serverScripts), report)));
  if (roles.includes('client')) jobs.push(timed(`client ${host}`, runClientRole(host, pick(clientScripts), report, 4)));
}
const outcomes = await Promise.allSettled(jobs);
for (const o of outcomes) {
  if (o.status === 'rejected') {
    counts.failed++;
    problems.push(`FAIL ${o.reason?.message ?? o.reason}`);
    console.log(problems.at(-1));
  }
}
const seconds = ((Date.now() - started) / 1000).toFixed(1);
console.log(`\nhostile kit: hosts ${hosts.join(', ')}; roles ${roles.join(', ')}; ${seconds} s (${groupTimes.join(', ')})`);
if (problems.length) console.log(`problems:\n  ${problems.join('\n  ')}`);
console.log(`hostile: ${counts.passed} passed, ${counts.failed + counts.unexpected} failed, ${counts.known} known failures`);
process.exit(problems.length ? 1 : 0);
