// The Node.js runtime: sockets only. Clients dial over net (ws://, ws+unix:), tls (wss://) or
// the caller's createConnection; servers listen on a node:http server (their own, or the
// caller's, left alone on close). The handshake and the action loop are shared (handshake.js,
// connection.js); the user classes are websocket.js's and server.js's.

import net from 'node:net';
import tls from 'node:tls';
import http from 'node:http';
import { setRuntime } from './websocket.js';
import { WebSocketServer, setServerRuntime, kServer } from './server.js';
import { ConnectionServer, convenienceServerOptions } from './convenience.js';

const kTaken = Symbol('wsaction.taken');

/** A transport over a net.Socket (or any Duplex): see connection.js. */
function socketTransport(socket) {
  let sink = null;
  let attached = false;
  return {
    start(next) {
      sink = next;
      if (attached) return;
      attached = true;
      socket.on('data', (chunk) => sink._input(chunk));
      socket.on('end', () => sink._inputEnded());
      socket.on('drain', () => sink._writable());
      socket.on('error', (err) => sink._transportError(err));
      socket.on('close', () => sink._transportClosed());
    },
    write: (bytes) => socket.write(bytes),
    end: () => socket.end(),
    destroy: () => socket.destroy(),
    pause: () => socket.pause(),
    resume: () => socket.resume(),
    bufferedAmount: () => socket.writableLength ?? 0,
  };
}

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

/** What the shared server flow needs of a raw socket. */
function socketIo(socket) {
  const onError = () => socket.destroy();
  socket.on('error', onError);
  return {
    secure: !!(socket.authorized || socket.encrypted),
    usable: () => socket.readable && socket.writable,
    taken: () => socket[kTaken] === true,
    write: (bytes) => socket.write(bytes),
    reject: (bytes) => {
      socket.once('finish', () => socket.destroy());
      socket.end(bytes);
    },
    destroy: () => socket.destroy(),
    transport: () => {
      socket[kTaken] = true;
      socket.off('error', onError);
      socket.setTimeout?.(0);
      socket.setNoDelay?.(true);
      return socketTransport(socket);
    },
  };
}

/**
 * Listening for a WebSocketServer: its own http server (port, host, backlog) or the caller's
 * (server). Upgrades whose path is not this server's are left to the http server's other
 * 'upgrade' listeners when it has some that may take them; the last WebSocketServer in line
 * answers 400, as ws does, when none will.
 */
function listen(wss, options, callback) {
  const external = !!options.server;
  const server = options.server ?? http.createServer((req, res) => {
    const body = http.STATUS_CODES[426];
    res.writeHead(426, { 'Content-Length': body.length, 'Content-Type': 'text/plain' });
    res.end(body);
  });
  const emitConnection = (ws, req) => wss.emit('connection', ws, req);
  const onUpgrade = (req, socket, head) => {
    if (!wss.shouldHandle(req) && othersMayTake(server, onUpgrade, req)) return;
    try {
      wss.handleUpgrade(req, socket, head, emitConnection);
    } catch (err) {
      // An upgrade that failed in our flow (or a listener of 'connection' that threw) ends that
      // socket, not the http server's process: logged (or options.onAcceptError) and survived.
      (options.onAcceptError ?? ((e) => console.error(`wsaction: an upgrade failed (the server goes on): ${e?.stack ?? e}`)))(err);
      socket.destroy();
    }
  };
  onUpgrade[kServer] = wss;
  const onListening = () => wss.emit('listening');
  const onError = (err) => wss.emit('error', err);
  server.on('upgrade', onUpgrade);
  server.on('listening', onListening);
  server.on('error', onError);
  const detach = () => {
    server.off('upgrade', onUpgrade);
    server.off('listening', onListening);
    server.off('error', onError);
  };
  if (!external) server.listen(options.port, options.host ?? undefined, options.backlog ?? undefined, callback);
  return {
    external,
    address: () => server.address(),
    detach,
    close(done) {
      detach();
      server.close(() => done());
    },
    /** Resolves with the address once the server listens (now, or when it starts). */
    listening: () =>
      server.listening
        ? Promise.resolve(server.address())
        : new Promise((resolve, reject) => {
            const ok = () => {
              server.off('error', fail);
              resolve(server.address());
            };
            const fail = (err) => {
              server.off('listening', ok);
              reject(err);
            };
            server.once('listening', ok);
            server.once('error', fail);
          }),
  };
}

/** Whether an upgrade this listener declines may be taken by another 'upgrade' listener. */
function othersMayTake(server, self, req) {
  const listeners = server.listeners('upgrade');
  const others = listeners.filter((l) => l !== self);
  if (others.some((l) => !l[kServer])) return true; // someone else's listener may want it
  if (others.some((l) => l[kServer].shouldHandle(req))) return true;
  return listeners.at(-1) !== self; // the last WebSocketServer in line answers 400
}

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


