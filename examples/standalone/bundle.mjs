// Bundles the compiled standalone server for `npm start`, with esbuild, into two files:
// - dist/bundle/server.cjs: the server (dist/examples/standalone/server-bundle.js and all it
//   imports) as one CommonJS file. Loading one file instead of several hundred (TypeBox alone
//   is ~700 files) makes `npm start` start several times faster. CommonJS, because Node 20
//   can cache the compiled code of a script it is handed, not of an ES module (see
//   code-cache.ts).
// - dist/bundle/standalone.cjs: what `npm start` runs (start.ts): it loads server.cjs with its
//   code cache, server.cjs.v8cache, which the first start writes. A new build leaves no cache.
//   CommonJS too: Node starts a CommonJS program about 10 ms sooner than an ES module.
// Decorator metadata is already in tsc's output, so bundling keeps it.
// Native and optional drivers stay outside the bundle and load from node_modules.
// Module files that run in worker threads (redball's worker program and built-in bots) are not
// bundled: tsc writes them to dist/plugins/redball/, and the bundled code finds them through the
// package's own name (import.meta.resolve('switchboard/plugins/redball/…'), mapped by the
// "exports" of package.json), since the bundle's own location is not theirs. So the bundle,
// dist/ and a host's node_modules all run the very same files.
import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

// Knex carries a dialect for every database it knows; Switchboard runs on two (sqlite3 and
// postgres). The others are left to node_modules (where knex would load them from if anyone
// asked for one), so that every start does not parse ~100 kB of code it never runs.
const UNUSED_KNEX_DIALECTS = ['better-sqlite3', 'cockroachdb', 'mssql', 'mysql', 'mariadb', 'mysql2', 'oracle', 'oracledb', 'pgnative', 'redshift'];
const knexDialectsOutside = {
  name: 'knex-unused-dialects',
  setup(b) {
    const filter = new RegExp(`^\\./(${UNUSED_KNEX_DIALECTS.join('|')})$`);
    b.onResolve({ filter }, (args) => {
      if (!/knex[\\/]lib[\\/]dialects[\\/]index\.js$/.test(args.importer)) return undefined;
      return { path: `knex/lib/dialects/${args.path.slice(2)}/index.js`, external: true };
    });
  },
};
const bundleDir = path.join(root, 'dist/bundle');
// What both files share: CommonJS for Node 20 (see above), and `import.meta` in CommonJS
// output: the file's own URL, and a resolver from its `require`. The banner opens with the
// strict-mode directive: the sources are ES modules, which are always strict, and a CommonJS
// file is strict only when that is its first statement.
const COMMON_JS = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  logLevel: 'warning',
  define: { 'import.meta.url': '__swbImportMetaUrl', 'import.meta.resolve': '__swbImportMetaResolve' },
  banner: {
    js: "'use strict'; const { pathToFileURL: __swbFileUrl } = require('node:url'); const __swbImportMetaUrl = __swbFileUrl(__filename).href; const __swbImportMetaResolve = (specifier) => __swbFileUrl(require.resolve(specifier)).href;",
  },
};
// A build from before the split into two files, and a cache of an earlier server.cjs.
for (const old of ['standalone.mjs', 'standalone.mjs.map', 'server.cjs.v8cache']) fs.rmSync(path.join(bundleDir, old), { force: true });
await build({
  entryPoints: [path.join(root, 'dist/examples/standalone/server-bundle.js')],
  outfile: path.join(bundleDir, 'server.cjs'),
  ...COMMON_JS,
  sourcemap: 'linked',
  // Whitespace and syntax are minified; identifiers are not. With identifiers minified, keeping
  // function and class names (for stack traces and DI errors) took esbuild's `keepNames`, which
  // renames each of ~5,400 functions and classes again at every start: measured, a start took
  // 30-50 ms longer that way (about 8 %) than with the names simply left as they are, although
  // the file is 0.6 MB smaller (1.6 MB against 2.2 MB).
  minifyWhitespace: true,
  minifySyntax: true,
  plugins: [knexDialectsOutside],
  // The SQLite driver is native; iconv-lite and mime-db are mostly data, which loads faster from
  // node_modules than parsed as part of the bundle (iconv-lite reads its code tables only when
  // a body is decoded); swagger-ui-express (loaded on the first request to /docs) finds
  // swagger-ui-dist's asset files by its own directory, so it loads from node_modules; the
  // PostgreSQL driver `pg` loads from node_modules when knex or the cluster bridge first
  // connects to PostgreSQL (a server on SQLite never parses it); the rest are optional
  // drivers knex or pg load only if present.
  external: ['sqlite3', 'iconv-lite', 'mime-db', 'swagger-ui-express', 'pg', 'pg-native', 'better-sqlite3', 'mysql', 'mysql2', 'mariadb', 'mariadb/*', 'oracledb', 'tedious', 'pg-query-stream'],
  // No `import()`: Node 20 loses a script's dynamic-import callback in code that comes from
  // a code cache ("A dynamic import callback was not specified"). The packages loaded on demand
  // (pg, swagger-ui-express) are CommonJS, so esbuild's require() in its place loads them the same.
  supported: { 'dynamic-import': false },
});
// Written last: test/helpers/build.ts takes its time as the build's.
await build({
  entryPoints: [path.join(root, 'dist/examples/standalone/start.js')],
  outfile: path.join(bundleDir, 'standalone.cjs'),
  ...COMMON_JS,
});
