// Live mode: the browser's own WebSocket talks to the wsaction echo server of `make demo`; the
// demo server streams what that server's handle does (bytes on its socket, its handshake and
// actions) over Server-Sent Events at /demo/events, and this view decodes and shows them.

import { Link, linkRows } from './sim.js';
import { el, renderTimeline, renderDetail, rowKey, keyboardNavigation } from './timeline.js';
import { hexBytes } from './sim.js';

const $ = (sel) => document.querySelector(sel);
const NAMES = { client: 'browser', server: 'wsaction' };
const live = {
  started: false, socket: null, events: null, conn: null, waitingForConn: false,
  links: null, actions: [], seq: 0, selected: null, t0: 0,
};

function now() {
  return Math.round(performance.now() - live.t0);
}

function browserLog(text, kind = 'info') {
  $('#live-browser').append(el('li', { class: `log-${kind}` }, el('span', { class: 't', text: `${now()}` }), ' ', text));
}

function setSocketState(text) {
  const badge = $('#live-state');
  badge.textContent = text;
  badge.dataset.state = text === 'open' ? 'open' : text === 'closed' ? 'closed' : '';
  const open = text === 'open';
  for (const id of ['#live-send-text', '#live-send-binary', '#live-close']) $(id).disabled = !open;
  $('#live-connect').disabled = open || text === 'connecting';
}

function resetConnectionView() {
  live.links = { server: new Link('server'), client: new Link('client') };
  live.actions = [];
  live.selected = null;
  $('#live-actions').replaceChildren();
  render();
}

function render() {
  if (!live.links) return;
  const rows = [...linkRows(live.links.server, 'client', 'server'), ...linkRows(live.links.client, 'server', 'client')]
    .sort((a, b) => a.seq - b.seq);
  renderTimeline($('#live-timeline'), rows, {
    selected: live.selected, names: NAMES, empty: 'Connect to see the handshake and frames.',
    onSelect: (row) => {
      live.selected = rowKey(row);
      render();
    },
  });
  const detail = $('#live-detail');
  if (detail) renderDetail(detail, rows.find((r) => rowKey(r) === live.selected), { names: NAMES });
}

function onServerEvent(message) {
  const event = JSON.parse(message.data);
  if (event.type === 'open') {
    if (!live.waitingForConn) return;
    live.waitingForConn = false;
    live.conn = event.conn;
    resetConnectionView();
  }
  if (event.conn !== live.conn) return;
  const seq = ++live.seq;
  switch (event.type) {
    case 'bytes': {
      const bytes = hexBytes(event.hex);
      // Both ends are real sockets: a byte the server read was delivered, a byte it wrote is
      // delivered when the browser reads it, which the page cannot see; show it as sent.
      const link = event.dir === 'in' ? live.links.server : live.links.client;
      link.write(bytes, event.dir === 'in' ? 'client' : 'server', event.at, event.at, seq);
      link.take(bytes.length, event.at, seq);
      break;
    }
    case 'action':
    case 'open':
    case 'closed':
      live.actions.push(event);
      $('#live-actions').append(el('li', { class: `log-${event.kind ?? 'info'}` }, el('span', { class: 't', text: `${event.at}` }), ' ', event.text));
      break;
    default:
      break;
  }
  render();
}

function connect() {
  const url = $('#live-url').value.trim();
  live.waitingForConn = true;
  live.t0 = performance.now();
  $('#live-browser').replaceChildren();
  resetConnectionView();
  let socket;
  try {
    socket = new WebSocket(url, ['chat']);
  } catch (e) {
    browserLog(`new WebSocket failed: ${e.message}`, 'error');
    return;
  }
  socket.binaryType = 'arraybuffer';
  live.socket = socket;
  setSocketState('connecting');
  browserLog(`new WebSocket(${JSON.stringify(url)}, ["chat"])`, 'app');
  socket.addEventListener('open', () => {
    setSocketState('open');
    browserLog(`open (protocol ${JSON.stringify(socket.protocol)})`, 'complete');
  });
  socket.addEventListener('message', (e) => {
    const what = typeof e.data === 'string' ? `text ${JSON.stringify(e.data)}` : `binary ${e.data.byteLength} bytes`;
    browserLog(`message: ${what}`, 'action');
  });
  socket.addEventListener('error', () => browserLog('error', 'error'));
  socket.addEventListener('close', (e) => {
    setSocketState('closed');
    browserLog(`close: code ${e.code}${e.reason ? ` reason ${JSON.stringify(e.reason)}` : ''}, wasClean ${e.wasClean}`, 'complete');
  });
}

export async function startLive() {
  if (live.started) return;
  live.started = true;
  setSocketState('not connected');
  $('#live-connect').disabled = true; // until the side channel is open
  $('#live-connect').addEventListener('click', connect);
  $('#live-send-text').addEventListener('click', () => {
    live.socket.send($('#live-text').value);
    browserLog(`send text ${JSON.stringify($('#live-text').value)}`, 'app');
  });
  $('#live-send-binary').addEventListener('click', () => {
    const bytes = new TextEncoder().encode($('#live-text').value);
    live.socket.send(bytes);
    browserLog(`send binary ${bytes.length} bytes`, 'app');
  });
  $('#live-close').addEventListener('click', () => {
    const code = Number($('#live-code').value);
    try {
      live.socket.close(code, $('#live-reason').value);
      browserLog(`close(${code}, ${JSON.stringify($('#live-reason').value)})`, 'app');
    } catch (e) {
      browserLog(`close refused: ${e.message}`, 'error');
    }
  });
  keyboardNavigation($('#live-timeline'));
  const detailPanel = el('section', { class: 'panel live-detail', 'aria-label': 'Selected frame' }, el('h2', { text: 'Frame' }), el('div', { id: 'live-detail' }));
  $('#live-timeline').closest('.live-grid').append(detailPanel);
  resetConnectionView();
  try {
    const config = await (await fetch('/demo/config.json')).json();
    $('#live-url').value = config.echoUrl;
    live.events = new EventSource(config.events ?? '/demo/events');
    live.events.onmessage = onServerEvent;
    live.events.onopen = () => {
      document.body.dataset.live = 'ready';
      if (!live.socket || live.socket.readyState === WebSocket.CLOSED) $('#live-connect').disabled = false;
    };
    live.events.onerror = () => browserLog('side channel: reconnecting…', 'host');
  } catch (e) {
    $('#live-url').value = 'ws://127.0.0.1:8081/';
    browserLog('No demo server here: start `make demo` for live mode.', 'error');
    $('#live-connect').disabled = true;
  }
}
