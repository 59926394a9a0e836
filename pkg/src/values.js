// The values an entry point reads from the engine once the wasm module is initialised.
import { constants as engineConstants, wsActionErrorClass } from '../dist/wsaction.js';

/** The frozen constants object and the WsActionError class. */
export function engineApi() {
  return { constants: deepFreeze(engineConstants()), WsActionError: wsActionErrorClass() };
}

function deepFreeze(object) {
  for (const value of Object.values(object)) if (typeof value === 'object' && value !== null) deepFreeze(value);
  return Object.freeze(object);
}

