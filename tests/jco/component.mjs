// The wsaction component transpiled by jco (`jco transpile ... -o generated`), with helpers
// shared by the jco runners. A component `error` comes back from jco as a thrown ComponentError
// whose `payload` is the error variant ({tag, val}); anything else thrown is a trap.
export { engine } from './generated/wsaction.js';

/** Calls fn; returns {ok: value} or {error: variant}. Rethrows traps (anything but ComponentError). */
export function attempt(fn) {
  try {
    return { ok: fn() };
  } catch (e) {
    if (e && e.constructor && e.constructor.name === 'ComponentError' && e.payload && typeof e.payload.tag === 'string') {
      return { error: e.payload };
    }
    throw e;
  }
}

/** The engine's stable code (INVALID_STATE, ...) for a WIT error case (invalid-state). */
export const errorCode = (error) => error.tag.toUpperCase().replace(/-/g, '_');

/** The close code an error carries, if any. */
export function errorCloseCode(error) {
  if (error.tag === 'protocol-violation') return error.val.closeCode;
  if (error.tag === 'timeout') return error.val.closeCode;
  return undefined;
}

/** websocket.h names <-> WIT enum cases. */
export const typeName = (t) => t.toUpperCase().replace(/-/g, '_');
export const typeCase = (name) => name.toLowerCase().replace(/_/g, '-');
