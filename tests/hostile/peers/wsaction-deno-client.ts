// wsaction's Deno client as an echo client: connects, echoes every message with its type until
// the connection ends, prints one "outcome: ..." line and exits by itself (a watchdog exits 3 if
// nothing ends it). Usage: deno run --allow-net --allow-read wsaction-deno-client.ts ws://127.0.0.1:PORT/PATH
import { connect } from '../../../pkg/deno.js';

const watchdog = setTimeout(() => {
  console.log('outcome: hung');
  Deno.exit(3);
}, 20000);
try {
  const connection = await connect(Deno.args[0]);
  connection.on('message', (data: string | Uint8Array, isBinary: boolean) => connection.send(data, { binary: isBinary }));
  connection.on('error', (err: Error) => console.log(`error: ${err.message}`));
  connection.on('close', (code: number, reason: string) => {
    console.log(`outcome: closed ${code} ${reason}`);
    clearTimeout(watchdog);
  });
} catch (err) {
  console.log(`outcome: handshake failed: ${(err as Error).message}`);
  clearTimeout(watchdog);
}
