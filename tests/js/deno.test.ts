// Deno tests: the wsaction Deno client against the wsaction Node echo server (a child process),
// and Deno's native WebSocket client against the wsaction Deno server.
import { assertEquals, assert } from './deno-assert.ts';
import { connect, serve, constants, WebSocketHandle, WsActionError } from '../../pkg/deno.js';

const root = new URL('../../', import.meta.url);

/** Starts `node pkg/examples/echo-node.js 0` and returns its port and a stop function. */
async function startNodeEcho(): Promise<{ port: number; stop: () => Promise<void> }> {
  const child = new Deno.Command('node', {
    args: [new URL('pkg/examples/echo-node.js', root).pathname, '0'],
    stdout: 'piped',
    stderr: 'inherit',
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  while (!/listening (\d+)/.test(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`echo server exited: ${text}`);
    text += value;
  }
  const port = Number(/listening (\d+)/.exec(text)![1]);
  return {
    port,
    stop: async () => {
      child.kill('SIGTERM');
      await child.status;
      reader.releaseLock();
      await child.stdout.cancel().catch(() => {});
    },
  };
}

function nextMessage(connection: { once: (e: 'message', f: (d: string | Uint8Array, b: boolean) => void) => unknown }) {
  return new Promise<[string | Uint8Array, boolean]>((resolve) => connection.once('message', (d, b) => resolve([d, b])));
}

Deno.test('the engine class loads in Deno with crypto randomness', () => {
  const h = WebSocketHandle.createClient();
  const headers = h.beginClientHandshake(['chat'], [], []);
  assert(headers.some(([n]) => n === 'Sec-WebSocket-Key'));
  assertEquals(constants.BufferType.UTF8_MESSAGE, 0x80000000);
  let caught: unknown = null;
  try {
    h.send(constants.BufferType.UTF8_MESSAGE, new Uint8Array(1));
  } catch (err) {
    caught = err;
  }
  assert(caught instanceof WsActionError);
  assertEquals((caught as WsActionError).code, 'INVALID_STATE');
  h.free();
});

Deno.test('wsaction Deno client against the wsaction Node echo server', async () => {
  const echo = await startNodeEcho();
  try {
    const c = await connect(`ws://127.0.0.1:${echo.port}/`, { protocols: ['chat'] });
    assertEquals(c.protocol, 'chat');
    let got = nextMessage(c);
    await c.send('hello from deno');
    assertEquals(await got, ['hello from deno', false]);
    got = nextMessage(c);
    await c.send(new Uint8Array([1, 2, 3]));
    const [data, isBinary] = await got;
    assertEquals([...(data as Uint8Array)], [1, 2, 3]);
    assert(isBinary);
    got = nextMessage(c);
    c.send('frag ', { fin: false });
    c.send('ment');
    assertEquals(await got, ['frag ment', false]);
    const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => i % 251);
    got = nextMessage(c);
    c.send(big);
    const [echoed] = await got;
    assertEquals((echoed as Uint8Array).length, big.length);
    assertEquals((echoed as Uint8Array)[big.length - 1], big[big.length - 1]);
    const pong = new Promise<Uint8Array>((resolve) => c.once('pong', resolve));
    c.ping('p');
    assertEquals(new TextDecoder().decode(await pong), 'p');
    const result = await c.close(4000, 'deno done');
    assertEquals(result.code, 4000);
    assertEquals(result.reason, 'deno done');
    assert(result.wasClean);
  } finally {
    await echo.stop();
  }
});

Deno.test("Deno's native WebSocket against the wsaction Deno server", async () => {
  const server = serve({ port: 0, hostname: '127.0.0.1', protocols: ['chat'] }, (connection) => {
    connection.on('message', (data, isBinary) => {
      if (data === 'close please') connection.close(4005, 'server says bye');
      else connection.send(data, { binary: isBinary });
    });
  });
  try {
    const ws = new WebSocket(`ws://127.0.0.1:${server.addr.port}/`, ['other', 'chat']);
    ws.binaryType = 'arraybuffer';
    const messages: (string | ArrayBuffer)[] = [];
    let wake: () => void = () => {};
    ws.onmessage = (e) => {
      messages.push(e.data);
      wake();
    };
    const next = async () => {
      while (messages.length === 0) await new Promise<void>((r) => (wake = r));
      return messages.shift()!;
    };
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = reject;
    });
    assertEquals(ws.protocol, 'chat');
    ws.send('text from native');
    assertEquals(await next(), 'text from native');
    ws.send(new Uint8Array([5, 6, 7]));
    assertEquals([...new Uint8Array((await next()) as ArrayBuffer)], [5, 6, 7]);
    ws.send('x'.repeat(200000));
    assertEquals(((await next()) as string).length, 200000);
    const closed = new Promise<CloseEvent>((resolve) => (ws.onclose = resolve));
    ws.send('close please');
    const event = await closed;
    assertEquals([event.code, event.reason], [4005, 'server says bye']);

    // And the client closing.
    const ws2 = new WebSocket(`ws://127.0.0.1:${server.addr.port}/`);
    await new Promise((resolve) => (ws2.onopen = resolve));
    const closed2 = new Promise<CloseEvent>((resolve) => (ws2.onclose = resolve));
    ws2.close(4006, 'native bye');
    const event2 = await closed2;
    assertEquals(event2.code, 4006);
  } finally {
    await server.close();
  }
});

Deno.test('the wsaction Deno server rejects a bad upgrade with the status the engine names', async () => {
  const server = serve({ port: 0 }, () => {});
  try {
    const res = await fetch(`http://127.0.0.1:${server.addr.port}/`, { headers: { 'X-Plain': 'request' } });
    assertEquals(res.status, 400);
    await res.body?.cancel();
  } finally {
    await server.close();
  }
});

Deno.test('wsaction Deno client over wss:// (Deno.connectTls) to a TLS WebSocket server', async () => {
  // A self-signed certificate for 127.0.0.1, made for this run; trusted through caCerts.
  const dir = await Deno.makeTempDir({ prefix: 'wsaction-tls-' });
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
    // The peer is Deno's own WebSocket server (Deno.upgradeWebSocket) behind Deno.serve with TLS.
    let port = 0;
    const listening = Promise.withResolvers<void>();
    const server = Deno.serve({
      hostname: '127.0.0.1', port: 0, cert, key,
      onListen: (addr) => { port = addr.port; listening.resolve(); },
    }, (req) => {
      const { socket, response } = Deno.upgradeWebSocket(req);
      socket.onmessage = (e) => socket.send(e.data);
      return response;
    });
    await listening.promise;
    try {
      const ws = await connect(`wss://127.0.0.1:${port}/`, { caCerts: [cert] });
      const got = nextMessage(ws);
      await ws.send('hello over TLS');
      assertEquals(await got, ['hello over TLS', false]);
      const closed = await ws.close(1000, 'tls done');
      assertEquals(closed.code, 1000);
    } finally {
      await server.shutdown();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
