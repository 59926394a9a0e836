// permessage-deflate on Deno: the ws pairings of deflate-ws-cases.mjs with pkg/deno.js (ws runs
// under Deno's Node compatibility), and Deno's own WebSocket, which does not offer
// permessage-deflate, against a WebSocketServer with perMessageDeflate: uncompressed, working.
import { assertEquals } from './deno-assert.ts';
import * as wsaction from '../../pkg/deno.js';
import { deflateWsTests } from './deflate-ws-cases.mjs';

// The ws-compatible classes are typed by pkg/types; these tests drive them as plain JS.
// deno-lint-ignore no-explicit-any
const { WebSocketServer } = wsaction as any;

// ws's sockets (node:net under Deno) keep timers and resources past a test's end.
const test = (name: string, fn: () => Promise<void>) => Deno.test({ name, fn, sanitizeOps: false, sanitizeResources: false });

deflateWsTests(test, wsaction);

test("Deno's native WebSocket (no permessage-deflate offer) against a WebSocketServer with perMessageDeflate", async () => {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: true });
  await new Promise((resolve) => server.once('listening', resolve));
  const accepted: string[] = [];
  // deno-lint-ignore no-explicit-any
  server.on('connection', (ws: any, request: any) => {
    accepted.push(`${ws.extensions}|${request.headers['sec-websocket-extensions'] ?? ''}`);
    // deno-lint-ignore no-explicit-any
    ws.on('message', (data: any, isBinary: boolean) => ws.send(data, { binary: isBinary }));
  });
  const text = JSON.stringify(Array.from({ length: 2000 }, (_, i) => ({ id: i, name: 'alpha', value: i * 7.5 })));
  const native = new globalThis.WebSocket(`ws://127.0.0.1:${server.address().port}/`);
  native.binaryType = 'arraybuffer';
  const seen: unknown[] = [];
  const closed = new Promise<void>((resolve, reject) => {
    native.onerror = () => reject(new Error('websocket error'));
    native.onopen = () => {
      seen.push(['extensions', native.extensions]);
      native.send(text);
      native.send(new Uint8Array([1, 2, 3, 250]));
    };
    native.onmessage = (e) => {
      seen.push(typeof e.data === 'string' ? ['text', e.data === text] : ['binary', Array.from(new Uint8Array(e.data))]);
      if (seen.length === 3) native.close(1000, 'done');
    };
    native.onclose = (e) => {
      seen.push(['close', e.code, e.reason]);
      resolve();
    };
  });
  await closed;
  assertEquals(seen, [['extensions', ''], ['text', true], ['binary', [1, 2, 3, 250]], ['close', 1000, 'done']]);
  assertEquals(accepted, ['|']);
  await new Promise((resolve) => server.close(resolve));
});
