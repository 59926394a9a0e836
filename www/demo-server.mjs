// `make demo`: serves the simulator page and runs the wsaction echo server (the Node adapter of
// pkg/), both on 127.0.0.1, and prints both URLs. For the page's live mode it streams what the
// echo server's handles do over Server-Sent Events at /demo/events: the bytes on each socket
// (the page decodes the frames), the handshake, and every call into the handle with its result.
//
//   node www/demo-server.mjs [--port 8080] [--echo-port 8081]     (0 picks a free port)
//
// Tracing wraps WebSocketHandle's methods in this process only; the adapter and the engine are
// used as they ship.

import http from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketHandle, handleUpgrade, constants } from '../pkg/node.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
// What the page needs, and nothing else of the repository.
const SERVED = ['/www/', '/pkg/', '/tests/scenarios/'];
const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json; charset=utf-8', '.wasm': 'application/wasm',
  '.ts': 'text/plain; charset=utf-8', '.md': 'text/plain; charset=utf-8', '.svg': 'image/svg+xml',
};

function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
}

// ------------------------------------------------------------------ the side channel

const subscribers = new Set();
let nextConn = 1;

function publish(event) {
  const line = `data: ${JSON.stringify(event)}\n\n`;
  for (const res of subscribers) res.write(line);
}

const hex = (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex');

// Which connection each handle belongs to (set while handleUpgrade creates it).
const traced = new WeakMap();
let upgrading = null;

const K = constants;
const bufferTypeName = (n) => Object.keys(K.BufferType).find((k) => K.BufferType[k] === n) ?? String(n);

function trace(handle, text, kind = 'action') {
  const conn = traced.get(handle);
  if (conn) publish({ type: 'action', conn: conn.id, at: Date.now() - conn.t0, text, kind });
}

function describeDrain(r) {
  const parts = [];
  if (r.out.length) parts.push(`SEND_TO_NETWORK ${r.out.length} bytes (written, completed)`);
  const ev = r.events;
  for (let i = 0; i < ev.length; i += 6) {
    const [kind, bufferType, closeStatus, , start, end] = ev.slice(i, i + 6);
    if (kind === K.Action.INDICATE_SEND_COMPLETE) parts.push(`INDICATE_SEND_COMPLETE ${bufferTypeName(bufferType)}`);
    else parts.push(`INDICATE_RECEIVE_COMPLETE ${bufferTypeName(bufferType)} ${end - start} bytes${closeStatus >= 0 ? `, status ${closeStatus}` : ''}`);
  }
  if (r.receiveId) parts.push(`RECEIVE_FROM_NETWORK #${r.receiveId} (up to ${r.receiveCapacity} bytes, held)`);
  if (r.error) parts.push(`${r.error.code} → close ${r.error.closeCode}`);
  return parts.length ? parts.join('; ') : 'NO_ACTION';
}

function wrap(name, describe) {
  const original = WebSocketHandle.prototype[name];
  WebSocketHandle.prototype[name] = function traceCall(...args) {
    let result;
    try {
      result = original.apply(this, args);
    } catch (e) {
      trace(this, `${name}(…) threw ${e.code ?? e.name}: ${e.message}`, 'error');
      throw e;
    }
    const text = describe.call(this, args, result);
    if (text) trace(this, text, name === 'drain' ? 'action' : 'app');
    return result;
  };
}

const originalCreateServer = WebSocketHandle.createServer;
WebSocketHandle.createServer = function tracedCreate(...args) {
  const handle = originalCreateServer.apply(this, args);
  if (upgrading) traced.set(handle, upgrading);
  return handle;
};
wrap('beginServerHandshake', ([selected], headers) => `begin_server_handshake(${selected ? JSON.stringify(selected) : 'no subprotocol'}) → ${headers.map(([n, v]) => `${n}: ${v}`).join(', ')}`);
const describeSend = ([type, data]) => `send(${bufferTypeName(type)}, ${data?.length ?? (data ? `status ${data.status}` : 'no data')}${data?.length != null ? ' bytes' : ''})`;
wrap('send', describeSend);
// The adapter sends through the one-crossing fast path: a send and the drain after it.
wrap('sendAndDrain', (args, r) => `${describeSend(args)} + drain() → ${describeDrain(r)}`);
// Several queued messages of one type go in one call: each a send, with a drain after each.
wrap('sendMany', ([type, messages], r) => `${messages.slice(0, r.sent).map((m) => describeSend([type, m])).join(' + ')} + drain() → ${describeDrain(r)}${r.sendError ? `; ${describeSend([type, messages[r.sent]])} threw ${r.sendError.code}` : ''}`);
wrap('receive', () => 'receive()');
wrap('completeReceive', ([id, data]) => `complete_action(#${id}, ${data.length} bytes read)`);
wrap('completeAction', ([id, n]) => `complete_action(#${id}, ${n})`);
wrap('getAction', (args, a) => (a.kind ? `get_action → #${a.id} kind ${a.kind}` : null));
// A drain that found nothing to do is the host polling; leave it out of the story.
wrap('drain', (args, r) => (r.out.length || r.events.length || r.receiveId || r.error ? `drain() → ${describeDrain(r)}` : null));
wrap('abort', () => 'abort()');

// ------------------------------------------------------------------ the echo server

function tapSocket(socket, conn) {
  const write = socket.write;
  socket.write = function tappedWrite(chunk, ...rest) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    publish({ type: 'bytes', conn: conn.id, at: Date.now() - conn.t0, dir: 'out', hex: hex(bytes) });
    return write.call(this, chunk, ...rest);
  };
  socket.on('data', (chunk) => publish({ type: 'bytes', conn: conn.id, at: Date.now() - conn.t0, dir: 'in', hex: hex(chunk) }));
  socket.on('close', () => publish({ type: 'closed', conn: conn.id, at: Date.now() - conn.t0, text: 'TCP connection closed', kind: 'host' }));
}

