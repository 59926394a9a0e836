// The Node.js runtime: sockets only. Clients dial over net (ws://, ws+unix:), tls (wss://) or
// the caller's createConnection; servers listen on a node:http server (their own, or the
// caller's, left alone on close). The handshake and the action loop are shared (handshake.js,
// connection.js); the user classes are websocket.js's and server.js's.

import net from 'node:net';
import tls from 'node:tls';
import { setRuntime } from './websocket.js';
import { WebSocketServer, setServerRuntime } from './server.js';
import { listen, socketIo, socketTransport } from './node-socket.js';
import { ConnectionServer, convenienceServerOptions } from './convenience.js';

// The options ws passes on to tls.connect (and through it to the secure context).
const TLS_OPTIONS = [
  'ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername', 'checkServerIdentity',
  'ciphers', 'ecdhCurve', 'minVersion', 'maxVersion', 'secureContext', 'secureProtocol', 'session',
  'crl', 'sigalgs', 'honorCipherOrder', 'ALPNProtocols', 'family', 'localAddress', 'lookup', 'timeout',
];

function pick(options, names) {
  const out = {};
  for (const name of names) if (options[name] !== undefined) out[name] = options[name];
  return out;
}

/** Opens the socket a client target names, as ws does (createConnection, Unix, TLS, TCP). */
function dial(target, options) {
  const host = target.host;
  const base = { ...pick(options, TLS_OPTIONS), ...options.tls, host, port: target.port };
  let socket;
  if (typeof options.createConnection === 'function') {
    socket = options.createConnection({ ...base, path: target.socketPath ?? undefined, secure: target.secure });
  } else if (target.socketPath !== null) {
    socket = net.connect({ path: target.socketPath });
  } else if (target.secure) {
    const servername = base.servername ?? (net.isIP(host) ? undefined : host);
    socket = tls.connect({ ALPNProtocols: ['http/1.1'], ...base, servername });
  } else {
    socket = net.connect({ host, port: target.port, family: options.family, localAddress: options.localAddress, lookup: options.lookup });
  }
  socket.setNoDelay?.(true);
  return socketTransport(socket);
}

setRuntime({ dial });

setServerRuntime({ listen, socketIo });

// ---------------------------------------------------------------- promise-style conveniences

/**
 * Takes over a node:http 'upgrade' request: checks it, writes the 101 response and returns the
 * Connection, or answers the HTTP error the engine names (400, 426, 405, ...) and returns null.
 * options: { protocols?: string[], handleProtocols?: (offered: string[]) => string | null,
 *            verifyClient? (synchronous), properties?, seed?, and ws's server options }
 */
export function handleUpgrade(req, socket, head, options = {}) {
  const server = new WebSocketServer({ ...convenienceServerOptions(options), noServer: true, clientTracking: false, port: undefined, server: undefined });
  let connection = null;
  server.handleUpgrade(req, socket, head, (ws) => (connection = ws));
  return connection;
}

/**
 * A server handing out Connections: on its own node:http server (port, default 0; host,
 * default 127.0.0.1) or on yours (server, with path to share it). `listening` resolves with the
 * bound address; close() ends every connection (1001) and leaves your server open.
 */
export function createServer(options = {}, onConnection) {
  const server = new ConnectionServer(options);
  if (onConnection) server.on('connection', onConnection);
  return server;
}


