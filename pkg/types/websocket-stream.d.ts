// WebSocketStream, the WHATWG proposal that Chromium and Deno ship: streams with backpressure
// both ways instead of events. Runtime-neutral: it needs the global ReadableStream, WritableStream
// and AbortSignal types (the DOM lib, Deno's, or @types/node's).

export interface WebSocketStreamOptions {
  /** Subprotocols to offer. */
  protocols?: string[];
  /** Aborting it before the connection opens ends the attempt (`opened` and `closed` reject). */
  signal?: AbortSignal;
}

export interface WebSocketOpenInfo {
  /** Text messages are strings, binary ones Uint8Array. The socket stops reading while it is full. */
  readable: ReadableStream<string | Uint8Array>;
  /** Write strings (text) or bytes (binary); a write settles once its frame was written. */
  writable: WritableStream<string | ArrayBuffer | ArrayBufferView>;
  /** The negotiated extensions ('' when none). */
  extensions: string;
  /** The negotiated subprotocol ('' when none). */
  protocol: string;
}

export interface WebSocketCloseInfo {
  /** 1000 or 3000-4999 (the WHATWG rule); the peer's code when `closed` resolves. */
  closeCode?: number;
  /** At most 123 bytes of UTF-8. */
  reason?: string;
}

export declare class WebSocketStream {
  constructor(url: string | URL, options?: WebSocketStreamOptions);
  readonly url: string;
  readonly opened: Promise<WebSocketOpenInfo>;
  /** Resolves after a clean close; rejects when the connection failed. */
  readonly closed: Promise<WebSocketCloseInfo>;
  /** Starts the closing handshake (throws InvalidAccessError / SyntaxError for a bad code or reason). */
  close(closeInfo?: WebSocketCloseInfo): void;
}
