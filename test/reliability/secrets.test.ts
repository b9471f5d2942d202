/**
 * The secrets-hygiene machinery: test kernels and standalone children record every secret
 * they know of — registered, configured, sent through an API, answered by one, stored in a
 * database — and the check after the test run (fixtures-b/secrets-after.ts) finds any of
 * them in any log line. A plugin that forgot to register a secret is caught whichever way
 * the secret came in; registered secrets are scrubbed and pass. The deliberate leaks here
 * are captured in a directory of their own, not in the run's.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { definePlugin, jsonResponder, Type, type PluginContext } from '../../src/index.js';
import { databaseKinds, startTestKernel, type TestKernel } from '../../src/testing/index.js';
import { spawnTs } from '../helpers/child.js';
import { mask, scanLogDir } from './fixtures-b/secrets-scan.js';

const LEAKS = {
  config: 'cfg-leaky-token-5b8c1e',
  request: 'req-leaky-secret-7d2f9a',
  answer: 'ans-leaky-token-',
  database: 'dbs-leaky-secret-3e6b0c',
  registered: 'reg-scrubbed-secret-9f1a4d',
  credential: 'hdr-leaky-bearer-2c5e8a',
};

/** A plugin that logs secrets it never registered, one from each place secrets come from. */
const leaky = definePlugin({
  id: 'leaky',
  version: '1.0.0',
  config: Type.Object({ apiToken: Type.String(), label: Type.String({ default: 'leaky' }) }),
  migrations: [
    {
      name: '001_keys',
      async up(db, { table }) {
        await db.schema.createTable(table('keys'), (tb) => {
          tb.increments('id');
          tb.string('name');
          tb.string('secret');
        });
      },
    },
  ],
  init(ctx) {
    ctx.routes.defaults({ responder: jsonResponder() });
    // A secret from a request body, logged.
    ctx.routes.add({
      method: 'POST',
      path: '/leaky/install',
      body: Type.Object({ name: Type.String(), secret: Type.String() }),
      handler: ({ body, log }) => {
        log.info(`installed ${body.name} with ${body.secret}`);
        return { ok: true };
      },
    });
    // A secret made by the server and answered, logged.
    ctx.routes.add({
      method: 'POST',
      path: '/leaky/tokens',
      handler: ({ log }) => {
        const accessToken = `${LEAKS.answer}${Date.now().toString(36)}`;
        log.info(`created ${accessToken}`);
        return { accessToken };
      },
    });
    // A credential presented in a request header, logged.
    ctx.routes.add({
      method: 'GET',
      path: '/leaky/whoami',
      handler: ({ req, log }) => {
        log.info(`called with ${req.headers.authorization}`);
        return { you: 'someone' };
      },
    });
    // Registered before logging: scrubbed.
    ctx.secrets.add(LEAKS.registered);
  },
  async start(ctx) {
    // A configured secret, logged; a secret stored by code (no HTTP), logged; the registered one.
    ctx.logger.info(`starting with ${ctx.config.apiToken}`);
    await ctx.db(ctx.table('keys')).insert({ name: 'stored', secret: LEAKS.database });
    ctx.logger.info(`stored key ${LEAKS.database}`);
    ctx.logger.info(`registered ${LEAKS.registered}`);
  },
});

/** Starts a test kernel whose capture goes to `dir` instead of the run's directory. */
async function startCaptured(dir: string, database: 'sqlite' | 'postgres'): Promise<TestKernel> {
  const previous = process.env.SWB_TEST_LOG_DIR;
  process.env.SWB_TEST_LOG_DIR = dir;
  try {
    return await startTestKernel({ database, plugins: [{ plugin: leaky, config: { apiToken: LEAKS.config } }] });
  } finally {
    if (previous === undefined) delete process.env.SWB_TEST_LOG_DIR;
    else process.env.SWB_TEST_LOG_DIR = previous;
  }
}

function tempDir(t: Test): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swb-secrets-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

