// permessage-deflate between wsaction and ws (perMessageDeflate on), both roles, on 127.0.0.1,
// at every window size 8..15 and with each no_context_takeover. wsaction's side is configured
// with ws's own option names (perMessageDeflate: the client's default, true or ws's object on the
// server); what ws accepted or offered is read from ws itself, and the bytes ws read off its
// socket show the traffic really went compressed. The ws-compatibility checks (extensions,
// defaults, send's compress) run every pairing of ws and wsaction classes, so the same
// assertions hold for ws itself.
//
// Written once for Node (deflate-ws.test.mjs, pkg/node.js) and Deno (deflate-ws.deno.test.ts,
// pkg/deno.js, with ws under Deno's Node compatibility): `deflateWsTests(test, wsaction)`.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Buffer } from 'node:buffer';
import { WebSocketServer as WsServer, WebSocket as WsClient } from 'ws';

/** Registers the tests with `test(name, fn)` for wsaction's `{ WebSocket, WebSocketServer }`. */
export function deflateWsTests(test, { WebSocket, WebSocketServer }) {

  const record = (i) => ({ id: i, name: 'alpha', kind: 'ticker', value: i * 7.5, tags: ['a', 'b', 'c'] });
  const JSON_TEXT = JSON.stringify(Array.from({ length: 2000 }, (_, i) => record(i)));
  const BINARY = Buffer.alloc(300_000, 7);

  /** Sends each message and waits for its echo; returns the echoes. */
  async function echoAll(socket, messages) {
    const echoes = [];
    for (const message of messages) {
      const reply = once(socket, 'message');
      socket.send(message);
      const [data, isBinary] = await reply;
      echoes.push(isBinary ? Buffer.from(data) : data.toString());
    }
    return echoes;
  }

  const settings = [
    {},
    { serverNoContextTakeover: true },
    { clientNoContextTakeover: true },
    ...[8, 9, 10, 11, 12, 13, 14, 15].map((bits) => ({ serverMaxWindowBits: bits, clientMaxWindowBits: bits })),
  ];

  test('a wsaction client and a ws server with perMessageDeflate exchange compressed messages', async () => {
    for (const options of settings) {
      const server = new WsServer({ port: 0, host: '127.0.0.1', perMessageDeflate: { ...options, threshold: 0 } });
      await once(server, 'listening');
      let serverSide;
      server.on('connection', (ws) => {
        serverSide = ws;
        ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
      });
      // ws's client default: perMessageDeflate on.
      const client = new WebSocket(`ws://127.0.0.1:${server.address().port}/`);
      await once(client, 'open');
      const echoes = await echoAll(client, [JSON_TEXT, BINARY, JSON_TEXT]);
      assert.equal(echoes[0], JSON_TEXT);
      assert.deepEqual(echoes[1], BINARY);
      assert.equal(echoes[2], JSON_TEXT);
      assert.match(serverSide.extensions, /^permessage-deflate/, `ws accepted: ${JSON.stringify(options)}`);
      const read = serverSide._socket.bytesRead;
      assert.ok(read * 5 < JSON_TEXT.length * 2 + BINARY.length, `${read} bytes on the wire (${JSON.stringify(options)})`);
      client.close(1000);
      await once(client, 'close');
      server.close();
    }
  });

  test('a ws client with perMessageDeflate and a wsaction server exchange compressed messages', async () => {
    for (const options of settings) {
      const server = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: true });
      await once(server, 'listening');
      server.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
      const client = new WsClient(`ws://127.0.0.1:${server.address().port}/`, {
        perMessageDeflate: { ...options, threshold: 0 },
      });
      await once(client, 'open');
      assert.match(client.extensions, /^permessage-deflate/, `our server accepted: ${JSON.stringify(options)}`);
      const echoes = await echoAll(client, [JSON_TEXT, BINARY, JSON_TEXT]);
      assert.equal(echoes[0], JSON_TEXT);
      assert.deepEqual(echoes[1], BINARY);
      assert.equal(echoes[2], JSON_TEXT);
      const read = client._socket.bytesRead;
      assert.ok(read * 5 < JSON_TEXT.length * 2 + BINARY.length, `${read} bytes on the wire (${JSON.stringify(options)})`);
      client.close(1000);
      await once(client, 'close');
      await new Promise((resolve) => server.close(resolve));
    }
  });

  const IMPLEMENTATIONS = {
    ws: { Server: WsServer, Client: WsClient },
    wsaction: { Server: WebSocketServer, Client: WebSocket },
  };
  const PAIRINGS = [];
  for (const server of Object.keys(IMPLEMENTATIONS)) for (const client of Object.keys(IMPLEMENTATIONS)) PAIRINGS.push({ server, client });

  /**
   * Opens a `client` implementation's socket to a `server` implementation's server with the given
   * options; returns both sockets, the server, and a `close()` that ends them.
   */
  async function pair({ server: serverName, client: clientName }, serverOptions, clientOptions) {
    const server = new IMPLEMENTATIONS[serverName].Server({ port: 0, host: '127.0.0.1', ...serverOptions });
    await once(server, 'listening');
    const accepted = once(server, 'connection');
    const client = new IMPLEMENTATIONS[clientName].Client(`ws://127.0.0.1:${server.address().port}/`, clientOptions);
    await once(client, 'open');
    const [serverSide] = await accepted;
    return {
      client,
      serverSide,
      async close() {
        client.close(1000);
        await once(client, 'close');
        await new Promise((resolve) => server.close(resolve));
      },
    };
  }

  /**
   * The agreed permessage-deflate parameters of a socket, sorted, as ws keeps them
   * (`_extensions['permessage-deflate'].params`: a value or true) or as wsaction's engine agreed
   * them (`_agreedExtensions`, the element strings).
   */
  function agreedParameters(socket) {
    let params;
    if (socket instanceof WsClient) {
      params = { ...socket._extensions['permessage-deflate'].params };
    } else {
      const [element] = socket._agreedExtensions;
      params = {};
      for (const param of element.split(';').slice(1)) {
        const [name, value] = param.trim().split('=');
        params[name] = value === undefined ? true : Number(value);
      }
    }
    return Object.fromEntries(Object.entries(params).sort(([a], [b]) => a.localeCompare(b)));
  }

  // The option sets of ws's README and docs, on the server, against a client at its defaults.
  const SERVER_OPTIONS = [
    true,
    // ws's README example, verbatim (concurrencyLimit and zlibInflateOptions have no counterpart).
    {
      zlibDeflateOptions: { chunkSize: 1024, memLevel: 7, level: 3 },
      zlibInflateOptions: { chunkSize: 10 * 1024 },
      clientNoContextTakeover: true,
      serverNoContextTakeover: true,
      serverMaxWindowBits: 10,
      concurrencyLimit: 10,
      threshold: 1024,
    },
    { serverNoContextTakeover: true },
    { clientNoContextTakeover: true },
    ...[8, 9, 10, 11, 12, 13, 14, 15].map((bits) => ({ serverMaxWindowBits: bits })),
    ...[8, 9, 10, 11, 12, 13, 14, 15].map((bits) => ({ clientMaxWindowBits: bits })),
  ];

  /**
   * Every pairing of ws and wsaction with these perMessageDeflate options agrees on the parameters
   * ws agrees on with itself, shows 'permessage-deflate' in extensions on both sides, and echoes.
   */
  async function agreesLikeWs(serverOptions, clientOptions) {
    const agreed = {};
    for (const pairing of PAIRINGS) {
      const p = await pair(pairing, { perMessageDeflate: serverOptions }, { perMessageDeflate: clientOptions });
      const label = `${pairing.client} client, ${pairing.server} server, ${JSON.stringify({ serverOptions, clientOptions })}`;
      assert.equal(p.client.extensions, p.serverSide.extensions, label);
      assert.equal(p.client.extensions, 'permessage-deflate', label);
      for (const [side, socket] of [['client', p.client], ['server', p.serverSide]]) {
        const params = agreedParameters(socket);
        // The one intended difference: wsaction asks a peer's compressor for a window of 8 as 9,
        // as zlib runs it (src/permessage_deflate/negotiation.rs, peer_window_limit); ws asks 8.
        if (pairing.server === 'wsaction' && serverOptions.clientMaxWindowBits === 8) {
          assert.equal(params.client_max_window_bits, 9, label);
          params.client_max_window_bits = 8;
        }
        agreed[`${pairing.client} client/${pairing.server} server: ${side}`] = JSON.stringify(params);
      }
      const echoed = once(p.client, 'message');
      p.serverSide.on('message', (data, isBinary) => p.serverSide.send(data, { binary: isBinary }));
      p.client.send(JSON_TEXT);
      assert.equal(String((await echoed)[0]), JSON_TEXT, label);
      await p.close();
    }
    // The parameters ws agrees on with itself, from wsaction on either side.
    assert.equal(new Set(Object.values(agreed)).size, 1, JSON.stringify(agreed, null, 1));
  }

  test('perMessageDeflate on the server: every ws/wsaction pairing agrees on what ws agrees on, and both sides show it in extensions', async () => {
    for (const serverOptions of SERVER_OPTIONS) await agreesLikeWs(serverOptions, true);
  });

  test('perMessageDeflate on the client: every ws/wsaction pairing agrees on what ws agrees on', async () => {
    const clientOptions = [
      { serverNoContextTakeover: true },
      { clientNoContextTakeover: true },
      { threshold: 0, zlibDeflateOptions: { level: 9, memLevel: 9 } },
      ...[9, 10, 11, 12, 13, 14, 15].map((bits) => ({ serverMaxWindowBits: bits })),
      ...[8, 9, 10, 11, 12, 13, 14, 15].map((bits) => ({ clientMaxWindowBits: bits })),
    ];
    for (const options of clientOptions) await agreesLikeWs(true, options);
  });

  test("ws's defaults: the client offers permessage-deflate, the server declines it unless perMessageDeflate is set", async () => {
    for (const pairing of PAIRINGS) {
      const label = `${pairing.client} client, ${pairing.server} server`;
      let p = await pair(pairing, {}, {});
      assert.equal(p.client.extensions, '', `server default off: ${label}`);
      assert.equal(p.serverSide.extensions, '', `server default off: ${label}`);
      await p.close();
      p = await pair(pairing, { perMessageDeflate: true }, {});
      assert.equal(p.client.extensions, 'permessage-deflate', `client default on: ${label}`);
      assert.equal(p.serverSide.extensions, 'permessage-deflate', `client default on: ${label}`);
      await p.close();
      p = await pair(pairing, { perMessageDeflate: true }, { perMessageDeflate: false });
      assert.equal(p.client.extensions, '', `client off: ${label}`);
      assert.equal(p.serverSide.extensions, '', `client off: ${label}`);
      await p.close();
    }
  });

  test("send's compress option: compress: false sends a message uncompressed, the default compresses it, as ws", async () => {
    for (const pairing of PAIRINGS) {
      const label = `${pairing.client} client, ${pairing.server} server`;
      const p = await pair(pairing, { perMessageDeflate: { threshold: 0 } }, {});
      const socket = IMPLEMENTATIONS[pairing.server] === IMPLEMENTATIONS.ws ? p.serverSide : null;
      // Bytes the ws end read: from the ws server's socket, or from a ws client's for the reply.
      const received = [];
      p.serverSide.on('message', (data) => {
        received.push(String(data));
        p.serverSide.send(data, { compress: received.length === 1 ? false : true });
      });
      const wsEnd = socket ?? (pairing.client === 'ws' ? p.client : null);
      const readBefore = () => wsEnd?._socket.bytesRead ?? 0;
      let echoed = once(p.client, 'message');
      const start = readBefore();
      p.client.send(JSON_TEXT, { compress: false });
      await echoed;
      const uncompressed = readBefore() - start;
      echoed = once(p.client, 'message');
      const middle = readBefore();
      p.client.send(JSON_TEXT);
      await echoed;
      const compressed = readBefore() - middle;
      assert.deepEqual(received, [JSON_TEXT, JSON_TEXT], label);
      if (wsEnd) {
        // One message each way; JSON_TEXT deflates more than 5x.
        assert.ok(uncompressed > JSON_TEXT.length, `${uncompressed} bytes for compress: false (${label})`);
        assert.ok(compressed * 5 < JSON_TEXT.length, `${compressed} bytes for compress: true (${label})`);
      }
      await p.close();
    }
  });
}
