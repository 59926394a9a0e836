// The simulator page: builds the controls, applies what the person does to the Simulation as
// recorded operations, and renders the handles, the wire and the timeline after each one.

import { loadEngine } from './engine.js';
import { Simulation, SIDES, peerOf, sendSteps, hexBytes, describeError, canonical } from './sim.js';
import { el, renderTimeline, renderDetail, rowKey, keyboardNavigation } from './timeline.js';
import { startLive } from './live.js';

export const EXAMPLES = [
  ['echo', 'Echo'],
  ['fragmented-message', 'Fragmented message'],
  ['ping-pong', 'Ping / pong'],
  ['clean-close', 'Clean close'],
  ['protocol-error', 'Protocol error (1002)'],
  ['invalid-utf8', 'Invalid UTF-8 (1007)'],
  ['keepalive', 'Keep-alive (virtual clock)'],
  ['close-timeout', 'Close timeout (virtual clock)'],
  ['abort', 'Abort'],
  ['deflate', 'permessage-deflate (RFC 7692)'],
];
const SCENARIO_DIR = '../tests/scenarios/';

// Handle properties the panel offers: [name, label, kind, hint].
const PROPERTIES = [
  ['receiveBufferSize', 'Receive buffer', 'number', '256..16 MiB, default 4096'],
  ['sendBufferSize', 'Send buffer', 'number', '16..16 MiB; default 4096 client, 16 server'],
  ['disableMasking', 'Disable masking', 'bool', 'client: key 0; server: accept unmasked'],
  ['disableUtf8Verification', 'Skip UTF-8 checks', 'bool', 'sent and received text'],
  ['keepAliveInterval', 'Keep-alive interval', 'number', 'ms of silence; 0 = off'],
  ['keepAliveMode', 'Keep-alive sends', 'mode', ''],
  ['keepAliveTimeout', 'Keep-alive timeout', 'number', 'ms for an answer; default 30000'],
  ['closeTimeout', 'Close timeout', 'number', 'ms for the peer\'s close; default 30000'],
  ['maxFrameSize', 'Max frame size', 'number', 'bytes; default 16 MiB (over: 1009)'],
  ['maxMessageSize', 'Max message size', 'number', 'bytes; default 64 MiB (over: 1009)'],
  ['maxFragments', 'Max fragments', 'number', 'frames per message'],
  ['perMessageDeflate', 'permessage-deflate', 'bool', 'client offers, server accepts (RFC 7692)'],
  ['deflateThreshold', 'Deflate threshold', 'number', 'bytes; without context takeover, default 1024'],
  ['deflateServerNoContextTakeover', 'server_no_context_takeover', 'bool', 'server resets its window per message'],
  ['deflateClientNoContextTakeover', 'client_no_context_takeover', 'bool', 'client resets its window per message'],
  ['deflateServerMaxWindowBits', 'server_max_window_bits', 'number', '8..15'],
  ['deflateClientMaxWindowBits', 'client_max_window_bits', 'number', '8..15'],
  ['indicatePings', 'Indicate pings', 'bool', 'received pings come as PING (ws\'s \'ping\' event)'],
];

const $ = (sel, root = document) => root.querySelector(sel);
const state = { engine: null, sim: null, scenario: { name: 'session' }, selected: null, stepsApplied: 0, sideUi: {} };

function setStatus(text, kind = 'info') {
  const s = $('#status');
  s.textContent = text;
  s.dataset.kind = kind;
}

/** Applies one operation, reporting a thrown error instead of losing it. */
function act(op) {
  try {
    state.sim.apply(op);
    setStatus(state.scenario.description ?? '');
  } catch (e) {
    state.sim.log.pop();
    setStatus(`${op.op}: ${describeError(e)}`, 'error');
  }
  render();
}

function granularity() {
  return document.querySelector('input[name="granularity"]:checked').value;
}

function newSession(scenario, { applySteps = true } = {}) {
  state.scenario = scenario;
  state.selected = null;
  const options = { granularity: scenario.simulator?.granularity ?? granularity() };
  try {
    if (applySteps) {
      state.sim = Simulation.replay(state.engine, scenario, options);
      state.stepsApplied = (scenario.steps ?? []).length;
    } else {
      state.sim = new Simulation(state.engine, { ...scenario, steps: [], simulator: undefined }, options);
      state.stepsApplied = 0;
    }
    setStatus(scenario.description ?? '');
  } catch (e) {
    setStatus(`could not start the session: ${describeError(e)}`, 'error');
    state.sim = new Simulation(state.engine, { name: 'session' }, options);
  }
  document.querySelector(`input[name="granularity"][value="${state.sim.granularity}"]`).checked = true;
  syncNetworkInputs();
  fillProperties();
  render();
}

