// createWebSocketStream(ws, options): a node:stream Duplex over a WebSocket, as ws's
// lib/stream.js: reading pauses the socket when the readable side is full (push returned false)
// and resumes it on _read; writing completes each chunk when its frame was written.

const streamModule = 'node:stream';
const { Duplex } = await import(streamModule);

const nextTick = (fn, ...args) => process.nextTick(fn, ...args);

function emitClose(stream) {
  stream.emit('close');
}

function duplexOnEnd() {
  if (!this.destroyed && this._writableState.finished) this.destroy();
}

function duplexOnError(err) {
  this.removeListener('error', duplexOnError);
  this.destroy();
  if (this.listenerCount('error') === 0) this.emit('error', err);
}

/** A Duplex over `ws` (options: those of node:stream's Duplex, e.g. readableObjectMode, encoding). */
export function createWebSocketStream(ws, options) {
  let terminateOnDestroy = true;
  const duplex = new Duplex({ ...options, autoDestroy: false, emitClose: false, objectMode: false, writableObjectMode: false });

  ws.on('message', function message(msg, isBinary) {
    const data = !isBinary && duplex._readableState.objectMode ? msg.toString() : msg;
    if (!duplex.push(data)) ws.pause();
  });
  ws.once('error', function error(err) {
    if (duplex.destroyed) return;
    // The socket failed: it is closing already, so destroying the stream must not terminate it.
    terminateOnDestroy = false;
    duplex.destroy(err);
  });
  ws.once('close', function close() {
    if (duplex.destroyed) return;
    duplex.push(null);
  });

  duplex._destroy = function destroy(err, callback) {
    if (ws.readyState === ws.CLOSED) {
      callback(err);
      nextTick(emitClose, duplex);
      return;
    }
    let called = false;
    ws.once('error', function error(e) {
      called = true;
      callback(e);
    });
    ws.once('close', function close() {
      if (!called) callback(err);
      nextTick(emitClose, duplex);
    });
    if (terminateOnDestroy) ws.terminate();
  };

  duplex._final = function final(callback) {
    if (ws.readyState === ws.CONNECTING) {
      ws.once('open', () => duplex._final(callback));
      return;
    }
    if (ws.readyState === ws.CLOSED) {
      callback();
      if (duplex._readableState.endEmitted) duplex.destroy();
      return;
    }
    // Ending the writable side starts the closing handshake; it is final once the socket closed.
    ws.once('close', () => {
      callback();
      if (duplex._readableState.endEmitted) duplex.destroy();
    });
    ws.close();
  };

  duplex._read = function read() {
    if (ws.isPaused) ws.resume();
  };

  duplex._write = function write(chunk, encoding, callback) {
    if (ws.readyState === ws.CONNECTING) {
      ws.once('open', () => duplex._write(chunk, encoding, callback));
      return;
    }
    ws.send(chunk, callback);
  };

  duplex.on('end', duplexOnEnd);
  duplex.on('error', duplexOnError);
  return duplex;
}
