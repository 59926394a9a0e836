// Renders timeline rows (a sequence diagram: client lane, the wire, server lane) and the frame
// detail with its hex view. Used by the simulator and by the live view.

import { summarize, flags, opcodeName, hex, utf8Preview } from './frames.js';

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c != null) node.append(c);
  return node;
}

export const rowKey = (row) => (row.type === 'item' ? `${row.toward}:${row.item.start}` : `note:${row.seq}`);

const ms = (t) => `${t} ms`;

function deliveryText(row) {
  if (row.lost) return `lost: ${row.delivered}/${row.size} bytes delivered before the connection closed`;
  if (row.delivered === 0) return `in flight, ${row.size} bytes`;
  if (row.delivered < row.size) return `in flight: ${row.delivered}/${row.size} bytes delivered`;
  const chunks = row.chunks === 1 ? 'in one read' : `in ${row.chunks} reads`;
  return `delivered ${chunks}${row.deliveredAt != null && row.deliveredAt !== row.at ? ` at ${ms(row.deliveredAt)}` : ''}`;
}

function itemLabel(row) {
  const { item } = row;
  if (item.kind === 'frame') {
    const len = item.payloadLength == null ? '' : ` · len ${item.payloadLength}`;
    const key = item.maskKey ? ` · key ${hex(item.maskKey, '')}` : '';
    return `${flags(item)}${key}${len}`;
  }
  if (item.kind === 'http') return `${item.headers.length} header fields${item.complete ? '' : ' (partial)'}`;
  return 'bytes after a refused handshake';
}

/** One timeline row as a list item; `onSelect(row)` when its frame is chosen. */
export function renderRow(row, { selected, onSelect, names = { client: 'client', server: 'server' } }) {
  if (row.type === 'note') {
    return el('li', { class: `note note-${row.kind} at-${row.side}`, 'data-key': rowKey(row) },
      el('span', { class: 't', text: ms(row.at) }), el('span', { class: 'note-text', text: row.text }));
  }
  const { item } = row;
  const classes = ['row', `from-${row.from}`];
  if (row.origin === 'inject') classes.push('injected');
  if (row.delivered < row.size) classes.push('inflight');
  if (row.lost) classes.push('lost');
  if (row.corrupted?.length) classes.push('corrupted');
  if (item.kind === 'frame') classes.push(`op-${opcodeName(item.opcode).toLowerCase().split(' ')[0]}`);
  if (item.kind === 'frame' && item.opcode === 0x8 && item.closeCode != null && item.closeCode !== 1000 && item.closeCode !== 1001) classes.push('close-error');
  const key = rowKey(row);
  const who = row.origin === 'inject' ? 'injected' : names[row.from];
  const title = summarize(item);
  const label = `${who} → ${names[row.toward]}: ${title}. ${itemLabel(row)}. ${deliveryText(row)}`;
  const button = el('button', {
    type: 'button', class: 'frame', 'aria-pressed': selected === key ? 'true' : 'false', 'aria-label': label,
    onclick: () => onSelect(row),
  },
  el('span', { class: 't', text: ms(row.at) }),
  el('span', { class: 'lane lane-left', text: row.from === 'client' ? who : '' }),
  el('span', { class: 'wire' },
    el('span', { class: 'summary', text: title }),
    el('span', { class: 'arrow', 'aria-hidden': 'true' }),
    el('span', { class: 'fields', text: itemLabel(row) }),
    el('span', { class: 'delivery', text: deliveryText(row) + (row.corrupted?.length ? ` · ${row.corrupted.length} byte(s) corrupted` : '') })),
  el('span', { class: 'lane lane-right', text: row.from === 'server' ? who : '' }));
  return el('li', { class: classes.join(' '), 'data-key': key }, button);
}

export function renderTimeline(list, rows, options) {
  const keepScroll = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  const focused = document.activeElement?.closest?.('li')?.dataset?.key;
  list.replaceChildren(...rows.map((row) => renderRow(row, options)));
  if (rows.length === 0) list.append(el('li', { class: 'empty', text: options.empty ?? 'Nothing on the wire yet.' }));
  if (focused) list.querySelector(`li[data-key="${CSS.escape(focused)}"] button`)?.focus({ preventScroll: true });
  if (keepScroll) list.scrollTop = list.scrollHeight;
}

/** Up/down arrows move between frames; Home/End to the ends. */
export function keyboardNavigation(list) {
  list.addEventListener('keydown', (e) => {
    if (!['ArrowDown', 'ArrowUp', 'Home', 'End'].includes(e.key)) return;
    const buttons = [...list.querySelectorAll('button.frame')];
    if (!buttons.length) return;
    const at = buttons.indexOf(document.activeElement);
    let next = at;
    if (e.key === 'ArrowDown') next = Math.min(buttons.length - 1, at + 1);
    if (e.key === 'ArrowUp') next = Math.max(0, at - 1);
    if (e.key === 'Home') next = 0;
    if (e.key === 'End') next = buttons.length - 1;
    e.preventDefault();
    buttons[next].focus();
  });
}

function field(name, value, note) {
  return el('tr', {}, el('th', { scope: 'row', text: name }), el('td', {}, el('code', { text: value }), note ? el('span', { class: 'why', text: ` ${note}` }) : null));
}

