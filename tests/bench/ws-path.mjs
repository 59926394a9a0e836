// Which code path the ws under test takes: its mask/unmask (Node's http.websocketMask, the native
// bufferutil addon, or ws's JavaScript loop) and its UTF-8 check (buffer.isUtf8, utf-8-validate or
// JavaScript). Imported for its side effect of loading ws; `describeWs()` says what was loaded.
import { createRequire } from 'node:module';
import http from 'node:http';
import { isUtf8 } from 'node:buffer';
import 'ws';

const require = createRequire(import.meta.url);

function loaded(name) {
  return Object.keys(require.cache).some((path) => path.includes(`/node_modules/${name}/`));
}

export function describeWs() {
  const version = require('ws/package.json').version;
  let mask;
  if (http.websocketMask) mask = "Node's http.websocketMask";
  else if (process.env.WS_NO_BUFFER_UTIL) mask = 'JavaScript (WS_NO_BUFFER_UTIL is set)';
  else if (loaded('bufferutil')) {
    const native = require('bufferutil').mask.toString().includes('[native code]');
    mask = `bufferutil ${require('bufferutil/package.json').version} (${native ? 'native addon' : 'its JavaScript fallback: no prebuilt addon loaded'})`;
  } else mask = 'JavaScript (bufferutil not installed)';
  const utf8 = isUtf8 ? "Node's buffer.isUtf8" : loaded('utf-8-validate') ? 'utf-8-validate' : 'JavaScript';
  return { version, mask, utf8, bufferutil: mask.startsWith('bufferutil') && mask.includes('native addon') };
}


