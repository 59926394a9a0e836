// Runs every tests/scenarios/*.json through the JS class on Deno and writes
// tests/artifacts/scenario-results/deno.json for the host x scenario matrix.
import { WebSocketHandle, constants } from '../../pkg/deno.js';
// @ts-types="./scenario-runner.d.ts"
import { runAll } from './scenario-runner.mjs';

const root = new URL('../../', import.meta.url);

Deno.test('every scenario passes on Deno at every split', async () => {
  const dir = new URL('tests/scenarios/', root);
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) if (entry.name.endsWith('.json')) names.push(entry.name);
  names.sort();
  const scenarios = await Promise.all(names.map(async (n) => JSON.parse(await Deno.readTextFile(new URL(n, dir)))));
  if (scenarios.length < 6) throw new Error('the scenario suite is missing');
  const results = runAll({ WebSocketHandle, constants }, scenarios);
  const out = new URL('tests/artifacts/scenario-results/', root);
  await Deno.mkdir(out, { recursive: true });
  await Deno.writeTextFile(new URL('deno.json', out), JSON.stringify({ host: 'deno', results }, null, 2));
  const failures = Object.entries(results).filter(([, outcome]) => outcome !== 'pass');
  if (failures.length) throw new Error(`scenario failures:\n${failures.map(([n, o]) => `${n}: ${o}`).join('\n')}`);
});
