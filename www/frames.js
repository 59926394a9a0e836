// A display decoder for one direction of a WebSocket byte stream: an HTTP head, then frames.
// It is a view, not a checker: it reports every bit as it is on the wire (reserved bits, bad
// opcodes, oversized control frames) and never rejects anything; judging is the engine's job,
// and the engine's verdict shows up in the timeline as the close it sends. Shared by the page
// and the demo server (plain ES module, no DOM).

export const OPCODE_NAMES = {
  0x0: 'CONT', 0x1: 'TEXT', 0x2: 'BINARY', 0x8: 'CLOSE', 0x9: 'PING', 0xa: 'PONG',
};

export function opcodeName(opcode) {
  return OPCODE_NAMES[opcode] ?? `RESERVED 0x${opcode.toString(16).toUpperCase()}`;
}

const HEAD_END = [13, 10, 13, 10];
// Payload bytes kept per frame for previews and the hex view; the frame's length is still exact.
export const PAYLOAD_KEEP = 4096;

function findHeadEnd(bytes, from) {
  for (let i = Math.max(0, from); i + 4 <= bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) return i + 4;
  }
  return -1;
}

/**
 * Decodes a whole stream (as far as it goes) into items:
 *   { kind: 'http', start, end, complete, text, startLine, headers: [[name, value]] }
 *   { kind: 'frame', start, end, headerLen, complete, fin, rsv, opcode, masked, maskKey,
 *     payloadLength, payload (unmasked, up to PAYLOAD_KEEP bytes), closeCode, closeReason, text }
 * `expectHead` says the stream starts with an HTTP head (a handshake); after a head, frames follow.
 * A head that is not 101 Switching Protocols ends the stream as HTTP: what follows is shown raw.
 */
export function decodeStream(bytes, expectHead = true) {
  const items = [];
  let at = 0;
  if (expectHead && bytes.length > 0) {
    const end = findHeadEnd(bytes, 0);
    const stop = end < 0 ? bytes.length : end;
    const text = latin1(bytes.subarray(0, stop));
    const lines = text.split('\r\n').filter((l) => l.length > 0);
    const headers = lines.slice(1).map((l) => {
      const colon = l.indexOf(':');
      return colon < 0 ? [l, ''] : [l.slice(0, colon), l.slice(colon + 1).trim()];
    });
    const item = { kind: 'http', start: 0, end: stop, complete: end >= 0, text, startLine: lines[0] ?? '', headers };
    items.push(item);
    if (end < 0) return items;
    at = end;
    const status = /^HTTP\/1\.\d (\d{3})/.exec(item.startLine);
    if (status && status[1] !== '101') {
      if (at < bytes.length) items.push(rawItem(bytes, at, bytes.length));
      return items;
    }
  }
  while (at < bytes.length) {
    const frame = decodeFrame(bytes, at);
    items.push(frame);
    if (!frame.complete) break;
    at = frame.end;
  }
  return items;
}

function rawItem(bytes, start, end) {
  return { kind: 'raw', start, end, complete: true, payload: bytes.slice(start, Math.min(end, start + PAYLOAD_KEEP)) };
}

/** Decodes one frame at `at`. An incomplete frame says how far it got. */
export function decodeFrame(bytes, at) {
  const avail = bytes.length - at;
  const frame = {
    kind: 'frame', start: at, end: bytes.length, headerLen: 0, complete: false,
    fin: false, rsv: 0, opcode: 0, masked: false, maskKey: null, payloadLength: null, payload: new Uint8Array(0),
  };
  if (avail < 1) return frame;
  const b0 = bytes[at];
  frame.fin = (b0 & 0x80) !== 0;
  frame.rsv = (b0 >> 4) & 7;
  frame.opcode = b0 & 0x0f;
  if (avail < 2) return frame;
  const b1 = bytes[at + 1];
  frame.masked = (b1 & 0x80) !== 0;
  let len = b1 & 0x7f;
  let header = 2;
  if (len === 126) {
    if (avail < 4) return frame;
    len = (bytes[at + 2] << 8) | bytes[at + 3];
    header = 4;
  } else if (len === 127) {
    if (avail < 10) return frame;
    // A number is exact to 2^53; a longer length cannot be in a page's memory anyway.
    len = 0;
    for (let i = 2; i < 10; i++) len = len * 256 + bytes[at + i];
    header = 10;
  }
  frame.payloadLength = len;
  if (frame.masked) {
    if (avail < header + 4) return frame;
    frame.maskKey = bytes.slice(at + header, at + header + 4);
    header += 4;
  }
  frame.headerLen = header;
  const payloadStart = at + header;
  const have = Math.min(len, bytes.length - payloadStart);
  const keep = Math.min(have, PAYLOAD_KEEP);
  const payload = bytes.slice(payloadStart, payloadStart + keep);
  if (frame.maskKey) for (let i = 0; i < payload.length; i++) payload[i] ^= frame.maskKey[i % 4];
  frame.payload = payload;
  frame.complete = have === len;
  frame.end = payloadStart + have;
  if (frame.opcode === 0x8 && frame.complete) {
    if (len >= 2) {
      frame.closeCode = (payload[0] << 8) | payload[1];
      frame.closeReason = utf8Preview(payload.subarray(2));
    } else if (len === 0) {
      frame.closeCode = null;
    }
  }
  return frame;
}

