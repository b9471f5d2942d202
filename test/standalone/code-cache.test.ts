/**
 * `npm start`'s code cache (examples/standalone/code-cache.ts): the bundled server is loaded
 * as Node loads a CommonJS file, its compiled code is cached beside it once the server
 * listens, the next start runs from that cache, and a cache that does not belong to the file
 * as it is now is never run.
 *
 * The shipped part runs byte-identical copies of dist/bundle/standalone.cjs and server.cjs in
 * a directory of their own inside the package (where they resolve node_modules and the
 * package's own name as in dist/bundle/), so that the other tests' starts, which share
 * dist/bundle's cache, neither disturb nor are disturbed by it.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { codeCachePath, loadWithCodeCache } from '../../examples/standalone/code-cache.js';
import { checkBuilt, ROOT } from '../helpers/build.js';
import { npmStartArgs } from '../helpers/start-script.js';

const FIXTURES = path.join(ROOT, 'test', 'standalone', 'fixtures');

// `npm test` builds first (its pretest script); a file run alone says when dist/ may be stale.
const stale = checkBuilt();
if (stale) t.comment(stale);

const MODULE = `
const path = require('node:path');
exports.greeting = 'hello';
exports.dir = path.basename(__dirname);
exports.file = path.basename(__filename);
exports.thisIsExports = this === module.exports;
exports.sibling = require('./sibling.cjs');
`;

function moduleDir(t: Test): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swb-code-cache-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'sibling.cjs'), "module.exports = 'next door';");
  fs.writeFileSync(path.join(dir, 'main.cjs'), MODULE);
  return path.join(dir, 'main.cjs');
}

t.test('a file loads as Node loads a CommonJS module', async (t) => {
  const file = moduleDir(t);
  const loaded = loadWithCodeCache(file);
  const exports = loaded.exports as Record<string, unknown>;
  t.same(
    { greeting: exports.greeting, dir: exports.dir, file: exports.file, thisIsExports: exports.thisIsExports, sibling: exports.sibling },
    { greeting: 'hello', dir: path.basename(path.dirname(file)), file: 'main.cjs', thisIsExports: true, sibling: 'next door' },
    'its own exports, require, __filename and __dirname',
  );
  t.notOk(fs.existsSync(codeCachePath(file)), 'nothing is cached before saveCache');
});

/** Loads `file` in a process of its own (see the fixture) and saves its cache. */
function loadInChild(file: string): { greeting: string; fromCache: boolean; saved: boolean } {
  const out = execFileSync(process.execPath, [path.join(FIXTURES, 'load-with-code-cache.mjs'), file], { encoding: 'utf8' });
  return JSON.parse(out) as { greeting: string; fromCache: boolean; saved: boolean };
}

t.test('the second load runs from the cache the first one saved', async (t) => {
  const file = moduleDir(t);
  t.same(loadInChild(file), { greeting: 'hello', fromCache: false, saved: true }, 'no cache the first time; it is written');
  t.same(loadInChild(file), { greeting: 'hello', fromCache: true, saved: false }, 'run from it the second time, and not written again');
});

t.test('a cache of other text of the same length is not run', async (t) => {
  const file = moduleDir(t);
  loadInChild(file);
  fs.writeFileSync(file, MODULE.replace("'hello'", "'HELLO'"));
  t.same(loadInChild(file), { greeting: 'HELLO', fromCache: false, saved: true }, 'the file as it is now runs (V8 alone would run the cached code: it compares lengths), and its cache replaces the old one');
  t.same(loadInChild(file), { greeting: 'HELLO', fromCache: true, saved: false });
});

t.test('a damaged cache is ignored and replaced', async (t) => {
  const file = moduleDir(t);
  loadInChild(file);
  const cache = fs.readFileSync(codeCachePath(file));
  // The header (the file's hash) still fits; what follows is not V8's.
  fs.writeFileSync(codeCachePath(file), Buffer.concat([cache.subarray(0, 32), Buffer.alloc(cache.length - 32, 7)]));
  t.same(loadInChild(file), { greeting: 'hello', fromCache: false, saved: true }, 'V8 refused it; it was written again');
  t.same(loadInChild(file), { greeting: 'hello', fromCache: true, saved: false });
  fs.writeFileSync(codeCachePath(file), 'short');
  t.same(loadInChild(file), { greeting: 'hello', fromCache: false, saved: true }, 'a file shorter than its header is no cache');
});

t.test('where the cache cannot be written, nothing is cached and nothing fails', async (t) => {
  const file = moduleDir(t);
  fs.mkdirSync(codeCachePath(file)); // a directory where the cache would go
  t.same(loadInChild(file), { greeting: 'hello', fromCache: false, saved: false });
  t.same(fs.readdirSync(path.dirname(file)).sort(), ['main.cjs', 'main.cjs.v8cache', 'sibling.cjs'], 'no temporary file is left');
});

