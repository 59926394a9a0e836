import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ConnectionOptions } from 'node:tls';
import type { AddressInfo } from 'node:net';
import type { AcceptOptions, ConnectOptions, Connection } from './connection.d.ts';

export * from './core.d.ts';
export * from './connection.d.ts';

/** Opens a client connection to ws:// (net) or wss:// (tls). */
export declare function connect(url: string | URL, options?: ConnectOptions & { tls?: ConnectionOptions }): Promise<Connection>;

/** Takes over a node:http 'upgrade': the Connection, or null after answering the HTTP error. */
export declare function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Uint8Array, options?: AcceptOptions): Connection | null;

export interface ServerOptions extends AcceptOptions {
  port?: number;
  host?: string;
  /** Use an existing node:http server instead of creating one. */
  server?: Server;
}

export declare class WebSocketServer {
  constructor(options?: ServerOptions);
  readonly httpServer: Server;
  readonly clients: Set<Connection>;
  /** Resolves with the bound address once listening. */
  readonly listening: Promise<AddressInfo>;
  address(): AddressInfo;
  on(event: 'connection', listener: (connection: Connection, request: IncomingMessage) => void): this;
  /** Closes every connection with 1001 and stops listening. */
  close(): Promise<void>;
}

export declare function createServer(options?: ServerOptions, onConnection?: (connection: Connection, request: IncomingMessage) => void): WebSocketServer;
