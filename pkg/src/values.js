// The values an entry point reads from the engine once the wasm module is initialised.
import { constantsJson, wsActionErrorClass } from '../dist/wsaction.js';

let constants = null;

/** The engine's websocket.h numbers, frozen (read once, after the wasm module is initialised). */
export function engineConstants() {
  return (constants ??= deepFreeze(JSON.parse(constantsJson())));
}

/** The frozen constants object and the WsActionError class. */
export function engineApi() {
  return { constants: engineConstants(), WsActionError: wsActionErrorClass() };
}

function deepFreeze(object) {
  for (const value of Object.values(object)) if (typeof value === 'object' && value !== null) deepFreeze(value);
  return Object.freeze(object);
}

