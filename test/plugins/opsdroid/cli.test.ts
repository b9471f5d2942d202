/**
 * `switchboard opsdroid modules|stats|reset` against a database a running bot used, on
 * SQLite and PostgreSQL.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { createTestDatabase, databaseKinds, startTestKernel } from '../../../src/testing/index.js';
import { buildCli } from '../../../examples/standalone/cli.js';
import { opsdroidPlugin } from '../../../plugins/opsdroid/index.js';
import { CC_TOKEN } from './fixtures/helpers.js';

const pluginConfig = { web: { 'command-center': { enabled: true, token: CC_TOKEN } } };

for (const kind of databaseKinds()) {
  t.test(kind, async (t) => {
    const db = await createTestDatabase(kind);
    t.teardown(() => db.drop());
    const sb = await startTestKernel({ database: db.url, plugins: [{ plugin: opsdroidPlugin, config: pluginConfig }] });
    const res = await sb.fetch('/skills', {
      method: 'PATCH',
      headers: { authorization: CC_TOKEN },
      body: JSON.stringify({ module_type: 'skills', module_name: 'hello', config: { enabled: false, greeting: 'hey' } }),
    });
    t.equal(res.status, 204);
    await sb.close();

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swb-opsdroid-cli-'));
    t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'switchboard.config.json');
    fs.writeFileSync(
      file,
      JSON.stringify({
        database: { url: db.url },
        log: { level: 'silent' },
        plugins: { opsdroid: pluginConfig, redball: { enabled: false }, talk: { enabled: false }, anope: { enabled: false }, owncast: { enabled: false } },
      }),
    );
    const run = async (...args: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      let code = -1;
      const program = buildCli(args, { env: { SWITCHBOARD_CONFIG: file }, output: { out: (l) => out.push(l), err: (l) => err.push(l) }, setExitCode: (c) => (code = c) });
      program.exitOverride();
      await program.parseAsync(args, { from: 'user' });
      return { out: out.join('\n'), err: err.join('\n'), code };
    };

    const modules = await run('opsdroid', 'modules', 'skills');
    t.equal(modules.code, 0);
    const skills = JSON.parse(modules.out) as Record<string, Record<string, unknown>>;
    t.same(Object.keys(skills), ['dance', 'hello', 'loudnoises', 'seen']);
    t.equal(skills.hello.enabled, false, 'the change made through the API');
    t.equal(skills.hello.greeting, 'hey');

    const all = JSON.parse((await run('opsdroid', 'modules')).out) as Record<string, unknown>;
    t.same(Object.keys(all), ['connectors', 'skills', 'databases', 'parsers']);

    const stats = await run('opsdroid', 'stats');
    t.equal(stats.code, 0);
    t.match(JSON.parse(stats.out), { messages: { total_parsed: 1, total_responses: 0 }, modules: { skills: 3, connectors: 1, databases: 1 } });

    const bad = await run('opsdroid', 'modules', 'widgets');
    t.equal(bad.code, 2);
    t.match(bad.err, /unknown module type 'widgets'/);

    const reset = await run('opsdroid', 'reset', 'skills', 'hello');
    t.equal(reset.out, 'forgot the changes of 1 module');
    const after = JSON.parse((await run('opsdroid', 'modules', 'skills')).out) as Record<string, Record<string, unknown>>;
    t.equal(after.hello.enabled, true, 'the config file applies again');
    t.notOk('greeting' in after.hello);
    t.equal((await run('opsdroid', 'reset')).out, 'forgot the changes of 0 modules');
  });
}
