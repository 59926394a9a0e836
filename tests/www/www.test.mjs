// Browser tests of the simulator page (www/) and of `make demo`'s live mode: playwright-core
// driving Debian's chromium against the demo server, which this test starts on 127.0.0.1 (free
// ports) and stops. Screenshots of the main views go to tests/artifacts/www/.
//
//   node --test tests/www/

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ARTIFACTS = join(ROOT, 'tests/artifacts/www');
const RESULTS = join(ROOT, 'tests/artifacts/scenario-results');
mkdirSync(ARTIFACTS, { recursive: true });
mkdirSync(RESULTS, { recursive: true });

let demo;
let pageUrl;
let echoUrl;
let browser;

before(async () => {
  demo = spawn(process.execPath, [join(ROOT, 'www/demo-server.mjs'), '--port', '0', '--echo-port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const output = await new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`demo server did not start: ${text}`)), 15000);
    demo.stdout.on('data', (chunk) => {
      text += chunk;
      if (text.includes('echo server')) {
        clearTimeout(timer);
        resolve(text);
      }
    });
    demo.once('exit', (code) => reject(new Error(`demo server exited with ${code}: ${text}`)));
  });
  pageUrl = /simulator\s+(\S+)/.exec(output)[1];
  echoUrl = /echo server\s+(\S+)/.exec(output)[1];
  assert.match(pageUrl, /^http:\/\/127\.0\.0\.1:\d+\/www\/$/);
  assert.match(echoUrl, /^ws:\/\/127\.0\.0\.1:\d+\/$/);
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    // launch() gives each run a fresh temporary profile of its own.
  });
});

after(async () => {
  await browser?.close();
  if (demo && demo.exitCode === null) {
    demo.kill('SIGTERM');
    await new Promise((resolve) => demo.once('exit', resolve));
  }
});

async function openPage(options = {}, path = '') {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, acceptDownloads: true, ...options });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(pageUrl + path);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 15000 });
  return { page, context, errors };
}

/** The timeline as data: one entry per row, as rendered. */
function timeline(page, list = '#timeline') {
  return page.$$eval(`${list} li`, (items) => items.map((li) => {
    if (li.classList.contains('note')) return { note: li.querySelector('.note-text').textContent };
    if (!li.classList.contains('row')) return { other: li.textContent };
    return {
      from: li.classList.contains('from-client') ? 'client' : 'server',
      injected: li.classList.contains('injected'),
      summary: li.querySelector('.summary').textContent,
      fields: li.querySelector('.fields').textContent,
      delivery: li.querySelector('.delivery').textContent,
    };
  }));
}

const frames = (rows) => rows.filter((r) => r.summary && !r.summary.startsWith('GET ') && !r.summary.startsWith('HTTP/'));
const sideText = (page, side, sel) => page.$eval(`#side-${side} ${sel}`, (n) => n.textContent);

async function loadExample(page, name) {
  const { description } = JSON.parse(readFileSync(join(ROOT, 'tests/scenarios', `${name}.json`), 'utf8'));
  await page.selectOption('#example', name);
  // The page shows the scenario's description once it has loaded and run it.
  await page.waitForFunction((d) => document.querySelector('#status').textContent === d, description);
  await page.waitForFunction(() => document.querySelectorAll('#timeline li.row').length > 2);
}

async function expectChecksPass(page) {
  for (const side of ['client', 'server']) {
    const check = await sideText(page, side, '.check-result');
    assert.match(check, /^✓ matches/, `${side}: ${check}`);
  }
}

