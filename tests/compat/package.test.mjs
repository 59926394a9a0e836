// The package a user installs: `npm pack` (its prepack builds the wasm, or fails loudly without
// the repository), the tarball's contents, an install into a scratch project (offline: the
// package has no dependencies) that runs a script against a ws server on this Node and on the
// oldest Node that `engines` claims, and `tsc --strict --noEmit` of consumer files under
// moduleResolution nodenext and bundler with skipLibCheck false, on TypeScript 7 and 5.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const here = fileURLToPath(new URL('.', import.meta.url));
const repo = join(here, '..', '..');
const pkg = join(repo, 'pkg');
const node18 = join(here, 'node18', 'node_modules', '.bin', 'node');
const compilers = {
  'TypeScript 7': join(here, 'node_modules', '.bin', 'tsc'),
  'TypeScript 5': join(here, 'node_modules', 'typescript-5', 'bin', 'tsc'),
};
const npmEnv = { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };

/** Runs a command; on failure the error carries its stdout and stderr in the message. */
async function sh(file, args, options) {
  try {
    return await run(file, args, { maxBuffer: 16 << 20, timeout: 120_000, env: npmEnv, ...options });
  } catch (err) {
    err.message += `\n--- stdout\n${err.stdout}\n--- stderr\n${err.stderr}`;
    throw err;
  }
}

let scratch;
let packed;
let packOutput;

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'wsaction-pack-'));
  const { stdout, stderr } = await sh('npm', ['pack', '--json', '--pack-destination', scratch], { cwd: pkg });
  packOutput = stderr + stdout;
  // prepack's own output (make's) comes first on stdout; npm's JSON array starts a line.
  [packed] = JSON.parse(stdout.slice(stdout.search(/^\[\s*\{/m)));
});

