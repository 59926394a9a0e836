// The library cases of libraries.mjs on the four pairings of harness.mjs: ws's classes,
// wsaction's, and the two mixed ones. COMPAT_SIDES=ws (or a comma list of labels) runs a subset.
import { describe, test } from 'node:test';
import * as wsModule from 'ws';
import { libraryCases } from './libraries.mjs';
import { pairings, requireClasses, wsApi } from './harness.mjs';

const wsaction = wsApi('wsaction', await import('../../pkg/node.js'));
const selected = process.env.COMPAT_SIDES?.split(',');

for (const pairing of pairings(wsApi('ws', wsModule), wsaction)) {
  if (selected && !selected.includes(pairing.label)) continue;
  describe(`[${pairing.label}]`, () => {
    for (const { name, run } of libraryCases) {
      test(name, { timeout: 10_000 }, async () => {
        requireClasses(pairing);
        await run(pairing);
      });
    }
  });
}
