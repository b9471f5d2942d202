import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import knexFactory from 'knex';
import { buildCli } from '../../examples/standalone/cli.js';
import { verifyPassword } from '../../src/index.js';

function run(argv: string[], env: NodeJS.ProcessEnv) {
  const out: string[] = [];
  const err: string[] = [];
  const codes: number[] = [];
  const program = buildCli(['node', 'switchboard', ...argv], { env, output: { out: (l) => void out.push(l), err: (l) => void err.push(l) }, setExitCode: (c) => void codes.push(c) });
  program.exitOverride().configureOutput({ writeOut: (s) => void out.push(s), writeErr: (s) => void err.push(s) });
  return { done: program.parseAsync(argv, { from: 'user' }), out, err, codes };
}

t.test('switchboard CLI: openapi, migrate, hash-password, help', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swb-cli-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const env = { DATABASE_URL: `sqlite:${path.join(dir, 'cli.db')}` };

  const openapi = run(['openapi'], env);
  await openapi.done;
  const doc = JSON.parse(openapi.out.join('\n'));
  t.equal(doc.openapi, '3.1.0');

  const migrate = run(['migrate'], env);
  await migrate.done;
  t.same(migrate.out, ['migrations are up to date']);
  const knex = knexFactory({ client: 'sqlite3', connection: { filename: path.join(dir, 'cli.db') }, useNullAsDefault: true });
  t.ok(await knex.schema.hasTable('swb_outbox'), 'kernel tables created');
  await knex.destroy();

  const hash = run(['hash-password', 'hunter2'], env);
  await hash.done;
  t.ok(verifyPassword('hunter2', hash.out[0]), 'a scrypt hash the config accepts');

  const help = run(['--help'], env);
  await help.done.catch(() => undefined);
  const text = help.out.join('');
  for (const cmd of ['start', 'migrate', 'openapi', 'hash-password']) t.match(text, new RegExp(`\\b${cmd}\\b`), `help lists ${cmd}`);
});
