/// <reference lib="esnext.disposable" />
// (WebSocketHandle is Disposable: `using handle = ...` frees it; the lib names Symbol.dispose for
// projects whose `lib` predates it.)
// The engine's JS surface: the WebSocketHandle class (websocket.h's WEB_SOCKET_HANDLE), its
// constants, WsActionError and the HTTP/handshake helpers. Shared by every entry point.

/** A header field as [name, value]. */
export type Header = [name: string, value: string];

/** Handle properties (websocket.h's WEB_SOCKET_PROPERTY plus wsaction's timers and limits). */
export interface HandleProperties {
  /** Most bytes one receive indication (and one ReceiveFromNetwork) carries. 256..=16 MiB, default 4096. */
  receiveBufferSize?: number;
  /** Most bytes one SendToNetwork carries for a masked frame. 16..=16 MiB, default 4096 (client) / 16 (server). */
  sendBufferSize?: number;
  /** Client: mask key 0. Server: accept unmasked client frames. */
  disableMasking?: boolean;
  /** Skip UTF-8 checks on text and close reasons. */
  disableUtf8Verification?: boolean;
  /** Milliseconds of receive silence before a keep-alive frame; 0 = off (default). */
  keepAliveInterval?: number;
  /** What the keep-alive sends: 'ping' (0, default) or 'unsolicited-pong' (1). */
  keepAliveMode?: 'ping' | 'unsolicited-pong' | 'unsolicitedPong' | 0 | 1;
  /** Milliseconds to wait for any frame after a keep-alive ping before failing with 1011; 0 = forever. Default 30000. */
  keepAliveTimeout?: number;
  /** Milliseconds to wait for the peer's close after ours; 0 = forever. Default 30000. */
  closeTimeout?: number;
  /** Milliseconds from the first tick for the handshake; 0 = forever (default). */
  handshakeTimeout?: number;
  /** Largest frame payload accepted. Default 16 MiB. */
  maxFrameSize?: number;
  /** Largest message accepted, summed over fragments (64 bytes charged per frame). Default 64 MiB. */
  maxMessageSize?: number;
  /** Most frames per message. Default 1,048,576. */
  maxFragments?: number;
  /** Most bytes in a handshake HTTP head. Default 16384. */
  maxHandshakeHeaderBytes?: number;
  /** Most header fields in a handshake HTTP head. Default 128. */
  maxHandshakeHeaders?: number;
  /** permessage-deflate (RFC 7692): a client offers it, a server accepts it. Default false. */
  perMessageDeflate?: boolean;
  /** Without context takeover on our side, messages shorter than this go out uncompressed (ws's threshold). Default 1024. */
  deflateThreshold?: number;
  /** Client: ask the server to reset its window per message. Server: always reset ours (ws's serverNoContextTakeover). */
  deflateServerNoContextTakeover?: boolean;
  /** Client: reset our window per message. Server: ask the client to (ws's clientNoContextTakeover). */
  deflateClientNoContextTakeover?: boolean;
  /** 8..=15: the server's LZ77 window, asked (client) or used at most (server) (ws's serverMaxWindowBits). */
  deflateServerMaxWindowBits?: number;
  /** 8..=15: the client's LZ77 window, promised (client) or asked (server) (ws's clientMaxWindowBits). */
  deflateClientMaxWindowBits?: number;
  /** zlib compression level 0..=9. Default 6. */
  deflateLevel?: number;
  /** zlib memory level 1..=9. Default 8. */
  deflateMemLevel?: number;
  /** websocket.h's caller-owned buffer: always rejected (UNSUPPORTED_PROPERTY); wsaction owns its memory. */
  allocatedBuffer?: unknown;
  /** Indicate each received ping (bufferType BufferType.PING, with its payload). Default false (websocket.h answers silently). */
  indicatePings?: boolean;
  /**
   * Answer each received ping with a pong (RFC 6455 5.5.2). Default true. Off, the application
   * answers with UNSOLICITED_PONG carrying the ping's payload; needs indicatePings (INVALID_ARGUMENT otherwise).
   */
  autoPong?: boolean;
}

/** Limits for the free HTTP head parsers. */
export interface HeadLimits {
  maxHandshakeHeaderBytes?: number;
  maxHandshakeHeaders?: number;
}

