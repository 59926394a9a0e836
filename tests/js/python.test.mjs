// Python `websockets` client against the wsaction Node server, from a venv this test makes
// (under ~/.cache/wsaction/venv, outside the clone; reused when it already has websockets), and
// with permessage-deflate (websockets' default) in both roles against the ws-style classes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { createInterface } from 'node:readline';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer, WebSocket, WebSocketServer } from '../../pkg/node.js';

const venv = process.env.WSACTION_VENV ?? join(homedir(), '.cache', 'wsaction', 'venv');
const python = join(venv, 'bin', 'python');

function ensureVenv() {
  if (!existsSync(python)) execFileSync('python3', ['-m', 'venv', venv], { stdio: 'inherit' });
  try {
    execFileSync(python, ['-c', 'import websockets.asyncio.client'], { stdio: 'ignore' });
  } catch {
    execFileSync(python, ['-m', 'pip', 'install', '--quiet', 'websockets>=13'], { stdio: 'inherit' });
  }
}

test('Python websockets client against the wsaction Node server', async () => {
  ensureVenv();
  const server = createServer({ port: 0, host: '127.0.0.1', protocols: ['chat'] });
  server.on('connection', (c) => {
    c.on('message', (data, isBinary) => {
      if (data === 'please close') c.close(4011, 'node bye');
      else c.send(data, { binary: isBinary });
    });
  });
  const { port } = await server.listening;
  try {
    const script = fileURLToPath(new URL('python-client.py', import.meta.url));
    const stdout = await new Promise((resolve, reject) => {
      execFile(python, [script, `ws://127.0.0.1:${port}/`], { timeout: 60000 }, (err, out, errOut) => {
        if (err) reject(new Error(`${err.message}\n${errOut}`));
        else resolve(out);
      });
    });
    const seen = JSON.parse(stdout);
    assert.deepEqual(seen, {
      subprotocol: 'chat',
      text: 'héllo from python',
      binary: [0, 1, 254, 255],
      empty: '',
      fragmented: 'frag-ment',
      big: true,
      pong: true,
      close: [4010, 'python bye'],
      server_close: [4011, 'node bye'],
    });
  } finally {
    await server.close();
  }
});

const RECORDS = Array.from({ length: 2000 }, (_, i) => ({ id: i, name: 'alpha', kind: 'ticker', value: i * 7.5, tags: ['a', 'b', 'c'] }));
// Python's json.dumps with separators=(",", ":") writes 15000.0 as 15000.0; JSON.stringify as 15000.
const TEXT_BYTES_AT_LEAST = JSON.stringify(RECORDS).length;
const deflateScript = fileURLToPath(new URL('python-deflate.py', import.meta.url));

/** A TCP relay on 127.0.0.1 to `port` that counts the bytes each way (what went on the wire). */
async function countingRelay(port) {
  const counts = { toServer: 0, toClient: 0 };
  const relay = net.createServer((inbound) => {
    const outbound = net.connect(port, '127.0.0.1');
    inbound.on('data', (b) => (counts.toServer += b.length));
    outbound.on('data', (b) => (counts.toClient += b.length));
    inbound.pipe(outbound).on('error', () => inbound.destroy());
    outbound.pipe(inbound).on('error', () => outbound.destroy());
    inbound.on('error', () => outbound.destroy());
    outbound.on('error', () => inbound.destroy());
  });
  await new Promise((resolve) => relay.listen(0, '127.0.0.1', resolve));
  return { port: relay.address().port, counts, close: () => new Promise((resolve) => relay.close(resolve)) };
}

/** Python websockets' agreed permessage-deflate at its defaults (context takeover, window 15). */
const PYTHON_DEFAULT_AGREED = {
  name: 'permessage-deflate',
  remote_no_context_takeover: false,
  local_no_context_takeover: false,
  remote_max_window_bits: 15,
  local_max_window_bits: 15,
};

test('Python websockets client (deflate on by default) and a wsaction WebSocketServer with perMessageDeflate exchange compressed messages', async () => {
  ensureVenv();
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: true });
  await once(server, 'listening');
  const extensions = [];
  server.on('connection', (ws) => {
    extensions.push(ws.extensions);
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  const relay = await countingRelay(server.address().port);
  try {
    const stdout = await new Promise((resolve, reject) => {
      execFile(python, [deflateScript, 'client', `ws://127.0.0.1:${relay.port}/`], { timeout: 60000 }, (err, out, errOut) => {
        if (err) reject(new Error(`${err.message}\n${errOut}`));
        else resolve(out);
      });
    });
    const seen = JSON.parse(stdout);
    assert.deepEqual(seen, { extensions: [PYTHON_DEFAULT_AGREED], echoes: [true, true, true, true], close: [4010, 'python bye'] });
    assert.deepEqual(extensions, ['permessage-deflate']);
    // Three long texts each way: compressed, they take a small part of their size.
    const wire = relay.counts.toServer + relay.counts.toClient;
    assert.ok(wire * 5 < TEXT_BYTES_AT_LEAST * 6, `${wire} bytes on the wire for ${TEXT_BYTES_AT_LEAST * 6}+ bytes of text`);
  } finally {
    await relay.close();
    await new Promise((resolve) => server.close(resolve));
  }
});

test('a wsaction WebSocket (perMessageDeflate by default) and a Python websockets server exchange compressed messages', async () => {
  ensureVenv();
  const child = spawn(python, [deflateScript, 'server'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const iterator = lines[Symbol.asyncIterator]();
  const { port } = JSON.parse((await iterator.next()).value);
  const relay = await countingRelay(port);
  try {
    const client = new WebSocket(`ws://127.0.0.1:${relay.port}/`);
    await once(client, 'open');
    assert.equal(client.extensions, 'permessage-deflate');
    const text = JSON.stringify(RECORDS);
    for (const message of [text, 'short', text]) {
      const reply = once(client, 'message');
      client.send(message);
      assert.equal(String((await reply)[0]), message);
    }
    // A fragmented message: its first fragment decides that it is compressed (RFC 7692 6.1).
    const reply = once(client, 'message');
    client.send('frag-', { fin: false });
    client.send(text, { fin: true });
    assert.equal(String((await reply)[0]), `frag-${text}`);
    client.close(4011, 'node bye');
    await once(client, 'close');
    const seen = JSON.parse((await iterator.next()).value);
    // websockets' server asks for 4 KiB windows both ways by default (server_max_window_bits=12,
    // and client_max_window_bits=12 as our offer allows): our inflater and compressor take it.
    const agreed = { ...PYTHON_DEFAULT_AGREED, remote_max_window_bits: 12, local_max_window_bits: 12 };
    assert.deepEqual(seen, { extensions: [agreed], messages: 4, close: [4011, 'node bye'] });
    const wire = relay.counts.toServer + relay.counts.toClient;
    assert.ok(wire * 5 < text.length * 6, `${wire} bytes on the wire for ${text.length * 6}+ bytes of text`);
  } finally {
    child.kill();
    await relay.close();
  }
});
