// wsaction in browsers (and any runtime with fetch and WebAssembly): the engine class and its
// helpers, the WHATWG event classes, and the promise-style Connection over a transport you bring
// (browsers have no raw sockets). Needs no @types/node.
import type { CloseResult, Message, SendOptions, WebSocketHandle } from './core.js';

export * from './core.js';

/** The WHATWG Event as ws shapes it. */
export declare class Event {
  constructor(type: string);
  readonly type: string;
  readonly target: Connection | null;
  readonly currentTarget: Connection | null;
}

export declare class MessageEvent extends Event {
  constructor(type: string, options?: { data?: unknown });
  /** Text as a string; binary as an ArrayBuffer (binaryType 'arraybuffer') or bytes. */
  readonly data: string | ArrayBuffer | Uint8Array | Uint8Array[];
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

/** Where a transport reports what happens to it (handed to `start`). */
export interface TransportSink {
  /** Bytes read from the peer. */
  _input(bytes: Uint8Array): void;
  /** The peer ended its side of the stream. */
  _inputEnded(): void;
  /** A write that returned false has drained: write again. */
  _writable(): void;
  _transportError(error: Error): void;
  /** The transport is closed. */
  _transportClosed(): void;
}

/** A byte transport: `write` returning false means "wait for the sink's `_writable()`". */
export interface Transport {
  /** Called once: report reads and transport events to `sink` from then on. */
  start(sink: TransportSink): void;
  write(bytes: Uint8Array): boolean;
  end(): void;
  destroy(): void;
  pause?(): void;
  resume?(): void;
  /** Bytes written and not yet sent. */
  bufferedAmount?(): number;
}

export interface BrowserConnectionEvents {
  open: [];
  message: [data: string | Uint8Array, isBinary: boolean];
  close: [code: number, reason: string];
  error: [error: Error];
  ping: [data: Uint8Array];
  pong: [data: Uint8Array];
}

export interface ConnectionEventMap {
  open: Event;
  error: ErrorEvent;
  close: CloseEvent;
  message: MessageEvent;
}

/**
 * One WebSocket connection, promise style: send/ping/pong/close return promises, text messages
 * are strings, `closed` and an async iterator of { data, isBinary }. Events through on/once/off
 * (an emitter with node:events' methods) and addEventListener / onmessage on the same object.
 */
export declare class Connection implements AsyncIterable<Message> {
  /** A Connection over your transport, with a handle whose handshake is done. */
  static fromTransport(handle: WebSocketHandle, transport: Transport, options?: { leftover?: Uint8Array; closeGraceMs?: number }): Connection;
  static readonly CONNECTING: 0;
  static readonly OPEN: 1;
  static readonly CLOSING: 2;
  static readonly CLOSED: 3;
  readonly readyState: 0 | 1 | 2 | 3;
  readonly protocol: string;
  readonly extensions: string;
  readonly bufferedAmount: number;
  readonly isPaused: boolean;
  binaryType: 'nodebuffer' | 'arraybuffer' | 'fragments';
  /** The engine state: 'connecting', 'open', 'close-sent', 'close-received', 'closed', 'aborted'. */
  readonly state: string;
  /** The close code the peer sent (1005: none, 1006: no close frame), once known. */
  readonly closeCode: number | null;
  readonly closeReason: string;
  /** Why the connection failed (a peer violation, a timer, a transport error), or null. */
  readonly failure: Error | null;
  /** Resolves once the transport is closed. */
  readonly closed: Promise<CloseResult>;
  send(data: string | ArrayBuffer | ArrayBufferView, options?: SendOptions): Promise<void>;
  ping(data?: string | ArrayBuffer | ArrayBufferView): Promise<void>;
  pong(data?: string | ArrayBuffer | ArrayBufferView): Promise<void>;
  /** Starts the closing handshake (default 1000) and resolves once the transport is closed. */
  close(code?: number, reason?: string): Promise<CloseResult>;
  /** Ends the connection at once, without a closing handshake. */
  terminate(): void;
  pause(): void;
  resume(): void;
  [Symbol.asyncIterator](): AsyncIterator<Message>;

  onopen: ((event: Event) => void) | null;
  onerror: ((event: ErrorEvent) => void) | null;
  onclose: ((event: CloseEvent) => void) | null;
  onmessage: ((event: MessageEvent) => void) | null;
  addEventListener<K extends keyof ConnectionEventMap>(
    type: K,
    listener: ((event: ConnectionEventMap[K]) => void) | { handleEvent(event: ConnectionEventMap[K]): void },
    options?: { once?: boolean },
  ): void;
  removeEventListener<K extends keyof ConnectionEventMap>(
    type: K,
    listener: ((event: ConnectionEventMap[K]) => void) | { handleEvent(event: ConnectionEventMap[K]): void },
  ): void;

  on<K extends keyof BrowserConnectionEvents>(event: K, listener: (this: this, ...args: BrowserConnectionEvents[K]) => void): this;
  on(event: string, listener: (this: this, ...args: any[]) => void): this;
  once<K extends keyof BrowserConnectionEvents>(event: K, listener: (this: this, ...args: BrowserConnectionEvents[K]) => void): this;
  once(event: string, listener: (this: this, ...args: any[]) => void): this;
  off<K extends keyof BrowserConnectionEvents>(event: K, listener: (this: this, ...args: BrowserConnectionEvents[K]) => void): this;
  off(event: string, listener: (this: this, ...args: any[]) => void): this;
  addListener(event: string, listener: (...args: any[]) => void): this;
  removeListener(event: string, listener: (...args: any[]) => void): this;
  removeAllListeners(event?: string): this;
  listenerCount(event: string): number;
  emit(event: string, ...args: unknown[]): boolean;
}