/** One action from getAction: websocket.h's out-parameters in one object. */
export interface Action {
  /** Action constant: 0 NO_ACTION, 1 SEND_TO_NETWORK, 2 INDICATE_SEND_COMPLETE, 3 RECEIVE_FROM_NETWORK, 4 INDICATE_RECEIVE_COMPLETE. */
  kind: number;
  /** The action context to pass to completeAction / completeReceive (0 for NO_ACTION). */
  id: number;
  /** The queue it came from (ActionQueue.SEND or RECEIVE). */
  queue: number;
  /** For SEND_TO_NETWORK the frame's type; for indications what was sent or received. */
  bufferType: number | null;
  /** The context given to send/receive; null for the engine's own frames. */
  context: number | null;
  /** SEND_TO_NETWORK: bytes to write. INDICATE_RECEIVE_COMPLETE: payload or close reason. A copy the caller owns. */
  bytes: Uint8Array;
  /** For a received close: its status (1005 none, 1006 stream ended without a close). */
  closeStatus: number | null;
  /** RECEIVE_FROM_NETWORK: the most bytes the engine takes now. */
  receiveCapacity: number;
}

/** What drain() returns: the batched action loop. */
export interface DrainResult {
  /**
   * Every SendToNetwork's bytes, in order (already completed as written): write them. A copy you
   * own; on Node, when small, it lies in Node's Buffer pool (its `.buffer` is the pool's).
   */
  out: Uint8Array;
  /** The indications' bytes; each event's [start, end) indexes into it. A copy you own, as `out`. */
  payload: Uint8Array;
  /**
   * Sextuples [kind, bufferType | -1, closeStatus | -1, context | -1, start, end]; kind is
   * Action.INDICATE_SEND_COMPLETE (2) or Action.INDICATE_RECEIVE_COMPLETE (4).
   */
  events: Float64Array;
  /** The ReceiveFromNetwork this call handed out and left held (0: none). */
  receiveId: number;
  receiveCapacity: number;
  /** The handle's state after the drain (State constants). */
  state: number;
  /** The first peer violation met (the failing close is in `out`), or null. */
  error: WsActionError | null;
}

/** What sendMany() returns: drain's result for the whole batch, and how far the batch got. */
export interface SendManyResult extends DrainResult {
  /**
   * How many of the messages were sent, in order (their frames are in `out`, already completed
   * as written). Their send completions are counted here, not listed in `events`.
   */
  sent: number;
  /** The engine's refusal of message `sent` that stopped the batch (later ones were not tried), or null. */
  sendError: WsActionError | null;
}

export interface ClientHandshakeResult {
  /** Index into the offered subprotocols, or null. */
  selectedSubprotocol: number | null;
  /** Indexes into the offered extensions. */
  selectedExtensions: number[];
}

export interface RequestHead {
  method: string;
  target: string;
  /** 1 for HTTP/1.1. */
  minorVersion: number;
  headers: Header[];
  /** Bytes the head took; later bytes belong to the WebSocket stream. */
  consumed: number;
}

export interface ResponseHead {
  status: number;
  reason: string;
  minorVersion: number;
  headers: Header[];
  consumed: number;
}

/**
 * The error the engine throws. `code` is stable: INVALID_STATE, INVALID_ARGUMENT,
 * PROPERTY_OUT_OF_RANGE, UNSUPPORTED_PROPERTY, UNKNOWN_ACTION, OPERATION_PENDING,
 * RANDOM_UNAVAILABLE, PROTOCOL_VIOLATION, HANDSHAKE_FAILED, MALFORMED_HTTP, TIMEOUT.
 * Wrong JS argument types are TypeError / RangeError instead.
 */
export declare class WsActionError extends Error {
  readonly name: 'WsActionError';
  readonly code: string;
  /** The websocket.h HRESULT (unsigned 32-bit, e.g. 0x83760002). */
  readonly hresult: number;
  /** The close code to fail the connection with (1002, 1007, 1009, 1011), or null. */
  readonly closeCode: number | null;
  /** The HTTP status a server answers a failed handshake with, or null. */
  readonly httpStatus: number | null;
  /** Header fields to send with that status (e.g. Sec-WebSocket-Version: 13 with 426). */
  readonly httpHeaders: Header[];
  /** True when the caller misused the API; false when the peer is at fault. */
  readonly local: boolean;
  /** For PROTOCOL_VIOLATION, which rule: e.g. UNMASKED_CLIENT_FRAME, INVALID_UTF8, FRAME_TOO_BIG. */
  readonly violation: string | null;
}

