// permessage-deflate between the component under wasmtime (`--deflate`) and Node `ws` with
// perMessageDeflate on, in both roles, with a counting TCP relay between them that parses every
// frame header in both directions, so the test sees what went over the wire and not only what
// each side says it agreed:
//  1. the host's echo-server --deflate (ws's defaults, then with every option set), a ws client;
//  2. the host's echo-client --deflate against a ws server that sends, checks each echo and closes.
// Each run: the extension agreed on both sides (the handshake's Sec-WebSocket-Extensions, ws's
// `extensions`, the host's summary), text, binary, a compressible 100 KiB text and a 4 MiB binary
// echoed intact, RSV1 (RFC 7692 6) on the first frame of the compressed messages in both
// directions, and the compressible text far smaller on the wire than its payload.
// Every process and server is started here on 127.0.0.1 and stopped here.
// Usage: node deflate-peers.mjs HOST_BINARY COMPONENT
import { createRequire } from 'node:module';
import { spawn } from 'node:child_process';
import net from 'node:net';
import assert from 'node:assert/strict';

// ws is installed with the jco tests' dependencies (tests/jco/package.json).
const require = createRequire(new URL('../jco/package.json', import.meta.url));
const WebSocket = require('ws');
const { WebSocketServer } = WebSocket;

const [host, component] = process.argv.slice(2);
if (!host || !component) throw new Error('usage: node deflate-peers.mjs HOST_BINARY COMPONENT');
const timeout = setTimeout(() => { console.error('deflate-peers: timed out'); process.exit(1); }, 120_000);
const children = new Set();
process.on('exit', () => { for (const child of children) child.kill(); });

/** Starts the host; resolves with the child and a promise of its exit code and output. */
function startHost(args) {
  const child = spawn(host, ['--component', component, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '', stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => child.on('exit', (code) => {
    children.delete(child);
    resolve({ code, stdout, stderr });
  }));
  const url = new Promise((resolve, reject) => {
    child.stdout.on('data', () => {
      const match = /ws:\/\/127\.0\.0\.1:\d+\//.exec(stdout);
      if (match) resolve(match[0]);
    });
    exited.then(({ code }) => reject(new Error(`the host exited (${code}) before listening:\n${stdout}${stderr}`)));
  });
  url.catch(() => {}); // a client never listens: only a server's caller awaits the URL
  return { child, url, exited, output: () => stdout + stderr };
}

/**
 * One direction of the relay: passes bytes on unchanged and, after the HTTP head, reads each frame
 * header (RFC 6455 5.2) without keeping payloads: { opcode, fin, rsv1, length } per frame.
 */
class FrameCounter {
  constructor() {
    this.frames = [];
    this.wireBytes = 0; // frame bytes after the HTTP head, headers included
    this.head = Buffer.alloc(0);
    this.inHead = true;
    this.pending = Buffer.alloc(0); // an incomplete frame header
    this.skip = 0; // payload bytes of the current frame still to pass
  }
  push(chunk) {
    if (this.inHead) {
      this.head = Buffer.concat([this.head, chunk]);
      const end = this.head.indexOf('\r\n\r\n');
      if (end < 0) return;
      this.inHead = false;
      chunk = this.head.subarray(end + 4);
    }
    this.wireBytes += chunk.length;
    let data = Buffer.concat([this.pending, chunk]);
    for (;;) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, data.length);
        this.skip -= n;
        data = data.subarray(n);
        if (this.skip > 0) break;
      }
      if (data.length < 2) break;
      const masked = (data[1] & 0x80) !== 0;
      let length = data[1] & 0x7f, at = 2;
      if (length === 126) { if (data.length < 4) break; length = data.readUInt16BE(2); at = 4; }
      else if (length === 127) { if (data.length < 10) break; length = Number(data.readBigUInt64BE(2)); at = 10; }
      if (masked) at += 4;
      if (data.length < at) break;
      this.frames.push({ opcode: data[0] & 0x0f, fin: (data[0] & 0x80) !== 0, rsv1: (data[0] & 0x40) !== 0, length });
      this.skip = length;
      data = data.subarray(at);
    }
    this.pending = Buffer.from(data);
  }
  /** The first frame of each data message: its opcode, whether RSV1 was set, and the payload bytes of the message's frames. */
  messages() {
    const out = [];
    let current = null;
    for (const frame of this.frames) {
      if (frame.opcode >= 8) continue; // control frames may come between fragments
      if (frame.opcode !== 0) current = { opcode: frame.opcode, rsv1: frame.rsv1, wire: 0 };
      current.wire += frame.length;
      if (frame.fin) out.push(current);
    }
    return out;
  }
}

