/**
 * The package as a host gets it: `npm pack`, the tarball installed into a scratch host with
 * only `express` and `@types/express` (and `typescript` to compile), the README's embedding
 * snippet compiled verbatim with `tsc --strict` and without `skipLibCheck`, together with a
 * module importing every entry point of package.json's `exports` (so every type the public
 * .d.ts files reference must resolve there), then run on SQLite and PostgreSQL (PG_URL),
 * with a mounted route called; and the installed `switchboard` bin.
 *
 * Prints `package: …` (read by .ci/run).
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createTestDatabase, databaseKinds } from '../../src/testing/index.js';
import { LogCapture } from '../../src/testing/log-capture.js';
import { checkBuilt, packageJson } from '../helpers/build.js';
import { hostEnv, makeHost, readmeBlock, run, type Host } from './host.js';

const SNIPPET_HEADING = 'Embedding in an existing app';

const stale = checkBuilt();
if (stale) t.comment(stale);
// More than tap's default per file: npm install builds the SQLite driver and tsc checks every .d.ts (TypeBox's are heavy): minutes on a busy 2-core machine.
t.setTimeout(1_800_000);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/**
 * The import specifiers of every entry point the package exports; a pattern (`./x/*.js`) is
 * expanded to the files of the installed package that it matches.
 */
function entryPoints(name: string, exportsField: Record<string, unknown>, installed: string): string[] {
  const specifiers: string[] = [];
  for (const [subpath, target] of Object.entries(exportsField)) {
    if (subpath === './package.json') continue;
    const specifier = (sub: string) => (sub === '.' ? name : `${name}/${sub.slice(2)}`);
    if (!subpath.includes('*')) {
      specifiers.push(specifier(subpath));
      continue;
    }
    const file = typeof target === 'string' ? target : (target as { default: string }).default;
    const [before, after] = file.split('*');
    const dir = path.join(installed, path.dirname(before));
    const prefix = path.basename(before);
    for (const entry of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
      if (entry.startsWith(prefix) && entry.endsWith(after) && entry.length > prefix.length + after.length) {
        specifiers.push(specifier(subpath.replace('*', entry.slice(prefix.length, entry.length - after.length))));
      }
    }
  }
  return specifiers;
}

/** A module that imports every one of `specifiers`. */
function importAll(specifiers: string[]): string {
  const lines = specifiers.map((s, i) => `import * as entry${i} from '${s}';`);
  return `${lines.join('\n')}\nexport const entries = [${specifiers.map((_, i) => `entry${i}`).join(', ')}];\n`;
}

