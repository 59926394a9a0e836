// `make demo`: serves the simulator page and runs the wsaction echo server (the Node adapter of
// pkg/), both on 127.0.0.1, and prints both URLs. For the page's live mode it streams what the
// echo server's handles do over Server-Sent Events at /demo/events: the bytes on each socket
// (the page decodes the frames), the handshake, and every call into the handle with its result.
//
//   node www/demo-server.mjs [--port 8080] [--echo-port 8081]     (0 picks a free port)
//
// The story of each server handle comes from the engine's trace hook (handle.setTrace: every
// input and action with its bytes); the adapter and the engine are used as they ship.

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

// The connection whose upgrade is creating a handle (set around handleUpgrade).
let upgrading = null;

const K = constants;
const bufferTypeName = (n) => Object.keys(K.BufferType).find((k) => K.BufferType[k] === n) ?? String(n);

/** One line of the story from the engine's trace hook (each input and each action, with its bytes). */
function describeTrace(e) {
  switch (e.type) {
    case 'input':
      switch (e.call) {
        case 'begin_server_handshake':
          return [`begin_server_handshake(${e.bytes.length ? JSON.stringify(new TextDecoder().decode(e.bytes)) : 'no subprotocol'})`, 'app'];
        case 'send':
        case 'send_now':
          return [`send(${bufferTypeName(e.bufferType)}, ${e.bytes.length} bytes)`, 'app'];
        case 'complete_receive':
          return [`complete_action(#${e.id}, ${e.bytes.length} bytes read)`, 'complete'];
        case 'complete_action':
          return [`complete_action(#${e.id})`, 'complete'];
        case 'tick':
          return null; // the host's clock: leave it out of the story
        default:
          return [`${e.call}()`, 'app'];
      }
    case 'action': {
      const type = e.bufferType === null ? '' : ` ${bufferTypeName(e.bufferType)}`;
      switch (e.kind) {
        case K.Action.SEND_TO_NETWORK:
          return [`SEND_TO_NETWORK #${e.id}${type} ${e.bytes.length} bytes (written, completed)`, 'action'];
        case K.Action.RECEIVE_FROM_NETWORK:
          return [`RECEIVE_FROM_NETWORK #${e.id} (up to ${e.receiveCapacity} bytes, held)`, 'action'];
        case K.Action.INDICATE_SEND_COMPLETE:
          return [`INDICATE_SEND_COMPLETE #${e.id}${type}`, 'action'];
        default:
          return [`INDICATE_RECEIVE_COMPLETE${type} ${e.bytes.length} bytes${e.closeStatus !== null ? `, status ${e.closeStatus}` : ''}`, 'action'];
      }
    }
    case 'violation':
      return [`${e.error.violation ?? e.error.code} → close ${e.error.closeCode}`, 'error'];
    default:
      return null;
  }
}

// The engine's trace hook on each server handle the upgrade creates: the story comes from the
// engine itself (the driver sees each input and action), with no wrapper around the class.
const originalCreateServer = WebSocketHandle.createServer;
WebSocketHandle.createServer = function tracedCreate(...args) {
  const handle = originalCreateServer.apply(this, args);
  const conn = upgrading;
  if (conn) {
    handle.setTrace((event) => {
      const line = describeTrace(event);
      if (line) publish({ type: 'action', conn: conn.id, at: Date.now() - conn.t0, text: line[0], kind: line[1] });
    });
  }
  return handle;
};

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