async function loadExample(name) {
  if (!name) return newSession({ name: 'session', description: 'A blank session: a client and a server handle after the handshake.' });
  const response = await fetch(`${SCENARIO_DIR}${name}.json`);
  if (!response.ok) throw new Error(`${name}.json: HTTP ${response.status}`);
  newSession(await response.json());
}

// ------------------------------------------------------------------ the side panels

function buildSide(side) {
  const root = $(`#side-${side}`);
  const title = side === 'client' ? 'Client' : 'Server';
  const ui = {};
  ui.state = el('span', { class: 'badge state' });
  ui.status = el('dl', { class: 'side-status' });
  ui.payload = el('textarea', { rows: 2, spellcheck: 'false', 'aria-label': `${title} message payload` });
  ui.payload.value = side === 'client' ? 'hello, κόσμε' : 'hello back';
  ui.kind = el('select', { 'aria-label': `${title} message type` }, el('option', { value: 'text', text: 'text (UTF-8)' }), el('option', { value: 'binary', text: 'binary (hex)' }));
  ui.fragment = el('input', { type: 'number', min: 0, value: 0, 'aria-label': `${title} fragment size in bytes (0 sends whole)` });
  ui.control = el('input', { value: '', placeholder: 'payload', 'aria-label': `${title} ping or pong payload` });
  ui.code = el('input', { type: 'number', value: 1000, min: 0, max: 65535, 'aria-label': `${title} close status` });
  ui.reason = el('input', { value: 'bye', 'aria-label': `${title} close reason` });
  ui.pending = el('div', { class: 'pending', 'aria-live': 'polite' });
  ui.log = el('ol', { class: 'log', 'aria-label': `${title} action log` });
  ui.events = el('ol', { class: 'events', 'aria-label': `${title} events` });
  ui.check = el('p', { class: 'check-result' });
  ui.props = el('div', { class: 'props' });

  const send = (e) => {
    e.preventDefault();
    const text = ui.kind.value === 'text';
    let bytes;
    try {
      bytes = text ? new TextEncoder().encode(ui.payload.value) : hexBytes(ui.payload.value);
    } catch (err) {
      setStatus(err.message, 'error');
      return;
    }
    const steps = sendSteps(side, bytes, { text, size: Number(ui.fragment.value) || 0 });
    for (const step of steps) act(step);
  };
  const controlPayload = () => ({ text: ui.control.value });

  root.append(
    el('h2', { id: `${side}-title` }, title, ' ', ui.state),
    ui.status,
    ui.pending,
    el('form', { class: 'controls', onsubmit: send, 'aria-label': `${title} send` },
      el('label', { class: 'block' }, 'Message', ui.payload),
      el('div', { class: 'row' },
        el('label', {}, 'as ', ui.kind),
        el('label', {}, 'fragments of ', ui.fragment, ' B'),
        el('button', { type: 'submit', class: 'primary', 'data-action': 'send' }, 'Send'))),
    el('div', { class: 'row' },
      el('label', {}, 'Control ', ui.control),
      el('button', { type: 'button', 'data-action': 'ping', onclick: () => act({ side, op: 'ping', ...controlPayload() }) }, 'Ping'),
      el('button', { type: 'button', 'data-action': 'pong', onclick: () => act({ side, op: 'pong', ...controlPayload() }), title: 'An unsolicited pong' }, 'Pong')),
    el('div', { class: 'row' },
      el('label', {}, 'Close ', ui.code),
      el('label', {}, 'reason ', ui.reason),
      el('button', {
        type: 'button', 'data-action': 'close',
        onclick: () => act({ side, op: 'close', ...(ui.code.value === '' ? {} : { status: Number(ui.code.value), reason: ui.reason.value }) }),
      }, 'Close')),
    el('div', { class: 'row' },
      el('button', { type: 'button', class: 'danger', 'data-action': 'abort', onclick: () => act({ side, op: 'abort' }) }, 'Abort'),
      el('button', { type: 'button', 'data-action': 'close-tcp', onclick: () => act({ side, op: 'closeTransport' }), title: 'What the host does once the state is closed or aborted' }, 'Close TCP')),
    el('details', { class: 'props-details' },
      el('summary', { text: 'Properties' }), ui.props,
      el('button', { type: 'button', onclick: () => applyProperties(side) }, 'Apply and restart the session')),
    el('h3', { text: 'Actions' }), ui.log,
    el('h3', { text: 'Events' }), ui.check, ui.events);
  state.sideUi[side] = ui;
}

