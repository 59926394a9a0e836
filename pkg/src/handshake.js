// The connection flow's handshake steps, written once for every runtime (Node, Deno): a URL to
// the request head, the 101 check, the server's request checks, subprotocol choice, the
// rejection response. The runtime files only move these bytes over their sockets. The protocol
// checks themselves are the engine's (beginClientHandshake / endClientHandshake,
// beginServerHandshake, checkRequestLine): this file orders them and speaks ws's option names.

import { DEFAULT_PROPERTIES, now } from './connection.js';
import { acquireInstance, engine } from './pool.js';
import { engineTrappedError, handleFootprint, outOfMemoryError } from './fast.js';

// RFC 6455 4.1: a subprotocol is a token (RFC 7230 3.2.6).
const subprotocolPattern = /^[!#$%&'*+\-.0-9A-Z^_`|a-z~]+$/;
const latin1 = new TextDecoder('latin1');

/** ws's defaults for the limits a ws user sets by name. */
export const WS_DEFAULTS = Object.freeze({
  maxPayload: 100 * 1024 * 1024,
  closeTimeout: 30000,
  handshakeTimeout: 30000,
});

/** ws's perMessageDeflate threshold: smaller messages go out uncompressed (without context takeover). */
export const WS_DEFLATE_THRESHOLD = 1024;

/**
 * The engine's deflate properties for ws's `perMessageDeflate`: false (off), true (ws's
 * defaults) or ws's object (threshold, serverNoContextTakeover, clientNoContextTakeover,
 * serverMaxWindowBits, clientMaxWindowBits: a number, or true for ws's "no value",
 * zlibDeflateOptions.level / memLevel). The engine checks the ranges (RFC 7692 7.1.2: 8..15).
 * ws's concurrencyLimit and zlibInflateOptions have no counterpart: the engine compresses and
 * inflates in the call that sends or receives, and bounds inflation by maxPayload itself.
 */
export function deflateProperties(perMessageDeflate) {
  if (!perMessageDeflate) return { perMessageDeflate: false };
  const options = perMessageDeflate === true ? {} : perMessageDeflate;
  const properties = { perMessageDeflate: true, deflateThreshold: options.threshold ?? WS_DEFLATE_THRESHOLD };
  if (options.serverNoContextTakeover) properties.deflateServerNoContextTakeover = true;
  if (options.clientNoContextTakeover) properties.deflateClientNoContextTakeover = true;
  if (typeof options.serverMaxWindowBits === 'number') properties.deflateServerMaxWindowBits = options.serverMaxWindowBits;
  if (typeof options.clientMaxWindowBits === 'number') properties.deflateClientMaxWindowBits = options.clientMaxWindowBits;
  const zlib = options.zlibDeflateOptions ?? {};
  if (zlib.level !== undefined) properties.deflateLevel = zlib.level;
  if (zlib.memLevel !== undefined) properties.deflateMemLevel = zlib.memLevel;
  return properties;
}

/**
 * The engine properties for ws-style options: maxPayload (0: no limit), maxFragments,
 * skipUTF8Validation, closeTimeout, handshakeTimeout, autoPong, perMessageDeflate (on unless
 * given, as ws's client; the server passes its own default, off), and wsaction's own
 * `properties` (engine names) on top.
 */
export function engineProperties(options = {}) {
  const maxPayload = options.maxPayload ?? WS_DEFAULTS.maxPayload;
  const maxMessageSize = maxPayload > 0 ? maxPayload : Number.MAX_SAFE_INTEGER;
  const properties = {
    ...DEFAULT_PROPERTIES,
    maxMessageSize,
    // ws has no frame limit of its own: a message of maxPayload bytes may come as one frame.
    maxFrameSize: maxMessageSize,
    closeTimeout: options.closeTimeout ?? WS_DEFAULTS.closeTimeout,
    handshakeTimeout: options.handshakeTimeout ?? WS_DEFAULTS.handshakeTimeout,
  };
  if (options.skipUTF8Validation) properties.disableUtf8Verification = true;
  // ws's autoPong: false leaves answering pings to the application ('ping' event, then pong()).
  if (options.autoPong === false) properties.autoPong = false;
  if (options.maxFragments !== undefined && options.maxFragments > 0) properties.maxFragments = options.maxFragments;
  return { ...properties, ...deflateProperties(options.perMessageDeflate ?? true), ...options.properties };
}

// ---------------------------------------------------------------- client

/**
 * Where a client connects, from a ws://, wss://, http://, https:// or ws+unix: address (as ws:
 * http: means ws:, ws+unix:/path/to/socket:/request/path names a Unix socket). Throws ws's
 * SyntaxError for an address it cannot use.
 */
export function clientTarget(address) {
  let url;
  if (address instanceof URL) url = new URL(address.href);
  else {
    try {
      url = new URL(address);
    } catch {
      throw new SyntaxError(`Invalid URL: ${address}`);
    }
  }
  if (url.protocol === 'http:') url = new URL(`ws:${url.href.slice(5)}`);
  else if (url.protocol === 'https:') url = new URL(`wss:${url.href.slice(6)}`);
  const secure = url.protocol === 'wss:';
  const ipc = url.protocol === 'ws+unix:';
  if (url.protocol !== 'ws:' && !secure && !ipc) {
    throw new SyntaxError('The URL\'s protocol must be one of "ws:", "wss:", "http:", "https:", or "ws+unix:"');
  }
  if (ipc && !url.pathname) throw new SyntaxError("The URL's pathname is empty");
  if (url.hash) throw new SyntaxError('The URL contains a fragment identifier');
  let path = `${url.pathname || '/'}${url.search}`;
  let socketPath = null;
  if (ipc) {
    const [socket, ...rest] = path.split(':');
    socketPath = decodeURIComponent(socket);
    path = rest.join(':') || '/';
  }
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return {
    href: url.href,
    url,
    secure,
    socketPath,
    host: host || 'localhost',
    port: Number(url.port || (secure ? 443 : 80)),
    path,
    hostHeader: ipc ? 'localhost' : url.host,
    auth: url.username || url.password ? `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}` : null,
  };
}

/** Checks the subprotocols a client offers (ws's SyntaxError for a bad or repeated one). */
export function checkSubprotocols(protocols) {
  const seen = new Set();
  for (const protocol of protocols) {
    if (typeof protocol !== 'string' || !subprotocolPattern.test(protocol) || seen.has(protocol)) {
      throw new SyntaxError('An invalid or duplicated subprotocol was specified');
    }
    seen.add(protocol);
  }
  return protocols;
}

/** `headers` given as an object or as [name, value] pairs, as pairs. */
export function headerPairs(headers) {
  if (!headers) return [];
  if (Array.isArray(headers)) return headers.map(([n, v]) => [String(n), String(v)]);
  const out = [];
  for (const [n, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const item of v) out.push([n, String(item)]);
    else out.push([n, String(v)]);
  }
  return out;
}

/** Header pairs as node:http's lower-cased object (repeated names joined with ', '). */
export function headerObject(pairs) {
  const out = {};
  for (const [name, value] of pairs) {
    const key = name.toLowerCase();
    if (key === 'set-cookie') (out[key] ??= []).push(value);
    else out[key] = key in out ? `${out[key]}, ${value}` : value;
  }
  return out;
}

/**
 * Begins a client handshake: the handle and the request head to write. options: ws's headers,
 * origin, handshakeTimeout, maxPayload, skipUTF8Validation, closeTimeout; wsaction's properties
 * and seed. The engine adds Upgrade, Connection, Sec-WebSocket-Key/Version/Protocol.
 */
export function beginClient(target, protocols, options = {}, properties = engineProperties(options)) {
  const handle = createPooledHandle('createClient', properties, options.seed, properties.perMessageDeflate === true);
  try {
    const user = headerPairs(options.headers).filter(([n]) => n.toLowerCase() !== 'host');
    if (options.origin) user.push(['Origin', String(options.origin)]);
    if (target.auth && !user.some(([n]) => n.toLowerCase() === 'authorization')) {
      user.push(['Authorization', `Basic ${btoa(target.auth)}`]);
    }
    const hostHeader = headerPairs(options.headers).find(([n]) => n.toLowerCase() === 'host')?.[1] ?? target.hostHeader;
    const engineHeaders = handle.beginClientHandshake(protocols, [], user);
    const engineNames = new Set(engineHeaders.map(([n]) => n.toLowerCase()));
    const headers = [['Host', hostHeader], ...user.filter(([n]) => !engineNames.has(n.toLowerCase())), ...engineHeaders];
    handle.tick(now());
    return { handle, headers, request: engine().serializeRequestHead('GET', target.path, headers) };
  } catch (err) {
    handle.free();
    throw err;
  }
}

/**
 * Reads the server's response head from the bytes received so far: null until it is whole, then
 * { status, reason, headers (pairs), response (node:http-like), leftover (bytes after the head) }.
 */
export function readResponse(handle, received) {
  const head = handle.parseResponseHead(received);
  if (head === null) return null;
  return {
    status: head.status,
    reason: head.reason,
    headers: head.headers,
    leftover: received.subarray(head.consumed),
    response: {
      statusCode: head.status,
      statusMessage: head.reason,
      headers: headerObject(head.headers),
      rawHeaders: head.headers.flat(),
      httpVersion: '1.1',
    },
  };
}

/** An error carrying a code, as the adapters' errors do. */
export function codedError(message, fields, Class = Error) {
  return Object.assign(new Class(message), fields);
}

// ---------------------------------------------------------------- server

/** An HTTP/1.1 error response (ws's abortHandshake): status line, headers, a short body. */
export function rejectionBytes(status, message, headers = []) {
  let phrase;
  try {
    phrase = engine().reasonPhrase(status);
  } catch {
    phrase = 'Error';
  }
  const body = message || phrase;
  const pairs = [['Connection', 'close'], ['Content-Type', 'text/html'], ['Content-Length', String(new TextEncoder().encode(body).length)]];
  for (const [n, v] of headerPairs(headers)) {
    const i = pairs.findIndex(([m]) => m.toLowerCase() === n.toLowerCase());
    if (i >= 0) pairs[i] = [n, v];
    else pairs.push([n, v]);
  }
  return new TextEncoder().encode(`HTTP/1.1 ${status} ${phrase}\r\n${pairs.map(([n, v]) => `${n}: ${v}`).join('\r\n')}\r\n\r\n${body}`);
}

/** A request's headers as pairs (node:http's rawHeaders, or pairs already). */
export function requestHeaderPairs(request) {
  if (Array.isArray(request.headerPairs)) return request.headerPairs;
  const pairs = [];
  for (let i = 0; i + 1 < request.rawHeaders.length; i += 2) pairs.push([request.rawHeaders[i], request.rawHeaders[i + 1]]);
  return pairs;
}

/** A Sec-WebSocket-Protocol header pair (names compare case-insensitively, RFC 7230 3.2). */
const isProtocolHeader = ([name]) => name.length === 22 && name.toLowerCase() === 'sec-websocket-protocol';

/**
 * The checks a request must pass before the server's own policy is asked (RFC 6455 4.2.1): the
 * request line here, the headers in beginServerHandshake. Returns the offered subprotocols, or
 * throws the engine's error (httpStatus, httpHeaders).
 */
export function checkRequest(request, pairs) {
  if (request.httpVersionMajor !== undefined && request.httpVersionMajor !== 1) {
    throw codedError('HTTP/1.1 is required', { code: 'BAD_REQUEST', httpStatus: 505, httpHeaders: [] });
  }
  engine().checkRequestLine(request.method, request.httpVersionMinor ?? 1);
  // Most requests offer none: the engine reads the headers (every pair across the boundary) only
  // when one is there to read.
  return pairs.some(isProtocolHeader) ? engine().offeredSubprotocols(pairs) : [];
}

/**
 * Answers the upgrade with the engine: a server handle whose handshake is begun and the 101
 * head as ws's 'headers' event shows it (lines, without the final empty line). `properties`
 * are engine properties.
 */
export function beginServer(pairs, protocol, properties, seed) {
  // A request without Sec-WebSocket-Extensions offers nothing to negotiate: its handle is the
  // same with deflate on or off, so it is made by the default (smaller) build.
  const deflate = properties.perMessageDeflate === true && pairs.some(([name]) => name.toLowerCase() === 'sec-websocket-extensions');
  const handle = createPooledHandle('createServer', deflate ? properties : withoutDeflate(properties), seed, deflate);
  try {
    const response = handle.beginServerHandshake(protocol || null, [], pairs);
    handle.tick(now());
    return { handle, lines: ['HTTP/1.1 101 Switching Protocols', ...response.map(([n, v]) => `${n}: ${v}`)] };
  } catch (err) {
    if (err instanceof WebAssembly.RuntimeError) throw trapped(instanceOfHandle.get(handle), err);
    handle.free();
    throw err;
  }
}

const instanceOfHandle = new WeakMap();

// `properties` with permessage-deflate off, one frozen copy per frozen original (a server's), so
// that the engine reads it once.
const deflateOff = new WeakMap();
function withoutDeflate(properties) {
  if (properties.perMessageDeflate !== true) return properties;
  if (!Object.isFrozen(properties)) return { ...properties, perMessageDeflate: false };
  let off = deflateOff.get(properties);
  if (!off) deflateOff.set(properties, (off = Object.freeze({ ...properties, perMessageDeflate: false })));
  return off;
}

/**
 * A handle from the instance pool (pool.js), of the deflate build when `deflate` (the handle asks
 * for permessage-deflate). No room anywhere is OUT_OF_MEMORY (httpStatus 503); a trap while
 * making it poisons its instance and is ENGINE_TRAPPED (httpStatus 503: the next upgrade goes to
 * another instance).
 */
function createPooledHandle(create, properties, seed, deflate) {
  const footprint = handleFootprint(properties);
  const instance = acquireInstance(footprint, deflate);
  if (!instance) throw outOfMemoryError('a handle (every engine instance trapped, a fresh one is not ready yet)', footprint, 0);
  try {
    const handle = instance.WebSocketHandle[create](properties, seed);
    instanceOfHandle.set(handle, instance);
    return handle;
  } catch (err) {
    if (err instanceof WebAssembly.RuntimeError) throw trapped(instance, err);
    throw err;
  }
}

/** Poisons `instance` after a trap and gives the caller a typed error to answer with. */
function trapped(instance, err) {
  instance?.poison(err);
  return engineTrappedError(err);
}

/**
 * The 101 head from its lines, as text: Node's sockets write a string (UTF-8) in one step, as ws
 * writes its 101, where encoding it to a Uint8Array first took twice the time of the write
 * itself in a profile of 10,000 upgrades; Deno's transport encodes it.
 */
export function headText(lines) {
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/**
 * A request head read from raw bytes (the Deno server) as the node:http-like object ws's
 * callbacks receive: method, url, headers (lower-cased), rawHeaders, httpVersion.
 */
export function requestFromHead(head, socketInfo = {}) {
  return {
    method: head.method,
    url: head.target ?? head.path ?? '/',
    httpVersion: `1.${head.minorVersion}`,
    httpVersionMajor: 1,
    httpVersionMinor: head.minorVersion,
    headers: headerObject(head.headers),
    rawHeaders: head.headers.flat(),
    headerPairs: head.headers,
    socket: socketInfo,
  };
}

export { latin1 };
