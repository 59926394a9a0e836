// The promise-style conveniences' shared shapes: what the async iterator yields, what `closed`
// resolves with, and the options connect() and the servers take on top of the ws ones.
import type { HandleProperties } from './core.js';

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
