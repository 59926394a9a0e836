// A hostile raw-socket WebSocket client (node:net; runs in Node and Deno): completes the opening
// handshake by hand, writes whatever frames a test gives it in ONE write, and collects every frame
// the server sends until it closes the connection. Used for the ordering rule: an echo server's
// replies to messages that were complete before a protocol violation must precede its failing
// close (ws orders them so; the driver keeps that order for every wsaction host).
import net from 'node:net';
import { Buffer } from 'node:buffer';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

/** A masked client frame: `firstByte` is FIN/RSV/opcode. */
export function clientFrame(firstByte, payload) {
  const data = typeof payload === 'string' ? Buffer.from(payload) : Buffer.from(payload ?? []);
  const mask = [0x37, 0xfa, 0x21, 0x3d];
  let header;
  if (data.length < 126) header = Buffer.from([firstByte, 0x80 | data.length]);
  else {
    header = Buffer.alloc(4);
    header[0] = firstByte;
    header[1] = 0x80 | 126;
    header.writeUInt16BE(data.length, 2);
  }
  const masked = Buffer.from(data.map((b, i) => b ^ mask[i % 4]));
  return Buffer.concat([header, Buffer.from(mask), masked]);
}

/** Parses unmasked server frames: [{ opcode, payload }]. */
export function serverFrames(bytes) {
  const frames = [];
  let at = 0;
  while (at + 2 <= bytes.length) {
    let length = bytes[at + 1] & 0x7f;
    let start = at + 2;
    if (length === 126) {
      length = bytes.readUInt16BE(at + 2);
      start = at + 4;
    } else if (length === 127) {
      length = Number(bytes.readBigUInt64BE(at + 2));
      start = at + 10;
    }
    if (start + length > bytes.length) break;
    frames.push({ opcode: bytes[at] & 0x0f, payload: bytes.subarray(start, start + length) });
    at = start + length;
  }
  return frames;
}

/**
 * Connects to ws://host:port/, sends `frames` (Buffers) in one write after the 101, and resolves
 * with the frames the server sent once it closes the connection (or after `timeoutMs`).
 */
export function rawExchange(port, frames, { host = '127.0.0.1', timeoutMs = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, host);
    let buffered = Buffer.alloc(0);
    let upgraded = false;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server neither closed nor finished within ${timeoutMs} ms; got ${buffered.length} bytes`));
    }, timeoutMs);
    socket.on('connect', () => {
      socket.write(
        `GET / HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (!upgraded) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buffered.subarray(0, end).toString('latin1');
        if (!head.startsWith('HTTP/1.1 101')) {
          clearTimeout(timer);
          socket.destroy();
          reject(new Error(`no 101: ${head}`));
          return;
        }
        upgraded = true;
        buffered = buffered.subarray(end + 4);
        socket.write(Buffer.concat(frames));
      }
    });
    const finish = () => {
      clearTimeout(timer);
      resolve(serverFrames(buffered));
    };
    socket.on('end', () => socket.end());
    socket.on('close', finish);
    socket.on('error', () => {}); // a reset after the close frame ends the exchange too
  });
}

/**
 * The ordering check every echo server must pass: two complete messages, then a frame with
 * RSV1 set, in one write. Returns a description of what came back, e.g. 'text:first binary:second close:1002'.
 */
export async function echoThenViolation(port, options) {
  const frames = await rawExchange(
    port,
    [clientFrame(0x81, 'first'), clientFrame(0x82, 'second'), clientFrame(0xc1, 'bad')],
    options,
  );
  return frames
    .map((f) => {
      if (f.opcode === 1) return `text:${f.payload.toString()}`;
      if (f.opcode === 2) return `binary:${f.payload.toString()}`;
      if (f.opcode === 8) return `close:${f.payload.length >= 2 ? f.payload.readUInt16BE(0) : 'none'}`;
      return `opcode${f.opcode}`;
    })
    .join(' ');
}

/** A violation with no message before it: the failing close still goes out at once. */
export async function violationAlone(port, options) {
  const frames = await rawExchange(port, [clientFrame(0xc1, 'bad')], options);
  return frames.map((f) => (f.opcode === 8 ? `close:${f.payload.readUInt16BE(0)}` : `opcode${f.opcode}`)).join(' ');
}

export const EXPECTED_ORDER = 'text:first binary:second close:1002';

// As a program (for hosts in other languages, e.g. the wasmtime echo server):
//   node tests/js/raw-peer.mjs PORT   → prints the order and exits 1 if it is wrong.
if (typeof process !== 'undefined' && process.argv?.[1] && import.meta.url.endsWith(process.argv[1].split('/').pop())) {
  const port = Number(process.argv[2]);
  const got = await echoThenViolation(port);
  console.log(`replies before the failing close: ${got}`);
  process.exit(got === EXPECTED_ORDER ? 0 : 1);
}
