// Loads the browser build of the JS class (pkg/browser.js over pkg/dist, built by `make pkg`).
// The page is served from the repository root, so pkg/ sits beside www/.
let loaded = null;

/**
 * The class's module (WebSocketHandle and the HTTP head helpers), once its wasm is instantiated,
 * with the deflate build loaded too: the simulator's handles may turn permessage-deflate on.
 */
export function loadEngine() {
  loaded ??= import('../pkg/browser.js').then(async (engine) => {
    await engine.loadPerMessageDeflate();
    return engine;
  });
  return loaded;
}
