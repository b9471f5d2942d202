/**
 * What `npm start` loads at every start: the bundled server (dist/bundle/server.cjs) leaves out
 * the code a start never runs (knex's dialects for databases Switchboard does not support, the
 * PostgreSQL driver, markdown-it), and what it leaves out still loads from node_modules when
 * asked for. The file `npm start` names (dist/bundle/standalone.cjs) only loads it.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const bundlePath = path.join(root, 'dist', 'bundle', 'server.cjs');
const startPath = path.join(root, 'dist', 'bundle', 'standalone.cjs');

t.test('the bundle leaves unused dialects, pg and markdown-it to node_modules', async (t) => {
  const bundle = fs.readFileSync(bundlePath, 'utf8');
  // knex's MSSQL dialect names its own client class; bundled, the name would be in the file.
  t.notMatch(bundle, /Client_MSSQL/, 'the MSSQL dialect is not bundled');
  t.notMatch(bundle, /Client_Oracledb/, 'the Oracle dialect is not bundled');
  t.match(bundle, /Client_SQLite3/, 'the SQLite dialect is bundled');
  t.match(bundle, /Client_PG/, 'the PostgreSQL dialect is bundled');
  t.match(bundle, /knex\/lib\/dialects\/mssql\/index\.js/, 'knex would load the MSSQL dialect from node_modules');
  t.notMatch(bundle, /class Pool extends EventEmitter|BoundPool/, "pg's pool is not bundled");
  t.notMatch(bundle, /heading_open|html_inline/, 'markdown-it (its token names) is not bundled');
  // ES modules are strict; bundled into CommonJS they stay so only with the directive first.
  t.match(bundle, /^'use strict';/, 'the bundled server runs in strict mode');
  // Node 20 runs no import() in code from a code cache (see examples/standalone/code-cache.ts).
  t.notMatch(bundle, /[^\w$.]import\(/, 'the bundled server loads nothing with import()');
  const fromBundle = createRequire(bundlePath);
  for (const name of ['knex/lib/dialects/mssql/index.js', 'pg', 'markdown-it']) t.ok(fromBundle.resolve(name), `${name} resolves from the bundle's directory`);
});

t.test('what npm start names only loads the bundled server', async (t) => {
  const start = fs.readFileSync(startPath, 'utf8');
  t.ok(start.length < 10_000, `it is small (${start.length} bytes)`);
  const loaded = [...start.matchAll(/\brequire\((["'])([^"']+)\1\)/g)].map((m) => m[2]);
  t.ok(loaded.length > 0 && loaded.every((name) => name.startsWith('node:')), `it loads Node's own modules only: ${loaded.join(', ')}`);
  t.notMatch(start, /^import |[^\w$.]import\(/m, 'and nothing else');
  t.match(start, /server\.cjs/, 'and names the bundled server');
  t.match(start, /^'use strict';/, 'in strict mode');
});
