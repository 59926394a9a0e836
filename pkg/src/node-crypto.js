// Node 18 keeps Web Crypto's global behind --experimental-global-webcrypto (Node 19 turned it
// on), and the engine draws mask keys and handshake keys from globalThis.crypto.getRandomValues.
// Where the global is missing, give it node:crypto's webcrypto, the object that flag would set.
import { webcrypto } from 'node:crypto';

if (globalThis.crypto === undefined) {
  Object.defineProperty(globalThis, 'crypto', { value: webcrypto, writable: true, configurable: true, enumerable: false });
}