test('each example scenario runs in the page and renders its frames, states and checks', async () => {
  const { page, context, errors } = await openPage();

  await loadExample(page, 'echo');
  let rows = frames(await timeline(page));
  assert.deepEqual(rows.map((r) => [r.from, r.summary]), [
    ['client', 'TEXT "hello, κόσμε"'], ['server', 'TEXT "hello, κόσμε"'],
    ['client', 'BINARY 00 ff 10'], ['server', 'BINARY 00 ff 10'],
    ['client', 'CLOSE 1000 "bye"'], ['server', 'CLOSE 1000 "bye"'],
  ]);
  assert.match(rows[0].fields, /^FIN MASK · key [0-9a-f]{8} · len 17$/, 'client frames are masked');
  assert.equal(rows[1].fields, 'FIN unmasked · len 17', 'server frames are not');
  const all = await timeline(page);
  assert.match(all[0].summary, /^GET \/ HTTP\/1\.1$/);
  assert.equal(all[1].summary, 'HTTP/1.1 101 Switching Protocols');
  assert.equal(await sideText(page, 'client', '.badge'), 'closed');
  assert.equal(await sideText(page, 'server', '.badge'), 'closed');
  await expectChecksPass(page);
  // The handshake view: the request the client produced and the response the server checked.
  await page.click('#handshake-details summary');
  const request = await page.textContent('#hs-request');
  assert.match(request, /^GET \/ HTTP\/1\.1\nUpgrade: websocket\n|Sec-WebSocket-Key: [A-Za-z0-9+/]{22}==/);
  assert.match(request, /Sec-WebSocket-Protocol: chat, superchat/);
  const response = await page.textContent('#hs-response');
  assert.match(response, /^HTTP\/1\.1 101 Switching Protocols\n/);
  assert.match(response, /Sec-WebSocket-Accept: [A-Za-z0-9+/]{27}=/);
  assert.match(response, /Sec-WebSocket-Protocol: superchat/);
  assert.match(await page.textContent('#hs-summary'), /end_client_handshake → accepted, subprotocol "superchat"/);
  await page.click('#timeline li.row.from-client.op-text button');
  await page.screenshot({ path: join(ARTIFACTS, 'echo-laptop.png') });
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.screenshot({ path: join(ARTIFACTS, 'echo-1280.png'), fullPage: true });
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.click('#handshake-details summary');

  await loadExample(page, 'fragmented-message');
  rows = frames(await timeline(page));
  assert.equal(rows.length, 3);
  assert.match(rows[0].summary, /^TEXT "a{32}"…$/);
  assert.equal(rows[0].fields.split(' · ')[0], 'fin=0 MASK');
  assert.equal(rows[1].summary, 'CONT "€uro"');
  assert.equal(rows[2].summary, 'CONT "!"');
  assert.match(rows[2].fields, /^FIN MASK/);
  assert.match(await sideText(page, 'server', '.events'), /received UTF8_FRAGMENT 255 bytes.*received UTF8_MESSAGE "€uro!"/);
  await expectChecksPass(page);

  await loadExample(page, 'ping-pong');
  rows = frames(await timeline(page));
  assert.deepEqual(rows.map((r) => [r.from, r.summary]), [
    ['client', 'PING "are you there"'], ['server', 'PONG "are you there"'],
    ['server', 'PING'], ['client', 'PONG'],
    ['server', 'PONG "heartbeat"'],
  ]);
  await expectChecksPass(page);

  await loadExample(page, 'clean-close');
  rows = frames(await timeline(page));
  assert.deepEqual(rows.map((r) => [r.from, r.summary]), [['server', 'CLOSE 1001 "going away"'], ['client', 'CLOSE 1001']]);
  await expectChecksPass(page);

  await loadExample(page, 'protocol-error');
  rows = frames(await timeline(page));
  assert.deepEqual(rows.map((r) => [r.from, r.injected, r.summary]), [
    ['client', true, 'RESERVED 0x3'],
    ['server', false, 'CLOSE 1002 "RESERVED_OPCODE"'],
    ['client', false, 'CLOSE 1002'],
  ]);
  const notes = (await timeline(page)).filter((r) => r.note).map((r) => r.note);
  assert.ok(notes.some((n) => /^server: .*fails the connection with 1002$/.test(n)), notes.join(' | '));
  assert.match(await sideText(page, 'server', '.side-status'), /failure.*PROTOCOL_VIOLATION → 1002/);
  await expectChecksPass(page);
  // The frame detail and hex view of the server's 1002 close.
  await page.click('#timeline li.row.from-server.op-close button');
  const detail = await page.textContent('#detail');
  assert.match(detail, /close status1002/);
  assert.match(detail, /opcode0x8 CLOSE/);
  assert.match(detail, /MASK0/);
  assert.equal(await page.locator('#detail .hex .byte').count(), 2 + 2 + 'RESERVED_OPCODE'.length);
  await page.screenshot({ path: join(ARTIFACTS, 'protocol-error-detail.png') });

  await loadExample(page, 'invalid-utf8');
  rows = frames(await timeline(page));
  assert.deepEqual(rows.map((r) => [r.from, r.summary]), [['client', 'TEXT 68 69 c3 28 (not UTF-8)'], ['server', 'CLOSE 1007 "INVALID_UTF8"']]);
  assert.equal(await sideText(page, 'client', '.badge'), 'close-received');
  await expectChecksPass(page);

  await loadExample(page, 'keepalive');
  rows = frames(await timeline(page));
  assert.deepEqual(rows.map((r) => [r.from, r.summary]), [['server', 'PING'], ['client', 'PONG'], ['server', 'PING'], ['client', 'PONG']]);
  assert.equal(await page.textContent('#now'), '30000');
  await expectChecksPass(page);

  // permessage-deflate: RSV1 marks each compressed message's first frame, the timeline shows
  // its compressed size, the receiving side's events its inflated size.
  await loadExample(page, 'deflate');
  rows = frames(await timeline(page));
  const compressed = rows.filter((r) => / compressed \d+ bytes$/.test(r.summary));
  assert.deepEqual(compressed.map((r) => r.from), ['client', 'server', 'client', 'server', 'server']);
  for (const row of compressed) assert.match(row.fields, /RSV1 \(compressed\)/, row.summary);
  const [bigText] = compressed;
  assert.match(bigText.summary, /^TEXT compressed \d+ bytes$/);
  assert.ok(Number(/(\d+) bytes/.exec(bigText.summary)[1]) < 1024, `64 KiB of 'a' deflates small: ${bigText.summary}`);
  assert.match(await sideText(page, 'server', '.events'), /received UTF8_FRAGMENT 4096 bytes/);
  assert.match(await sideText(page, 'client', '.events'), /received UTF8_MESSAGE "Hello".*received UTF8_MESSAGE "Hello"/s);
  await expectChecksPass(page);

  assert.deepEqual(errors, []);
  await context.close();
});

