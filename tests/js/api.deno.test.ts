// The Deno API layer: regressions of issue 8 (messages written with the 101 are not lost) and
// issue 10's first fault (an accept loop survives connect+reset), with raw-socket peers.
import { assertEquals, assert } from './deno-assert.ts';
import * as wsaction from '../../pkg/deno.js';

// The ws-compatible classes are typed by pkg/types (their declarations land separately); these
// tests drive them as plain JS.
// deno-lint-ignore no-explicit-any
const { connect, serve, WebSocket, WebSocketServer } = wsaction as any;
// deno-lint-ignore no-explicit-any
type WebSocket = any;

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

async function acceptKey(key: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-1', new TextEncoder().encode(key + GUID));
  return btoa(String.fromCharCode(...new Uint8Array(digest)));
}

function serverFrame(opcode: number, payload: string | number[]): Uint8Array {
  const bytes = typeof payload === 'string' ? new TextEncoder().encode(payload) : new Uint8Array(payload);
  return new Uint8Array([0x80 | opcode, bytes.length, ...bytes]);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms))),
  ]);
}

/** A raw server: a 101 and `frames` in one write, one write each, or one byte per write. */
function rawServer(frames: Uint8Array[], mode: 'one' | 'separate' | 'bytes') {
  const listener = Deno.listen({ hostname: '127.0.0.1', port: 0 });
  const conns = new Set<Deno.Conn>();
  const loop = (async () => {
    for await (const conn of listener) {
      conns.add(conn);
      (async () => {
        let head = '';
        const buffer = new Uint8Array(4096);
        while (!head.includes('\r\n\r\n')) {
          const n = await conn.read(buffer);
          if (n === null) return;
          head += new TextDecoder('latin1').decode(buffer.subarray(0, n));
        }
        const key = /sec-websocket-key:\s*(\S+)/i.exec(head)![1];
        const response = new TextEncoder().encode(
          `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${await acceptKey(key)}\r\n\r\n`,
        );
        const all = concat([response, ...frames]);
        const writes = mode === 'one' ? [all] : mode === 'separate' ? [response, ...frames] : [...all].map((b) => new Uint8Array([b]));
        for (const w of writes) {
          await conn.write(w);
          if (mode === 'bytes') await new Promise((r) => setTimeout(r, 0));
        }
        // Drain whatever the client sends until it goes.
        while ((await conn.read(buffer).catch(() => null)) !== null);
      })().catch(() => {});
    }
  })().catch(() => {});
  return {
    url: `ws://127.0.0.1:${(listener.addr as Deno.NetAddr).port}/`,
    async close() {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch {
          // closed already
        }
      }
      await loop;
    },
  };
}

for (const mode of ['one', 'separate', 'bytes'] as const) {
  Deno.test(`connect(): messages written with the 101 (${mode}) reach a listener added after await`, async () => {
    const server = rawServer([serverFrame(1, 'greeting'), serverFrame(2, [1, 2, 3]), serverFrame(1, 'third')], mode);
    try {
      for (let round = 0; round < 3; round++) {
        const c = await connect(server.url);
        const got: unknown[] = [];
        const all = new Promise<void>((resolve) =>
          c.on('message', (data: string | Uint8Array, isBinary: boolean) => {
            got.push(isBinary ? [...(data as Uint8Array)] : data);
            if (got.length === 3) resolve();
          }),
        );
        await withTimeout(all, 3000, `three messages, got ${JSON.stringify(got)}`);
        assertEquals(got, ['greeting', [1, 2, 3], 'third']);
        c.terminate();
        await c.closed;
      }
    } finally {
      await server.close();
    }
  });

  Deno.test(`new WebSocket(): messages written with the 101 (${mode}) all reach onmessage`, async () => {
    const server = rawServer([serverFrame(1, 'greeting'), serverFrame(2, [1, 2, 3])], mode);
    try {
      const ws = new WebSocket(server.url);
      ws.binaryType = 'arraybuffer';
      const got: unknown[] = [];
      const all = new Promise<void>((resolve) => {
        ws.onmessage = (event: MessageEvent) => {
          got.push(typeof event.data === 'string' ? event.data : [...new Uint8Array(event.data)]);
          if (got.length === 2) resolve();
        };
      });
      await withTimeout(all, 3000, 'two messages');
      assertEquals(got, ['greeting', [1, 2, 3]]);
      const closed = new Promise((r) => ws.once('close', r));
      ws.terminate();
      await closed;
    } finally {
      await server.close();
    }
  });
}