after(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('npm pack', () => {
  test('prepack builds the wasm before packing', () => {
    assert.match(packOutput, /pkg\/dist\/wsaction_bg\.wasm: \d+ bytes/, 'the prepack script ran `make pkg`');
  });

  test('the tarball holds the entries, the types, the wasm and both licenses', async () => {
    const files = new Set(packed.files.map((f) => f.path));
    for (const name of [
      'package.json',
      'node.js',
      'deno.js',
      'browser.js',
      'src/node-crypto.js',
      'dist/wsaction.js',
      'dist/wsaction_bg.wasm',
      'dist/wsaction_deflate.js',
      'dist/wsaction_deflate_bg.wasm',
      'src/builds.js',
      'types/index.d.ts',
      'types/node.d.ts',
      'types/deno.d.ts',
      'types/browser.d.ts',
      'types/core.d.ts',
      'types/websocket-stream.d.ts',
      'LICENSE-MIT',
      'LICENSE-APACHE',
      'README.md',
    ]) {
      assert.ok(files.has(name), `the tarball has ${name}`);
    }
    for (const license of ['LICENSE-MIT', 'LICENSE-APACHE']) {
      assert.equal(await readFile(join(pkg, license), 'utf8'), await readFile(join(repo, license), 'utf8'), `pkg/${license} is the root's`);
    }
  });

  test('the .d.ts files import ./x.js specifiers (TS2846 without skipLibCheck), each with a stub Deno resolves', async () => {
    const names = await readdir(join(pkg, 'types'));
    for (const name of names.filter((n) => n.endsWith('.d.ts'))) {
      const source = await readFile(join(pkg, 'types', name), 'utf8');
      assert.doesNotMatch(source, /from\s+['"][^'"]+\.d\.ts['"]|import\(['"][^'"]+\.d\.ts['"]\)/, `types/${name}`);
      // TypeScript maps ./x.js to ./x.d.ts; Deno needs the file ./x.js, which names its types.
      for (const [, target] of source.matchAll(/from\s+['"]\.\/([\w-]+)\.js['"]/g)) {
        assert.ok(names.includes(`${target}.js`), `types/${target}.js exists for types/${name}`);
        assert.match(await readFile(join(pkg, 'types', `${target}.js`), 'utf8'), new RegExp(`@ts-self-types="\\./${target}\\.d\\.ts"`));
      }
    }
  });

  test('types/node.d.ts declares every value pkg/node.js exports, and nothing it lacks', async () => {
    const declared = new Set(['default']);
    for (const file of ['node.d.ts', 'core.d.ts', 'websocket-stream.d.ts']) {
      const source = await readFile(join(pkg, 'types', file), 'utf8');
      for (const [, name] of source.matchAll(/^export declare (?:class|function|const) (\w+)/gm)) declared.add(name);
    }
    const exported = new Set(Object.keys(await import(pathToFileURL(join(pkg, 'node.js')).href)));
    assert.deepEqual([...exported].filter((n) => !declared.has(n)).sort(), [], 'exported at run time but not declared');
    assert.deepEqual([...declared].filter((n) => !exported.has(n)).sort(), [], 'declared but not exported at run time');
  });

  test('without the repository around it, prepack fails and nothing is packed', async () => {
    const lonely = join(scratch, 'lonely', 'pkg');
    await mkdir(lonely, { recursive: true });
    for (const entry of await readdir(pkg)) {
      if (entry !== 'dist' && entry !== 'node_modules') await cp(join(pkg, entry), join(lonely, entry), { recursive: true });
    }
    await assert.rejects(sh('npm', ['pack', '--pack-destination', lonely], { cwd: lonely }), /make/);
    assert.deepEqual((await readdir(lonely)).filter((f) => f.endsWith('.tgz')), []);
  });
});

describe('the installed tarball', () => {
  let project;
  before(async () => {
    project = join(scratch, 'project');
    await mkdir(project);
    await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module' }));
    await sh('npm', ['install', '--offline', join(scratch, packed.filename)], { cwd: project });
    await cp(join(here, 'consumer'), project, { recursive: true });
    // The type checks need @types/node (and @types/ws for the ws side) from the test lock file.
    await mkdir(join(project, 'node_modules', '@types'), { recursive: true });
    for (const types of ['node', 'ws']) await symlink(join(here, 'node_modules', '@types', types), join(project, 'node_modules', '@types', types));
    await symlink(join(here, 'node_modules', 'undici-types'), join(project, 'node_modules', 'undici-types'));
    await symlink(join(here, 'node_modules', 'ws'), join(project, 'node_modules', 'ws'));
  });

  const wsModule = pathToFileURL(join(here, 'node_modules', 'ws', 'wrapper.mjs')).href;
  for (const [label, nodeBinary] of [
    [`this Node (${process.versions.node})`, process.execPath],
    ['Node 18.0.0, the oldest `engines` claims, with no flags', node18],
  ]) {
    test(`a script imports 'wsaction' and talks to a ws server on ${label}`, async () => {
      const { stdout: version } = await sh(nodeBinary, ['--version']);
      if (nodeBinary === node18) assert.equal(version.trim(), 'v18.0.0');
      const { stdout } = await sh(nodeBinary, ['run.mjs'], { cwd: project, env: { ...npmEnv, WS_MODULE: wsModule, NODE_OPTIONS: '' } });
      assert.match(stdout, /connect\(\): ok/);
      assert.match(stdout, /new WebSocket\(\): ok/);
    });
  }

  // TypeScript 5 takes some 15 s a run over @types/node without skipLibCheck: nodenext only.
  const nodeConsumers = async (dir) => {
    const wsApi = await readFile(join(here, 'consumer', 'ws-api.ts'), 'utf8');
    // The ws consumer twice, the same code: once on ws (proving it is ws code), once on wsaction.
    await writeFile(join(dir, 'on-ws.ts'), wsApi);
    await writeFile(join(dir, 'on-wsaction.ts'), wsApi.replace("from 'ws';", "from 'wsaction';"));
    await cp(join(here, 'consumer', 'wsaction-api.ts'), join(dir, 'wsaction-api.ts'));
  };
  const base = { strict: true, noEmit: true, skipLibCheck: false, target: 'es2022' };
  const checks = [
    ['nodenext', 'TypeScript 7', nodeConsumers, { module: 'nodenext', moduleResolution: 'nodenext', lib: ['es2022'], types: ['node'] }],
    ['bundler', 'TypeScript 7', nodeConsumers, { module: 'esnext', moduleResolution: 'bundler', lib: ['es2022'], types: ['node'] }],
    ['nodenext', 'TypeScript 5', nodeConsumers, { module: 'nodenext', moduleResolution: 'nodenext', lib: ['es2022'], types: ['node'] }],
    [
      'bundler with the browser condition, the DOM lib and no @types/node',
      'TypeScript 7',
      (dir) => cp(join(here, 'consumer', 'browser.ts'), join(dir, 'browser.ts')),
      { module: 'esnext', moduleResolution: 'bundler', customConditions: ['browser'], lib: ['es2022', 'dom'], types: [] },
    ],
  ];
  for (const [resolution, compiler, writeConsumers, compilerOptions] of checks) {
    test(`tsc --strict --noEmit, moduleResolution ${resolution}, no skipLibCheck (${compiler})`, async () => {
      const dir = await mkdtemp(join(project, 'tsc-'));
      await writeConsumers(dir);
      await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { ...base, ...compilerOptions }, include: ['*.ts'] }));
      await sh(compilers[compiler], ['-p', join(dir, 'tsconfig.json')], { cwd: dir });
    });
  }
});
