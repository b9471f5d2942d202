/**
 * Each bot's settings are read once and kept until a change, on SQLite and PostgreSQL:
 * `GET /api/v1/bots/{id}` and `…/config` then answer without a query. Every write of
 * settings, a deleted bot, and a change announced by another instance drop them.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { databaseKinds, startTestKernel } from '../../../src/testing/index.js';
import { BotConfigStore, BotStore, redballPlugin } from '../../../plugins/redball/index.js';
import { call, KEY } from './fixtures/client.js';

const emptyBotsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'swb-redball-empty-'));
t.teardown(() => fs.rmSync(emptyBotsDir, { recursive: true, force: true }));

for (const kind of databaseKinds()) {
  t.test(kind, async (t) => {
    const sb = await startTestKernel({ database: kind, plugins: [{ plugin: redballPlugin, config: { apiKeys: [KEY], botsDir: emptyBotsDir } }] });
    t.teardown(sb.close);
    const ctx = sb.kernel.context('redball');
    const bots = ctx.container.resolve(BotStore);
    const config = ctx.container.resolve(BotConfigStore);
    const table = ctx.table('bot_config');
    const id = await bots.create({ name: 'cached', botType: 1, autoRun: false, redditAuth: null });
    await config.write(id, [{ category: 'Heartbeat', key: 'MESSAGE', val: 'one', description: '', type: 'str', options: [], subkeys: [], parent_key: '' }], 'replace');
    const message = async (route: string) => {
      const a = await call(sb, 'GET', route);
      t.equal(a.status, 200);
      return a.body.response.bots[0].config.Heartbeat[0].val as string;
    };

    t.equal(await message(`/bots/${id}`), 'one');
    // Changed behind the store's back (no announcement): the kept settings still answer.
    await ctx.db(table).where({ bot_id: id, key: 'MESSAGE' }).update({ val: JSON.stringify('behind') });
    t.equal(await message(`/bots/${id}`), 'one', 'kept: no query');
    t.equal(await message(`/bots/${id}/config`), 'one', 'kept for …/config too');

    // Another instance announces a change (as the cluster bridge delivers it).
    sb.kernel.events.emit('redball.settings.changed', { at: Date.now() });
    t.equal(await message(`/bots/${id}`), 'behind', 'dropped on a change announced elsewhere');

    const [setting] = (await config.grouped(id)).Heartbeat;
    await call(sb, 'PUT', `/bots/${id}/config/${setting.id}`, { form: { val: 'two' } });
    t.equal(await message(`/bots/${id}`), 'two', 'dropped by an update of one setting');
    await call(sb, 'POST', `/bots/${id}/config`, { json: { Heartbeat: [{ key: 'MESSAGE', val: 'three' }] } });
    t.equal(await message(`/bots/${id}`), 'two', 'POST keeps existing values (redball), and the answer says so');
    await call(sb, 'PUT', `/bots/${id}/config`, { json: { Heartbeat: [{ key: 'MESSAGE', val: 'three' }] } });
    t.equal(await message(`/bots/${id}/config`), 'three', 'dropped by a PUT of the document');
    await call(sb, 'DELETE', `/bots/${id}/config/${setting.id}`);
    t.same(Object.keys((await call(sb, 'GET', `/bots/${id}`)).body.response.bots[0].config), ['Logging'], 'dropped by a delete of one setting');

    let announced = 0;
    const off = sb.kernel.events.on('redball.settings.changed', () => void announced++);
    await call(sb, 'DELETE', `/bots/${id}`);
    off();
    t.equal(announced, 1, 'deleting a bot announces it');
    t.equal((await call(sb, 'GET', `/bots/${id}`)).status, 404);
  });
}
