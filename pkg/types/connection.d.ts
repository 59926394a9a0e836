// A WebSocket connection driven by the engine over a byte transport (Node socket, Deno.Conn).
import type { WsActionError } from './core.d.ts';

export interface SendOptions {
  /** Send a string as binary (true) or bytes as text (false). */
  binary?: boolean;
  /** Send bytes as text. */
  text?: boolean;
  /** false: a fragment; later sends continue the message until one with fin true (default). */
  fin?: boolean;
}

export interface CloseResult {
  /** The peer's close status (1005: no status, 1006: no close frame). */
  code: number;
  reason: string;
  /** Both close frames crossed. */
  wasClean: boolean;
}

export interface Message {
  data: string | Uint8Array;
  isBinary: boolean;
}

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

/** Options shared by connect() in Node and Deno. */
export interface ConnectOptions {
  protocols?: string[];
  headers?: Record<string, string | string[]> | [string, string][];
  properties?: import('./core.d.ts').HandleProperties;
  seed?: number | bigint;
  /** Milliseconds for the opening handshake (default 30000). */
  handshakeTimeout?: number;
}

/** Options shared by the servers in Node and Deno. */
export interface AcceptOptions {
  /** Subprotocols the server speaks: the first the client offers that is in this list is chosen. */
  protocols?: string[];
  /** Or choose yourself from the client's offers. */
  handleProtocols?: (offered: string[]) => string | null | undefined;
  properties?: import('./core.d.ts').HandleProperties;
  seed?: number | bigint;
}
