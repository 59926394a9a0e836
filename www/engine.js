// Loads the web build of the JS class (pkg/, built by `make pkg`). The page is served from the
// repository root, so the build sits at ../pkg/dist/ beside www/.
import init, * as wsaction from '../pkg/dist/wsaction.js';

let loaded = null;

/** The class's module namespace, once its wasm is instantiated. */
export function loadEngine() {
  loaded ??= init().then(() => wsaction);
  return loaded;
}