function fillProperties() {
  for (const side of SIDES) {
    const ui = state.sideUi[side];
    const props = state.scenario[side]?.properties ?? {};
    const seed = state.scenario[side]?.seed ?? (side === 'client' ? 1 : 2);
    const fields = [el('label', {}, el('span', { text: 'Seed' }), el('input', { type: 'number', name: 'seed', value: seed, min: 0 }), el('small', { text: 'mask keys, handshake key' }))];
    for (const [name, label, kind, hint] of PROPERTIES) {
      let input;
      if (kind === 'bool') input = el('input', { type: 'checkbox', name, checked: props[name] === true });
      else if (kind === 'mode') {
        input = el('select', { name }, el('option', { value: '', text: 'default (ping)' }), el('option', { value: 'ping', text: 'ping' }), el('option', { value: 'unsolicited-pong', text: 'unsolicited pong' }));
        input.value = props[name] ?? '';
      } else input = el('input', { type: 'number', name, min: 0, value: props[name] ?? '', placeholder: 'default' });
      fields.push(el('label', { class: kind === 'bool' ? 'check' : '' }, el('span', { text: label }), input, hint ? el('small', { text: hint }) : null));
    }
    ui.props.replaceChildren(...fields);
  }
}

function applyProperties(side) {
  const ui = state.sideUi[side];
  const properties = {};
  let seed = 1;
  for (const input of ui.props.querySelectorAll('input, select')) {
    if (input.name === 'seed') seed = Number(input.value) || 0;
    else if (input.type === 'checkbox') { if (input.checked) properties[input.name] = true; }
    else if (input.value !== '') properties[input.name] = input.tagName === 'SELECT' ? input.value : Number(input.value);
  }
  const scenario = { ...structuredClone(state.scenario), name: 'custom', steps: [], simulator: undefined, expect: undefined };
  scenario[side] = { seed, properties };
  newSession(scenario, { applySteps: false });
}

// ------------------------------------------------------------------ rendering

function renderSide(side) {
  const ui = state.sideUi[side];
  const s = state.sim.sides[side];
  const st = s.phase === 'open' || s.phase === 'idle' ? s.state : s.phase === 'handshake' ? 'handshake' : s.phase;
  ui.state.textContent = st;
  ui.state.dataset.state = st;
  const deadline = s.handle.nextDeadline();
  const items = [
    ['transport', s.transportClosed ? 'closed' : 'connected'],
    ['next deadline', deadline == null ? 'none' : `${deadline} ms`],
  ];
  const failure = s.handle.failure;
  if (failure) items.push(['failure', `${failure.code}${failure.closeCode ? ` → ${failure.closeCode}` : ''}${failure.violation ? ` (${failure.violation})` : ''}`]);
  if (s.handle.subprotocol) items.push(['subprotocol', s.handle.subprotocol]);
  ui.status.replaceChildren(...items.flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { text: v })]));
  const pending = [];
  if (s.pending) pending.push(el('p', { class: 'pending-action', text: `Got, not yet performed: ${s.log.findLast((l) => l.kind === 'action')?.text.replace('get_action → ', '') ?? ''}` }));
  if (s.held) pending.push(el('p', { text: `Holding RECEIVE_FROM_NETWORK #${s.held.id} (up to ${s.held.capacity} bytes) until bytes arrive` }));
  if (s.sendQueue.length) pending.push(el('p', { text: `${s.sendQueue.length} send(s) waiting for the outstanding one` }));
  const closedHint = (s.state === 'closed' || s.state === 'aborted') && !s.transportClosed && s.phase === 'open';
  if (closedHint) pending.push(el('p', { class: 'hint', text: `State ${s.state}: the drain contract says the host closes the transport now (Close TCP).` }));
  ui.pending.replaceChildren(...pending);

  const shown = s.log.slice(-300);
  const keep = ui.log.scrollHeight - ui.log.scrollTop - ui.log.clientHeight < 30;
  ui.log.replaceChildren(
    ...(s.log.length > shown.length ? [el('li', { class: 'hint', text: `… ${s.log.length - shown.length} earlier entries` })] : []),
    ...shown.map((l) => el('li', { class: `log-${l.kind}` }, el('span', { class: 't', text: `${l.at}` }), ' ', l.text)));
  if (keep) ui.log.scrollTop = ui.log.scrollHeight;
  ui.events.replaceChildren(...s.events.map((e) => el('li', { text: eventText(e) })));
  if (s.events.length === 0) ui.events.append(el('li', { class: 'hint', text: 'none yet' }));
}

