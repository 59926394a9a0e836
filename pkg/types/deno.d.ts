/* wsaction for Deno: the engine class, and the adapter (connect over Deno.connect/connectTls,
   serve over Deno.listen). */
// Deno resolves these .d.ts specifiers itself (the file is Deno's only, through @ts-self-types and
// the `deno` export condition); Node's types import with .js specifiers instead.
import type { AcceptOptions, CloseResult, HandleProperties, Message, RequestHead, SendOptions, WsActionError } from './core.d.ts';

export * from './core.d.ts';
export * from './websocket-stream.d.ts';

export interface ConnectionEvents {
  message: (data: string | Uint8Array, isBinary: boolean) => void;
  pong: (data: Uint8Array) => void;
  error: (error: WsActionError | Error) => void;
  close: (code: number, reason: string) => void;
}

export declare class Connection implements AsyncIterable<Message> {
  private constructor();
  /** The negotiated subprotocol ('' when none). */
  readonly protocol: string;
  /** 'open', 'close-sent', 'close-received', 'closed', 'aborted'. */
  readonly state: string;
  readonly closeCode: number | null;
  readonly closeReason: string;
  /** Why the connection failed (peer violation, timer, transport error), or null. */
  readonly failure: WsActionError | Error | null;
  /** Bytes queued by send() not yet taken by the engine. */
  readonly bufferedAmount: number;
  /** Resolves once the transport is closed. */
  readonly closed: Promise<CloseResult>;
  /** Resolves when the frame has been handed to the transport (after backpressure). */
  send(data: string | ArrayBuffer | ArrayBufferView, options?: SendOptions): Promise<void>;
  ping(data?: string | ArrayBuffer | ArrayBufferView): Promise<void>;
  pong(data?: string | ArrayBuffer | ArrayBufferView): Promise<void>;
  /** Starts the closing handshake; resolves once the transport is closed. */
  close(code?: number, reason?: string): Promise<CloseResult>;
  /** Ends the connection at once, without a closing handshake. */
  terminate(): void;
  on<E extends keyof ConnectionEvents>(event: E, listener: ConnectionEvents[E]): this;
  once<E extends keyof ConnectionEvents>(event: E, listener: ConnectionEvents[E]): this;
  off<E extends keyof ConnectionEvents>(event: E, listener: ConnectionEvents[E]): this;
  [Symbol.asyncIterator](): AsyncIterator<Message>;
}

/** Options of connect(). */
export interface ConnectOptions {
  protocols?: string[];
  headers?: Record<string, string | string[]> | [string, string][];
  properties?: HandleProperties;
  seed?: number | bigint;
  /** Milliseconds for the opening handshake (default 30000). */
  handshakeTimeout?: number;
  /** Extra CA certificates (PEM) for wss://. */
  caCerts?: string[];
}

/** Opens a client connection over Deno.connect (ws://) or Deno.connectTls (wss://). */
export declare function connect(url: string | URL, options?: ConnectOptions): Promise<Connection & { request?: RequestHead }>;

export interface ServeOptions extends AcceptOptions {
  port?: number;
  hostname?: string;
  handshakeTimeout?: number;
}

export interface WsActionDenoServer {
  /** The bound address (a Deno.NetAddr). */
  readonly addr: { hostname: string; port: number; transport: string };
  readonly clients: Set<Connection>;
  /** Settles when the accept loop ends. */
  readonly finished: Promise<void>;
  /** Closes every connection with 1001 and the listener. */
  close(): Promise<void>;
}

/** A WebSocket server over Deno.listen; the HTTP heads go through the engine's helpers. */
export declare function serve(options: ServeOptions, onConnection: (connection: Connection & { request: RequestHead }) => void): WsActionDenoServer;
