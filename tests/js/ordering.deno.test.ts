// The ordering rule on the Deno server: a raw-socket peer sends two complete messages and then a
// protocol violation in one write; the echo replies go out before the failing close (as ws does).
import { assertEquals } from './deno-assert.ts';
import { serve } from '../../pkg/deno.js';
import { echoThenViolation, violationAlone, EXPECTED_ORDER } from './raw-peer.mjs';

Deno.test('wsaction Deno server: replies to messages before a violation go out before the failing close', async () => {
  const errors: string[] = [];
  const server = serve({ port: 0, hostname: '127.0.0.1' }, (connection) => {
    connection.on('error', (e) => {
      errors.push('code' in e ? String(e.code) : e.message);
    });
    connection.on('message', (data, isBinary) => connection.send(data, { binary: isBinary }));
  });
  try {
    assertEquals(await echoThenViolation(server.addr.port), EXPECTED_ORDER);
    assertEquals(await violationAlone(server.addr.port), 'close:1002');
    assertEquals(errors, ['PROTOCOL_VIOLATION', 'PROTOCOL_VIOLATION']);
  } finally {
    await server.close();
  }
});