function eventText(e) {
  if (e.sendComplete) return `send complete: ${e.sendComplete}`;
  if (e.error) return `error ${e.error}${e.closeCode ? ` → close ${e.closeCode}` : ''}`;
  if (e.received === 'CLOSE') return `received CLOSE ${e.status}${e.reason ? ` ${JSON.stringify(e.reason)}` : ''}`;
  const body = e.text != null ? JSON.stringify(e.text) : e.hex != null ? (e.hex ? `0x${e.hex}` : '(empty)') : `${e.length} bytes, fnv1a ${e.fnv1a}`;
  return `received ${e.received} ${body}`;
}

function renderCheck() {
  const sim = state.sim;
  const expect = state.scenario.expect;
  const stepsOnly = sim.log.every((op, i) => canonical(op) === canonical((state.scenario.simulator?.log ?? state.scenario.steps ?? [])[i]))
    && sim.log.length === (state.scenario.simulator?.log ?? state.scenario.steps ?? []).length;
  const result = expect && stepsOnly ? sim.check(expect) : {};
  for (const side of SIDES) {
    const ui = state.sideUi[side];
    const r = result[side];
    ui.check.textContent = r ? (r.pass ? `✓ matches the scenario's expected events and state (${expect[side].state})` : `✗ ${r.why}`) : '';
    ui.check.dataset.pass = r ? String(r.pass) : '';
  }
}

function renderHandshake() {
  const c = state.sim.sides.client;
  const s = state.sim.sides.server;
  const lines = (headers) => (headers ?? []).map(([n, v]) => `${n}: ${v}`).join('\n');
  $('#hs-request').textContent = c.handshake.request ? `GET / HTTP/1.1\n${lines(c.handshake.request)}` : '(not sent yet)';
  const status = s.handshake.status ?? c.handshake.status;
  const reason = status === 101 ? 'Switching Protocols' : state.engine.reasonPhrase(status ?? 400);
  $('#hs-response').textContent = s.handshake.response ? `HTTP/1.1 ${status} ${reason}\n${lines(s.handshake.response)}` : '(no response yet)';
  const clientOk = c.log.find((l) => l.text.startsWith('end_client_handshake'));
  $('#hs-summary').textContent = clientOk ? `· ${clientOk.text}` : c.phase === 'rejected' ? '· refused' : '· in progress';
}

function render() {
  const sim = state.sim;
  if (!sim) return;
  $('#now').textContent = String(sim.now);
  const deadline = sim.nextDeadline();
  $('#to-deadline').textContent = deadline == null ? 'To next deadline (none)' : `To next deadline (${deadline} ms)`;
  $('#to-deadline').disabled = deadline == null || deadline <= sim.now;
  for (const side of SIDES) renderSide(side);
  renderHandshake();
  renderCheck();
  const rows = sim.timeline();
  renderTimeline($('#timeline'), rows, { selected: state.selected, onSelect: select });
  const row = rows.find((r) => rowKey(r) === state.selected);
  renderDetail($('#detail'), row, { onPickByte: pickByte });
  const stepMode = sim.granularity === 'step';
  for (const id of ['#step-any', '#step-client', '#step-server']) $(id).disabled = !stepMode;
  $('#release-server').disabled = !sim.network.paused;
  $('#release-client').disabled = !sim.network.paused;
}

function select(row) {
  state.selected = rowKey(row);
  render();
  const panel = $('#detail-panel');
  if (panel.getBoundingClientRect().top > window.innerHeight - 120) panel.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
}

function pickByte(toward, offset) {
  $('#corrupt-toward').value = toward;
  $('#corrupt-offset').value = offset;
  $('#corrupt').focus();
  $('#net-title').closest('section').querySelector('details').open = true;
}

function syncNetworkInputs() {
  const n = state.sim.network;
  $('#net-chunk').value = n.chunk;
  $('#net-latency').value = n.latency;
  $('#net-paused').checked = n.paused;
}

// ------------------------------------------------------------------ export / import