export function latin1(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const looseUtf8 = new TextDecoder('utf-8');

/** { text, valid }: the bytes as UTF-8 (with U+FFFD where they are not). */
export function utf8Preview(bytes) {
  try {
    return { text: strictUtf8.decode(bytes), valid: true };
  } catch {
    return { text: looseUtf8.decode(bytes), valid: false };
  }
}

export function hex(bytes, sep = ' ') {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(sep);
}

/** Parses "81 85 37 fa" / "8185 37fa" / "0x81,0x85" into bytes; throws on anything else. */
export function parseHex(text) {
  const cleaned = text.replace(/0x/gi, '').replace(/[\s,]+/g, '');
  if (cleaned.length % 2 !== 0 || /[^0-9a-f]/i.test(cleaned)) {
    throw new Error('hex bytes: an even number of hex digits, spaces and commas allowed');
  }
  const out = new Uint8Array(cleaned.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(cleaned.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** A one-line summary of a decoded item, as the timeline shows it. */
export function summarize(item) {
  if (item.kind === 'http') return item.startLine || 'HTTP head (partial)';
  if (item.kind === 'raw') return `${item.end - item.start} raw bytes`;
  const parts = [opcodeName(item.opcode)];
  if (item.payloadLength === null) return parts[0] + ' (header partial)';
  if (item.opcode === 0x8 && item.complete) {
    if (item.closeCode != null) {
      parts.push(String(item.closeCode));
      if (item.closeReason?.text) parts.push(JSON.stringify(item.closeReason.text));
    } else if (item.payloadLength === 1) parts.push('(1-byte payload)');
    else parts.push('(no status)');
  } else if (isCompressed(item)) {
    // permessage-deflate (RFC 7692 6): the payload is deflate data, not text; its inflated size
    // shows in the receiving side's events.
    parts.push(`compressed ${item.payloadLength} bytes`);
  } else if (item.payloadLength > 0) {
    parts.push(payloadPreview(item));
  }
  return parts.join(' ');
}

/** A data frame with RSV1: the first frame of a permessage-deflate compressed message (RFC 7692 6). */
export function isCompressed(item) {
  return item.kind === 'frame' && (item.rsv & 4) !== 0 && item.opcode >= 0x1 && item.opcode <= 0x2;
}

export function payloadPreview(item, max = 32) {
  const bytes = item.payload.subarray(0, max);
  const more = item.payloadLength > max ? '…' : '';
  if (item.opcode === 0x2) return hex(bytes) + more;
  const { text, valid } = utf8Preview(bytes);
  if (!valid && item.payload.length <= max) return `${hex(bytes)} (not UTF-8)`;
  return JSON.stringify(text) + more;
}

export function flags(item) {
  if (item.kind !== 'frame') return '';
  // RSV1 on a data frame is permessage-deflate's "Per-Message Compressed" bit (RFC 7692 6).
  const rsv = [4, 2, 1].map((b, i) => (item.rsv & b ? (i === 0 && isCompressed(item) ? 'RSV1 (compressed)' : `RSV${i + 1}`) : null)).filter(Boolean);
  return [item.fin ? 'FIN' : 'fin=0', ...rsv, item.masked ? 'MASK' : 'unmasked'].join(' ');
}
