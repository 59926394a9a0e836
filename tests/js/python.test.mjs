// Python `websockets` client against the wsaction Node server, from a venv this test makes
// (under ~/.cache/wsaction/venv, outside the clone; reused when it already has websockets).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from '../../pkg/node.js';

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
