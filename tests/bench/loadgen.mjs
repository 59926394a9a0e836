// The echo load generator: a raw-socket WebSocket client that is neither of the servers it
// measures (no ws, no wsaction), run as its own process so the servers get the same client.
//
//   node loadgen.mjs HOST PORT SIZE CONNECTIONS IN_FLIGHT WARMUP_SECONDS SECONDS
//
// Opens CONNECTIONS connections (RFC 6455 4.1 handshake by hand), keeps IN_FLIGHT binary messages
// of SIZE bytes outstanding on each (a new one goes out as each echo comes back), and after the
// warm-up counts the echoes that complete in SECONDS. Frames go out masked with a fixed key (the
// servers must unmask; the key's secrecy is a browser concern, RFC 6455 10.3) and prebuilt, so
// the client's own cost per message is a write and a header parse. Prints one JSON line.
import net from 'node:net';
import { randomBytes } from 'node:crypto';

const [host, port, size, connections, inFlight, warmup, seconds] = process.argv.slice(2).map((v, i) => (i === 0 ? v : Number(v)));

/** One masked binary frame carrying `size` bytes. */
function maskedFrame(length) {
  const header = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const frame = Buffer.alloc(header + 4 + length);
  frame[0] = 0x82; // FIN + binary
  if (header === 2) frame[1] = 0x80 | length;
  else if (header === 4) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  const key = [0x12, 0x34, 0x56, 0x78];
  frame.set(key, header);
  for (let i = 0; i < length; i++) frame[header + 4 + i] = (i & 0xff) ^ key[i & 3];
  return frame;
}

const frame = maskedFrame(size);
const firstWrite = Buffer.concat(new Array(inFlight).fill(frame));
let counting = false;
let echoed = 0;

/** Reads the server's (unmasked) frames and counts whole data messages; payloads are skipped. */
class EchoCounter {
  payloadLeft = 0;
  carry = null; // a header split across reads
  finalFrame = false;

  /** Returns how many messages ended in `chunk`. */
  feed(chunk) {
    if (this.carry) {
      chunk = Buffer.concat([this.carry, chunk]);
      this.carry = null;
    }
    let done = 0;
    let at = 0;
    while (at < chunk.length) {
      if (this.payloadLeft > 0) {
        const n = Math.min(this.payloadLeft, chunk.length - at);
        at += n;
        this.payloadLeft -= n;
        if (this.payloadLeft === 0 && this.finalFrame) done++;
        continue;
      }
      if (chunk.length - at < 2) break;
      const b0 = chunk[at];
      const b1 = chunk[at + 1];
      if (b1 & 0x80) throw new Error('a server sent a masked frame (RFC 6455 5.1)');
      let length = b1 & 0x7f;
      let header = 2;
      if (length === 126) header = 4;
      else if (length === 127) header = 10;
      if (chunk.length - at < header) break;
      if (header === 4) length = chunk.readUInt16BE(at + 2);
      else if (header === 10) length = Number(chunk.readBigUInt64BE(at + 2));
      const opcode = b0 & 0x0f;
      if (opcode >= 8) throw new Error(`unexpected control frame ${opcode} from the server`);
      at += header;
      this.finalFrame = (b0 & 0x80) !== 0;
      this.payloadLeft = length;
      if (length === 0 && this.finalFrame) done++;
    }
    if (at < chunk.length) this.carry = chunk.subarray(at);
    return done;
  }
}

function open() {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    socket.setNoDelay(true);
    const key = randomBytes(16).toString('base64');
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.write(
        `GET / HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    let head = Buffer.alloc(0);
    const onHead = (data) => {
      head = Buffer.concat([head, data]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onHead);
      const status = head.subarray(0, head.indexOf('\r\n')).toString();
      if (!/^HTTP\/1\.1 101/.test(status)) return reject(new Error(`handshake refused: ${status}`));
      resolve({ socket, rest: head.subarray(end + 4) });
    };
    socket.on('data', onHead);
  });
}

const opened = [];
// Open in batches, as a client fleet would connect (and to stay under the listen backlog).
for (let i = 0; i < connections; i += 50) {
  opened.push(...(await Promise.all(Array.from({ length: Math.min(50, connections - i) }, open))));
}
for (const { socket, rest } of opened) {
  const counter = new EchoCounter();
  const onData = (data) => {
    const done = counter.feed(data);
    if (done === 0) return;
    if (counting) echoed += done;
    socket.write(done === 1 ? frame : Buffer.concat(new Array(done).fill(frame)));
  };
  socket.on('data', onData);
  socket.on('error', (e) => {
    console.error(`loadgen: ${e.message}`);
    process.exit(1);
  });
  if (rest.length) onData(rest);
  socket.write(firstWrite);
}

await new Promise((r) => setTimeout(r, warmup * 1000));
counting = true;
const start = process.hrtime.bigint();
const cpuStart = process.cpuUsage();
await new Promise((r) => setTimeout(r, seconds * 1000));
const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
counting = false;
// This process's own CPU over the counted seconds (user and system, microseconds): with the
// server's (echo.mjs) it says which side was the wall.
const cpu = process.cpuUsage(cpuStart);
console.log(JSON.stringify({ messages: echoed, seconds: elapsed, rate: echoed / elapsed, cpu }));
for (const { socket } of opened) socket.destroy();
process.exit(0);