test('controls: a message sent in 4-byte fragments, delivered one byte at a time', async () => {
  const { page, context, errors } = await openPage();
  await page.selectOption('#example', '');
  await page.waitForFunction(() => document.querySelectorAll('#timeline li.row').length === 2);
  await page.fill('#net-chunk', '1');
  await page.dispatchEvent('#net-chunk', 'change');
  await page.fill('#side-client textarea', 'hello fragments');
  await page.selectOption('#side-client select', 'text');
  await page.fill('#side-client input[type="number"]', '4');
  await page.click('#side-client button[data-action="send"]');
  const rows = frames(await timeline(page));
  assert.deepEqual(rows.map((r) => [r.from, r.summary, r.fields.replace(/key [0-9a-f]{8}/, 'key K')]), [
    ['client', 'TEXT "hell"', 'fin=0 MASK · key K · len 4'],
    ['client', 'CONT "o fr"', 'fin=0 MASK · key K · len 4'],
    ['client', 'CONT "agme"', 'fin=0 MASK · key K · len 4'],
    ['client', 'CONT "nts"', 'FIN MASK · key K · len 3'],
  ]);
  // 2 header bytes, a 4-byte key and the payload, each delivered by its own read.
  assert.deepEqual(rows.map((r) => r.delivery), ['delivered in 10 reads', 'delivered in 10 reads', 'delivered in 10 reads', 'delivered in 9 reads']);
  const serverEvents = await sideText(page, 'server', '.events');
  const texts = [...serverEvents.matchAll(/received UTF8_(?:FRAGMENT|MESSAGE) "([^"]*)"/g)].map((m) => m[1]);
  assert.equal(texts.join(''), 'hello fragments');
  assert.match(serverEvents, /received UTF8_MESSAGE/);
  const clientLog = await sideText(page, 'client', '.log');
  assert.equal(clientLog.match(/send\(UTF8_(FRAGMENT|MESSAGE)/g).length, 4);
  await page.screenshot({ path: join(ARTIFACTS, 'fragments-one-byte.png') });

  // Export this session and load it back: the same timeline, byte for byte.
  const before = await timeline(page);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
  const file = join(ARTIFACTS, 'exported-session.json');
  await download.saveAs(file);
  const exported = JSON.parse(readFileSync(file, 'utf8'));
  assert.deepEqual(exported.steps.map((s) => [s.side, s.op, s.type, s.text]), [
    ['client', 'send', 'UTF8_FRAGMENT', 'hell'], ['client', 'send', 'UTF8_FRAGMENT', 'o fr'],
    ['client', 'send', 'UTF8_FRAGMENT', 'agme'], ['client', 'send', 'UTF8_MESSAGE', 'nts'],
  ]);
  assert.deepEqual(exported.expect.server.events.at(-1).received, 'UTF8_MESSAGE');
  assert.equal(exported.expect.client.state, 'open');
  assert.deepEqual(exported.simulator.log[0], { op: 'network', chunk: 1, latency: 0, paused: false });

  await page.selectOption('#example', 'echo');
  await page.waitForFunction(() => document.querySelectorAll('#timeline li.row').length === 8);
  await page.setInputFiles('#import', file);
  await page.waitForFunction(() => document.querySelector('#status').textContent.startsWith('Loaded'));
  assert.deepEqual(await timeline(page), before);
  await expectChecksPass(page);
  assert.deepEqual(errors, []);
  await context.close();
});

test('an exported example is the scenario file it came from, and replays to the same timeline', async () => {
  const { page, context, errors } = await openPage();
  await loadExample(page, 'echo');
  const before = await timeline(page);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
  const file = join(ARTIFACTS, 'exported-echo.json');
  await download.saveAs(file);
  const exported = JSON.parse(readFileSync(file, 'utf8'));
  const original = JSON.parse(readFileSync(join(ROOT, 'tests/scenarios/echo.json'), 'utf8'));
  assert.equal(exported.simulator, undefined, 'nothing beyond the format was used');
  assert.deepEqual(exported.steps, original.steps);
  assert.deepEqual(exported.expect, original.expect);
  assert.deepEqual(exported.handshake, original.handshake);
  await page.selectOption('#example', 'ping-pong');
  await page.waitForFunction(() => document.querySelectorAll('#timeline li.row').length === 7);
  await page.setInputFiles('#import', file);
  await page.waitForFunction(() => document.querySelector('#status').textContent.startsWith('Loaded'));
  assert.deepEqual(await timeline(page), before);
  assert.deepEqual(errors, []);
  await context.close();
});

test('step mode hands out one action at a time; a paused link releases bytes step by step', async () => {
  const { page, context, errors } = await openPage();
  await page.selectOption('#example', '');
  await page.waitForFunction(() => document.querySelectorAll('#timeline li.row').length === 2);
  await page.check('input[name="granularity"][value="step"]');
  await page.fill('#side-client textarea', 'hi');
  await page.click('#side-client button[data-action="send"]');
  const lastLog = async (side) => page.$eval(`#side-${side} .log li:last-child`, (li) => li.textContent);
  assert.match(await lastLog('client'), /send\(UTF8_MESSAGE, 2 bytes\)/);
  await page.click('#step-client');
  assert.match(await lastLog('client'), /get_action → #\d+ SEND_TO_NETWORK, send queue, UTF8_MESSAGE, 8 bytes/);
  assert.match(await sideText(page, 'client', '.pending'), /Got, not yet performed/);
  assert.equal(frames(await timeline(page)).length, 0, 'not written before the step performs it');
  await page.click('#step-client');
  assert.match(await lastLog('client'), /complete_action\(#\d+, 8\) \(written\)/);
  let rows = frames(await timeline(page));
  assert.equal(rows.length, 1);
  assert.equal(rows[0].delivery, 'in flight, 8 bytes');
  await page.screenshot({ path: join(ARTIFACTS, 'step-mode.png') });

  // Pause the link and deliver three bytes at a time by hand.
  await page.check('#net-paused');
  await page.fill('#net-chunk', '3');
  await page.dispatchEvent('#net-chunk', 'change');
  await page.check('input[name="granularity"][value="run"]');
  await page.click('#run');
  rows = frames(await timeline(page));
  assert.equal(rows[0].delivery, 'in flight, 8 bytes');
  await page.click('#release-server');
  await page.click('#run');
  assert.equal(frames(await timeline(page))[0].delivery, 'in flight: 3/8 bytes delivered');
  await page.click('#release-server');
  await page.click('#release-server');
  await page.click('#run');
  assert.equal(frames(await timeline(page))[0].delivery, 'delivered in 3 reads');
  assert.match(await sideText(page, 'server', '.events'), /received UTF8_MESSAGE "hi"/);
  assert.deepEqual(errors, []);
  await context.close();
});

test('corrupting a byte in flight: the server sees a reserved opcode and fails with 1002', async () => {
  const { page, context, errors } = await openPage();
  await page.selectOption('#example', '');
  await page.waitForFunction(() => document.querySelectorAll('#timeline li.row').length === 2);
  await page.check('#net-paused');
  await page.fill('#side-client textarea', 'x');
  await page.click('#side-client button[data-action="send"]');
  await page.click('#timeline li.row.from-client:last-child button');
  // Pick the frame's first byte in the hex view (0x81 -> XOR 0x02 = 0x83, opcode 3).
  await page.click('#detail .hex button.byte >> nth=0');
  await page.fill('#corrupt-xor', '02');
  await page.click('#corrupt');
  await page.uncheck('#net-paused');
  const rows = frames(await timeline(page));
  assert.equal(rows[0].summary, 'RESERVED 0x3 "x"');
  assert.match(rows[0].delivery, /1 byte\(s\) corrupted/);
  assert.equal(rows[1].summary, 'CLOSE 1002 "RESERVED_OPCODE"');
  assert.equal(rows[1].from, 'server');
  assert.deepEqual(errors, []);
  await context.close();
});

test('narrow window: panels stack and nothing overflows sideways', async () => {
  const { page, context, errors } = await openPage({ viewport: { width: 420, height: 900 } });
  await loadExample(page, 'protocol-error');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `page is ${overflow}px wider than the window`);
  await page.screenshot({ path: join(ARTIFACTS, 'narrow.png'), fullPage: true });
  // Keyboard: the timeline's frames are buttons, arrow keys move between them.
  await page.focus('#timeline li.row button');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  const selected = await page.$eval('#timeline button[aria-pressed="true"]', (b) => b.getAttribute('aria-label'));
  assert.match(selected, /^server → client: HTTP\/1\.1 101/);
  assert.deepEqual(errors, []);
  await context.close();
});

test('every tests/scenarios file passes in the browser, at each of its chunk sizes', async () => {
  const { page, context } = await openPage();
  const files = readdirSync(join(ROOT, 'tests/scenarios')).filter((f) => f.endsWith('.json')).sort();
  const results = await page.evaluate(async (names) => {
    const engine = await import('/pkg/browser.js');
    await engine.loadPerMessageDeflate(); // the deflate scenarios' handles are made by the deflate build
    const { Simulation } = await import('/www/sim.js');
    const out = {};
    for (const name of names) {
      const scenario = await (await fetch(`/tests/scenarios/${name}`)).json();
      const failures = [];
      for (const chunk of scenario.chunks ?? [0, 1, 7]) {
        try {
          const check = Simulation.replay(engine, scenario, { chunk }).check();
          for (const [what, r] of Object.entries(check)) if (!r.pass) failures.push(`chunk ${chunk} ${what}: ${r.why}`);
        } catch (e) {
          failures.push(`chunk ${chunk}: ${e.message}`);
        }
      }
      out[scenario.name] = failures.length ? `fail: ${failures.join('; ')}` : 'pass';
    }
    return out;
  }, files);
  writeFileSync(join(RESULTS, 'browser.json'), `${JSON.stringify({ host: 'browser', results }, null, 2)}\n`);
  for (const [name, outcome] of Object.entries(results)) assert.equal(outcome, 'pass', name);
  assert.equal(Object.keys(results).length, files.length);
  await context.close();
});

test('live mode: the browser WebSocket against the wsaction echo server, seen from the server', async () => {
  const { page, context, errors } = await openPage({}, '#live');
  await page.waitForFunction(() => document.querySelector('#live-url').value.startsWith('ws://'));
  assert.equal(await page.inputValue('#live-url'), echoUrl);
  await page.waitForFunction(() => document.body.dataset.live === 'ready');
  await page.click('#live-connect');
  await page.waitForFunction(() => document.querySelector('#live-state').textContent === 'open');
  await page.fill('#live-text', 'echo me');
  await page.click('#live-send-text');
  await page.waitForFunction(() => document.querySelector('#live-browser').textContent.includes('message: text "echo me"'));
  await page.click('#live-close');
  await page.waitForFunction(() => document.querySelector('#live-state').textContent === 'closed');
  await page.waitForFunction(() => [...document.querySelectorAll('#live-timeline li.row .summary')].filter((s) => s.textContent.startsWith('CLOSE')).length === 2);
  const rows = await timeline(page, '#live-timeline');
  assert.match(rows[0].summary, /^GET \/ HTTP\/1\.1$/);
  assert.equal(rows[0].from, 'client');
  assert.equal(rows[1].summary, 'HTTP/1.1 101 Switching Protocols');
  assert.equal(rows[1].from, 'server');
  // The server answers the close with the browser's status (its reason is the adapter's choice).
  assert.deepEqual(frames(rows).map((r) => [r.from, r.summary.replace(/^(CLOSE 1000) .*$/, '$1 …')]), [
    ['client', 'TEXT "echo me"'], ['server', 'TEXT "echo me"'],
    ['client', 'CLOSE 1000 …'], ['server', 'CLOSE 1000 …'],
  ]);
  assert.equal(frames(rows)[2].summary, 'CLOSE 1000 "done"');
  assert.match(frames(rows)[0].fields, /^FIN MASK · key [0-9a-f]{8}/, "the browser's frames are masked");
  const actions = await page.textContent('#live-actions');
  assert.match(actions, /begin_server_handshake\("chat"\)/);
  assert.match(actions, /INDICATE_RECEIVE_COMPLETE UTF8_MESSAGE 7 bytes/);
  assert.match(actions, /send\(UTF8_MESSAGE, 7 bytes\)/);
  assert.match(actions, /INDICATE_RECEIVE_COMPLETE CLOSE 4 bytes, status 1000/);
  assert.match(await page.textContent('#live-browser'), /close: code 1000 reason "done"|close: code 1000/);
  await page.screenshot({ path: join(ARTIFACTS, 'live.png'), fullPage: true });
  assert.deepEqual(errors, []);
  await context.close();
});
