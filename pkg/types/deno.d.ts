/* wsaction for Deno: ws 8's WebSocket and WebSocketServer (over Deno.connect / connectTls and
   Deno.listen / listenTls), createWebSocketStream, WebSocketStream, the promise-style
   conveniences (connect, serve, Connection) and the engine class. The ws-shaped declarations are
   the Node entry's (node:events, node:stream and node:buffer are Deno's too); what differs is
   the server's request (a plain object made from the request head) and its options. */
import type { Buffer } from 'node:buffer';
import type { Duplex } from 'node:stream';
import type {
  Connection,
  ConnectionServer,
  ServerOptions as NodeServerOptions,
  WebSocket,
  WebSocketServer as NodeShapedServer,
} from './node.js';
import type { AcceptOptions } from './core.js';

export * from './core.js';
export * from './websocket-stream.js';
export {
  WebSocket,
  createWebSocketStream,
  Event,
  MessageEvent,
  CloseEvent,
  ErrorEvent,
  Connection,
  ConnectionServer,
  connect,
  default,
} from './node.js';
export type {
  AddressInfo,
  ClientOptions,
  ConnectOptions,
  ConnectionEvents,
  Data,
  RawData,
  SendData,
  SocketClass,
  UpgradeRequest,
  UpgradeResponse,
  VerifyClientCallbackAsync,
  VerifyClientCallbackSync,
  VerifyClientInfo,
  WebSocketEventMap,
  WebSocketEvents,
  WebSocketServerEvents,
} from './node.js';

/** The upgrade request a Deno server hands to verifyClient, handleProtocols and 'connection'. */
export interface UpgradeRequestHead {
  method: string;
  url: string;
  httpVersion: string;
  httpVersionMajor: number;
  httpVersionMinor: number;
  /** Lower-case names; repeated fields joined as node:http does. */
  headers: Record<string, string | string[] | undefined>;
  rawHeaders: string[];
  socket: { remoteAddress?: string; remotePort?: number; encrypted?: boolean };
}

/**
 * ws's server options on Deno: port (Deno.listen), server (a node:http server, through Deno's
 * node: compatibility layer) or noServer; tls for wss.
 */
export interface ServerOptions extends NodeServerOptions<typeof WebSocket, UpgradeRequestHead> {
  /** Listen with Deno.listenTls (PEM strings). */
  tls?: { cert: string; key: string } | undefined;
  /** Told about each failed accept (the accept loop goes on); default: console.error. */
  onAcceptError?: ((error: unknown) => void) | undefined;
}

/** ws's WebSocketServer over Deno.listen. */
export declare class WebSocketServer<T extends abstract new (...args: any[]) => object = typeof WebSocket> extends NodeShapedServer<T, UpgradeRequestHead> {
  constructor(options?: ServerOptions, callback?: () => void);
  handleUpgrade(
    request: UpgradeRequestHead,
    socket: Duplex | Deno.Conn,
    upgradeHead: Buffer | Uint8Array,
    callback: (client: InstanceType<T>, request: UpgradeRequestHead) => void,
  ): void;
}

/** Options of serve(): the server options (port defaults to 0) with hostname, and the conveniences' subprotocol choice. */
export interface ServeOptions extends Omit<ServerOptions, 'handleProtocols' | 'WebSocket'>, AcceptOptions {
  hostname?: string;
}

/** A ConnectionServer over Deno.listen, with its bound address and accept loop. */
export interface WsActionDenoServer extends ConnectionServer {
  /** The bound address (a Deno.NetAddr). */
  readonly addr: Deno.NetAddr;
  /** Settles when the accept loop ends. */
  readonly finished: Promise<void>;
}

/** A server handing out Connections (each with its `request`) over Deno.listen. */
export declare function serve(
  options: ServeOptions,
  onConnection?: (connection: Connection & { request: UpgradeRequestHead }, request: UpgradeRequestHead) => void,
): WsActionDenoServer;
