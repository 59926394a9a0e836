// wsaction for Node.js: `WebSocket`, `WebSocketServer` and `createWebSocketStream` shaped as ws 8
// (and as @types/ws declares them, so code typed against ws keeps type-checking after
// `from 'ws'` becomes `from 'wsaction'`), WebSocketStream, the promise-style conveniences
// (connect, createServer, handleUpgrade, Connection) and the engine class (WebSocketHandle).
//
// Needs @types/node (node:events, node:http, node:stream, node:tls), as @types/ws does.

import type { Buffer } from 'node:buffer';
import { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Duplex, DuplexOptions } from 'node:stream';
import type { ConnectionOptions, SecureContextOptions } from 'node:tls';
import type { AcceptOptions, CloseResult, EngineClientOptions, Message, SendOptions } from './core.js';

export * from './core.js';
export * from './websocket-stream.js';

/** What `send` takes: text as a string, binary as any buffer or view (@types/ws's BufferLike, so ws code type-checks as it is). */
export type SendData =
  | string
  | Buffer
  | DataView
  | number
  | ArrayBufferView
  | ArrayBuffer
  | SharedArrayBuffer
  | Blob
  | readonly any[]
  | readonly number[];

/** A message payload as the 'message' event gives it, by binaryType (nodebuffer, arraybuffer, fragments). */
export type RawData = Buffer | ArrayBuffer | Buffer[];

/** A MessageEvent's data: text as a string, binary by binaryType. */
export type Data = string | Buffer | ArrayBuffer | Buffer[];

/** The server's response to the upgrade request, node:http-like (ws gives an IncomingMessage). */
/**
 * ws's perMessageDeflate options. The window bits are 8..15 (RFC 7692 7.1.2); a number for
 * serverMaxWindowBits / clientMaxWindowBits asks for or promises that limit, true (the client's
 * clientMaxWindowBits default) offers the parameter without a value. concurrencyLimit,
 * zlibInflateOptions and zlibDeflateOptions' other fields are accepted and have no effect: the
 * engine compresses and inflates in the call that sends or receives, bounded by maxPayload.
 */
export interface PerMessageDeflateOptions {
  /** Without context takeover on the sending side, shorter messages go out uncompressed (default 1024). */
  threshold?: number | undefined;
  serverNoContextTakeover?: boolean | undefined;
  clientNoContextTakeover?: boolean | undefined;
  serverMaxWindowBits?: number | boolean | undefined;
  clientMaxWindowBits?: number | boolean | undefined;
  /** level 0..9 (default 6) and memLevel 1..9 (default 8) are used. */
  zlibDeflateOptions?: { level?: number | undefined; memLevel?: number | undefined; [option: string]: unknown } | undefined;
  zlibInflateOptions?: object | undefined;
  concurrencyLimit?: number | undefined;
}

export interface UpgradeResponse {
  statusCode: number;
  statusMessage: string;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  httpVersion: string;
}

/** The request a redirect or a refused upgrade was answering (ws gives a ClientRequest). */
export interface UpgradeRequest {
  method: string;
  path: string;
  host: string;
  headers?: Record<string, string>;
}

/** ws's client options that wsaction reads (tls options such as ca, cert, key, servername too). */
export interface ClientOptions extends SecureContextOptions, EngineClientOptions {
  /** Milliseconds for the opening handshake. */
  handshakeTimeout?: number | undefined;
  /** Extra request headers. */
  headers?: { [key: string]: string } | undefined;
  /** The Origin header. */
  origin?: string | undefined;
  /** Largest message accepted, in bytes (ws's default: 100 MiB). */
  maxPayload?: number | undefined;
  skipUTF8Validation?: boolean | undefined;
  /** Most frames in one message (the engine's maxFragments). */
  maxFragments?: number | undefined;
  /** Answer received pings automatically (default true); false: answer them with pong() from the 'ping' event. */
  autoPong?: boolean | undefined;
  followRedirects?: boolean | undefined;
  maxRedirects?: number | undefined;
  /** Opens the socket yourself (net.createConnection's shape). */
  createConnection?: ((options: object, connectListener?: () => void) => Duplex) | undefined;
  /** Only 13 is spoken. */
  protocolVersion?: number | undefined;
  /** Socket options of net.connect. */
  family?: number | undefined;
  localAddress?: string | undefined;
  lookup?: ((hostname: string, options: object, callback: (...args: any[]) => void) => void) | undefined;
  rejectUnauthorized?: boolean | undefined;
  servername?: string | undefined;
  /** permessage-deflate (RFC 7692), as ws: offered unless false (default true). */
  perMessageDeflate?: boolean | PerMessageDeflateOptions | undefined;
  /** tls options for wss:// (also read from the top level, as ws does). */
  tls?: ConnectionOptions | undefined;
  [option: string]: unknown;
}

