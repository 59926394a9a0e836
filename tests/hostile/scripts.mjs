// The hostile peer's scripts: data, read by run.mjs. Each script is the bytes the kit writes
// (and how: chopped, delayed, reset), and the outcome the host under test must produce.
//
// serverScripts: the kit is the CLIENT and the host under test is an echo SERVER.
//   steps:   { send: bytes, chop?: n | [n, ...] (write sizes, cycled), delayMs?: ms between writes }
//            ({ send, pace: [{ bytes?, chop, delayMs }, ...] } paces successive stretches differently)
//            { upgrade: true }            wait for the 101 and check Sec-WebSocket-Accept
//            { wait: ms }  { end: true } (half-close)  { reset: true } (TCP RST)
//            { flood: { frame, totalBytes, stallMs } }  write `frame` again and again without
//                                         reading; records how much the server took before writes stalled
//   expect:  { status: [codes], header?: [name, /value/] }   an HTTP answer (no 101)
//            { close: [codes] }           a close frame with one of these codes
//            { echoes: [{ text } | { binary }], pongs?: [payload, ...] }  these messages back (and
//                                         these pongs, in order), then a clean 1000 close
//            { echoesOrEnds: [...] }      the echoes as above, or the server ends the connection first
//            { serverCloses: true }       the server ends the TCP connection (any way but hanging)
//            { stallsBelow: bytes }       the server stopped reading before this much was written
//            { peerGone: true }           nothing to see on this connection (the kit reset it)
//   times:   run the script on this many connections in a row
// After every server script the runner opens a normal connection (a ws client: handshake, echo,
// close 1000): the server must still accept and serve.
//
// clientScripts: the kit is the SERVER and the host under test is an echo CLIENT that connects to it.
//   steps:   { respond: (key) => bytes, chop?, delayMs?, then?: bytes }  read the client's
//                                         request, then write this answer (+ `then` in the same write)
//            { send }  { wait }  { end }  { reset }   as above
//   expect:  { handshakeFails: true }     the client sends no frame and closes the connection
//            { close: [codes] }  { echoes: [...] }    as above, with the client's frames masked
//            { clientGone: true }         nothing to see (the kit reset the connection)
// After every client script the client process must exit by itself, without a crash.
//
// `rfc` names the section of RFC 6455 (or RFC 7230) that makes the expectation right.

import { OP, acceptFor, bytes, closePayload, concat, frame, noise, requestHead, responseHead } from './wire.mjs';

const text = (payload, extra = {}) => frame({ opcode: OP.TEXT, payload, ...extra });
const binary = (payload, extra = {}) => frame({ opcode: OP.BINARY, payload, ...extra });
const unmasked = { mask: false };
const handshake = [{ send: requestHead() }, { upgrade: true }];
const MiB = 1024 * 1024;

/** A text message cut into `count` one-byte fragments (RFC 6455 §5.4), masked or not. */
function tinyFragments(message, mask = true) {
  const body = bytes(message);
  const frames = [];
  for (let i = 0; i < body.length; i++) {
    frames.push(frame({ opcode: i === 0 ? OP.TEXT : OP.CONTINUATION, fin: i === body.length - 1, payload: body.subarray(i, i + 1), mask }));
  }
  return concat(...frames);
}

const flood = 'x'.repeat(10000);
const twoMessages = concat(text('first message'), binary(noise(300, 7)), text('third, after a binary one'));
const twoEchoes = [{ text: 'first message' }, { binary: noise(300, 7) }, { text: 'third, after a binary one' }];

