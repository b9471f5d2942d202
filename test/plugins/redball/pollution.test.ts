/**
 * Prototype pollution through bot settings (issue 15, finding 1), on SQLite and PostgreSQL.
 *
 * The attack: `POST /bots/<id>/config` with `category=__proto__`, `key=apikey`, `val=x`, then
 * `PUT /bots/<id>/start`; building the bot's settings object wrote `apikey` onto
 * Object.prototype, and from then on Knex added it to every UPDATE in every family.
 *
 * Now `__proto__`, `constructor` and `prototype` are refused as category, key, parent_key and
 * subkey names with redball's 400, whatever way the setting is sent, and nothing is written;
 * and settings already stored under such names (before they were refused) are read into
 * null-prototype objects, so that they cannot reach Object.prototype either.
 */
import t, { type Test } from 'tap';
import { databaseKinds, startTestKernel, type TestKernel } from '../../../src/testing/index.js';
import { redballPlugin } from '../../../plugins/redball/index.js';
import { settingRow } from '../../../plugins/redball/stores/bot-config-store.js';
import { call, eventually, KEY, type Answer } from './fixtures/client.js';

const RESERVED = ['__proto__', 'constructor', 'prototype'];
const prototypeNames = Object.getOwnPropertyNames(Object.prototype).sort();

/** Object.prototype is as it was: no property added, `({}).apikey` and friends undefined. */
function assertClean(t: Test, when: string): void {
  const plain = {} as Record<string, unknown>;
  t.equal(plain.apikey, undefined, `${when}: ({}).apikey is undefined`);
  t.equal(plain.polluted, undefined, `${when}: ({}).polluted is undefined`);
  t.same(Object.getOwnPropertyNames(Object.prototype).sort(), prototypeNames, `${when}: Object.prototype has no new property`);
}

function assertRefused(t: Test, a: Answer, name: string, what: string): void {
  t.equal(a.status, 400, `${what}: 400`);
  t.equal((a.body.errors as string[])[0], '400 Bad Request', `${what}: redball's status line`);
  t.match((a.body.errors as string[]).slice(1).join(' '), new RegExp(`must not be '${name}' \\(__proto__, constructor, prototype are reserved\\)`), `${what}: says why`);
  t.equal(a.body.response, '');
}

t.teardown(() => {
  // Never leave a polluted prototype to the rest of the process, whatever happened.
  for (const name of Object.getOwnPropertyNames(Object.prototype)) if (!prototypeNames.includes(name)) delete (Object.prototype as Record<string, unknown>)[name];
});