/** A relay from a port of its own to `target`, counting frames each way. */
async function relay(targetPort) {
  const toServer = new FrameCounter(), toClient = new FrameCounter();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    client.on('data', (d) => { toServer.push(d); upstream.write(d); });
    upstream.on('data', (d) => { toClient.push(d); client.write(d); });
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: server.address().port, toServer, toClient, close: () => server.close() };
}

const compressibleText = JSON.stringify(Array.from({ length: 1600 }, (_, i) => ({ id: i, kind: 'quote', price: 100 + (i % 7) }))).slice(0, 100 * 1024);
const bigBinary = Buffer.alloc(4 * 1024 * 1024);
for (let i = 0; i < bigBinary.length; i++) bigBinary[i] = (i % 251) ^ ((i >> 12) & 0x0f);
/** What each run sends and expects back: small text and binary, a compressible 100 KiB text, 4 MiB binary. */
const MESSAGES = [
  { data: 'hello through deflate \u{1F980}', binary: false },
  { data: Buffer.from(Array.from({ length: 2000 }, (_, i) => (i * 7) & 0xff)), binary: true },
  { data: compressibleText.padEnd(100 * 1024, ' '), binary: false },
  { data: bigBinary, binary: true },
];

function expectEcho(message, data, isBinary) {
  assert.equal(isBinary, message.binary);
  const expected = Buffer.from(message.data);
  assert.equal(data.length, expected.length);
  assert.ok(Buffer.from(data).equals(expected), 'the echo is byte for byte the message');
}

/** Both directions carried the messages compressed (RSV1 on their first frame) and small on the wire. */
function checkWire(label, counters) {
  for (const [direction, counter] of Object.entries(counters)) {
    const messages = counter.messages();
    assert.equal(messages.length, MESSAGES.length, `${label} ${direction}: one wire message per message`);
    messages.forEach((m, i) => {
      assert.equal(m.opcode, MESSAGES[i].binary ? 2 : 1, `${label} ${direction} message ${i}: opcode`);
      // The 27-byte text is under the threshold (1024 on both sides), which ws and the engine
      // apply only without context takeover: compressed or not by the direction's parameters.
      if (i !== 0) assert.ok(m.rsv1, `${label} ${direction} message ${i}: no RSV1`);
    });
    const text = messages[2];
    assert.ok(text.wire < 20 * 1024, `${label} ${direction}: the 100 KiB text took ${text.wire} bytes on the wire`);
    console.log(`  ${direction}: ${messages.map((m) => `${m.rsv1 ? 'RSV1' : 'plain'} ${m.wire} B`).join(', ')} (payloads ${MESSAGES.map((m) => Buffer.byteLength(m.data)).join(', ')})`);
  }
}