export const serverScripts = [
  // ---------------------------------------------------------------- well-formed, badly delivered
  { name: 'echo', rfc: '§5.6', steps: [...handshake, { send: text('hello') }], expect: { echoes: [{ text: 'hello' }] } },
  {
    name: 'chop-1-byte',
    why: 'the handshake and three messages written one byte at a time',
    rfc: '§5.2 (a frame may arrive in any number of reads)',
    steps: [{ send: requestHead(), chop: 1, delayMs: 0 }, { upgrade: true }, { send: twoMessages, chop: 1, delayMs: 0 }],
    expect: { echoes: twoEchoes },
  },
  {
    name: 'chop-varied',
    why: 'writes of 1, 2, 3, 5, 8, 13 and 21 bytes cutting through heads, lengths and masks',
    rfc: '§5.2',
    steps: [{ send: concat(requestHead()), chop: [1, 2, 3, 5, 8, 13, 21], delayMs: 1 }, { upgrade: true }, { send: twoMessages, chop: [1, 2, 3, 5, 8, 13, 21], delayMs: 1 }],
    expect: { echoes: twoEchoes },
  },
  {
    name: 'frames-with-the-head',
    why: 'the request head and the first frames in one write (the bytes after the head are frames)',
    rfc: '§4.1 (a client should wait for the 101, but a server must not drop what came early: ws and node:http hand it over as `head`)',
    steps: [{ send: concat(requestHead(), twoMessages) }, { upgrade: true }],
    expect: { echoes: twoEchoes },
  },
  {
    name: 'slow-head',
    why: 'the request line at a byte per 100 ms, the rest of the head at a byte per 10 ms',
    rfc: '§4.2.1',
    steps: [{ send: requestHead(), pace: [{ bytes: 16, chop: 1, delayMs: 100 }, { chop: 1, delayMs: 10 }] }, { upgrade: true }, { send: text('after a slow head') }],
    expect: { echoes: [{ text: 'after a slow head' }] },
  },
  {
    name: 'tiny-fragment-flood',
    why: 'one text message of 10,000 one-byte fragments',
    rfc: '§5.4',
    steps: [...handshake, { send: tinyFragments(flood) }],
    expect: { echoes: [{ text: flood }] },
  },
  {
    name: 'ping-burst',
    why: '50 pings in one write, then a message: 50 pongs with their payloads, then the echo',
    rfc: '§5.5.2 and §5.5.3 (a pong carries the payload of its ping)',
    steps: [...handshake, { send: concat(...Array.from({ length: 50 }, (_, i) => frame({ opcode: OP.PING, payload: `p${i}` })), text('after the pings')) }],
    expect: { echoes: [{ text: 'after the pings' }], pongs: Array.from({ length: 50 }, (_, i) => `p${i}`) },
  },
  {
    name: 'ping-flood',
    why: '5,000 pings in one write, then a message: the server answers them all or drops the flooder (ws drops it after 60 unanswered pongs)',
    rfc: '§5.5.2 and §10 (an endpoint may protect itself from a flood)',
    steps: [...handshake, { send: concat(...Array.from({ length: 5000 }, () => frame({ opcode: OP.PING, payload: 'p' })), text('after the pings')) }],
    expect: { echoesOrEnds: [{ text: 'after the pings' }] },
  },
  {
    name: 'ping-between-fragments',
    rfc: '§5.4 (control frames may be injected in the middle of a fragmented message)',
    steps: [...handshake, { send: concat(frame({ opcode: OP.TEXT, fin: false, payload: 'one ' }), frame({ opcode: OP.PING, payload: 'mid' }), frame({ opcode: OP.CONTINUATION, payload: 'two' })) }],
    expect: { echoes: [{ text: 'one two' }] },
  },

  // ---------------------------------------------------------------- bad handshakes: an HTTP status
  {
    name: 'oversized-head',
    why: 'a 64 KiB header field',
    rfc: 'RFC 6585 §5 (431 Request Header Fields Too Large)',
    steps: [{ send: requestHead({ extra: [`X-Filler: ${'a'.repeat(64 * 1024)}`] }) }],
    expect: { status: [431] },
  },
  {
    name: 'wrong-version',
    why: 'Sec-WebSocket-Version: 12',
    rfc: '§4.2.2 item 4 and §4.4 (an error status, and the versions the server understands in Sec-WebSocket-Version)',
    steps: [{ send: requestHead({ set: { 'Sec-WebSocket-Version': '12' } }) }],
    expect: { status: [400, 426], header: ['sec-websocket-version', /\b13\b/] },
  },
  { name: 'missing-key', rfc: '§4.2.1 item 5', steps: [{ send: requestHead({ omit: ['Sec-WebSocket-Key'] }) }], expect: { status: [400] } },
  {
    name: 'short-key',
    why: 'a key that is not 16 bytes of base64',
    rfc: '§4.2.1 item 5',
    steps: [{ send: requestHead({ set: { 'Sec-WebSocket-Key': 'c2hvcnQ=' } }) }],
    expect: { status: [400] },
  },
  { name: 'missing-version', rfc: '§4.2.1 item 6', steps: [{ send: requestHead({ omit: ['Sec-WebSocket-Version'] }) }], expect: { status: [400, 426] } },
  { name: 'missing-upgrade', rfc: '§4.2.1 item 3', steps: [{ send: requestHead({ omit: ['Upgrade'] }) }], expect: { status: [400, 426] } },
  { name: 'post-method', rfc: '§4.2.1 item 1', steps: [{ send: requestHead({ method: 'POST' }) }], expect: { status: [400, 405] } },
  {
    name: 'garbage-head',
    why: '300 random bytes and a blank line instead of a request',
    rfc: 'RFC 7230 §3.5 (400 for a request that cannot be parsed)',
    steps: [{ send: concat(noise(300, 3), '\r\n\r\n') }],
    expect: { status: [400] },
  },

  // ---------------------------------------------------------------- protocol violations: a close code
  { name: 'unmasked-frame', rfc: '§5.1', steps: [...handshake, { send: text('no mask', unmasked) }], expect: { close: [1002] } },
  { name: 'rsv-bits', rfc: '§5.2 (RSV1-3 without a negotiated extension)', steps: [...handshake, { send: text('rsv', { rsv: 4 }) }], expect: { close: [1002] } },
  { name: 'reserved-opcode', rfc: '§5.2 (opcode 0x3)', steps: [...handshake, { send: frame({ opcode: 0x3, payload: 'x' }) }], expect: { close: [1002] } },
  { name: 'reserved-control-opcode', rfc: '§5.2 (opcode 0xB)', steps: [...handshake, { send: frame({ opcode: 0xb, payload: 'x' }) }], expect: { close: [1002] } },
  { name: 'ping-too-long', rfc: '§5.5 (control payload at most 125 bytes)', steps: [...handshake, { send: frame({ opcode: OP.PING, payload: 'p'.repeat(126) }) }], expect: { close: [1002] } },
  { name: 'fragmented-ping', rfc: '§5.5 (control frames must not be fragmented)', steps: [...handshake, { send: frame({ opcode: OP.PING, fin: false, payload: 'p' }) }], expect: { close: [1002] } },
  { name: 'orphan-continuation', rfc: '§5.4', steps: [...handshake, { send: frame({ opcode: OP.CONTINUATION, payload: 'lost' }) }], expect: { close: [1002] } },
  {
    name: 'interleaved-message',
    why: 'a new text message before the fragmented one ended',
    rfc: '§5.4',
    steps: [...handshake, { send: concat(frame({ opcode: OP.TEXT, fin: false, payload: 'a' }), text('b')) }],
    expect: { close: [1002] },
  },
  { name: 'invalid-utf8', rfc: '§8.1', steps: [...handshake, { send: text([0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xff, 0xfe]) }], expect: { close: [1007] } },
  {
    name: 'invalid-utf8-across-fragments',
    why: 'a valid first fragment, a second that breaks the sequence it started',
    rfc: '§8.1',
    steps: [...handshake, { send: concat(frame({ opcode: OP.TEXT, fin: false, payload: [0x68, 0xe1] }), frame({ opcode: OP.CONTINUATION, payload: [0x28, 0xa1] })) }],
    expect: { close: [1007] },
  },
  { name: 'close-code-1005', rfc: '§7.4.1 (1005 must not be sent in a close frame)', steps: [...handshake, { send: frame({ opcode: OP.CLOSE, payload: closePayload(1005) }) }], expect: { close: [1002] } },
  { name: 'close-one-byte', rfc: '§5.5.1 (a close body starts with a two-byte code)', steps: [...handshake, { send: frame({ opcode: OP.CLOSE, payload: [0x03] }) }], expect: { close: [1002] } },
  { name: 'close-invalid-utf8-reason', rfc: '§5.5.1 and §8.1', steps: [...handshake, { send: frame({ opcode: OP.CLOSE, payload: concat(closePayload(1000), [0xff]) }) }], expect: { close: [1007] } },
  {
    name: 'huge-length',
    why: 'a frame that declares 1 TiB of payload',
    rfc: '§7.4.1 (1009: a message too big to process) and §10.4',
    steps: [...handshake, { send: binary('', { declaredLength: 1n << 40n }) }],
    expect: { close: [1009] },
  },
  {
    name: 'length-msb-set',
    why: 'a 64-bit length with its most significant bit set',
    rfc: '§5.2 (the most significant bit MUST be 0)',
    steps: [...handshake, { send: binary('', { declaredLength: 1n << 63n }) }],
    expect: { close: [1002, 1009] },
  },
  { name: 'garbage-frames', why: '0xff bytes after the handshake (FIN, RSV1-3, opcode 0xF)', rfc: '§5.2', steps: [...handshake, { send: concat([0xff, 0xff], noise(64, 5)) }], expect: { close: [1002] } },
  {
    name: 'data-after-close',
    why: 'a close frame, then a text frame: the server answers the close and ignores the rest',
    rfc: '§5.5.1 (after sending a close frame, the endpoint sends no more data)',
    steps: [...handshake, { send: concat(frame({ opcode: OP.CLOSE, payload: closePayload(1000) }), text('too late')) }],
    expect: { close: [1000] },
  },

  // ---------------------------------------------------------------- peers that leave
  { name: 'reset-mid-head', rfc: '§7.1.7', steps: [{ send: requestHead().subarray(0, 40) }, { wait: 20 }, { reset: true }], expect: { peerGone: true } },
  { name: 'reset-after-upgrade', rfc: '§7.1.7', steps: [...handshake, { reset: true }], expect: { peerGone: true } },
  { name: 'reset-mid-frame', rfc: '§7.1.7', steps: [...handshake, { send: binary(noise(1000, 9)).subarray(0, 50) }, { wait: 20 }, { reset: true }], expect: { peerGone: true } },
  {
    name: 'reset-mid-echo',
    why: 'a 1 MiB message, reset while the server is still echoing it',
    rfc: '§7.1.7',
    steps: [...handshake, { send: binary(noise(MiB, 11)) }, { wait: 5 }, { reset: true }],
    expect: { peerGone: true },
  },
  {
    name: 'connect-reset-flood',
    why: '50 connections reset right after connecting, before the server accepted them',
    rfc: 'the server survives its peers (RFC 6455 §7.1.7)',
    times: 50,
    steps: [{ reset: true }],
    expect: { peerGone: true },
  },
  { name: 'half-close-mid-head', why: 'half a head and a FIN', rfc: 'RFC 7230 §6.6', steps: [{ send: requestHead().subarray(0, 40) }, { end: true }], expect: { serverCloses: true } },
  { name: 'half-close-after-upgrade', why: 'a FIN instead of a close frame', rfc: '§7.1.1 and §7.1.5 (1006: closed without a close frame)', steps: [...handshake, { end: true }], expect: { serverCloses: true } },
  {
    name: 'never-read',
    why: 'writes 96 MiB of 64 KiB messages and never reads the echoes',
    rfc: 'read backpressure: a server stops reading a peer that does not read its answers',
    steps: [...handshake, { flood: { frame: binary(new Uint8Array(64 * 1024), { maskKey: [0, 0, 0, 0] }), totalBytes: 96 * MiB, stallMs: 1500 } }],
    expect: { stallsBelow: 40 * MiB },
  },
];