for (const kind of databaseKinds()) {
  t.test(`${kind}: a secret a plugin forgot to register is found in its log, wherever it came from`, async (t) => {
    const dir = tempDir(t);
    const sb = await startCaptured(dir, kind);
    t.teardown(sb.close);
    const installed = await sb.fetch('/leaky/install', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'bot', secret: LEAKS.request }) });
    t.equal(installed.status, 200);
    t.equal((await sb.fetch('/leaky/whoami', { headers: { authorization: `Bearer ${LEAKS.credential}` } })).status, 200);
    const token = await sb.fetch('/leaky/tokens', { method: 'POST' });
    const { accessToken } = (await token.json()) as { accessToken: string };
    await sb.close();

    const result = scanLogDir(dir);
    const found = new Map(result.findings.map((f) => [f.secret, f]));
    const expect = (secret: string, source: RegExp, what: string) => {
      const f = found.get(mask(secret));
      t.ok(f, `${what}: found in the log`);
      t.match(f?.sources.join('; '), source, `${what}: recorded from ${source}`);
      t.notMatch(f?.excerpt, secret, `${what}: the report does not print the secret`);
    };
    expect(LEAKS.config, /^config leaky\.apiToken/, 'a configured secret');
    expect(LEAKS.request, /POST \/leaky\/install request\.secret/, 'a secret sent in a request');
    expect(accessToken, /POST \/leaky\/tokens answer\.accessToken/, 'a secret made by the server and answered');
    expect(LEAKS.database, /database leaky_keys\.secret/, 'a secret stored by code, found in the database');
    expect(LEAKS.credential, /GET \/leaky\/whoami header authorization/, 'a credential presented in a header');
    t.notOk(found.has(mask(LEAKS.registered)), 'a registered secret is scrubbed from the log');
    t.equal(result.findings.length, 5, 'nothing else');
    t.ok(result.lines >= 5 && result.files === 1 && result.secrets >= 6, `log lines scanned: ${result.lines}, secrets checked: ${result.secrets}`);
    t.match(fs.readFileSync(path.join(dir, fs.readdirSync(dir).find((n) => n.endsWith('.log'))!), 'utf8'), /registered \[REDACTED\]/);
  });
}

t.test("a standalone child's output and config secrets are captured", async (t) => {
  const dir = tempDir(t);
  const config = path.join(dir, 'switchboard.config.yaml');
  fs.writeFileSync(config, 'users:\n  - id: alice\n    password: child-password-4c7e2b\nplugins:\n  opsdroid:\n    web:\n      webhook-token: child-webhook-token-8a1d3f\n');
  const captureDir = path.join(dir, 'capture');
  const child = spawnTs('test/reliability/fixtures-b/leaky-child.ts', [], { env: { SWITCHBOARD_CONFIG: config, SWB_TEST_LOG_DIR: captureDir } });
  t.equal(await child.exited, 0, child.stderr());
  await new Promise((r) => setTimeout(r, 50)); // the capture closes on the child's 'close'
  const result = scanLogDir(captureDir);
  t.equal(result.lines, 2, 'both lines of its output were captured');
  t.equal(result.secrets, 2, 'the password and the webhook token of its config were recorded');
  t.same(
    result.findings.map((f) => [f.secret, f.sources, f.line]),
    [[mask('child-password-4c7e2b'), ['config switchboard.config.yaml users.alice.password'], 1]],
    'the leaked password is found on its line',
  );
});

t.test('the check after the run: exit 1 with the findings, or the figures and exit 0', async (t) => {
  const leaked = tempDir(t);
  fs.writeFileSync(path.join(leaked, 'kernel-1.secrets'), `${JSON.stringify({ secret: 'after-check-secret-6e2a9c', source: 'config x.token' })}\n`);
  fs.writeFileSync(path.join(leaked, 'kernel-1.log'), '{"msg":"fine"}\n{"msg":"oops after-check-secret-6e2a9c"}\n');
  // The check reads the directory it is given; the capture of its own output goes elsewhere.
  const env = { SWB_TEST_LOG_DIR: tempDir(t), TAP_CHILD_ID: undefined };
  const failing = spawnTs('test/reliability/fixtures-b/secrets-after.ts', [leaked], { env });
  t.equal(await failing.exited, 1, 'a finding fails the check (and with it `npm test`)');
  t.match(failing.stdout(), /log lines scanned: 2, secrets checked: 1/);
  t.match(failing.stdout(), /secrets hygiene FAILED: 1 secret\(s\)/);
  t.match(failing.stdout(), /aft… \(25 characters\) from config x\.token\n#\s+in kernel-1\.log line 2 \(1 line\(s\)\): \{"msg":"oops <SECRET>"\}/);
  t.notMatch(failing.stdout(), /after-check-secret-6e2a9c/, 'never the secret itself');
  t.ok(fs.existsSync(leaked), 'the capture is kept for a look');

  const clean = tempDir(t);
  fs.writeFileSync(path.join(clean, 'kernel-2.secrets'), `${JSON.stringify({ secret: 'after-check-secret-6e2a9c', source: 'registry' })}\n`);
  fs.writeFileSync(path.join(clean, 'kernel-2.log'), '{"msg":"scrubbed [REDACTED]"}\n');
  const passing = spawnTs('test/reliability/fixtures-b/secrets-after.ts', [clean], { env });
  t.equal(await passing.exited, 0);
  t.match(passing.stdout(), /# secrets hygiene: log lines scanned: 1, secrets checked: 1 \(from registry 1; 1 log files\)/);
  t.notOk(fs.existsSync(clean), 'a clean capture is removed');
});