/** Role 1: the host serves, a ws client (perMessageDeflate on, ws's client default) talks through the relay. */
async function hostAsServer(deflateFlag, expectResponse) {
  const server = startHost(['echo-server', '--port', '0', deflateFlag]);
  const port = Number(new URL(await server.url).port);
  const wire = await relay(port);
  const socket = new WebSocket(`ws://127.0.0.1:${wire.port}/`, { perMessageDeflate: true });
  let response = '';
  socket.on('upgrade', (res) => { response = res.headers['sec-websocket-extensions'] ?? ''; });
  const queue = [];
  let waiter = null;
  socket.on('message', (data, isBinary) => {
    const item = { data, isBinary };
    if (waiter) { const w = waiter; waiter = null; w(item); } else queue.push(item);
  });
  const next = () => new Promise((resolve) => { if (queue.length) resolve(queue.shift()); else waiter = resolve; });
  await new Promise((resolve, reject) => { socket.once('open', resolve); socket.once('error', reject); });
  assert.match(response, expectResponse, `the host's 101 agreed: ${response}`);
  assert.equal(socket.extensions, 'permessage-deflate', "ws's extensions");
  for (const message of MESSAGES) {
    socket.send(message.data, { binary: message.binary });
    const echo = await next();
    expectEcho(message, echo.data, echo.isBinary);
  }
  const closed = new Promise((resolve) => socket.once('close', (code) => resolve(code)));
  socket.close(1000, 'done');
  assert.equal(await closed, 1000);
  console.log(`host echo-server ${deflateFlag}, ws client: agreed "${response}"; ${MESSAGES.length} messages echoed intact, close 1000`);
  checkWire('host as server', { 'ws -> host': wire.toServer, 'host -> ws': wire.toClient });
  // The host's own account of the connection names the extension too.
  for (let i = 0; i < 50 && !/extensions: permessage-deflate/.test(server.output()); i++) await new Promise((r) => setTimeout(r, 100));
  assert.match(server.output(), /echoed 4 messages .*extensions: permessage-deflate/);
  server.child.kill();
  await server.exited;
  wire.close();
}

/** Role 2: a ws server with perMessageDeflate sends each message to the host's echo-client and checks the echo. */
async function hostAsClient(perMessageDeflate, expectRequest) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate });
  await new Promise((resolve) => wss.once('listening', resolve));
  const wire = await relay(wss.address().port);
  const done = new Promise((resolve, reject) => {
    wss.once('connection', async (socket, request) => {
      try {
        const offered = request.headers['sec-websocket-extensions'] ?? '';
        assert.match(offered, expectRequest, `the host's offer: ${offered}`);
        assert.equal(socket.extensions, 'permessage-deflate', "ws's extensions");
        const queue = [];
        let waiter = null;
        socket.on('message', (data, isBinary) => {
          const item = { data, isBinary };
          if (waiter) { const w = waiter; waiter = null; w(item); } else queue.push(item);
        });
        const next = () => new Promise((r) => { if (queue.length) r(queue.shift()); else waiter = r; });
        for (const message of MESSAGES) {
          socket.send(message.data, { binary: message.binary });
          const echo = await next();
          expectEcho(message, echo.data, echo.isBinary);
        }
        socket.close(1000, 'checked');
        resolve(offered);
      } catch (error) {
        reject(error);
      }
    });
  });
  const client = startHost(['echo-client', `ws://127.0.0.1:${wire.port}/`, '--deflate']);
  const offered = await done;
  const { code, stdout, stderr } = await client.exited;
  assert.equal(code, 0, `the host's echo-client failed:\n${stdout}${stderr}`);
  assert.match(stdout, /echoed 4 messages .*close status Some\(1000\).*extensions: permessage-deflate/);
  console.log(`host echo-client --deflate, ws server ${JSON.stringify(perMessageDeflate)}: offered "${offered}"; ${stdout.trim()}`);
  checkWire('host as client', { 'host -> ws': wire.toServer, 'ws -> host': wire.toClient });
  wire.close();
  await new Promise((resolve) => wss.close(resolve));
}

await hostAsServer('--deflate', /^permessage-deflate/);
await hostAsServer(
  '--deflate=serverNoContextTakeover,clientNoContextTakeover,serverMaxWindowBits=10,clientMaxWindowBits=10,level=9,memLevel=9',
  /^permessage-deflate(?=.*server_no_context_takeover)(?=.*client_no_context_takeover)(?=.*server_max_window_bits=10)(?=.*client_max_window_bits=10)/,
);
await hostAsClient(true, /^permessage-deflate/);
await hostAsClient({ serverNoContextTakeover: true, serverMaxWindowBits: 9 }, /^permessage-deflate/);
clearTimeout(timeout);
console.log('deflate-peers: all passed');
