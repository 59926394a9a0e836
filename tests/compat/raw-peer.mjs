// A raw-socket WebSocket server (node:net, written here byte by byte, no WebSocket library) that
// answers the upgrade with a 101 and then, before reading anything else, sends four messages and
// a close frame. How those bytes are cut into writes is the test's variable:
//   one-write     the 101 head and every frame in a single write (one TCP segment),
//   separate      the head, then each frame, each in its own write a moment apart,
//   byte-by-byte  every byte in its own write, a macrotask apart.
// A client must hand every message to the application, including those that came in the same
// read as the 101 (issue 8, bug 1), and then see the close (1000, 'bye').
// Runs on Node and on Deno (node:net and node:crypto).

import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import net from 'node:net';

export const MODES = ['one-write', 'separate', 'byte-by-byte'];

/** What every client must receive, in order: [text or byte list, isBinary]. */
export const EXPECTED_MESSAGES = [
  ['first', false],
  ['second', false],
  ['fragmented', false],
  [[1, 2, 3], true],
];
export const EXPECTED_CLOSE = { code: 1000, reason: 'bye' };

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'; // RFC 6455 section 1.3

/** An unmasked server frame (RFC 6455 section 5.2); payloads here are under 126 bytes. */
function frame(opcode, payload, fin = true) {
  const bytes = Buffer.from(payload);
  return Buffer.concat([Buffer.from([(fin ? 0x80 : 0) | opcode, bytes.length]), bytes]);
}

function closePayload(code, reason) {
  const out = Buffer.alloc(2 + Buffer.byteLength(reason));
  out.writeUInt16BE(code, 0);
  out.write(reason, 2);
  return out;
}

/** The frames after the 101: two texts, a text in two fragments, a binary, a close. */
export function serverFrames() {
  return [
    frame(0x1, 'first'),
    frame(0x1, 'second'),
    frame(0x1, 'frag', false),
    frame(0x0, 'mented'),
    frame(0x2, [1, 2, 3]),
    frame(0x8, closePayload(EXPECTED_CLOSE.code, EXPECTED_CLOSE.reason)),
  ];
}

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts the peer on 127.0.0.1; resolves with { url, close() }. */
export async function startRawPeer(mode) {
  if (!MODES.includes(mode)) throw new Error(`unknown mode ${mode}`);
  const sockets = new Set();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    let head = Buffer.alloc(0);
    let upgraded = false;
    socket.on('data', async (chunk) => {
      if (upgraded) {
        // The client's close frame (0x88, masked) ends the exchange: close the TCP connection.
        if (chunk[0] === 0x88) socket.end();
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) return;
      upgraded = true;
      const key = /^sec-websocket-key:\s*(\S+)\s*$/im.exec(head.subarray(0, end).toString('latin1'))?.[1];
      const accept = createHash('sha1').update(`${key}${GUID}`).digest('base64');
      const response = Buffer.from(
        `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
        'latin1',
      );
      const frames = serverFrames();
      if (mode === 'one-write') {
        socket.write(Buffer.concat([response, ...frames]));
      } else if (mode === 'separate') {
        for (const part of [response, ...frames]) {
          if (socket.destroyed) return;
          socket.write(part);
          await pause(3);
        }
      } else {
        for (const byte of Buffer.concat([response, ...frames])) {
          if (socket.destroyed) return;
          socket.write(Buffer.from([byte]));
          await new Promise((resolve) => setTimeout(resolve, 0));
        }
      }
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `ws://127.0.0.1:${server.address().port}/raw`,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A masked client frame (RFC 6455 section 5.3: every client frame is masked). */
function maskedFrame(opcode, payload, fin = true) {
  const bytes = Buffer.from(payload);
  const mask = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  const masked = Buffer.from(bytes.map((byte, i) => byte ^ mask[i % 4]));
  return Buffer.concat([Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | bytes.length]), mask, masked]);
}

/**
 * The other direction: a raw client that writes its upgrade request and, without waiting for the
 * 101, the same four messages and a close, cut into writes as `mode` says. The server must hand
 * every message to its 'connection' listener's socket (the bytes after the request head are
 * ws's `head`). Resolves once the server closed the TCP connection.
 */
export async function rawClientSends(url, mode) {
  if (!MODES.includes(mode)) throw new Error(`unknown mode ${mode}`);
  const { hostname, port, pathname } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  socket.setNoDelay(true);
  socket.on('error', () => {});
  socket.on('data', () => {}); // the 101 and the server's close frame
  const ended = new Promise((resolve) => socket.on('close', resolve));
  await new Promise((resolve) => socket.once('connect', resolve));
  const request = Buffer.from(
    `GET ${pathname} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${Buffer.from('raw client key 1').toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    'latin1',
  );
  const frames = [
    maskedFrame(0x1, 'first'),
    maskedFrame(0x1, 'second'),
    maskedFrame(0x1, 'frag', false),
    maskedFrame(0x0, 'mented'),
    maskedFrame(0x2, [1, 2, 3]),
    maskedFrame(0x8, closePayload(EXPECTED_CLOSE.code, EXPECTED_CLOSE.reason)),
  ];
  if (mode === 'one-write') {
    socket.write(Buffer.concat([request, ...frames]));
  } else if (mode === 'separate') {
    for (const part of [request, ...frames]) {
      socket.write(part);
      await pause(3);
    }
  } else {
    for (const byte of Buffer.concat([request, ...frames])) {
      if (socket.destroyed) break;
      socket.write(Buffer.from([byte]));
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }
  const timer = setTimeout(() => socket.destroy(), 3000);
  await ended;
  clearTimeout(timer);
}

/** A received message as [text or byte list, isBinary], whatever form the client gave it in. */
export function normalize(data, isBinary) {
  if (typeof data === 'string') return [data, false];
  let bytes;
  if (data instanceof ArrayBuffer) bytes = new Uint8Array(data);
  else if (Array.isArray(data)) bytes = new Uint8Array(Buffer.concat(data));
  else bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return isBinary ? [[...bytes], true] : [new TextDecoder().decode(bytes), false];
}