function requestHead(req) {
  let head = `${req.method} ${req.url} HTTP/${req.httpVersion}\r\n`;
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) head += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
  return Buffer.from(`${head}\r\n`, 'latin1');
}

export function startEcho(port) {
  const server = http.createServer((req, res) => {
    res.writeHead(426, { 'Content-Type': 'text/plain', Upgrade: 'websocket', Connection: 'close' });
    res.end('The wsaction echo server: connect with a WebSocket.\n');
  });
  server.on('upgrade', (req, socket, head) => {
    const conn = { id: nextConn++, t0: Date.now() };
    publish({ type: 'open', conn: conn.id, at: 0, text: `TCP connection from ${socket.remoteAddress}:${socket.remotePort}`, kind: 'host' });
    publish({ type: 'bytes', conn: conn.id, at: 0, dir: 'in', hex: hex(requestHead(req)) + (head?.length ? hex(head) : '') });
    tapSocket(socket, conn);
    upgrading = conn;
    let connection;
    try {
      connection = handleUpgrade(req, socket, head, { protocols: ['echo', 'chat'] });
    } finally {
      upgrading = null;
    }
    if (!connection) return;
    // The echo: every message back as it came, text as text and binary as binary.
    connection.on('message', (data, isBinary) => connection.send(data, { binary: isBinary }));
    connection.on('error', () => {});
    connection.on('close', (code, reason) => publish({ type: 'action', conn: conn.id, at: Date.now() - conn.t0, text: `connection closed: code ${code}${reason ? ` reason ${JSON.stringify(reason)}` : ''}`, kind: 'complete' }));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

// ------------------------------------------------------------------ the page

async function serveFile(req, res, pathname) {
  let path;
  try {
    path = normalize(join(ROOT, decodeURIComponent(pathname)));
  } catch {
    res.writeHead(400).end();
    return;
  }
  // Checked after decoding: an encoded "../" must not step out of the served folders.
  if (!SERVED.some((prefix) => path.startsWith(join(ROOT, prefix))) || path.includes(`${sep}node_modules${sep}`)) {
    res.writeHead(403).end();
    return;
  }
  try {
    const info = await stat(path);
    if (info.isDirectory()) return serveFile(req, res, `${pathname.replace(/\/?$/, '/')}index.html`);
    const body = await readFile(path);
    res.writeHead(200, { 'Content-Type': TYPES[extname(path)] ?? 'application/octet-stream', 'Cache-Control': 'no-store' });
    res.end(body);
  } catch {
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end(`not found: ${pathname}\n`);
  }
}

export function startPage(port, echoPort) {
  const server = http.createServer((req, res) => {
    const { pathname } = new URL(req.url, 'http://localhost');
    if (pathname === '/' || pathname === '/www') {
      res.writeHead(302, { Location: '/www/' }).end();
    } else if (pathname === '/demo/config.json') {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      res.end(JSON.stringify({ echoUrl: `ws://127.0.0.1:${echoPort}/`, events: '/demo/events' }));
    } else if (pathname === '/demo/events') {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
      res.write(': wsaction demo side channel\n\n');
      subscribers.add(res);
      req.on('close', () => subscribers.delete(res));
    } else if (SERVED.some((prefix) => pathname.startsWith(prefix))) {
      serveFile(req, res, pathname);
    } else {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

async function main() {
  const echo = await startEcho(option('echo-port', 8081));
  const echoPort = echo.address().port;
  const page = await startPage(option('port', 8080), echoPort);
  const pagePort = page.address().port;
  console.log(`simulator  http://127.0.0.1:${pagePort}/www/`);
  console.log(`live mode  http://127.0.0.1:${pagePort}/www/#live`);
  console.log(`echo server ws://127.0.0.1:${echoPort}/ (wsaction on Node)`);
  const stop = () => {
    for (const res of subscribers) res.end();
    page.close();
    echo.close();
    page.closeAllConnections?.();
    echo.closeAllConnections?.();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === normalize(process.argv[1])) main();
