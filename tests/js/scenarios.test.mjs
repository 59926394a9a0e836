// Runs every tests/scenarios/*.json through the JS class on Node and writes
// tests/artifacts/scenario-results/node.json for the host x scenario matrix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, mkdirSync, writeFileSync } from 'node:fs';
import { WebSocketHandle, constants } from '../../pkg/node.js';
import { runAll } from './scenario-runner.mjs';

const root = new URL('../../', import.meta.url);

test('every scenario passes on Node at every split', () => {
  const dir = new URL('tests/scenarios/', root);
  const scenarios = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(new URL(f, dir), 'utf8')));
  assert.ok(scenarios.length >= 6, 'the scenario suite is missing');
  const results = runAll({ WebSocketHandle, constants }, scenarios);
  const out = new URL('tests/artifacts/scenario-results/', root);
  mkdirSync(out, { recursive: true });
  writeFileSync(new URL('node.json', out), JSON.stringify({ host: 'node', results }, null, 2));
  const failures = Object.entries(results).filter(([, outcome]) => outcome !== 'pass');
  assert.deepEqual(failures, []);
});