/** Starts the compiled snippet; resolves with the child and its output. */
function startApp(host: string, env: NodeJS.ProcessEnv) {
  const proc = spawn(process.execPath, ['out/app.js'], { cwd: host, env: hostEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  const orphan = () => void proc.kill('SIGKILL');
  process.once('exit', orphan);
  let stdout = '';
  let stderr = '';
  // What the app logs goes to the secrets check, with the secrets it was given.
  const capture = LogCapture.open('package-host');
  for (const [k, v] of Object.entries(env)) if (/TOKEN|SESSION/.test(k)) capture?.secret(v, `env ${k}`);
  proc.stdout.on('data', (c: Buffer) => {
    stdout += String(c);
    capture?.write(c);
  });
  proc.stderr.on('data', (c: Buffer) => (stderr += String(c)));
  const exited = new Promise<number | string>((resolve) =>
    proc.once('close', (code, signal) => {
      process.off('exit', orphan);
      capture?.close();
      resolve(code ?? signal ?? -1);
    }),
  );
  return { proc, exited, stdout: () => stdout, stderr: () => stderr };
}

const counts = { compiled: 0, ranOn: [] as string[] };

t.test('the packed package in a host with only express and @types/express', async (t) => {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'swb-package-'));
  t.teardown(() => fs.rmSync(scratch, { recursive: true, force: true }));
  const pkg = packageJson() as ReturnType<typeof packageJson> & { exports: Record<string, unknown> };
  const host: Host = await makeHost(scratch);
  t.comment(`npm pack ${host.steps[0].ms} ms, npm install ${host.steps[1].ms} ms`);
  const installed = JSON.parse(fs.readFileSync(path.join(host.dir, 'package.json'), 'utf8')).dependencies as Record<string, string>;
  t.same(Object.keys(installed).sort(), ['@types/express', 'express', pkg.name, 'typescript'].sort(), 'the host depends on express, @types/express, typescript and the package only');

  const snippet = readmeBlock(SNIPPET_HEADING);
  fs.writeFileSync(path.join(host.dir, 'app.ts'), snippet);
  const entries = entryPoints(pkg.name, pkg.exports, path.join(host.dir, 'node_modules', pkg.name));
  fs.writeFileSync(path.join(host.dir, 'exports.ts'), importAll(entries));
  fs.writeFileSync(
    path.join(host.dir, 'tsconfig.json'),
    JSON.stringify(
      {
        compilerOptions: { strict: true, skipLibCheck: false, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', types: ['node'], outDir: 'out' },
        files: ['app.ts', 'exports.ts'],
      },
      null,
      2,
    ),
  );
  const tsc = await run(process.execPath, [path.join('node_modules', 'typescript', 'bin', 'tsc'), '-p', '.', '--pretty', 'false'], { cwd: host.dir });
  t.comment(`tsc ${tsc.ms} ms`);
  t.equal(tsc.code, 0, 'tsc --strict without skipLibCheck compiles the README snippet and every exported entry point');
  if (tsc.code !== 0) t.comment(tsc.stdout.trim());
  else counts.compiled = entries.length;

  const bin = await run(path.join(host.dir, 'node_modules', '.bin', 'switchboard'), ['migrate'], { cwd: host.dir, env: hostEnv({ DATABASE_URL: 'sqlite:./cli.db' }) });
  // (Its standard error is not shown: a first run prints generated secrets there.)
  t.equal(bin.code, 0, 'the installed switchboard bin runs');
  t.match(bin.stdout, /migrations/, 'switchboard migrate');

  if (tsc.code !== 0) return;

  await t.test('with ANOPE_TOKEN unset the snippet fails with one clear line', async (t) => {
    const app = startApp(host.dir, { PORT: String(await freePort()), DATABASE_URL: `sqlite:${path.join(scratch, 'unset.db')}` });
    const code = await app.exited;
    t.equal(code, 1, 'exit code 1');
    const lines = app.stderr().trim().split('\n');
    t.equal(lines.length, 1, `one line on stderr: ${app.stderr().trim()}`);
    t.match(lines[0], /anope\.auth/, 'it names the key');
    t.notMatch(`${app.stderr()}${app.stdout()}`, /\n\s+at /, 'no stack trace');
  });

  for (const kind of databaseKinds()) {
    await t.test(`${kind}: the snippet serves its own routes and the mounted families`, async (t) => {
      const db = kind === 'postgres' ? await createTestDatabase('postgres') : undefined;
      if (db) t.teardown(db.drop);
      const port = await freePort();
      const anopeToken = `anope-${crypto.randomBytes(16).toString('hex')}`;
      const session = `session-${crypto.randomBytes(16).toString('hex')}`;
      // SQLite: the snippet's own default, ./data/app.db in the host.
      const app = startApp(host.dir, { PORT: String(port), ANOPE_TOKEN: anopeToken, DEMO_SESSION: session, ...(db ? { DATABASE_URL: db.url } : {}) });
      t.teardown(() => void app.proc.kill('SIGKILL'));
      const url = `http://127.0.0.1:${port}`;
      const deadline = Date.now() + 30_000;
      for (;;) {
        const ok = await fetch(`${url}/health`).then((r) => r.status === 200, () => false);
        if (ok) break;
        if (app.proc.exitCode !== null || Date.now() > deadline) throw new Error(`the snippet did not serve /health: ${app.stderr().slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      t.equal(await (await fetch(`${url}/health`)).text(), 'ok', "the host's own route");
      t.equal((await fetch(`${url}/services/rest/types`)).status, 401, 'anope without the token: 401');
      const types = await fetch(`${url}/services/rest/types`, { headers: { authorization: `Bearer ${anopeToken}` } });
      t.equal(types.status, 200, 'anope, mounted under /services');
      t.ok(((await types.json()) as { types: string[] }).types.includes('account'), 'anope types');
      const ocs = `${url}/chat/ocs/v2.php/apps/spreed/api/v4/room`;
      const headers = { 'OCS-APIRequest': 'true', Accept: 'application/json', 'content-type': 'application/json' };
      const anonymous = await fetch(ocs, { method: 'POST', headers, body: JSON.stringify({ roomType: 2, roomName: 'Team' }) });
      t.equal(anonymous.status, 401, 'talk without a session: 401');
      const room = await fetch(ocs, { method: 'POST', headers: { ...headers, authorization: `Bearer ${session}` }, body: JSON.stringify({ roomType: 2, roomName: 'Team' }) });
      t.equal(room.status, 201, "talk, mounted under /chat, knows the host's user");
      const data = ((await room.json()) as { ocs: { data: { actorId: string; participantType: number } } }).ocs.data;
      t.same([data.actorId, data.participantType], ['alice', 1], 'alice owns the conversation');
      app.proc.kill('SIGTERM');
      t.equal(await app.exited, 0, 'SIGTERM: the snippet stops the kernel and exits 0');
      if (t.passing()) counts.ranOn.push(kind);
    });
  }
});

t.test('counts', async (t) => {
  t.comment(`package: README snippet and ${counts.compiled} entry points compiled (strict, no skipLibCheck); the snippet ran on ${counts.ranOn.join(', ') || 'no database'}`);
  t.equal(counts.ranOn.length, databaseKinds().length, 'the snippet ran on every database');
});
