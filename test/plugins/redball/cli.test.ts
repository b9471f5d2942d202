/**
 * `switchboard redball apikey create|list|revoke` against a real config file and database,
 * on SQLite and PostgreSQL, and the keys it makes used against a running server.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { buildCli } from '../../../examples/standalone/cli.js';
import { hashToken, openDatabase } from '../../../src/index.js';
import { createTestDatabase, databaseKinds, startTestKernel } from '../../../src/testing/index.js';
import { redballPlugin } from '../../../plugins/redball/index.js';
import { call, eventually, KEY } from './fixtures/client.js';

interface CliRun {
  code: number;
  out: string[];
  err: string[];
}

for (const kind of databaseKinds()) {
  t.test(kind, async (t) => {
    const db = await createTestDatabase(kind);
    t.teardown(db.drop);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swb-redball-cli-'));
    t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'config.json');
    const config = { apiKeys: [KEY], botsDir: path.join(dir, 'bots') };
    fs.writeFileSync(
      file,
      JSON.stringify({
        database: { url: db.url },
        log: { level: 'silent' },
        plugins: { opsdroid: { enabled: false }, talk: { enabled: false }, anope: { enabled: false }, owncast: { enabled: false }, redball: config },
      }),
    );
    const run = async (...argv: string[]): Promise<CliRun> => {
      const result: CliRun = { code: 0, out: [], err: [] };
      const program = buildCli(['node', 'switchboard', ...argv], {
        output: { out: (l) => void result.out.push(l), err: (l) => void result.err.push(l) },
        setExitCode: (c) => void (result.code = c),
        env: { SWITCHBOARD_CONFIG: file },
      });
      program.exitOverride();
      await program.parseAsync(argv, { from: 'user' });
      return result;
    };

    const empty = await run('redball', 'apikey', 'list');
    t.same(empty, { code: 0, out: ['No stored API keys.', 'Plus 1 key from the configuration (plugins.redball.apiKeys).'], err: [] });

    // KEY=$(switchboard redball apikey create) captures exactly the key: standard output holds
    // it alone, the sentence for the person is on standard error.
    const created = await run('redball', 'apikey', 'create', '--name', 'ci robot');
    t.equal(created.code, 0);
    t.equal(created.out.length, 1, 'one line on standard output');
    const key = created.out[0];
    t.match(key, /^[A-Za-z0-9_-]{32}$/, 'a random URL-safe key, alone');
    t.same(created.err, ['API key 1 (ci robot) created. Store it now; it cannot be shown again.']);
    const second = await run('redball', 'apikey', 'create');
    t.same(second.err, ['API key 2 created. Store it now; it cannot be shown again.']);
    t.equal(second.out.length, 1);
    const secondKey = second.out[0];
    t.not(secondKey, key, 'every key is new');

    // --json: structured output on standard output.
    const json = await run('redball', 'apikey', 'create', '--json', '-n', 'as json');
    t.equal(json.code, 0);
    t.equal(json.out.length, 1);
    const parsed = JSON.parse(json.out[0]);
    t.same(Object.keys(parsed), ['id', 'name', 'key']);
    t.match(parsed, { id: 3, name: 'as json', key: /^[A-Za-z0-9_-]{32}$/ });
    t.same(json.err, ['API key 3 (as json) created. Store it now; it cannot be shown again.']);
    t.same(await run('redball', 'apikey', 'revoke', '3'), { code: 0, out: ['API key 3 revoked.'], err: [] });

    const { knex } = openDatabase(db.url);
    try {
      const rows = await knex('redball_api_keys').select('key_hash').orderBy('id');
      t.same(rows.map((r: { key_hash: string }) => r.key_hash), [hashToken(key), hashToken(secondKey)], 'only hashes are stored');
    } finally {
      await knex.destroy();
    }

    const list = await run('redball', 'apikey', 'list');
    t.equal(list.code, 0);
    t.match(list.out[0], /^ID\s+NAME\s+CREATED\s+FINGERPRINT$/);
    t.match(list.out[1], new RegExp(`^1\\s+ci robot\\s+\\d{4}-\\d\\d-\\d\\dT\\S+\\s+${hashToken(key).slice(0, 8)}$`));
    t.match(list.out[2], /^2\s+\d{4}-/);
    t.notMatch(list.out.join('\n'), new RegExp(`${key}|${secondKey}|${KEY}`), 'no key is ever listed');
    const listed = await run('redball', 'apikey', 'list', '--json');
    t.equal(listed.code, 0);
    const doc = JSON.parse(listed.out.join('\n'));
    t.equal(doc.configured, 1);
    t.match(doc.keys, [
      { id: 1, name: 'ci robot', createdAt: /^\d{4}-/, fingerprint: hashToken(key).slice(0, 8) },
      { id: 2, name: '', fingerprint: hashToken(secondKey).slice(0, 8) },
    ]);
    t.equal(doc.keys.length, 2);
    t.notMatch(listed.out.join('\n'), new RegExp(`${key}|${secondKey}|${KEY}`), 'no key in the JSON listing either');

    // The key works against a running server, until it is revoked.
    const sb = await startTestKernel({ database: db.url, plugins: [{ plugin: redballPlugin, config }] });
    t.teardown(sb.close);
    t.equal((await call(sb, 'GET', '/bots', { key })).status, 200, 'the CLI key is accepted');
    t.equal((await call(sb, 'GET', '/bots')).status, 200, 'so is the configured key');
    const revoked = await run('redball', 'apikey', 'revoke', '1');
    t.same(revoked, { code: 0, out: ['API key 1 revoked.'], err: [] });
    await eventually('the revoked key to be refused', async () => ((await call(sb, 'GET', '/bots', { key })).status === 401 ? true : undefined), 5000);
    t.equal((await call(sb, 'GET', '/bots', { key: secondKey })).status, 200, 'the other key still works');
    const third = await run('redball', 'apikey', 'create', '-n', 'late');
    await eventually('a key created while the server runs to be accepted', async () => ((await call(sb, 'GET', '/bots', { key: third.out[0] })).status === 200 ? true : undefined), 5000);

    t.same(await run('redball', 'apikey', 'revoke', '1'), { code: 1, out: [], err: ['No stored API key has id 1.'] });
    t.same(await run('redball', 'apikey', 'revoke', 'abc'), { code: 2, out: [], err: ["'abc' is not an API key id; see 'switchboard redball apikey list'."] });
    t.equal((await run('redball', 'apikey', 'list')).out.length, 4, 'header, two keys, configured note');
  });
}