for (const kind of databaseKinds()) {
  t.test(kind, async (t) => {
    const sb: TestKernel = await startTestKernel({
      database: kind,
      plugins: [{ plugin: redballPlugin, config: { apiKeys: [KEY], botsDir: '/nonexistent-swb-bots', stopGraceMs: 500 } }],
    });
    t.teardown(sb.close);
    const ctx = sb.kernel.context('redball');
    const created = await call(sb, 'POST', '/bots', { form: { name: 'target', botType: '1', autoRun: 'False' } });
    t.equal(created.status, 200);
    const id = created.body.response.bots[0].id as number;
    const config = async () => (await call(sb, 'GET', `/bots/${id}/config`)).body.response.bots[0].config;
    const before = await config();
    t.same(Object.keys(before), ['Logging'], 'only the system settings');
    const settingId = before.Logging[1].id as number;

    t.test('reserved names are refused however a setting is sent, and nothing is written', async (t) => {
      for (const name of RESERVED) {
        for (const method of ['POST', 'PUT']) {
          assertRefused(t, await call(sb, method, `/bots/${id}/config`, { form: { category: name, key: 'apikey', val: 'x' } }), name, `${method} form category ${name}`);
          assertRefused(t, await call(sb, method, `/bots/${id}/config`, { form: { category: 'General', key: name, val: 'x' } }), name, `${method} form key ${name}`);
          assertRefused(t, await call(sb, method, `/bots/${id}/config`, { query: { category: name, key: 'apikey', val: 'x' } }), name, `${method} query category ${name}`);
          // A settings document: JSON.stringify would drop a literal __proto__ key, so it is written out.
          const doc = `{"${name}": [{"key": "apikey", "val": "x"}], "General": [{"key": "OK", "val": "fine"}]}`;
          assertRefused(t, await call(sb, method, `/bots/${id}/config`, { raw: { body: doc, type: 'application/json' } }), name, `${method} document category ${name}`);
          const keyDoc = `{"General": [{"key": "${name}", "val": "x"}]}`;
          assertRefused(t, await call(sb, method, `/bots/${id}/config`, { raw: { body: keyDoc, type: 'application/json' } }), name, `${method} document key ${name}`);
          const single = `{"category": "${name}", "key": "apikey", "val": "x"}`;
          assertRefused(t, await call(sb, method, `/bots/${id}/config`, { raw: { body: single, type: 'application/json' } }), name, `${method} JSON single setting ${name}`);
        }
        assertRefused(t, await call(sb, 'POST', `/bots/${id}/config`, { form: { category: 'General', key: 'CHILD', val: 'x', parent_key: name } }), name, `parent_key ${name}`);
        assertRefused(t, await call(sb, 'POST', `/bots/${id}/config`, { json: { General: [{ key: 'PARENT', val: 'x', subkeys: ['OK', name] }] } }), name, `subkeys with ${name}`);
        // Renaming a stored setting: the name is refused before anything else is looked at.
        for (const field of ['category', 'key']) {
          assertRefused(t, await call(sb, 'PUT', `/bots/${id}/config/${settingId}`, { form: { [field]: name } }), name, `PUT …/config/<id> ${field} ${name}`);
        }
      }
      t.same(await config(), before, 'the settings are unchanged');
      assertClean(t, 'after the requests');
    });

    t.test('parameters named __proto__ are only parameters nobody reads', async (t) => {
      // A JSON body's "__proto__" must not become the prototype of the merged parameters
      // (that would supply every parameter the request left out).
      const injected = await call(sb, 'POST', '/bots', { raw: { body: '{"__proto__": {"name": "injected"}, "botType": 1, "autoRun": "False"}', type: 'application/json' } });
      t.equal(injected.status, 400);
      t.same(injected.body.errors, ['400 Bad Request', "Missing required parameter 'name'."]);
      const update = await call(sb, 'PUT', `/bots/${id}`, { raw: { body: '{"__proto__": {"name": "injected"}}', type: 'application/json' } });
      t.same([update.status, (update.body.errors as string[])[1]], [400, 'Nothing provided to update; give any of name, botType, autoRun, redditAuth.']);
      const extra = await call(sb, 'POST', '/bots', { form: { name: 'with extras', botType: '1', autoRun: 'False', __proto__: 'x', constructor: 'y', prototype: 'z' } });
      t.equal(extra.status, 200, 'unknown parameters with these names are ignored, like any unknown parameter');
      t.same(
        ((await call(sb, 'GET', '/bots')).body.response.bots as Array<{ name: string }>).map((b) => b.name),
        ['target', 'with extras'],
      );
      t.equal((await call(sb, 'DELETE', `/bots/${extra.body.response.bots[0].id}`)).status, 200);
      assertClean(t, 'after the requests');
    });

    t.test('after the attack the bot starts, and writes in every table still work', async (t) => {
      // The attack as reported, once more, with the start that used to pollute.
      assertRefused(t, await call(sb, 'POST', `/bots/${id}/config`, { form: { category: '__proto__', key: 'apikey', val: 'x' } }), '__proto__', 'the reported request');
      t.equal((await call(sb, 'POST', `/bots/${id}/config`, { json: { Heartbeat: [{ key: 'INTERVAL_MS', type: 'int', val: 20 }] } })).status, 200);
      t.same((await call(sb, 'PUT', `/bots/${id}/start`)).body.response, { result: true });
      const running = await eventually('two heartbeats', async () => {
        const bot = (await call(sb, 'GET', `/bots/${id}`)).body.response.bots[0];
        return bot.status === 'Running' && bot.detailedState.heartbeat?.count >= 2 ? bot : undefined;
      });
      t.notOk(running.detailedState.error);
      assertClean(t, 'with the bot running');
      const put = await call(sb, 'PUT', `/bots/${id}`, { form: { name: 'target renamed' } });
      t.same([put.status, put.body.errors], [200, ''], 'a bot PUT (an UPDATE) still works');
      t.equal((await call(sb, 'GET', `/bots/${id}`)).body.response.bots[0].name, 'target renamed');
      t.same((await call(sb, 'PUT', `/bots/${id}/stop`)).body.response, { result: true });
    });

    t.test('settings stored under reserved names before they were refused cannot pollute either', async (t) => {
      // What a database written by an earlier version may hold, for a bot of its own.
      const made = await call(sb, 'POST', '/bots', { form: { name: 'legacy', botType: '1', autoRun: 'False' } });
      const id = made.body.response.bots[0].id as number;
      const table = ctx.table('bot_config');
      const stored = [
        { category: '__proto__', key: 'apikey', val: 'x' },
        { category: '__proto__', key: 'polluted', val: 'yes' },
        { category: 'constructor', key: 'prototype', val: 'x' },
        { category: 'Heartbeat', key: 'INTERVAL_MS', val: '20' },
        { category: 'Heartbeat', key: '__proto__', val: 'x' },
        { category: 'Heartbeat', key: 'MESSAGE', val: 'still beating' },
      ];
      for (const s of stored) {
        await ctx.db(table).insert(settingRow(id, { ...s, description: '', type: 'str', options: [], subkeys: [], parent_key: '' }));
      }
      t.same((await call(sb, 'PUT', `/bots/${id}/start`)).body.response, { result: true });
      const running = await eventually('a heartbeat with the stored message', async () => {
        const bot = (await call(sb, 'GET', `/bots/${id}`)).body.response.bots[0];
        return bot?.status === 'Running' && /^still beating #\d+/.test(bot.detailedState.summary.text) ? bot : undefined;
      });
      assertClean(t, 'after a start with such settings');
      t.same(
        Object.keys(running.config).sort(),
        ['Heartbeat', 'Logging', '__proto__', 'constructor'],
        'GET /bots/<id> answers them as ordinary categories',
      );
      t.same(running.config['__proto__'].map((s: { key: string }) => s.key), ['apikey', 'polluted']);
      const one = await call(sb, 'GET', `/bots/${id}/config`);
      t.equal(one.status, 200);
      t.same(one.body.response.bots[0].config.Heartbeat.map((s: { key: string }) => s.key), ['INTERVAL_MS', '__proto__', 'MESSAGE']);
      const put = await call(sb, 'PUT', `/bots/${id}`, { form: { autoRun: 'True' } });
      t.same([put.status, put.body.errors], [200, ''], 'a bot PUT still works');
      t.same((await call(sb, 'PUT', `/bots/${id}/stop`)).body.response, { result: true });
      // They can be deleted.
      t.equal((await call(sb, 'DELETE', `/bots/${id}/config`)).status, 200);
      t.same(Object.keys((await call(sb, 'GET', `/bots/${id}/config`)).body.response.bots[0].config), ['Logging']);
      assertClean(t, 'at the end');
    });
  });
}
