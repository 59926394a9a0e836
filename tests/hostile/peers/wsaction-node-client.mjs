// wsaction's Node client as an echo client: connects, echoes every message with its type until
// the connection ends, prints one "outcome: ..." line and exits by itself (a watchdog exits 3 if
// nothing ends it). Usage: node wsaction-node-client.mjs ws://127.0.0.1:PORT/PATH
import { connect } from '../../../pkg/node.js';

const watchdog = setTimeout(() => {
  console.log('outcome: hung');
  process.exit(3);
}, 20000);
try {
  const connection = await connect(process.argv[2]);
  connection.on('message', (data, isBinary) => connection.send(data, { binary: isBinary }));
  connection.on('error', (err) => console.log(`error: ${err.message}`));
  connection.on('close', (code, reason) => {
    console.log(`outcome: closed ${code} ${reason}`);
    clearTimeout(watchdog);
  });
} catch (err) {
  console.log(`outcome: handshake failed: ${err.message}`);
  clearTimeout(watchdog);
}
