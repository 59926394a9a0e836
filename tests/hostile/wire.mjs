// Byte builders and parsers for the hostile-peer kit: HTTP heads and RFC 6455 frames written by
// hand, because the point of the kit is to write the bytes a well-behaved library never would
// (unmasked frames, reserved bits, lying lengths, broken heads). Nothing here is a WebSocket
// implementation: it only builds and splits bytes; the expectations are checked in run.mjs.

import { createHash } from 'node:crypto';

const encoder = new TextEncoder();

/** A string as UTF-8, or bytes as they are. */
export function bytes(data) {
  if (data === undefined || data === null) return new Uint8Array(0);
  if (typeof data === 'string') return encoder.encode(data);
  if (data instanceof Uint8Array) return data;
  if (Array.isArray(data)) return Uint8Array.from(data);
  throw new TypeError(`bytes: cannot make bytes of ${typeof data}`);
}

export function concat(...parts) {
  const list = parts.map(bytes);
  const out = new Uint8Array(list.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of list) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Deterministic pseudo-random bytes (a xorshift), so a failing garbage script fails the same way again. */
export function noise(length, seed = 1) {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

// The sample key and accept value of RFC 6455 §1.3.
export const SAMPLE_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Sec-WebSocket-Accept for a key (RFC 6455 §4.2.2 item 5.4). */
export function acceptFor(key) {
  return createHash('sha1').update(key + GUID).digest('base64');
}

/**
 * A client's opening handshake (RFC 6455 §4.1). `omit` drops default headers by name, `set`
 * replaces or adds some, `extra` appends raw header lines; `version` is the HTTP version token.
 */
export function requestHead({ method = 'GET', path = '/', version = 'HTTP/1.1', omit = [], set = {}, extra = [] } = {}) {
  const headers = {
    Host: '127.0.0.1',
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': SAMPLE_KEY,
    'Sec-WebSocket-Version': '13',
    ...set,
  };
  const lines = [`${method} ${path} ${version}`];
  for (const [name, value] of Object.entries(headers)) {
    if (!omit.some((o) => o.toLowerCase() === name.toLowerCase())) lines.push(`${name}: ${value}`);
  }
  lines.push(...extra);
  return bytes(`${lines.join('\r\n')}\r\n\r\n`);
}

/** A server's 101 answer to a request carrying `key` (RFC 6455 §4.2.2), with the same knobs. */
export function responseHead(key, { status = '101 Switching Protocols', omit = [], set = {}, extra = [] } = {}) {
  const headers = {
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Accept': acceptFor(key),
    ...set,
  };
  const lines = [`HTTP/1.1 ${status}`];
  for (const [name, value] of Object.entries(headers)) {
    if (!omit.some((o) => o.toLowerCase() === name.toLowerCase())) lines.push(`${name}: ${value}`);
  }
  lines.push(...extra);
  return bytes(`${lines.join('\r\n')}\r\n\r\n`);
}

export const OP = { CONTINUATION: 0x0, TEXT: 0x1, BINARY: 0x2, CLOSE: 0x8, PING: 0x9, PONG: 0xa };

/**
 * One frame (RFC 6455 §5.2). `mask` true masks with `maskKey` (a client's frames must be
 * masked, a server's must not be); `declaredLength` writes a length field that lies about the
 * payload that follows (for oversized or truncated frames); `rsv` is the three RSV bits (0..7).
 */
export function frame({ fin = true, rsv = 0, opcode, payload, mask = true, maskKey = [0x37, 0xfa, 0x21, 0x3d], declaredLength } = {}) {
  const body = bytes(payload);
  const length = declaredLength ?? BigInt(body.length);
  const n = BigInt(length);
  const head = [((fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode & 0x0f)) & 0xff];
  const maskBit = mask ? 0x80 : 0;
  if (n < 126n) head.push(maskBit | Number(n));
  else if (n < 65536n) head.push(maskBit | 126, Number(n >> 8n) & 0xff, Number(n) & 0xff);
  else {
    head.push(maskBit | 127);
    for (let shift = 56n; shift >= 0n; shift -= 8n) head.push(Number((n >> shift) & 0xffn));
  }
  if (!mask) return concat(Uint8Array.from(head), body);
  const key = Uint8Array.from(maskKey);
  const masked = new Uint8Array(body.length);
  for (let i = 0; i < body.length; i++) masked[i] = body[i] ^ key[i & 3];
  return concat(Uint8Array.from(head), key, masked);
}

/** A close frame's payload: the status as two bytes, then the reason. */
export function closePayload(code, reason = '') {
  return concat(Uint8Array.from([code >> 8, code & 0xff]), bytes(reason));
}

/**
 * Splits `buffer` at the end of an HTTP head. Returns null while the head is incomplete, else
 * { status | method, headers: Map(lowercase name -> [values]), rest }.
 */
export function parseHead(buffer) {
  const end = indexOfHeadEnd(buffer);
  if (end < 0) return null;
  const text = Buffer.from(buffer.subarray(0, end)).toString('latin1');
  const [startLine, ...lines] = text.split('\r\n');
  const headers = new Map();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!headers.has(name)) headers.set(name, []);
    headers.get(name).push(line.slice(colon + 1).trim());
  }
  const status = /^HTTP\/\d\.\d (\d{3})/.exec(startLine);
  return { startLine, status: status ? Number(status[1]) : null, headers, rest: buffer.subarray(end + 4) };
}

function indexOfHeadEnd(buffer) {
  for (let i = 0; i + 3 < buffer.length; i++) {
    if (buffer[i] === 13 && buffer[i + 1] === 10 && buffer[i + 2] === 13 && buffer[i + 3] === 10) return i;
  }
  return -1;
}

/**
 * Reads one frame from the start of `buffer`: null while incomplete, else
 * { fin, rsv, opcode, masked, payload (unmasked), size (bytes consumed) }.
 */
export function parseFrame(buffer) {
  if (buffer.length < 2) return null;
  const fin = (buffer[0] & 0x80) !== 0;
  const rsv = (buffer[0] >> 4) & 7;
  const opcode = buffer[0] & 0x0f;
  const masked = (buffer[1] & 0x80) !== 0;
  let length = buffer[1] & 0x7f;
  let at = 2;
  if (length === 126) {
    if (buffer.length < 4) return null;
    length = (buffer[2] << 8) | buffer[3];
    at = 4;
  } else if (length === 127) {
    if (buffer.length < 10) return null;
    length = 0;
    for (let i = 2; i < 10; i++) length = length * 256 + buffer[i];
    at = 10;
  }
  const key = masked ? buffer.subarray(at, at + 4) : null;
  if (masked) at += 4;
  if (buffer.length < at + length) return null;
  const payload = Uint8Array.from(buffer.subarray(at, at + length));
  if (key) for (let i = 0; i < payload.length; i++) payload[i] ^= key[i & 3];
  return { fin, rsv, opcode, masked, payload, size: at + length };
}
