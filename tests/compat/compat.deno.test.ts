// The compatibility suite on Deno: ws's README patterns (ws-readme.mjs) and the libraries
// (libraries.mjs) on npm:ws under Deno and on wsaction's Deno entry, and with Deno's own
// WebSocket as the client where the client side is WHATWG-only; and the raw-socket peer (raw-peer.mjs) against Deno's own WebSocket
// (the reference), wsaction's `new WebSocket` and wsaction's `connect()`, and a raw client that
// sends frames behind its upgrade request to npm:ws's and wsaction's WebSocketServer.
import * as wsModule from 'ws';
import * as wsactionDeno from '../../pkg/deno.js';
import { cases, knownGap } from './ws-readme.mjs';
import { libraryCases } from './libraries.mjs';
import { pairings, requireApi, requireClasses, wsApi } from './harness.mjs';
import { EXPECTED_CLOSE, EXPECTED_MESSAGES, MODES, normalize, rawClientSends, startRawPeer } from './raw-peer.mjs';
import { assertEquals } from '../js/deno-assert.ts';

const wsaction = wsApi('wsaction', wsactionDeno);
const ws = wsApi('ws', wsModule);
const selected = Deno.env.get('COMPAT_SIDES')?.split(',');
const options = { sanitizeOps: false, sanitizeResources: false };

for (const pairing of pairings(ws, wsaction)) {
  if (selected && !selected.includes(pairing.label)) continue;
  for (const testCase of cases) {
    const { name, run } = testCase;
    // Deno's runner has no to-do: a known gap (ws-readme.mjs) is ignored, and says so in its name.
    const gap = knownGap(testCase, pairing);
    const ignore = Boolean(gap);
    Deno.test(`[${pairing.label}] ${name}${gap ? ` (known gap: ${gap})` : ''}`, { ...options, ignore }, async () => {
      requireClasses(pairing);
      await run(pairing);
    });
  }
  for (const { name, run } of libraryCases) {
    Deno.test(`[${pairing.label}] ${name}`, options, async () => {
      requireClasses(pairing);
      await run(pairing);
    });
  }
}

// Deno's own WebSocket as the client, against both servers, where the client side is WHATWG-only.
const denoClient = { name: "Deno's WebSocket", WebSocket: globalThis.WebSocket };
for (const server of [ws, wsaction]) {
  const pairing = { label: `Deno's WebSocket client / ${server.name} server`, client: denoClient, server };
  if (selected && !selected.includes(pairing.label)) continue;
  for (const { name, run } of [...cases.filter((c) => c.whatwgClient), ...libraryCases]) {
    Deno.test(`[${pairing.label}] ${name}`, options, async () => {
      requireApi(server, 'WebSocket', 'WebSocketServer');
      await run(pairing);
    });
  }
}

Deno.test('types/deno.d.ts declares every value pkg/deno.js exports, and nothing it lacks', async () => {
  const read = (file: string) => Deno.readTextFile(new URL(`../../pkg/types/${file}`, import.meta.url));
  const declared = new Set(['default']);
  for (const file of ['deno.d.ts', 'core.d.ts', 'websocket-stream.d.ts']) {
    for (const [, name] of (await read(file)).matchAll(/^export declare (?:class|function|const) (\w+)/gm)) declared.add(name);
  }
  // The values deno.d.ts re-exports from the Node declarations (the `export { ... }` block).
  const reexported = /^export \{([^}]*)\} from '\.\/node\.js';/m.exec(await read('deno.d.ts'))?.[1] ?? '';
  for (const name of reexported.split(',').map((n) => n.trim()).filter(Boolean)) declared.add(name);
  const exported = new Set(Object.keys(wsactionDeno));
  assertEquals([...exported].filter((n) => !declared.has(n)).sort(), [], 'exported at run time but not declared');
  assertEquals([...declared].filter((n) => !exported.has(n)).sort(), [], 'declared but not exported at run time');
});

type Received = { messages: unknown[]; close: { code: number; reason: string } };

/** Deno's WebSocket, listeners attached right after construction. */
function nativeClient(url: string): Promise<Received> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.binaryType = 'arraybuffer';
    const messages: unknown[] = [];
    socket.onmessage = (event) => messages.push(normalize(event.data, typeof event.data !== 'string'));
    socket.onerror = (event) => reject(new Error(`Deno's WebSocket failed: ${(event as ErrorEvent).message}`));
    socket.onclose = (event) => resolve({ messages, close: { code: event.code, reason: event.reason } });
  });
}

/** wsaction's `new WebSocket`, ws style. */
function wsactionClient(url: string): Promise<Received> {
  return new Promise((resolve, reject) => {
    const socket = new wsactionDeno.WebSocket(url);
    const messages: unknown[] = [];
    socket.on('message', (data, isBinary) => messages.push(normalize(data, isBinary)));
    socket.on('error', reject);
    socket.on('close', (code, reason) => resolve({ messages, close: { code, reason: String(reason) } }));
  });
}

/** `await connect(url)`, then a 'message' listener. */
async function wsactionConnect(url: string): Promise<Received> {
  const connection = await wsactionDeno.connect(url);
  const messages: unknown[] = [];
  connection.on('message', (data, isBinary) => messages.push(normalize(data, isBinary)));
  const { code, reason } = await connection.closed;
  return { messages, close: { code, reason } };
}

for (const [label, receive] of Object.entries({
  "Deno's WebSocket": nativeClient,
  'wsaction: new WebSocket': wsactionClient,
  'wsaction: await connect()': wsactionConnect,
})) {
  for (const mode of MODES) {
    Deno.test(`raw peer, ${label}: 101 and frames ${mode}, every message then the close`, options, async () => {
      const peer = await startRawPeer(mode);
      try {
        const got = await receive(peer.url);
        assertEquals(got.messages, EXPECTED_MESSAGES);
        assertEquals(got.close, EXPECTED_CLOSE);
      } finally {
        await peer.close();
      }
    });
  }
}

for (const api of [ws, wsaction]) {
  for (const mode of MODES) {
    Deno.test(`raw client, ${api.name} WebSocketServer: upgrade request and frames ${mode}, every message then the close`, options, async () => {
      const wss = new api.WebSocketServer({ port: 0, host: '127.0.0.1' });
      await new Promise((resolve) => wss.once('listening', resolve));
      const got: Received = { messages: [], close: { code: 0, reason: '' } };
      let closed = false;
      wss.on('connection', (socket: any) => {
        socket.on('message', (data: unknown, isBinary: boolean) => got.messages.push(normalize(data, isBinary)));
        socket.on('close', (code: number, reason: unknown) => {
          got.close = { code, reason: String(reason) };
          closed = true;
        });
      });
      try {
        await rawClientSends(`ws://127.0.0.1:${wss.address().port}/raw`, mode);
        for (let waited = 0; !closed && waited < 2000; waited += 5) await new Promise((resolve) => setTimeout(resolve, 5));
        assertEquals(got.messages, EXPECTED_MESSAGES);
        assertEquals(got.close, EXPECTED_CLOSE);
      } finally {
        for (const client of wss.clients) client.terminate();
        await new Promise((resolve) => wss.close(() => resolve(undefined)));
      }
    });
  }
}