/** websocket.h's WEB_SOCKET_HANDLE. Release it with free() (or `using`). */
export declare class WebSocketHandle {
  private constructor();
  /**
   * WebSocketCreateClientHandle. `seed` makes mask and handshake keys deterministic (tests only).
   * A handle with `perMessageDeflate: true` is made by the package's deflate build (another wasm
   * module, so not `instanceof` this class; in browsers, `await loadPerMessageDeflate()` first).
   */
  static createClient(properties?: HandleProperties | null, seed?: number | bigint | null): WebSocketHandle;
  /** WebSocketCreateServerHandle. */
  static createServer(properties?: HandleProperties | null, seed?: number | bigint | null): WebSocketHandle;
  free(): void;
  [Symbol.dispose](): void;
  readonly role: 'client' | 'server';
  /** State constant (0 CONNECTING .. 5 ABORTED). */
  readonly state: number;
  readonly stateName: 'connecting' | 'open' | 'close-sent' | 'close-received' | 'closed' | 'aborted';
  /** Why the handle failed (peer violation, rejected handshake, timer), or null. */
  readonly failure: WsActionError | null;
  readonly subprotocol: string | null;
  readonly extensions: string[];
  /** Returns the headers to add to the request (the host adds Host and writes the request). */
  beginClientHandshake(subprotocols?: string[] | null, extensions?: string[] | null, initialHeaders?: Header[] | null): Header[];
  /** Checks the response headers (the host checked status 101). */
  endClientHandshake(responseHeaders: Header[]): ClientHandshakeResult;
  /** Checks the request headers; returns the 101 response headers. Errors carry httpStatus/httpHeaders. */
  beginServerHandshake(selectedSubprotocol: string | null | undefined, selectedExtensions: string[] | null | undefined, requestHeaders: Header[]): Header[];
  /** Optional, as in websocket.h. */
  endServerHandshake(): void;
  /**
   * WebSocketSend. Data types and PING_PONG / UNSOLICITED_PONG take a Uint8Array (or null);
   * CLOSE takes {status, reason} (reason at most 123 bytes of UTF-8) or null for no status.
   * `context` is a safe non-negative integer echoed on the actions of this send.
   */
  send(bufferType: number, data?: Uint8Array | { status: number; reason?: string | Uint8Array } | null, context?: number | null): void;
  /** WebSocketReceive. */
  receive(context?: number | null): void;
  /** WebSocketGetAction (queue defaults to ActionQueue.ALL). Throws a peer violation as WsActionError; keep draining after it. */
  getAction(queue?: number): Action;
  /** WebSocketCompleteAction. */
  completeAction(id: number, bytesTransferred: number): void;
  /** Completes a RECEIVE_FROM_NETWORK with the bytes read (empty: the peer ended the stream). */
  completeReceive(id: number, data: Uint8Array): void;
  /**
   * The batched action loop: completes indications and sends on the host's behalf, packs
   * outgoing bytes, re-queues a receive after each receive indication when keepReceiving, and
   * stops at a held RECEIVE_FROM_NETWORK or NO_ACTION (or once maxOutBytes are packed).
   */
  drain(keepReceiving: boolean, maxOutBytes?: number | null): DrainResult;
  /**
   * send(bufferType, data) then drain(keepReceiving) in one call (one boundary crossing per
   * message). Throws what send throws, before anything is sent.
   */
  sendAndDrain(
    bufferType: number,
    data: Uint8Array | { status: number; reason?: string | Uint8Array } | null,
    keepReceiving: boolean,
  ): DrainResult;
  /**
   * Sends each of `messages` (one buffer type; at most 65,536 messages and 256 MiB in all), each
   * followed by the action loop, in one call: one crossing for N frames. A wrong argument is a
   * TypeError or RangeError and the engine refusing the first message a WsActionError, all
   * thrown before anything is sent; a later refusal stops the batch and comes back as
   * `sendError` (the frames before it are in `out` and must be written).
   */
  sendMany(bufferType: number, messages: Uint8Array[], keepReceiving: boolean): SendManyResult;
  /**
   * drain() without the copy out of wasm memory: `out`, `payload` and `events` are views over it,
   * in one result object that every view call refills. Valid until the next call into wsaction
   * on any handle (a call reuses the buffers or grows the memory, which detaches the views):
   * write or copy what you need first.
   */
  drainView(keepReceiving: boolean, maxOutBytes?: number | null): DrainResult;
  /** sendAndDrain() with drainView()'s result (views, valid until the next call). */
  sendAndDrainView(
    bufferType: number,
    data: Uint8Array | { status: number; reason?: string | Uint8Array } | null,
    keepReceiving: boolean,
  ): DrainResult;
  /**
   * `length` bytes of wasm memory (at most 256 MiB) to write the next message into, for
   * sendBufferAndDrain(): framed from there, with no copy in. Shared by the module's handles;
   * valid until the next call into wsaction.
   */
  sendBuffer(length: number): Uint8Array;
  /** Sends the first `length` bytes of sendBuffer()'s space as one message, then drainView(). */
  sendBufferAndDrain(bufferType: number, length: number, keepReceiving: boolean): DrainResult;
  /** WebSocketAbortHandle. */
  abort(): void;
  /** The time in ms (any epoch, never decreasing); fires due timers. Drain after it. */
  tick(nowMs: number): void;
  /** When the next timer fires (tick's clock), or null. */
  nextDeadline(): number | null;
  /** parseRequestHead with this handle's handshake limits. */
  parseRequestHead(bytes: Uint8Array): RequestHead | null;
  /** parseResponseHead with this handle's handshake limits. */
  parseResponseHead(bytes: Uint8Array): ResponseHead | null;
  /**
   * True while a failing close waits behind the application's replies (the driver's ordering
   * rule): deliver the last result's indications, send the replies, then drain().
   */
  readonly failingCloseWaits: boolean;
  /**
   * The driver's trace hook, called for each input and action with a plain object; null removes
   * it. What the hook throws is ignored.
   */
  setTrace(hook: ((event: TraceEvent) => void) | null): void;
}