/** The WHATWG Event as ws shapes it. */
export declare class Event {
  constructor(type: string);
  readonly type: string;
  readonly target: WebSocket | null;
  readonly currentTarget: WebSocket | null;
}

export declare class MessageEvent extends Event {
  constructor(type: string, options?: { data?: Data });
  readonly data: Data;
}

export declare class CloseEvent extends Event {
  constructor(type: string, options?: { code?: number; reason?: string; wasClean?: boolean });
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
}

export declare class ErrorEvent extends Event {
  constructor(type: string, options?: { error?: unknown; message?: string });
  readonly error: any;
  readonly message: string;
}

export interface WebSocketEventMap {
  open: Event;
  error: ErrorEvent;
  close: CloseEvent;
  message: MessageEvent;
}

export type WhatwgListener<E> = ((event: E) => void) | { handleEvent(event: E): void };

/** The ws-style events: name -> listener arguments. */
export interface WebSocketEvents {
  open: [];
  message: [data: RawData, isBinary: boolean];
  close: [code: number, reason: Buffer];
  error: [error: Error];
  ping: [data: Buffer];
  pong: [data: Buffer];
  upgrade: [response: UpgradeResponse];
  'unexpected-response': [request: UpgradeRequest, response: UpgradeResponse];
  redirect: [url: string, request: UpgradeRequest];
}

type Listener<This, Args extends unknown[]> = (this: This, ...args: Args) => void;

/**
 * ws's WebSocket: the ws-style events of node:events' EventEmitter and, on the same object, the
 * WHATWG style (addEventListener, onopen/onmessage/onerror/onclose).
 */
export declare class WebSocket extends EventEmitter {
  static readonly CONNECTING: 0;
  static readonly OPEN: 1;
  static readonly CLOSING: 2;
  static readonly CLOSED: 3;
  readonly CONNECTING: 0;
  readonly OPEN: 1;
  readonly CLOSING: 2;
  readonly CLOSED: 3;

  /** ws://, wss://, http://, https:// or ws+unix: addresses; `null` makes a server-side socket. */
  constructor(address: null);
  constructor(address: string | URL, options?: ClientOptions);
  constructor(address: string | URL, protocols?: string | string[], options?: ClientOptions);

  /** 'nodebuffer' (the default: Buffers), 'arraybuffer' or 'fragments' (a Buffer per frame). */
  binaryType: 'nodebuffer' | 'arraybuffer' | 'fragments';
  /** Bytes sent and not yet written to the socket. */
  readonly bufferedAmount: number;
  /** The negotiated extensions' names, as ws: 'permessage-deflate' when agreed, '' when none. */
  readonly extensions: string;
  readonly isPaused: boolean;
  /** The negotiated subprotocol ('' when none). */
  readonly protocol: string;
  readonly readyState: 0 | 1 | 2 | 3;
  readonly url: string;

  onopen: ((event: Event) => void) | null;
  onerror: ((event: ErrorEvent) => void) | null;
  onclose: ((event: CloseEvent) => void) | null;
  onmessage: ((event: MessageEvent) => void) | null;