function exportScenario() {
  const name = state.scenario.name ?? 'session';
  const data = state.sim.exportScenario(name, state.scenario.description);
  const blob = new Blob([`${JSON.stringify(data, null, 2)}\n`], { type: 'application/json' });
  const a = el('a', { href: URL.createObjectURL(blob), download: `${name}.json` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  setStatus(`Exported ${name}.json: ${data.steps.length} steps${data.simulator ? ` and ${data.simulator.log.length} simulator operations` : ''}.`);
}

async function importScenario(file) {
  try {
    const scenario = JSON.parse(await file.text());
    if (!scenario || typeof scenario !== 'object' || !Array.isArray(scenario.steps ?? [])) throw new Error('not a scenario file');
    $('#example').value = '';
    newSession(scenario);
    setStatus(`Loaded ${file.name}: ${scenario.description ?? scenario.name ?? ''}`);
  } catch (e) {
    setStatus(`${file.name}: ${e.message}`, 'error');
  }
}

// ------------------------------------------------------------------ wiring

function wire() {
  for (const side of SIDES) buildSide(side);
  const select = $('#example');
  for (const [value, label] of EXAMPLES) select.append(el('option', { value, text: label }));
  select.addEventListener('change', () => loadExample(select.value).catch((e) => setStatus(e.message, 'error')));
  $('#reset').addEventListener('click', () => newSession(state.scenario, { applySteps: false }));
  $('#export').addEventListener('click', exportScenario);
  $('#import').addEventListener('change', (e) => {
    const file = e.target.files[0];
    if (file) importScenario(file);
    e.target.value = '';
  });
  for (const radio of document.querySelectorAll('input[name="granularity"]')) {
    radio.addEventListener('change', () => act({ op: 'granularity', value: granularity() }));
  }
  $('#step-any').addEventListener('click', () => act({ op: 'step' }));
  $('#step-client').addEventListener('click', () => act({ op: 'step', side: 'client' }));
  $('#step-server').addEventListener('click', () => act({ op: 'step', side: 'server' }));
  $('#run').addEventListener('click', () => act({ op: 'run' }));
  for (const b of document.querySelectorAll('[data-advance]')) {
    b.addEventListener('click', () => act({ op: 'tick', now: state.sim.now + Number(b.dataset.advance) }));
  }
  $('#to-deadline').addEventListener('click', () => {
    const d = state.sim.nextDeadline();
    if (d != null) act({ op: 'tick', now: Math.max(d, state.sim.now) });
  });
  const net = () => act({ op: 'network', chunk: Number($('#net-chunk').value) || 0, latency: Number($('#net-latency').value) || 0, paused: $('#net-paused').checked });
  for (const id of ['#net-chunk', '#net-latency', '#net-paused']) $(id).addEventListener('change', net);
  $('#release-server').addEventListener('click', () => act({ op: 'release', toward: 'server' }));
  $('#release-client').addEventListener('click', () => act({ op: 'release', toward: 'client' }));
  $('#corrupt').addEventListener('click', () => {
    const xor = parseInt($('#corrupt-xor').value, 16);
    if (!(xor > 0 && xor < 256)) return setStatus('XOR: a hex byte 01..ff', 'error');
    act({ op: 'corrupt', toward: $('#corrupt-toward').value, offset: Number($('#corrupt-offset').value), xor });
  });
  $('#inject-preset').addEventListener('change', (e) => {
    if (!e.target.value) return;
    const [toward, bytes] = e.target.value.split('|');
    $('#inject-hex').value = bytes.replace('PING126', '00'.repeat(126)).replace(/\s+/g, '').replace(/(..)(?=.)/g, '$1 ');
    $('#inject-toward').value = toward;
  });
  $('#inject').addEventListener('click', () => {
    try {
      hexBytes($('#inject-hex').value);
    } catch (e) {
      return setStatus(e.message, 'error');
    }
    act({ op: 'inject', toward: $('#inject-toward').value, hex: $('#inject-hex').value.replace(/\s+/g, '') });
  });
  keyboardNavigation($('#timeline'));
  tabs();
}

function tabs() {
  const tabList = [$('#tab-sim'), $('#tab-live')];
  const show = (tab) => {
    for (const t of tabList) {
      const on = t === tab;
      t.setAttribute('aria-selected', String(on));
      t.tabIndex = on ? 0 : -1;
      $(`#${t.getAttribute('aria-controls')}`).hidden = !on;
    }
    if (tab.id === 'tab-live') startLive();
    history.replaceState(null, '', tab.id === 'tab-live' ? '#live' : '#');
  };
  for (const t of tabList) {
    t.addEventListener('click', () => show(t));
    t.addEventListener('keydown', (e) => {
      if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
      const next = tabList[(tabList.indexOf(t) + 1) % tabList.length];
      next.focus();
      show(next);
    });
  }
  if (location.hash === '#live') show($('#tab-live'));
}

async function main() {
  wire();
  try {
    state.engine = await loadEngine();
  } catch (e) {
    setStatus(`The engine did not load (${e.message}). Run \`make demo\`, which builds pkg/ first.`, 'error');
    return;
  }
  const initial = new URLSearchParams(location.search).get('example') ?? 'echo';
  $('#example').value = initial;
  await loadExample(initial).catch((e) => setStatus(e.message, 'error'));
  document.body.dataset.ready = 'true';
}

main();
