// ws's README patterns (ws-readme.mjs), run with the same assertions on ws and on wsaction, and
// on the two mixed pairings that tell a client-side failure from a server-side one.
// COMPAT_SIDES=ws (or wsaction, or a comma list of pairing labels) runs a subset.
import { describe, test } from 'node:test';
import * as wsModule from 'ws';
import { cases, knownGap } from './ws-readme.mjs';
import { pairings, requireClasses, wsApi } from './harness.mjs';

const wsaction = wsApi('wsaction', await import('../../pkg/node.js'));
const selected = process.env.COMPAT_SIDES?.split(',');

for (const pairing of pairings(wsApi('ws', wsModule), wsaction)) {
  if (selected && !selected.includes(pairing.label)) continue;
  describe(`[${pairing.label}]`, () => {
    for (const testCase of cases) {
      const { name, run } = testCase;
      test(name, { timeout: 10_000, todo: knownGap(testCase, pairing) }, async () => {
        requireClasses(pairing);
        await run(pairing);
      });
    }
  });
}