/** The answer a server gives to a client's request, with the accept value it should carry. */
const ok = (options) => (key) => responseHead(key, options);
/**
 * A pause after the 101 before the kit speaks, for scripts about something else than a server
 * that speaks first (message-with-the-101 is about that).
 */
const settle = { wait: 100 };

export const clientScripts = [
  // ---------------------------------------------------------------- well-formed, badly delivered
  { name: 'echo', rfc: '§5.6', steps: [{ respond: ok() }, settle, { send: text('hello', unmasked) }], expect: { echoes: [{ text: 'hello' }] } },
  {
    name: 'message-with-the-101',
    why: 'the 101 and the first message in one write (a server that speaks first)',
    rfc: '§4.1 (frames may follow the handshake at once)',
    steps: [{ respond: ok(), then: text('greeting', unmasked) }],
    expect: { echoes: [{ text: 'greeting' }] },
  },
  {
    name: 'chop-1-byte',
    rfc: '§5.2',
    steps: [{ respond: ok(), chop: 1, delayMs: 0 }, settle, { send: concat(text('first', unmasked), binary(noise(300, 7), unmasked)), chop: 1, delayMs: 0 }],
    expect: { echoes: [{ text: 'first' }, { binary: noise(300, 7) }] },
  },
  {
    name: 'slow-101',
    why: 'the status line at a byte per 100 ms, the rest at a byte per 5 ms',
    rfc: '§4.1',
    steps: [{ respond: ok(), pace: [{ bytes: 14, chop: 1, delayMs: 100 }, { chop: 1, delayMs: 5 }] }, settle, { send: text('after a slow 101', unmasked) }],
    expect: { echoes: [{ text: 'after a slow 101' }] },
  },
  {
    name: 'tiny-fragment-flood',
    rfc: '§5.4',
    steps: [{ respond: ok() }, settle, { send: tinyFragments(flood, false) }],
    expect: { echoes: [{ text: flood }] },
  },

  // ---------------------------------------------------------------- bad answers: the handshake fails
  { name: 'wrong-accept', rfc: '§4.1 (the client MUST fail the connection)', steps: [{ respond: ok({ set: { 'Sec-WebSocket-Accept': acceptFor('not the key') } }) }], expect: { handshakeFails: true } },
  { name: 'status-200', rfc: '§4.1', steps: [{ respond: ok({ status: '200 OK' }) }], expect: { handshakeFails: true } },
  { name: 'missing-upgrade', rfc: '§4.1', steps: [{ respond: ok({ omit: ['Upgrade'] }) }], expect: { handshakeFails: true } },
  { name: 'unrequested-subprotocol', rfc: '§4.1 (a subprotocol the client did not offer)', steps: [{ respond: ok({ set: { 'Sec-WebSocket-Protocol': 'chat' } }) }], expect: { handshakeFails: true } },
  { name: 'unrequested-extension', rfc: '§4.1 (an extension the client did not offer)', steps: [{ respond: ok({ set: { 'Sec-WebSocket-Extensions': 'x-unknown' } }) }], expect: { handshakeFails: true } },
  { name: 'garbage-response', rfc: 'RFC 7230 §3.5', steps: [{ respond: () => concat(noise(300, 4), '\r\n\r\n') }], expect: { handshakeFails: true } },
  { name: 'oversized-response-head', why: 'a 64 KiB header field in the 101', rfc: '§4.1', steps: [{ respond: ok({ extra: [`X-Filler: ${'a'.repeat(64 * 1024)}`] }) }], expect: { handshakeFails: true } },

  // ---------------------------------------------------------------- protocol violations: a close code
  { name: 'masked-server-frame', rfc: '§5.1 (a server must not mask)', steps: [{ respond: ok() }, { send: text('masked') }], expect: { close: [1002] } },
  { name: 'reserved-opcode', rfc: '§5.2', steps: [{ respond: ok() }, { send: frame({ opcode: 0x3, payload: 'x', mask: false }) }], expect: { close: [1002] } },
  { name: 'ping-too-long', rfc: '§5.5', steps: [{ respond: ok() }, { send: frame({ opcode: OP.PING, payload: 'p'.repeat(126), mask: false }) }], expect: { close: [1002] } },
  { name: 'invalid-utf8', rfc: '§8.1', steps: [{ respond: ok() }, { send: text([0xed, 0xa0, 0x80], unmasked) }], expect: { close: [1007] } },
  { name: 'huge-length', rfc: '§7.4.1 (1009)', steps: [{ respond: ok() }, { send: binary('', { mask: false, declaredLength: 1n << 40n }) }], expect: { close: [1009] } },
  {
    name: 'server-close',
    why: 'the server closes with 1001: the client answers with the same code',
    rfc: '§5.5.1',
    steps: [{ respond: ok() }, { send: frame({ opcode: OP.CLOSE, payload: closePayload(1001, 'going away'), mask: false }) }],
    expect: { close: [1001] },
  },

  // ---------------------------------------------------------------- servers that leave
  { name: 'reset-mid-101', rfc: '§7.1.7', steps: [{ respond: (key) => responseHead(key).subarray(0, 30) }, { wait: 20 }, { reset: true }], expect: { clientGone: true } },
  { name: 'reset-after-upgrade', rfc: '§7.1.7', steps: [{ respond: ok() }, { wait: 50 }, { reset: true }], expect: { clientGone: true } },
  { name: 'reset-mid-frame', rfc: '§7.1.7', steps: [{ respond: ok() }, { send: binary(noise(1000, 2), unmasked).subarray(0, 60) }, { wait: 20 }, { reset: true }], expect: { clientGone: true } },
];