/** What the trace hook receives (bytes are copies). */
export type TraceEvent =
  | { type: 'input'; call: string; id: number; bufferType: number | null; bytes: Uint8Array }
  | ({ type: 'action' } & Action)
  | { type: 'violation'; error: WsActionError };

/** The websocket.h numbers. */
export interface Constants {
  readonly BufferType: {
    readonly UTF8_MESSAGE: 0x80000000;
    readonly UTF8_FRAGMENT: 0x80000001;
    readonly BINARY_MESSAGE: 0x80000002;
    readonly BINARY_FRAGMENT: 0x80000003;
    readonly CLOSE: 0x80000004;
    readonly PING_PONG: 0x80000005;
    readonly UNSOLICITED_PONG: 0x80000006;
    /** wsaction's own, receive only: a ping arrived (with the indicatePings property). */
    readonly PING: 0x80001000;
  };
  readonly Action: {
    readonly NO_ACTION: 0;
    readonly SEND_TO_NETWORK: 1;
    readonly INDICATE_SEND_COMPLETE: 2;
    readonly RECEIVE_FROM_NETWORK: 3;
    readonly INDICATE_RECEIVE_COMPLETE: 4;
  };
  readonly ActionQueue: { readonly SEND: 1; readonly RECEIVE: 2; readonly ALL: 3 };
  readonly CloseStatus: {
    readonly SUCCESS: 1000;
    readonly ENDPOINT_UNAVAILABLE: 1001;
    readonly PROTOCOL_ERROR: 1002;
    readonly INVALID_DATA_TYPE: 1003;
    readonly EMPTY: 1005;
    readonly ABORTED: 1006;
    readonly INVALID_PAYLOAD: 1007;
    readonly POLICY_VIOLATION: 1008;
    readonly MESSAGE_TOO_BIG: 1009;
    readonly UNSUPPORTED_EXTENSIONS: 1010;
    readonly SERVER_ERROR: 1011;
    readonly SECURE_HANDSHAKE_ERROR: 1015;
  };
  readonly PropertyType: { readonly [name: string]: number };
  readonly HResult: { readonly [name: string]: number };
  readonly State: {
    readonly CONNECTING: 0;
    readonly OPEN: 1;
    readonly CLOSE_SENT: 2;
    readonly CLOSE_RECEIVED: 3;
    readonly CLOSED: 4;
    readonly ABORTED: 5;
  };
  readonly MAX_CLOSE_REASON_LENGTH: 123;
  readonly SUPPORTED_VERSION: 13;
}

