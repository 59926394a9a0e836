// Node-style sockets (net.Socket, tls.TLSSocket, any Duplex) and node:http servers, for the
// Node runtime and for Deno's node: compatibility layer: the transport over a socket, what the
// shared server flow needs of an upgraded socket, and listening on a node:http server. Used by
// node-adapter.js, and by deno-adapter.js when it is handed a node:http server or socket.

import http from 'node:http';
import { kServer } from './server.js';

const kTaken = Symbol('wsaction.taken');

const kSink = Symbol('wsaction.sink');

// The socket's listeners, one function each for every socket (`this` is the socket): closures
// per connection were half a KiB of an idle connection's memory.
function onData(chunk) {
  this[kSink]._input(chunk);
}
function onEnd() {
  this[kSink]._inputEnded();
}
function onDrain() {
  this[kSink]._writable();
}
function onError(err) {
  this[kSink]._transportError(err);
}
function onClose() {
  this[kSink]._transportClosed();
}

/** A transport over a net.Socket (or any Duplex): see connection.js. */
class SocketTransport {
  constructor(socket) {
    this.socket = socket;
  }
  start(sink) {
    const socket = this.socket;
    const attached = socket[kSink] !== undefined;
    socket[kSink] = sink;
    if (attached) return;
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('drain', onDrain);
    socket.on('error', onError);
    socket.on('close', onClose);
  }
  write(bytes) {
    return this.socket.write(bytes);
  }
  end() {
    this.socket.end();
  }
  destroy() {
    this.socket.destroy();
  }
  pause() {
    this.socket.pause();
  }
  resume() {
    this.socket.resume();
  }
  bufferedAmount() {
    return this.socket.writableLength ?? 0;
  }
}

export function socketTransport(socket) {
  return new SocketTransport(socket);
}

/** What the shared server flow needs of a raw socket. */
export function socketIo(socket) {
  const onError = () => socket.destroy();
  socket.on('error', onError);
  return {
    secure: !!(socket.authorized || socket.encrypted),
    usable: () => socket.readable && socket.writable,
    taken: () => socket[kTaken] === true,
    writeHead: (text) => socket.write(text),
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
export function listen(wss, options, callback) {
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