/** The shipped bundle, copied byte for byte into a directory of its own inside the package. */
function shippedCopy(t: Test): { dir: string; start: string; server: string; cache: string } {
  const dir = fs.mkdtempSync(path.join(ROOT, 'dist', '.code-cache-test-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  for (const name of ['standalone.cjs', 'server.cjs']) fs.copyFileSync(path.join(ROOT, 'dist', 'bundle', name), path.join(dir, name));
  const server = path.join(dir, 'server.cjs');
  return { dir, start: path.join(dir, 'standalone.cjs'), server, cache: codeCachePath(server) };
}

/**
 * Runs the start script's node arguments on `start` until the server says it listens, then
 * `whileUp` with its URL, and kills it; answers that line and whether the cache existed then.
 */
function startUntilListening(t: Test, start: string, cache: string, whileUp?: (url: string) => Promise<void>): Promise<{ line: string; cacheThen: boolean }> {
  const args = npmStartArgs(ROOT).map((a) => (a.endsWith(path.join('dist', 'bundle', 'standalone.cjs')) ? start : a));
  t.ok(args.includes(start), 'runs what the start script runs');
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'swb-code-cache-db-'));
  t.teardown(() => fs.rmSync(data, { recursive: true, force: true }));
  const env: NodeJS.ProcessEnv = { ...process.env, SWITCHBOARD_CONFIG: '', PORT: '0', HOST: '127.0.0.1', DATABASE_URL: `sqlite:${path.join(data, 'db.sqlite')}` };
  delete env.NODE_OPTIONS; // the test runner's loaders are not what `npm start` has
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: data, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let seen: { line: string; cacheThen: boolean } | undefined;
    child.stdout.on('data', (d: Buffer) => {
      out += String(d);
      const m = /Switchboard \w+ on (http:\S+)/.exec(out);
      if (m && !seen) {
        seen = { line: m[0], cacheThen: fs.existsSync(cache) };
        void (whileUp?.(m[1]) ?? Promise.resolve()).then(
          () => child.kill('SIGKILL'),
          (e: unknown) => {
            failed = e;
            child.kill('SIGKILL');
          },
        );
      }
    });
    let failed: unknown;
    child.stderr.on('data', (d: Buffer) => (err += String(d)));
    child.once('close', () => {
      if (failed !== undefined) reject(failed instanceof Error ? failed : new Error(String(failed)));
      else if (seen) resolve(seen);
      else reject(new Error(`the server did not start: ${err.slice(-1000)}`));
    });
  });
}

function cacheKey(server: string): Buffer {
  return createHash('sha256').update(fs.readFileSync(server)).update(`\0${process.version}\0${process.arch}`).digest();
}

t.test('npm start: the first start caches, the next runs from the cache, a rebuilt server is not run from an old one', async (t) => {
  const { start, server, cache } = shippedCopy(t);
  const first = await startUntilListening(t, start, cache);
  t.match(first.line, /^Switchboard listening on /);
  t.equal(first.cacheThen, true, 'the cache is written before the server says it listens (a start killed at that line has it)');
  t.same(fs.readFileSync(cache).subarray(0, 32), cacheKey(server), 'it belongs to this server.cjs and this Node');
  const written = fs.statSync(cache);

  // From the cache, what loads on demand loads too (Node 20 would refuse an import() there).
  await startUntilListening(t, start, cache, async (url) => {
    const page = await fetch(`${url}/docs/`);
    t.equal(page.status, 200, 'the API reference, which loads swagger-ui-express on its first request, answers');
    t.match(await page.text(), /<title>Switchboard API reference<\/title>/);
  });
  const after = fs.statSync(cache);
  t.same([after.ino, after.mtimeMs], [written.ino, written.mtimeMs], 'the second start used it: a cache that V8 refuses would be written again');

  // A rebuild that changes a word and keeps the file's length: V8 would take the old cache.
  const text = fs.readFileSync(server, 'latin1');
  t.equal(text.split('Switchboard listening on').length, 2, 'the line is written from one place');
  fs.writeFileSync(server, text.replace('Switchboard listening on', 'Switchboard LISTENING on'), 'latin1');
  const rebuilt = await startUntilListening(t, start, cache);
  t.match(rebuilt.line, /^Switchboard LISTENING on /, 'the changed server ran, not the cached one');
  t.same(fs.readFileSync(cache).subarray(0, 32), cacheKey(server), 'and its own cache replaced the old one');
});
