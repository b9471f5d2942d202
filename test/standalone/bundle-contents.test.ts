/**
 * What `npm start` parses at every start: the bundle leaves out the code a start never runs
 * (knex's dialects for databases Switchboard does not support, the PostgreSQL driver,
 * markdown-it), and what it leaves out still loads from node_modules when asked for.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const bundlePath = path.join(root, 'dist', 'bundle', 'standalone.mjs');

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
  const fromBundle = createRequire(bundlePath);
  for (const name of ['knex/lib/dialects/mssql/index.js', 'pg', 'markdown-it']) t.ok(fromBundle.resolve(name), `${name} resolves from the bundle's directory`);
});
