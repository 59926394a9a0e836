// Builds the host x scenario pass matrix from the result files the runners write
// (tests/artifacts/scenario-results/<host>.json) into tests/artifacts/scenario-matrix.md.
// `node tests/scenarios/matrix.mjs --readme` also copies it into README.md between the markers.
import { readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const resultsDir = join(root, 'tests/artifacts/scenario-results');
const hostOrder = ['native', 'node', 'deno', 'wasmtime', 'jco'];

const scenarios = readdirSync(join(root, 'tests/scenarios'))
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(join(root, 'tests/scenarios', f), 'utf8')).name)
  .sort();
const results = existsSync(resultsDir)
  ? readdirSync(resultsDir).filter((f) => f.endsWith('.json'))
      .map((f) => JSON.parse(readFileSync(join(resultsDir, f), 'utf8')))
  : [];
results.sort((a, b) => {
  const ia = hostOrder.indexOf(a.host), ib = hostOrder.indexOf(b.host);
  return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.host.localeCompare(b.host);
});

const lines = [];
lines.push(`| scenario | ${results.map((r) => r.host).join(' | ')} |`);
lines.push(`| --- | ${results.map(() => '---').join(' | ')} |`);
let failed = 0;
for (const name of scenarios) {
  const cells = results.map((r) => {
    const outcome = r.results[name];
    if (outcome === undefined) { failed++; return 'not run'; }
    if (outcome === 'pass') return 'pass';
    failed++;
    return 'FAIL';
  });
  lines.push(`| ${name} | ${cells.join(' | ')} |`);
}
const table = lines.join('\n') + '\n';
writeFileSync(join(root, 'tests/artifacts/scenario-matrix.md'), table);
process.stdout.write(table);

if (process.argv.includes('--readme')) {
  const readmePath = join(root, 'README.md');
  const readme = readFileSync(readmePath, 'utf8');
  const begin = '<!-- scenario-matrix:begin -->', end = '<!-- scenario-matrix:end -->';
  const at = readme.indexOf(begin), until = readme.indexOf(end);
  if (at < 0 || until < 0) throw new Error('README.md lacks the scenario-matrix markers');
  writeFileSync(readmePath, readme.slice(0, at + begin.length) + '\n' + table + readme.slice(until));
}
// `--require a,b,c`: hosts whose results must be present (a runner that silently wrote nothing
// would otherwise just drop out of the table).
const requireAt = process.argv.indexOf('--require');
if (requireAt >= 0) {
  for (const host of process.argv[requireAt + 1].split(',')) {
    if (!results.some((r) => r.host === host)) {
      console.error(`no scenario results from host ${host}`);
      failed++;
    }
  }
}
if (failed > 0) {
  console.error(`${failed} scenario run(s) failed or did not run`);
  process.exit(1);
}