/** Runs a Node child that connects and resets (SO_LINGER 0) `count` times. */
async function connectAndReset(port: number, count: number) {
  const script = `
    const net = require('node:net');
    (async () => {
      for (let i = 0; i < ${count}; i++) {
        await new Promise((resolve) => {
          const s = net.connect(${port}, '127.0.0.1', () => { s.resetAndDestroy(); resolve(); });
          s.on('error', resolve);
        });
      }
    })();`;
  const status = await new Deno.Command('node', { args: ['-e', script], stdout: 'inherit', stderr: 'inherit' }).output();
  assert(status.success, 'the resetting client ran');
}

Deno.test('serve(): the accept loop survives 50 connect+reset clients, then serves a normal connection', async () => {
  const errors: unknown[] = [];
  const server = serve({ port: 0, hostname: '127.0.0.1', onAcceptError: (err: unknown) => errors.push(err) }, (c: WebSocket) => {
    c.on('message', (data: string | Uint8Array) => c.send(data));
  });
  try {
    await connectAndReset(server.addr.port, 50);
    const c = await connect(`ws://127.0.0.1:${server.addr.port}/`);
    const reply = new Promise((r) => c.once('message', r));
    await c.send('still here');
    assertEquals(await withTimeout(reply, 3000, 'echo after resets'), 'still here');
    await c.close();
  } finally {
    await server.close();
  }
});

Deno.test('WebSocketServer: the accept loop survives 50 connect+reset clients, then serves a normal connection', async () => {
  const errors: unknown[] = [];
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', onAcceptError: (err: unknown) => errors.push(err) });
  await new Promise((r) => wss.once('listening', r));
  wss.on('connection', (ws: WebSocket) => ws.on('message', (data: Uint8Array, isBinary: boolean) => ws.send(data, { binary: isBinary })));
  try {
    const { port } = wss.address() as { port: number };
    await connectAndReset(port, 50);
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const reply = new Promise<string>((r) => ws.once('message', (d: Uint8Array) => r(new TextDecoder().decode(d))));
    ws.send('still here');
    assertEquals(await withTimeout(reply, 3000, 'echo after resets'), 'still here');
    const closed = new Promise((r) => ws.once('close', r));
    ws.close();
    await closed;
  } finally {
    await new Promise((r) => wss.close(r));
  }
});

