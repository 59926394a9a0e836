// The engine instances of this process. One wasm32 instance has one memory of at most 4 GiB that
// never shrinks, and a trap inside it (an allocation it could not make, a bug) leaves its
// re-entry guard and its objects' borrow flags set: every later call on it fails. So the
// connection flow takes its handles from a small pool of instances of the same compiled module:
//
//  - a new handle goes to the first healthy instance whose estimated use stays below the spread
//    threshold (DEFAULT_INSTANCE_SPREAD_BYTES, setInstanceSpreadBytes); when none has room, to a
//    fresh one (so 4 GiB is not the process's ceiling); when none can be made (MAX_INSTANCES),
//    the caller refuses (503, or a typed error);
//  - a trap in a call on one of its handles poisons the instance: every connection on it is
//    failed (pkg/src/connection.js: 1011 where the socket allows, 'error' then 'close'), it takes
//    no new handle, and new connections go to another instance.
//
// Each instance is its own copy of the wasm-bindgen glue module (dist/wsaction.js is generated
// with --target web and keeps module-level state), imported again under a distinct URL and
// initialised with the same WebAssembly.Module. Imports are asynchronous and upgrades are not, so
// one spare instance is made ahead: when an instance is half full, and after a poisoning.
// The first instance is the statically imported glue: the engine class the entry points export
// (WebSocketHandle) is its class, for direct users.
//
// Instances are of one of the package's two engine builds (pkg/src/builds.js): the default one
// without permessage-deflate, and the deflate build, whose first instance is made on the first
// handle that asks for permessage-deflate. Each build has its own instances and spare.

import * as firstGlue from '../dist/wsaction.js';
import { installFastPaths, instanceUsage, rememberErrorClass } from './fast.js';
import { DEFLATE_GLUE_URL, deflateBuild, deflateWasmModule } from './builds.js';

/** By default a new handle goes to another instance once its own would take this one's use past this. */
export const DEFAULT_INSTANCE_SPREAD_BYTES = 2 * 1024 * 1024 * 1024;
let spreadBytes = DEFAULT_INSTANCE_SPREAD_BYTES;

/**
 * Sets how full (estimated bytes in use) an instance gets before new handles go to another
 * (at most wasm32's 4 GiB; a test sets it there to fill one instance to its ceiling).
 */
export function setInstanceSpreadBytes(bytes) {
  spreadBytes = Math.min(bytes, 4 * 1024 * 1024 * 1024);
}
/** At most this many instances (each may reserve up to 4 GiB of address space). */
export const MAX_INSTANCES = 16;

const GLUE_URL = new URL('../dist/wsaction.js', import.meta.url).href;

class EngineInstance {
  constructor(glue, id, deflate = false) {
    this.glue = glue;
    this.id = id;
    /** Of the deflate build (handles with permessage-deflate), or of the default one. */
    this.deflate = deflate;
    this.failure = null;
    /** The connections (EngineConnection) whose handles live in this instance. */
    this.connections = new Set();
  }

  get WebSocketHandle() {
    return this.glue.WebSocketHandle;
  }

  usage() {
    return instanceUsage(this.glue);
  }

  /** Marks the instance unusable after `err` (a trap) and fails every connection on it. */
  poison(err) {
    if (this.failure) return;
    this.failure = err;
    const index = instances.indexOf(this);
    if (index >= 0) instances.splice(index, 1);
    poisonedCount++;
    for (const connection of [...this.connections]) connection._instanceFailed(err);
    this.connections.clear();
    prepareSpare(this.deflate);
  }
}

let wasmModule = null;
let nextId = 1;
const instances = [new EngineInstance(firstGlue, 0)];
let poisonedCount = 0;
/** Per build (index 0 the default, 1 the deflate build): the instance made ahead, and whether one is being made. */
const spares = [null, null];
const preparing = [false, false];
let deflateStarted = false;

/**
 * Gives the pool the compiled module the entry point initialised the first instance with;
 * without it (the browser entry) the pool is the first instance alone.
 */
export function initEnginePool(module) {
  wasmModule = module;
  rememberErrorClass();
}

function prepareSpare(deflate = false) {
  const build = +deflate;
  const module = deflate ? deflateWasmModule() : wasmModule;
  if (spares[build] || preparing[build] || !module || instances.length + 1 > MAX_INSTANCES) return;
  preparing[build] = true;
  const id = nextId++;
  import(`${deflate ? DEFLATE_GLUE_URL : GLUE_URL}?instance=${id}`)
    .then((glue) => {
      glue.initSync({ module });
      installFastPaths(glue, deflate ? 'deflate' : 'small');
      spares[build] = new EngineInstance(glue, id, deflate);
    })
    .catch((err) => console.error(`wsaction: could not make another engine instance: ${err?.message ?? err}`))
    .finally(() => (preparing[build] = false));
}

/**
 * The instance a new handle of `footprint` bytes (fast.js's handleFootprint) goes to, or null
 * when no instance has room and no fresh one is ready. `deflate`: the handle asks for
 * permessage-deflate, so it goes to the deflate build (loaded now for the first such handle;
 * where it cannot be, builds.js's UNSUPPORTED_PROPERTY error is thrown).
 */
export function acquireInstance(footprint, deflate = false) {
  if (deflate && !deflateStarted) startDeflateInstance();
  const build = +deflate;
  const ofBuild = instances.filter((instance) => instance.deflate === deflate);
  for (const instance of ofBuild) {
    const { used } = instance.usage();
    if (used + footprint <= spreadBytes) {
      if (used + footprint > spreadBytes / 2) prepareSpare(deflate);
      return instance;
    }
  }
  if (spares[build]) {
    const fresh = spares[build];
    spares[build] = null;
    instances.push(fresh);
    prepareSpare(deflate);
    return fresh;
  }
  prepareSpare(deflate);
  // No fresh instance (yet): the least used healthy one, whose own headroom check (fast.js)
  // refuses the handle if it does not fit below wasm32's ceiling.
  let best = null;
  for (const instance of ofBuild) if (!best || instance.usage().used < best.usage().used) best = instance;
  return best;
}

/** The deflate build's first instance joins the pool (its glue loaded now if it is not yet). */
function startDeflateInstance() {
  const instance = new EngineInstance(deflateBuild(), nextId++, true);
  instances.push(instance);
  deflateStarted = true;
  return instance;
}

/** A healthy instance's glue, for the engine's stateless functions (head parsing, checks). */
export function engine() {
  return (instances[0] ?? spares[0] ?? spares[1])?.glue ?? firstGlue;
}

/** The healthy instance `handle` lives in (by its class), or null (a poisoned or unknown one). */
export function instanceOf(handle) {
  for (const instance of instances) if (handle instanceof instance.glue.WebSocketHandle) return instance;
  // A handle the deflate build made before the pool asked it for one (WebSocketHandle.create*
  // routes there): its instance joins the pool now, so a trap in it fails its connections too.
  if (!deflateStarted && deflateWasmModule() !== null && handle instanceof deflateBuild().WebSocketHandle) {
    return startDeflateInstance();
  }
  return null;
}

/** The pool's instances and their use, for figures and tests. */
export function poolStats() {
  return {
    instances: instances.map((i) => ({ id: i.id, deflate: i.deflate, connections: i.connections.size, ...i.usage() })),
    poisoned: poisonedCount,
    spareReady: spares[0] !== null,
    deflateSpareReady: spares[1] !== null,
  };
}
