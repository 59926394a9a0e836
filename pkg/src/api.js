// The engine's JS surface, shared by every entry point (node.js, deno.js, browser.js). Each entry
// initialises the wasm module first and then calls `engineApi()`.

import {
  WebSocketHandle,
  acceptKey,
  checkRequestLine,
  globalProperty,
  offeredExtensions,
  offeredSubprotocols,
  parseRequestHead,
  parseResponseHead,
  reasonPhrase,
  serializeRequestHead,
  serializeResponseHead,
} from '../dist/wsaction.js';
// drain, sendAndDrain and sendMany: the handle's fast paths, added to the class.
import './fast.js';
// The deflate build, which makes the handles that ask for permessage-deflate.
import { loadPerMessageDeflate } from './builds.js';

export {
  WebSocketHandle,
  acceptKey,
  checkRequestLine,
  globalProperty,
  loadPerMessageDeflate,
  offeredExtensions,
  offeredSubprotocols,
  parseRequestHead,
  parseResponseHead,
  reasonPhrase,
  serializeRequestHead,
  serializeResponseHead,
};