/** The decoded fields and the hex view of a row; `onPickByte(offset)` for bytes still in flight. */
export function renderDetail(container, row, { names = { client: 'client', server: 'server' }, onPickByte, linkDelivered } = {}) {
  if (!row || row.type !== 'item') {
    container.replaceChildren(el('p', { class: 'hint', text: 'Select a frame in the timeline to see every field and its bytes.' }));
    return;
  }
  const { item } = row;
  const who = row.origin === 'inject' ? 'injected by hand' : `written by the ${names[row.from]}`;
  const rows = [field('direction', `${names[row.from]} → ${names[row.toward]}`, `(${who} at ${row.at} ms)`)];
  rows.push(field('stream offset', `${item.start}..${item.end}`, `(${row.size} bytes)`));
  rows.push(field('delivery', deliveryText(row)));
  if (item.kind === 'frame') {
    rows.push(field('FIN', item.fin ? '1' : '0', item.fin ? '(last frame of the message)' : '(more frames follow)'));
    rows.push(field('RSV1 RSV2 RSV3', [4, 2, 1].map((b) => (item.rsv & b ? 1 : 0)).join(' '), item.rsv ? '(set: no extension was negotiated)' : ''));
    rows.push(field('opcode', `0x${item.opcode.toString(16)}`, opcodeName(item.opcode)));
    rows.push(field('MASK', item.masked ? '1' : '0', item.maskKey ? `key ${hex(item.maskKey)}` : ''));
    const enc = item.payloadLength == null ? '' : item.headerLen - (item.masked ? 4 : 0) === 2 ? '7-bit length' : item.headerLen - (item.masked ? 4 : 0) === 4 ? '16-bit extended length' : '64-bit extended length';
    rows.push(field('payload length', item.payloadLength == null ? '?' : String(item.payloadLength), enc));
    if (item.opcode === 0x8 && item.complete) {
      rows.push(field('close status', item.closeCode == null ? 'none' : String(item.closeCode), item.closeReason ? `reason ${JSON.stringify(item.closeReason.text)}${item.closeReason.valid ? '' : ' (not UTF-8)'}` : ''));
    }
    if (item.payload.length && item.opcode !== 0x8) {
      const { text, valid } = utf8Preview(item.payload.subarray(0, 256));
      rows.push(field('payload (unmasked)', item.opcode === 0x2 ? hex(item.payload.subarray(0, 64)) + (item.payload.length > 64 ? ' …' : '') : text.slice(0, 200), valid || item.opcode === 0x2 ? '' : '(not valid UTF-8)'));
    }
  } else if (item.kind === 'http') {
    rows.push(field('start line', item.startLine));
  }
  const table = el('table', { class: 'fields-table' }, el('tbody', {}, rows));
  const children = [table];
  if (item.kind === 'http') children.push(el('pre', { class: 'http-text', text: item.text }));
  children.push(hexView(row, onPickByte, linkDelivered));
  container.replaceChildren(...children);
}

function byteClass(item, i) {
  if (item.kind !== 'frame') return 'b-payload';
  if (i < 2) return 'b-head';
  const maskAt = item.maskKey ? item.headerLen - 4 : item.headerLen;
  if (i < maskAt) return 'b-len';
  if (i < item.headerLen) return 'b-key';
  return 'b-payload';
}

function hexView(row, onPickByte, linkDelivered) {
  const { item, bytes } = row;
  const max = 1024;
  const shown = bytes.subarray(0, max);
  const corrupted = new Map((row.corrupted ?? []).map((c) => [c.offset, c]));
  const lines = [];
  for (let at = 0; at < shown.length; at += 16) {
    const cells = [];
    for (let i = at; i < Math.min(at + 16, shown.length); i++) {
      const offset = item.start + i;
      const inflight = i >= row.delivered && !row.lost;
      const c = corrupted.get(offset);
      const cls = [byteClass(item, i), inflight ? 'b-inflight' : '', c ? 'b-corrupt' : ''].join(' ');
      const title = `stream offset ${offset}${c ? `, corrupted: was ${c.original.toString(16).padStart(2, '0')}` : ''}${inflight ? ', not delivered yet' : ''}`;
      if (inflight && onPickByte && linkDelivered !== false) {
        cells.push(el('button', { type: 'button', class: `byte ${cls}`, title, 'aria-label': `${title}: pick to corrupt`, onclick: () => onPickByte(row.toward, offset) }, hex([shown[i]])));
      } else {
        cells.push(el('span', { class: `byte ${cls}`, title }, hex([shown[i]])));
      }
    }
    const ascii = Array.from(shown.subarray(at, at + 16), (b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : '·')).join('');
    lines.push(el('div', { class: 'hex-line' }, el('span', { class: 'off', text: (item.start + at).toString(16).padStart(6, '0') }), el('span', { class: 'cells' }, cells), el('span', { class: 'ascii', text: ascii })));
  }
  if (bytes.length > max) lines.push(el('div', { class: 'hint', text: `… ${bytes.length - max} more bytes` }));
  const legend = item.kind === 'frame'
    ? el('p', { class: 'legend' }, el('span', { class: 'b-head', text: 'header' }), ' ', el('span', { class: 'b-len', text: 'extended length' }), ' ', el('span', { class: 'b-key', text: 'mask key' }), ' ', el('span', { class: 'b-payload', text: 'payload (as on the wire)' }), ' ', el('span', { class: 'b-inflight', text: 'not delivered yet' }), ' ', el('span', { class: 'b-corrupt', text: 'corrupted' }))
    : null;
  return el('div', { class: 'hex', role: 'group', 'aria-label': 'Bytes in hex' }, legend, lines);
}
