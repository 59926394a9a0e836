// The fault tests' Deno side (run by faults.test.mjs, one scenario per process): a wsaction
// WebSocketServer on the Deno adapter (pkg/src/deno-adapter.js) and Deno's own WebSocket as
// the clients, with the same faults and the same expectations as on Node.
//
//   deno run --allow-net --allow-read --allow-env faults-deno.ts full
//     the first engine instance's memory filled until 40 MiB are left (fast.js's
//     fillMemoryForTests), then the server's application sends a 60 MiB message on one of four
//     connections: that connection alone closes 1011 (OUT_OF_MEMORY), the other three echo.
//   deno run --allow-net --allow-read --allow-env faults-deno.ts trap
//     the first instance's memory taken to wasm32's ceiling from outside the engine, then an
//     8 MiB send traps it (in an allocation made with no fallback, fast.js's
//     trapLargeSendsForTests: the engine's own buffers fail typed instead): each of its three connections closes 1011 with an ENGINE_TRAPPED
//     'error' on the server, the process lives, and a new connection echoes on a fresh instance.
//
// Prints one JSON line, { steps: [{ what, ok, detail }] }, as the Node probes do.
import * as wsaction from '../../pkg/deno.js';
import * as engine from '../../pkg/dist/wsaction.js';
import { fillMemoryForTests, trapLargeSendsForTests } from '../../pkg/src/fast.js';
import { poolStats } from '../../pkg/src/pool.js';

// deno-lint-ignore no-explicit-any
const { WebSocketServer } = wsaction as any;
const MiB = 1024 * 1024;
const scenario = Deno.args[0];
const steps: { what: string; ok: boolean; detail: string }[] = [];
const check = (what: string, ok: unknown, detail: unknown) => steps.push({ what, ok: !!ok, detail: String(detail) });
const text = (data: unknown) => (typeof data === 'string' ? data : new TextDecoder().decode(data as Uint8Array));

const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', maxPayload: 64 * MiB });
await new Promise((resolve) => wss.once('listening', resolve));
const serverErrors: string[] = [];
// The server's application echoes, and answers "!send N" with a binary message of N MiB.
// deno-lint-ignore no-explicit-any
wss.on('connection', (ws: any) => {
  ws.on('error', (err: { code?: string }) => serverErrors.push(String(err.code)));
  ws.on('message', (data: Uint8Array, isBinary: boolean) => {
    const m = isBinary ? null : /^!send (\d+)$/.exec(text(data));
    ws.send(m ? new Uint8Array(Number(m[1]) * MiB) : data, { binary: isBinary });
  });
});
const url = `ws://127.0.0.1:${wss.address().port}/`;

type Outcome = { message?: string; closed?: number; timeout?: boolean };

/** Each client's close code, once it closed. */
const closeCodes = new WeakMap<WebSocket, number>();

/** Deno's own WebSocket, open. */
function open(): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.addEventListener('close', (e) => closeCodes.set(socket, e.code));
    socket.onopen = () => resolve(socket);
    socket.onerror = () => reject(new Error('the upgrade failed'));
  });
}

/** The close code of `socket`, once it closes. */
const closed = (socket: WebSocket) => new Promise<number>((resolve) => socket.addEventListener('close', (e) => resolve(e.code), { once: true }));

/** Sends `data` and resolves with the echo, or with the close code if the connection ends first. */
function echo(socket: WebSocket, data: string, ms = 10000): Promise<Outcome> {
  return new Promise((resolve) => {
    if (socket.readyState !== WebSocket.OPEN) return resolve({ closed: closeCodes.get(socket) });
    const timer = setTimeout(() => done({ timeout: true }), ms);
    const onMessage = (e: MessageEvent) => done({ message: text(e.data) });
    const onClose = (e: CloseEvent) => done({ closed: e.code });
    const done = (outcome: Outcome) => {
      clearTimeout(timer);
      socket.removeEventListener('message', onMessage);
      socket.removeEventListener('close', onClose);
      resolve(outcome);
    };
    socket.addEventListener('message', onMessage);
    socket.addEventListener('close', onClose);
    socket.send(data);
  });
}

/** Waits up to `ms` for `condition`. */
async function until(condition: () => boolean, ms: number) {
  for (let waited = 0; !condition() && waited < ms; waited += 50) await new Promise((r) => setTimeout(r, 50));
}

const clients = [];
for (let i = 0; i < (scenario === 'full' ? 4 : 3); i++) clients.push(await open());
for (const [i, c] of clients.entries()) check(`echo before, client ${i}`, (await echo(c, `hi ${i}`)).message === `hi ${i}`, 'echoed');

if (scenario === 'full') {
  fillMemoryForTests(engine, 40 * MiB);
  const outcome = await echo(clients[0], '!send 60', 30000);
  check('the connection whose 60 MiB send did not fit closes with 1011', outcome.closed === 1011, JSON.stringify(outcome));
  for (const [i, c] of clients.slice(1).entries()) {
    const other = await echo(c, `still here ${i + 1}`);
    check(`client ${i + 1} of the same instance still echoes`, other.message === `still here ${i + 1}`, JSON.stringify(other));
  }
  check('the server heard one OUT_OF_MEMORY error', serverErrors.length === 1 && serverErrors[0] === 'OUT_OF_MEMORY', JSON.stringify(serverErrors));
  check('no instance was poisoned', poolStats().poisoned === 0, JSON.stringify(poolStats()));
} else if (scenario === 'trap') {
  const closes = clients.map(closed);
  const memory = engine._memory();
  memory.grow(65536 - memory.buffer.byteLength / 65536);
  trapLargeSendsForTests(engine, 8 * MiB);
  clients[0].send('!send 8');
  const codes = await Promise.race([Promise.all(closes), new Promise((r) => setTimeout(() => r('timeout'), 10000))]);
  check('every connection of the trapped instance closes with 1011', Array.isArray(codes) && codes.every((c) => c === 1011), JSON.stringify(codes));
  check('the server heard an ENGINE_TRAPPED error on each', serverErrors.length === 3 && serverErrors.every((c) => c === 'ENGINE_TRAPPED'), JSON.stringify(serverErrors));
  // A fresh instance is made asynchronously after the poisoning (pool.js).
  await until(() => poolStats().instances.length + (poolStats().spareReady ? 1 : 0) > 0, 5000);
} else {
  throw new Error(`usage: faults-deno.ts full|trap (got ${scenario})`);
}

const after = await open();
const outcome = await echo(after, 'after the fault');
check('a new connection echoes', outcome.message === 'after the fault', JSON.stringify(outcome));
if (scenario === 'trap') {
  const stats = poolStats();
  check('the pool: one instance poisoned, the new connection on another', stats.poisoned === 1 && stats.instances.some((i) => i.id !== 0 && i.connections === 1), JSON.stringify(stats));
}
for (const c of [...clients, after]) if (c.readyState === WebSocket.OPEN) c.close(1000);
await new Promise((resolve) => wss.close(resolve));
console.log(JSON.stringify({ steps }));
Deno.exit(0);