  /** Starts the closing handshake. Throws TypeError for a code a close frame may not carry, RangeError for a reason over 123 bytes. */
  close(code?: number, data?: string | Buffer): void;
  ping(data?: SendData, mask?: boolean, cb?: (err?: Error) => void): void;
  pong(data?: SendData, mask?: boolean, cb?: (err?: Error) => void): void;
  send(data: SendData, cb?: (err?: Error) => void): void;
  send(
    data: SendData,
    options: { mask?: boolean | undefined; binary?: boolean | undefined; compress?: boolean | undefined; fin?: boolean | undefined },
    cb?: (err?: Error) => void,
  ): void;
  /** Ends the connection at once, without a closing handshake. */
  terminate(): void;
  /** Stops emitting messages (and reading) until resume(). */
  pause(): void;
  resume(): void;

  addEventListener<K extends keyof WebSocketEventMap>(
    type: K,
    listener: WhatwgListener<WebSocketEventMap[K]>,
    options?: { once?: boolean | undefined },
  ): void;
  removeEventListener<K extends keyof WebSocketEventMap>(type: K, listener: WhatwgListener<WebSocketEventMap[K]>): void;

  on<K extends keyof WebSocketEvents>(event: K, listener: Listener<this, WebSocketEvents[K]>): this;
  on(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
  once<K extends keyof WebSocketEvents>(event: K, listener: Listener<this, WebSocketEvents[K]>): this;
  once(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
  off<K extends keyof WebSocketEvents>(event: K, listener: Listener<this, WebSocketEvents[K]>): this;
  off(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
  addListener<K extends keyof WebSocketEvents>(event: K, listener: Listener<this, WebSocketEvents[K]>): this;
  addListener(event: string | symbol, listener: (...args: any[]) => void): this;
  removeListener<K extends keyof WebSocketEvents>(event: K, listener: Listener<this, WebSocketEvents[K]>): this;
  removeListener(event: string | symbol, listener: (...args: any[]) => void): this;
}

export default WebSocket;

/** The class of a server's sockets: WebSocket, a subclass, or Connection. */
export type SocketClass = abstract new (...args: any[]) => object;

/** What verifyClient is told about the upgrade request. */
export interface VerifyClientInfo<Request = IncomingMessage> {
  origin: string;
  secure: boolean;
  req: Request;
}

export type VerifyClientCallbackSync<Request = IncomingMessage> = (info: VerifyClientInfo<Request>) => boolean;

export type VerifyClientCallbackAsync<Request = IncomingMessage> = (
  info: VerifyClientInfo<Request>,
  callback: (res: boolean, code?: number, message?: string, headers?: OutgoingHttpHeaders) => void,
) => void;

/** ws's server options (exactly one of port, server and noServer). */
export interface ServerOptions<T extends SocketClass = typeof WebSocket, Request = IncomingMessage> {
  host?: string | undefined;
  port?: number | undefined;
  backlog?: number | undefined;
  /** Share your http or https server: close() leaves it running. */
  server?: HttpServer | HttpsServer | undefined;
  /** Take upgrades yourself with handleUpgrade. */
  noServer?: boolean | undefined;
  /** Only this pathname (query ignored) is served. */
  path?: string | undefined;
  verifyClient?: VerifyClientCallbackAsync<Request> | VerifyClientCallbackSync<Request> | undefined;
  handleProtocols?: ((protocols: Set<string>, request: Request) => string | false) | undefined;
  /** Keep `clients` (default true). */
  clientTracking?: boolean | undefined;
  /** Largest message accepted, in bytes (default 100 MiB). */
  maxPayload?: number | undefined;
  skipUTF8Validation?: boolean | undefined;
  /** Most frames in one message (the engine's maxFragments). */
  maxFragments?: number | undefined;
  /** Answer received pings automatically (default true); false: answer them with pong() from the 'ping' event. */
  autoPong?: boolean | undefined;
  /** permessage-deflate (RFC 7692), as ws: accepted when offered only if set (default false). */
  perMessageDeflate?: boolean | PerMessageDeflateOptions | undefined;
  /** The class of accepted sockets (a subclass of WebSocket). */
  WebSocket?: T | undefined;
  /** Milliseconds to wait for the peer's close after ours (default 30000). */
  closeTimeout?: number | undefined;
  /** Most open connections; an upgrade beyond it is answered 503 with Retry-After (default: no limit). */
  maxConnections?: number | undefined;
  /** Bytes of wasm memory this server's connections may hold; beyond it, 503 (default: no budget). */
  wasmMemoryBudget?: number | undefined;
  /** Bytes waiting to be written above which a connection stops reading (default 1 MiB, at least 64 KiB). */
  writeHighWaterMark?: number | undefined;
  /** Called with an error an upgrade met (default: console.error); the server goes on. */
  onAcceptError?: ((error: unknown) => void) | undefined;
  /** Engine properties for accepted sockets. */
  properties?: import('./core.js').HandleProperties | undefined;
}

export interface AddressInfo {
  address: string;
  family: string;
  port: number;
}

/** The server's events: name -> listener arguments. */
export interface WebSocketServerEvents<T extends SocketClass, Request> {
  connection: [socket: InstanceType<T>, request: Request, ...rest: any[]];
  error: [error: Error];
  headers: [headers: string[], request: Request];
  close: [];
  listening: [];
  wsClientError: [error: Error, socket: Duplex, request: Request];
}

/** ws's WebSocketServer. */
export declare class WebSocketServer<T extends SocketClass = typeof WebSocket, Request = IncomingMessage> extends EventEmitter {
  constructor(options?: ServerOptions<T, Request>, callback?: () => void);
  options: ServerOptions<T, Request>;
  /** The connected sockets (with clientTracking, the default). */
  clients: Set<InstanceType<T>>;
  address(): AddressInfo | string | null;
  /** Stops accepting; emits 'close' once the server (and, sharing a server, every client) is done. Open sockets stay open, as in ws. */
  close(cb?: (err?: Error) => void): void;
  handleUpgrade(
    request: Request,
    socket: Duplex,
    upgradeHead: Buffer,
    callback: (client: InstanceType<T>, request: Request) => void,
  ): void;
  shouldHandle(request: Request): boolean | Promise<boolean>;

  on<K extends keyof WebSocketServerEvents<T, Request>>(event: K, listener: Listener<this, WebSocketServerEvents<T, Request>[K]>): this;
  on(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
  once<K extends keyof WebSocketServerEvents<T, Request>>(event: K, listener: Listener<this, WebSocketServerEvents<T, Request>[K]>): this;
  once(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
  off<K extends keyof WebSocketServerEvents<T, Request>>(event: K, listener: Listener<this, WebSocketServerEvents<T, Request>[K]>): this;
  off(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
  addListener<K extends keyof WebSocketServerEvents<T, Request>>(event: K, listener: Listener<this, WebSocketServerEvents<T, Request>[K]>): this;
  addListener(event: string | symbol, listener: (...args: any[]) => void): this;
  removeListener<K extends keyof WebSocketServerEvents<T, Request>>(event: K, listener: Listener<this, WebSocketServerEvents<T, Request>[K]>): this;
  removeListener(event: string | symbol, listener: (...args: any[]) => void): this;
}

/** ws's createWebSocketStream: a Duplex over the socket, with backpressure both ways. */
export declare function createWebSocketStream(websocket: WebSocket, options?: DuplexOptions): Duplex;

// ---------------------------------------------------------------- promise-style conveniences

/** Options of connect(): ws's client options, the subprotocols among them. */
export interface ConnectOptions extends ClientOptions {
  protocols?: string[];
}

/** The events of a Connection: text messages are strings, close reasons strings. */
export interface ConnectionEvents extends Omit<WebSocketEvents, 'message' | 'close'> {
  message: [data: string | Uint8Array, isBinary: boolean];
  close: [code: number, reason: string];
}

type ConnectionOverrides = 'send' | 'ping' | 'pong' | 'close' | 'on' | 'once' | 'off' | 'addListener' | 'removeListener';
/** The WebSocket members a Connection keeps as they are. */
interface ConnectionBase extends Omit<WebSocket, ConnectionOverrides> {}
declare const ConnectionBase: {
  new (address: string | URL, protocols?: string | string[], options?: ClientOptions): ConnectionBase;
  readonly prototype: ConnectionBase;
  readonly CONNECTING: 0;
  readonly OPEN: 1;
  readonly CLOSING: 2;
  readonly CLOSED: 3;
};

/**
 * A WebSocket (at run time a subclass of it) whose send/ping/pong/close return promises, whose
 * text messages are strings, with `closed` and an async iterator. Events: 'message' (data:
 * string | Uint8Array, isBinary), 'close' (code, reason: string), 'pong', and 'error' only when
 * listened to.
 */
export declare class Connection extends ConnectionBase implements AsyncIterable<Message> {
  /** The engine state: 'connecting', 'open', 'close-sent', 'close-received', 'closed', 'aborted'. */
  readonly state: string;
  /** The close code the peer sent (1005: none, 1006: no close frame), once known. */
  readonly closeCode: number | null;
  readonly closeReason: string;
  /** Why the connection failed (a peer violation, a timer, a transport error), or null. */
  readonly failure: Error | null;
  /** Resolves once the transport is closed. */
  readonly closed: Promise<CloseResult>;
  /** Sends a message (or a fragment with fin false); resolves once its frame is handed to the transport. */
  send(data: string | ArrayBuffer | ArrayBufferView, options?: SendOptions): Promise<void>;
  ping(data?: string | ArrayBuffer | ArrayBufferView): Promise<void>;
  pong(data?: string | ArrayBuffer | ArrayBufferView): Promise<void>;
  /** Starts the closing handshake (default 1000) and resolves once the transport is closed. */
  close(code?: number, reason?: string): Promise<CloseResult>;
  [Symbol.asyncIterator](): AsyncIterator<Message>;

  on<K extends keyof ConnectionEvents>(event: K, listener: Listener<this, ConnectionEvents[K]>): this;
  on(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
  once<K extends keyof ConnectionEvents>(event: K, listener: Listener<this, ConnectionEvents[K]>): this;
  once(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
  off<K extends keyof ConnectionEvents>(event: K, listener: Listener<this, ConnectionEvents[K]>): this;
  off(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
  addListener<K extends keyof ConnectionEvents>(event: K, listener: Listener<this, ConnectionEvents[K]>): this;
  addListener(event: string | symbol, listener: (...args: any[]) => void): this;
  removeListener<K extends keyof ConnectionEvents>(event: K, listener: Listener<this, ConnectionEvents[K]>): this;
  removeListener(event: string | symbol, listener: (...args: any[]) => void): this;
}

/** Opens a client Connection; resolves once open, rejects with the handshake's error (httpStatus for a refused upgrade). */
export declare function connect(url: string | URL, options?: ConnectOptions): Promise<Connection>;

/** Options of createServer(): ws's server options (port defaults to 0, host to 127.0.0.1) and the conveniences' subprotocol choice. */
export interface ConnectionServerOptions extends Omit<ServerOptions<typeof Connection>, 'handleProtocols'>, AcceptOptions {}

/** A WebSocketServer handing out Connections, with `listening` and a close() that ends every connection. */
export declare class ConnectionServer extends WebSocketServer<typeof Connection> {
  constructor(options?: ConnectionServerOptions);
  /** Resolves with the bound address once listening (null for noServer). */
  readonly listening: Promise<AddressInfo | null>;
  /** Closes every connection with 1001 and stops listening; resolves once all is closed. */
  close(cb?: (err?: Error) => void): Promise<void>;
}

/** A ConnectionServer on its own http server (or yours, with `server`). */
export declare function createServer(
  options?: ConnectionServerOptions,
  onConnection?: (connection: Connection, request: IncomingMessage) => void,
): ConnectionServer;

/** Takes over a node:http 'upgrade': the Connection, or null after answering the HTTP error. */
export declare function handleUpgrade(
  req: IncomingMessage,
  socket: Duplex,
  head: Uint8Array,
  options?: AcceptOptions & Omit<ServerOptions<typeof Connection>, 'handleProtocols' | 'port' | 'server' | 'noServer'>,
): Connection | null;
