// WebSocketStream (the WHATWG proposal Chromium and Deno ship): `opened` resolves with
// { readable, writable, protocol, extensions }, `closed` with { closeCode, reason },
// close({ closeCode, reason }), and an AbortSignal (`signal` option) that ends the handshake.
// Built on WebSocket: the readable side pauses the socket when its queue is full (backpressure
// in), the writable side completes a write once its frame was written (backpressure out).

import { WebSocket } from './websocket.js';

const textDecoder = new TextDecoder();

function domError(message, name) {
  return typeof DOMException === 'function' ? new DOMException(message, name) : Object.assign(new Error(message), { name });
}

export class WebSocketStream {
  #ws;
  #url;
  #opened;
  #closed;

  /**
   * new WebSocketStream(url, { protocols?, signal?, ...options of new WebSocket }). Text
   * messages are read as strings, binary ones as Uint8Array; write strings or bytes.
   */
  constructor(url, options = {}) {
    const { protocols = [], signal, ...rest } = options;
    if (signal?.aborted) throw signal.reason ?? domError('The operation was aborted', 'AbortError');
    const ws = new WebSocket(url, protocols, rest);
    ws.binaryType = 'arraybuffer';
    this.#ws = ws;
    this.#url = ws.url;
    let openedSettle;
    let closedSettle;
    this.#opened = new Promise((resolve, reject) => (openedSettle = { resolve, reject }));
    this.#closed = new Promise((resolve, reject) => (closedSettle = { resolve, reject }));
    // Unobserved rejections must not crash a caller that only awaits one of the two.
    this.#opened.catch(() => {});
    this.#closed.catch(() => {});
    let failure = null;
    let readableController = null;
    const onAbort = () => {
      if (ws.readyState === WebSocket.CONNECTING) {
        failure = signal.reason ?? domError('The operation was aborted', 'AbortError');
        ws.terminate();
      }
    };
    signal?.addEventListener('abort', onAbort, { once: true });

    ws.on('error', (err) => {
      failure ??= err;
    });
    ws.on('open', () => {
      signal?.removeEventListener('abort', onAbort);
      const readable = new ReadableStream(
        {
          start(controller) {
            readableController = controller;
          },
          pull() {
            if (ws.isPaused) ws.resume();
          },
          cancel() {
            ws.close(1000);
          },
        },
        { highWaterMark: 16 },
      );
      ws.on('message', (data, isBinary) => {
        readableController.enqueue(isBinary ? new Uint8Array(data) : textDecoder.decode(data));
        if (readableController.desiredSize <= 0) ws.pause();
      });
      const writable = new WritableStream({
        write(chunk) {
          return new Promise((resolve, reject) => {
            const data = typeof chunk === 'string' || chunk instanceof Uint8Array || chunk instanceof ArrayBuffer || ArrayBuffer.isView(chunk) ? chunk : String(chunk);
            ws.send(data, { binary: typeof data !== 'string' }, (err) => (err ? reject(err) : resolve()));
          });
        },
        close() {
          ws.close(1000);
          return this_closed();
        },
        abort() {
          ws.close(1000);
        },
      });
      openedSettle.resolve({ readable, writable, protocol: ws.protocol, extensions: ws.extensions });
    });
    const this_closed = () => this.#closed.then(() => {}, () => {});
    ws.on('close', (code, reason) => {
      signal?.removeEventListener('abort', onAbort);
      const clean = ws._wasClean();
      if (readableController) {
        try {
          if (clean) readableController.close();
          else readableController.error(failure ?? domError(`the connection closed with ${code}`, 'NetworkError'));
        } catch {
          // already closed by the reader
        }
      }
      if (!readableController) openedSettle.reject(failure ?? domError('the opening handshake failed', 'NetworkError'));
      if (clean) closedSettle.resolve({ closeCode: code, reason: textDecoder.decode(reason) });
      else closedSettle.reject(failure ?? domError(`the connection closed with ${code}`, 'NetworkError'));
    });
  }

  get url() {
    return this.#url;
  }
  get opened() {
    return this.#opened;
  }
  get closed() {
    return this.#closed;
  }

  /** Starts the closing handshake (closeCode default 1000; reason at most 123 bytes). */
  close({ closeCode, reason } = {}) {
    if (closeCode !== undefined && closeCode !== 1000 && !(closeCode >= 3000 && closeCode <= 4999)) {
      throw domError(`closeCode must be 1000 or in 3000-4999, got ${closeCode}`, 'InvalidAccessError');
    }
    if (reason !== undefined && new TextEncoder().encode(reason).length > 123) {
      throw domError('reason must be at most 123 bytes of UTF-8', 'SyntaxError');
    }
    if (this.#ws.readyState === WebSocket.CONNECTING) {
      this.#ws.terminate();
      return;
    }
    this.#ws.close(closeCode ?? (reason ? 1000 : undefined), reason);
  }
}
