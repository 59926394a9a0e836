// The package ships the engine twice (`make pkg`), from one wasm-bindgen glue:
//
//  - dist/wsaction_bg.wasm, the default: the engine without permessage-deflate (cargo feature
//    `permessage-deflate` off), the smaller download. Every handle that does not ask for
//    permessage-deflate lives here;
//  - dist/wsaction_deflate_bg.wasm: the same engine with zlib-rs inside. It is loaded the first
//    time a handle asks for permessage-deflate (`perMessageDeflate: true` among its properties),
//    and that handle is made by it.
//
// The two builds export the same functions, so wasm-bindgen writes the same glue for both (make
// pkg checks it); dist/wsaction_deflate.js is that glue under a second URL, so that it is a second
// module instance holding the deflate build's wasm instance. On Node and Deno the entry point
// gives a loader that compiles the deflate build synchronously on first use; in browsers,
// `loadPerMessageDeflate()` fetches and compiles it (asynchronously: browsers do not compile large
// modules synchronously), after which handles asking for permessage-deflate can be made.

import * as deflateGlue from '../dist/wsaction_deflate.js';
import { installFastPaths, routeDeflateHandles, unsupportedPropertyError } from './fast.js';

/** The deflate build's file, beside the default one. */
export const DEFLATE_WASM_URL = new URL('../dist/wsaction_deflate_bg.wasm', import.meta.url);
/** The glue module the deflate build's instances are made with (again under `?instance=` for more). */
export const DEFLATE_GLUE_URL = new URL('../dist/wsaction_deflate.js', import.meta.url).href;

let compileSync = null;
let deflateModule = null;
let loading = null;

/**
 * The entry point's synchronous loader of the deflate build (Node: readFileSync; Deno:
 * Deno.readFileSync): `() => WebAssembly.Module`, called once, on first use.
 */
export function setDeflateLoader(load) {
  compileSync = load;
}

/** The compiled deflate build once loaded, or null (for more instances of it, pkg/src/pool.js). */
export function deflateWasmModule() {
  return deflateModule;
}

/**
 * The deflate build's glue (its WebSocketHandle makes handles that negotiate permessage-deflate),
 * loaded now if a synchronous loader was given. Throws UNSUPPORTED_PROPERTY when it is not loaded
 * and cannot be here (a browser before `loadPerMessageDeflate()` resolved).
 */
export function deflateBuild() {
  if (deflateModule === null) {
    if (compileSync === null) {
      throw unsupportedPropertyError(
        'perMessageDeflate needs the deflate build of the engine, which is not loaded: await loadPerMessageDeflate() first',
      );
    }
    const module = compileSync();
    deflateGlue.initSync({ module });
    ready(module);
  }
  return deflateGlue;
}

/**
 * Loads the deflate build (once; later calls return the same promise). `source`: where the wasm
 * is (default: dist/wsaction_deflate_bg.wasm beside this package), a URL, a Response, bytes or a
 * compiled WebAssembly.Module. Needed in browsers before making a handle with perMessageDeflate;
 * on Node and Deno it happens on its own.
 */
export function loadPerMessageDeflate(source = DEFLATE_WASM_URL) {
  if (deflateModule !== null) return Promise.resolve();
  if (compileSync !== null && source === DEFLATE_WASM_URL) {
    deflateBuild();
    return Promise.resolve();
  }
  loading ??= (async () => {
    const module = source instanceof WebAssembly.Module ? source : await compile(source);
    // wasm-bindgen's asynchronous init: browsers refuse to instantiate large modules synchronously.
    await deflateGlue.default({ module_or_path: module });
    ready(module);
  })().finally(() => (loading = null));
  return loading;
}

async function compile(source) {
  if (source instanceof URL || typeof source === 'string') source = fetch(source);
  source = await source;
  if (typeof source?.arrayBuffer === 'function') {
    if (!source.ok) throw new Error(`wsaction: the deflate build could not be fetched (HTTP ${source.status} ${source.url})`);
    return WebAssembly.compile(await source.arrayBuffer());
  }
  return WebAssembly.compile(source);
}

function ready(module) {
  deflateModule = module;
  installFastPaths(deflateGlue, 'deflate');
}

// Handles asking for permessage-deflate through the default build's class are made by this one.
routeDeflateHandles(deflateBuild);