Deno.test('WebSocketServer over Deno.listenTls and new WebSocket over Deno.connectTls (wss://)', async () => {
  // A self-signed certificate for 127.0.0.1, made for this run; trusted through `ca`.
  const dir = await Deno.makeTempDir({ prefix: 'wsaction-wss-' });
  try {
    const made = await new Deno.Command('openssl', {
      args: ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=wsaction.test',
        // rustls (Deno's TLS) refuses a CA certificate as the server's own: mark it an end entity.
        '-addext', 'subjectAltName=IP:127.0.0.1', '-addext', 'basicConstraints=critical,CA:FALSE',
        '-keyout', `${dir}/key.pem`, '-out', `${dir}/cert.pem`],
      stdout: 'null',
      stderr: 'null',
    }).output();
    assert(made.success, 'openssl made the certificate');
    const cert = await Deno.readTextFile(`${dir}/cert.pem`);
    const key = await Deno.readTextFile(`${dir}/key.pem`);
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', tls: { cert, key } });
    await new Promise((r) => wss.once('listening', r));
    wss.on('connection', (ws: WebSocket, req: { url: string; socket: { encrypted: boolean } }) => {
      ws.send(`secure ${req.socket.encrypted} ${req.url}`);
      ws.on('message', (data: Uint8Array, isBinary: boolean) => ws.send(data, { binary: isBinary }));
    });
    try {
      const ws = new WebSocket(`wss://127.0.0.1:${wss.address().port}/tls`, { ca: cert });
      const messages: string[] = [];
      const done = new Promise<void>((resolve) =>
        ws.on('message', (data: Uint8Array) => {
          messages.push(new TextDecoder().decode(data));
          if (messages.length === 2) resolve();
        }),
      );
      await new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
      ws.send('over TLS');
      await withTimeout(done, 5000, 'two messages over TLS');
      assertEquals(messages, ['secure true /tls', 'over TLS']);
      const closed = new Promise<[number, Uint8Array]>((r) => ws.once('close', (code: number, reason: Uint8Array) => r([code, reason])));
      ws.close(1000, 'tls done');
      const [code, reason] = await closed;
      assertEquals([code, new TextDecoder().decode(reason)], [1000, 'tls done']);
    } finally {
      await new Promise((r) => wss.close(r));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an engine error in a connection's timer fails that connection, not the process", async () => {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', closeTimeout: 50 });
  await new Promise((r) => wss.once('listening', r));
  const errors: unknown[] = [];
  const connected = new Promise<WebSocket>((resolve) =>
    wss.once('connection', (ws: WebSocket) => {
      ws.on('error', (err: unknown) => errors.push(err));
      resolve(ws);
    })
  );
  const { port } = wss.address() as { port: number };
  // A raw client that completes the handshake and never answers a close.
  const conn = await Deno.connect({ hostname: '127.0.0.1', port });
  await conn.write(new TextEncoder().encode(
    'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  ));
  const serverSide = await withTimeout(connected, 3000, 'the connection');
  const proto = wsaction.WebSocketHandle.prototype;
  const tick = proto.tick;
  const fault = new Error('engine fault: tick');
  proto.tick = () => {
    throw fault;
  };
  try {
    const closed = new Promise<number>((r) => serverSide.on('close', (code: number) => r(code)));
    serverSide.close(1000); // the close timer fires and its tick throws
    assertEquals(await withTimeout(closed, 3000, "the failed connection's close"), 1006);
    assertEquals(errors, [fault]);
  } finally {
    proto.tick = tick;
    conn.close();
    await new Promise((r) => wss.close(r));
  }
});

/** Sends a valid upgrade request on a raw connection; resolves with the status and headers of the answer. */
async function rawUpgrade(port: number): Promise<{ status: number; headers: Record<string, string>; conn: Deno.Conn }> {
  const conn = await Deno.connect({ hostname: '127.0.0.1', port });
  await conn.write(new TextEncoder().encode(
    `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  ));
  let text = '';
  const buffer = new Uint8Array(4096);
  while (!text.includes('\r\n\r\n')) {
    const n = await conn.read(buffer);
    if (n === null) throw new Error(`closed before an answer: ${text}`);
    text += new TextDecoder().decode(buffer.subarray(0, n));
  }
  const [statusLine, ...lines] = text.slice(0, text.indexOf('\r\n\r\n')).split('\r\n');
  const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  return { status: Number(statusLine.split(' ')[1]), headers, conn };
}

Deno.test('issue 10: serve({ maxConnections: 2 }) answers the third upgrade 503 with Retry-After, and takes one again after a close', async () => {
  const server = serve({ port: 0, hostname: '127.0.0.1', maxConnections: 2 }, () => {});
  const port = server.addr.port;
  try {
    const first = await rawUpgrade(port);
    const second = await rawUpgrade(port);
    assertEquals([first.status, second.status], [101, 101]);
    const third = await rawUpgrade(port);
    assertEquals(third.status, 503);
    assert(Number(third.headers['retry-after']) > 0, `Retry-After: ${third.headers['retry-after']}`);
    third.conn.close();
    const closed = new Promise((r) => [...server.clients][0].once('close', r));
    first.conn.close();
    await withTimeout(closed, 3000, 'the first connection closes');
    const fourth = await rawUpgrade(port);
    assertEquals(fourth.status, 101);
    second.conn.close();
    fourth.conn.close();
  } finally {
    await server.close();
  }
});

Deno.test('issue 10: WebSocketServer({ wasmMemoryBudget }) smaller than one handle refuses with 503', async () => {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', wasmMemoryBudget: 256 * 1024 });
  await new Promise((r) => wss.once('listening', r));
  try {
    const refused = await rawUpgrade((wss.address() as { port: number }).port);
    assertEquals(refused.status, 503);
    refused.conn.close();
  } finally {
    await new Promise((r) => wss.close(r));
  }
});
