import type { AcceptOptions, ConnectOptions, Connection } from './connection.d.ts';
import type { RequestHead } from './core.d.ts';

export * from './core.d.ts';
export * from './connection.d.ts';

/** Opens a client connection over Deno.connect (ws://) or Deno.connectTls (wss://). */
export declare function connect(url: string | URL, options?: ConnectOptions & { caCerts?: string[] }): Promise<Connection & { request?: RequestHead }>;

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