export declare const constants: Constants;

/** Parses a request head: null = need more bytes. Errors carry httpStatus 400 / 431. */
export declare function parseRequestHead(bytes: Uint8Array, limits?: HeadLimits | null): RequestHead | null;
/** Parses a response head: null = need more bytes. */
export declare function parseResponseHead(bytes: Uint8Array, limits?: HeadLimits | null): ResponseHead | null;
export declare function serializeRequestHead(method: string, target: string, headers: Header[]): Uint8Array;
/** `reason` null/undefined: the standard phrase. */
export declare function serializeResponseHead(status: number, reason: string | null | undefined, headers: Header[]): Uint8Array;
export declare function reasonPhrase(status: number): string;
/** Throws (with httpStatus 405 / 505) unless GET over HTTP/1.1 or later. */
export declare function checkRequestLine(method: string, minorVersion: number): void;
export declare function offeredSubprotocols(requestHeaders: Header[]): string[];
export declare function offeredExtensions(requestHeaders: Header[]): string[];
export declare function acceptKey(key: string): string;
/**
 * Loads the engine's deflate build (dist/wsaction_deflate_bg.wasm: the engine with zlib-rs),
 * which makes the handles that ask for permessage-deflate; the default wasm leaves it out to be
 * smaller. Needed in browsers before `createClient`/`createServer` with `perMessageDeflate: true`
 * (without it they throw UNSUPPORTED_PROPERTY); Node and Deno load it on first use. `source`: a
 * URL, a Response, bytes or a compiled module (default: the file beside the package's glue).
 */
export declare function loadPerMessageDeflate(
  source?: URL | string | ArrayBuffer | ArrayBufferView | FetchedWasm | PromiseLike<FetchedWasm> | CompiledWasmModule,
): Promise<void>;
/** A fetch() Response (or anything with `ok` and `arrayBuffer()`). */
export interface FetchedWasm {
  readonly ok: boolean;
  arrayBuffer(): Promise<ArrayBuffer>;
}
/** A compiled WebAssembly.Module (named structurally: the types need no DOM or WebAssembly lib). */
export type CompiledWasmModule = object;
/** WebSocketGetGlobalProperty: 5 -> keep-alive interval (ms), 6 -> supported versions. */
export declare function globalProperty(propertyType: 5): number;
export declare function globalProperty(propertyType: 6): number[];
export declare function globalProperty(propertyType: number): number | number[];

// ---------------------------------------------------------------- the conveniences' shared shapes
// (what connect()'s Connection and the servers of every runtime have in common)

export interface CloseResult {
  /** The peer's close status (1005: no status, 1006: no close frame). */
  code: number;
  reason: string;
  /** Both close frames crossed. */
  wasClean: boolean;
}

/** What a Connection's async iterator yields: text as a string, binary as bytes. */
export interface Message {
  data: string | Uint8Array;
  isBinary: boolean;
}

/** Options of a Connection's send(). */
export interface SendOptions {
  /** Send a string as binary (true) or bytes as text (false). */
  binary?: boolean;
  /** Send bytes as text. */
  text?: boolean;
  /** false: a fragment; later sends continue the message until one with fin true (default). */
  fin?: boolean;
}

/** wsaction's own client options, on top of ws's. */
export interface EngineClientOptions {
  /** Subprotocols to offer (connect(); `new WebSocket` takes them as its second argument). */
  protocols?: string[];
  /** Engine properties (limits, timers, buffer sizes); ws's names win where both are given. */
  properties?: HandleProperties;
  /** Makes mask and handshake keys deterministic: for tests only. */
  seed?: number | bigint;
  /** Milliseconds to wait for the peer's close after ours (default 30000). */
  closeTimeout?: number;
  /** Bytes waiting to be written above which the connection stops reading (default 1 MiB, at least 64 KiB). */
  writeHighWaterMark?: number;
}

/** The conveniences' subprotocol choice, as they always took it: a list, or a chooser over an array. */
export interface AcceptOptions {
  /** Subprotocols the server speaks: the first the client offers that is in this list is chosen. */
  protocols?: string[];
  /** Or choose yourself from the client's offers (an array here; ws's handleProtocols takes a Set). */
  handleProtocols?: (offered: string[], request?: unknown) => string | null | undefined | false;
  properties?: HandleProperties;
  seed?: number | bigint;
}
