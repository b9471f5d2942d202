/**
 * The whole redball API walked as a client would, on SQLite and PostgreSQL: bot types,
 * reddit authorizations, bots, settings in the spec's JSON shape, start/stop of a bot that
 * really runs, deletion, every error status in its envelope, and the API key.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { Validator } from '@seriousme/openapi-schema-validator';
import { databaseKinds, startTestKernel, type TestKernel } from '../../../src/testing/index.js';
import { BotRunner, redballPlugin } from '../../../plugins/redball/index.js';
import { call, eventually, KEY } from './fixtures/client.js';

const emptyBotsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'swb-redball-empty-'));
t.teardown(() => fs.rmSync(emptyBotsDir, { recursive: true, force: true }));

const initialState = { summary: { text: '', html: '', markdown: '' } };

/** Asserts an error envelope: status, the status line first, then details matching `details`. */
function assertError(t: Test, a: Awaited<ReturnType<typeof call>>, status: number, line: string, ...details: RegExp[]) {
  t.equal(a.status, status, `status ${status}`);
  t.equal(a.body.meta.api_version, 1);
  t.type(a.body.meta.timestamp, 'number');
  t.equal(a.body.response, '');
  t.ok(Array.isArray(a.body.errors), 'errors is a list');
  t.equal((a.body.errors as string[])[0], line);
  for (const d of details) t.match((a.body.errors as string[]).slice(1).join(' | '), d);
}

for (const kind of databaseKinds()) {
  t.test(kind, async (t) => {
    const sb: TestKernel = await startTestKernel({
      database: kind,
      plugins: [{ plugin: redballPlugin, config: { apiKeys: [KEY], botsDir: emptyBotsDir, stopGraceMs: 500 } }],
    });
    t.teardown(sb.close);
    const ctx = sb.kernel.context('redball');
    const runner = ctx.container.resolve(BotRunner);
    let echoType = 0;
    let authId = 0;
    let botId = 0;

    t.test('the envelope and the API key', async (t) => {
      const before = Date.now() / 1000;
      const ok = await call(sb, 'GET', '/bots');
      t.equal(ok.status, 200);
      t.match(ok.headers.get('content-type'), /application\/json/);
      t.same(Object.keys(ok.body), ['meta', 'errors', 'response']);
      t.equal(ok.body.meta.api_version, 1);
      t.ok(ok.body.meta.timestamp >= before - 1 && ok.body.meta.timestamp <= Date.now() / 1000 + 1, 'timestamp is now, in seconds');
      t.equal(ok.body.errors, '');
      t.same(ok.body.response, { bots: [] });

      for (const key of [null, '', 'wrong-key-0123456789abcdef', `${KEY}x`]) {
        const a = await call(sb, 'GET', '/bots', { key });
        t.equal(a.status, 401, `key ${JSON.stringify(key)}`);
        t.same(a.body.errors, ['401 Unauthorized']);
        t.equal(a.body.response, '');
      }
      // A write without a key changes nothing.
      t.equal((await call(sb, 'POST', '/bots', { key: null, form: { name: 'nokey', botType: '1', autoRun: 'False' } })).status, 401);
      // The key may come in a form body too.
      const form = await call(sb, 'POST', '/bottypes', { key: null, form: { apikey: KEY, description: 'Form Key Type', moduleName: 'form_key' } });
      t.equal(form.status, 200);
      t.equal((await call(sb, 'DELETE', `/bottypes/${form.body.response.botTypes[0].id}`, { key: null, form: { apikey: KEY } })).status, 200);
    });

    t.test('bot types', async (t) => {
      const list = await call(sb, 'GET', '/bottypes');
      t.same(list.body.response, { botTypes: [{ id: 1, name: 'heartbeat', description: 'Heartbeat', moduleName: 'heartbeat' }] }, 'the built-in type is there');

      const created = await call(sb, 'POST', '/bottypes', { form: { description: '  Echo Bot ', moduleName: 'echo' } });
      t.equal(created.status, 200);
      echoType = created.body.response.botTypes[0].id;
      t.same(created.body.response, { botTypes: [{ id: echoType }] });
      t.same((await call(sb, 'GET', `/bottypes/${echoType}`)).body.response, { botTypes: [{ id: echoType, name: 'echo-bot', description: 'Echo Bot', moduleName: 'echo' }] });
      t.same((await call(sb, 'GET', `/bottypes/${echoType}/moduleName`)).body.response, { botTypes: [{ id: String(echoType), moduleName: 'echo' }] });
      t.same((await call(sb, 'GET', `/botTypes/${echoType}/modulename`)).body.response, { botTypes: [{ id: String(echoType), moduleName: 'echo' }] }, 'paths and field names in any case');

      // Parameters from the query string work as well as a form.
      const viaQuery = await call(sb, 'POST', '/bottypes', { query: { description: 'Query Type', moduleName: 'query_type.mjs' } });
      t.equal(viaQuery.status, 200);
      const queryType = viaQuery.body.response.botTypes[0].id;

      assertError(t, await call(sb, 'POST', '/bottypes', { form: { description: 'echo bot', moduleName: 'other' } }), 400, '400 Bad Request', /bot type named 'echo-bot' already exists/);
      assertError(t, await call(sb, 'POST', '/bottypes', { form: {} }), 400, '400 Bad Request', /Missing required parameters: 'description', 'moduleName'/);
      assertError(t, await call(sb, 'POST', '/bottypes', { form: { description: 'x' } }), 400, '400 Bad Request', /Missing required parameter 'moduleName'/);
      for (const bad of ['../outside', '/etc/passwd', 'a/../../b', 'c:evil', 'a\\b']) {
        assertError(t, await call(sb, 'POST', '/bottypes', { form: { description: `bad ${bad}`, moduleName: bad } }), 400, '400 Bad Request', /moduleName/);
      }
      assertError(t, await call(sb, 'POST', '/bottypes', { form: { description: 'repeated', moduleName: ['a', 'b'] } }), 400, '400 Bad Request', /Parameter 'moduleName' must be string/);
      t.equal((await call(sb, 'GET', '/bottypes')).body.response.botTypes.length, 3, 'nothing was written by the refused requests');

      assertError(t, await call(sb, 'PUT', `/bottypes/${queryType}`, { form: {} }), 400, '400 Bad Request', /Nothing provided to update/);
      t.equal((await call(sb, 'PUT', `/bottypes/${queryType}`, { form: { description: 'Query Type v2' } })).status, 200);
      t.same((await call(sb, 'GET', `/bottypes/${queryType}`)).body.response.botTypes[0], { id: queryType, name: 'query-type', description: 'Query Type v2', moduleName: 'query_type.mjs' }, 'the name stays');
      assertError(t, await call(sb, 'GET', `/bottypes/${queryType}/nope`), 400, '400 Bad Request', /Unknown field 'nope'/);
      t.equal((await call(sb, 'DELETE', `/bottypes/${queryType}`)).status, 200);
      for (const [method, p] of [['GET', '/bottypes/999'], ['GET', '/bottypes/999/name'], ['PUT', '/bottypes/999'], ['DELETE', '/bottypes/999'], ['GET', '/bottypes/abc'], ['GET', '/bottypes/99999999999']]) {
        assertError(t, await call(sb, method, p, { form: { description: 'x' } }), 404, '404 Not Found', /Bot type .* was not found/);
      }
    });

    t.test('reddit authorizations', async (t) => {
      const created = await call(sb, 'POST', '/redditauths', {
        form: { description: 'MyBot AllScopes', reddit_appId: 'app-id-1', reddit_appSecret: 'app-secret-value-1', reddit_scopes: "['identity','read', 'submit']" },
      });
      t.equal(created.status, 200);
      authId = created.body.response.redditAuths[0].id;
      const got = await call(sb, 'GET', `/redditAuths/${authId}`);
      const auth = got.body.response.redditAuths[0];
      t.match(auth, { id: authId, description: 'MyBot AllScopes', reddit_appId: 'app-id-1', reddit_appSecret: 'app-secret-value-1', reddit_scopes: '["identity", "read", "submit"]', reddit_refreshToken: null });
      t.match(auth.reddit_uniqueCode, /^[0-9a-f]{32}$/);
      t.same(Object.keys(auth), ['id', 'description', 'reddit_appId', 'reddit_appSecret', 'reddit_scopes', 'reddit_refreshToken', 'reddit_uniqueCode']);

      const json = await call(sb, 'POST', '/redditauths', { json: { description: 'Second', reddit_appId: 'app-2', reddit_appSecret: 'secret-2-secret', reddit_scopes: ['edit'], reddit_refreshToken: 'refresh-token-2' } });
      t.equal(json.status, 200, 'a JSON body with a JSON list of scopes');
      const second = json.body.response.redditAuths[0].id;
      t.same((await call(sb, 'GET', `/redditauths/${second}/reddit_scopes`)).body.response, { redditAuths: [{ id: String(second), reddit_scopes: '["edit"]' }] });
      t.equal((await call(sb, 'GET', '/redditauths')).body.response.redditAuths.length, 2);

      assertError(t, await call(sb, 'POST', '/redditauths', { form: { description: 'x' } }), 400, '400 Bad Request', /Missing required parameters: 'reddit_appId', 'reddit_appSecret', 'reddit_scopes'/);
      assertError(t, await call(sb, 'POST', '/redditauths', { form: { description: 'bad scopes', reddit_appId: 'a', reddit_appSecret: 'b', reddit_scopes: "['ok', 'no way']" } }), 400, '400 Bad Request', /reddit_scopes/);
      assertError(t, await call(sb, 'POST', '/redditauths', { form: { description: 'MyBot AllScopes', reddit_appId: 'a', reddit_appSecret: 'b', reddit_scopes: 'read' } }), 400, '400 Bad Request', /already exists/);

      t.equal((await call(sb, 'PUT', `/redditauths/${second}`, { form: { reddit_refreshToken: 'new-refresh-token', reddit_scopes: 'read,identity' } })).status, 200);
      t.match((await call(sb, 'GET', `/redditauths/${second}`)).body.response.redditAuths[0], { reddit_refreshToken: 'new-refresh-token', reddit_scopes: '["read", "identity"]', reddit_appSecret: 'secret-2-secret' });
      t.equal((await call(sb, 'PUT', `/redditauths/${second}`, { form: { reddit_refreshToken: '' } })).status, 200);
      t.equal((await call(sb, 'GET', `/redditauths/${second}/reddit_refreshToken`)).body.response.redditAuths[0].reddit_refreshToken, null, 'an empty token clears it');
      assertError(t, await call(sb, 'PUT', `/redditauths/${second}`, { form: {} }), 400, '400 Bad Request', /Nothing provided/);
      assertError(t, await call(sb, 'PUT', `/redditauths/${second}`, { form: { description: 'MyBot AllScopes' } }), 400, '400 Bad Request', /already exists/);
      t.equal((await call(sb, 'DELETE', `/redditauths/${second}`)).status, 200);
      assertError(t, await call(sb, 'GET', `/redditauths/${second}`), 404, '404 Not Found', /Reddit authorization \d+ was not found/);
      assertError(t, await call(sb, 'DELETE', `/redditauths/${second}`), 404, '404 Not Found');

      // The secrets never reach the log.
      ctx.logger.info({ leaked: 'app-secret-value-1' }, 'secret check new-refresh-token');
      const lines = sb.kernel.logs.entries().map((e) => e.message).join('\n');
      t.notMatch(lines, /new-refresh-token/);
    });

    t.test('bots', async (t) => {
      const created = await call(sb, 'POST', '/bots', { form: { name: 'heart', botType: '1', autoRun: 'False', redditAuth: String(authId) } });
      t.equal(created.status, 200);
      botId = created.body.response.bots[0].id;
      t.same(created.body.response, { bots: [{ id: botId }] });

      const list = await call(sb, 'GET', '/bots');
      t.same(list.body.response, { bots: [{ id: botId, name: 'heart', botType: 1, redditAuth: authId, autoRun: 'False', status: 'Stopped', detailedState: initialState }] });
      const one = await call(sb, 'GET', `/bots/${botId}`);
      t.same(Object.keys(one.body.response.bots[0]), ['id', 'name', 'botType', 'redditAuth', 'autoRun', 'status', 'detailedState', 'config']);
      t.same(Object.keys(one.body.response.bots[0].config), ['Logging'], 'a new bot has the system settings');
      t.same((await call(sb, 'GET', `/bots/${botId}/name`)).body.response, { bots: [{ id: String(botId), name: 'heart' }] });
      t.same((await call(sb, 'GET', `/bots/${botId}/AUTORUN`)).body.response, { bots: [{ id: String(botId), autoRun: 'False' }] });
      t.same((await call(sb, 'GET', `/bots/${botId}/status`)).body.response, { bots: [{ id: String(botId), status: 'Stopped' }] });
      assertError(t, await call(sb, 'GET', `/bots/${botId}/nope`), 400, '400 Bad Request', /Unknown field 'nope' of bots/);

      // JSON bodies and true booleans work too; redditAuth is optional.
      // The cached list is written around its text with a length counted once: in bytes, not characters.
      const wide = (await call(sb, 'POST', '/bots', { json: { name: 'Grüße ✓ 🤖', botType: 1, autoRun: false } })).body.response.bots[0].id;
      const raw = await sb.fetch(`/api/v1/bots?apikey=${KEY}`);
      const text = await raw.text();
      t.equal(Number(raw.headers.get('content-length')), Buffer.byteLength(text), 'Content-Length counts UTF-8 bytes');
      t.match(JSON.parse(text).response.bots, [{ id: botId }, { id: wide, name: 'Grüße ✓ 🤖' }]);
      t.equal((await call(sb, 'DELETE', `/bots/${wide}`)).status, 200);

      const json = await call(sb, 'POST', '/bots', { json: { name: 'other', botType: echoType, autoRun: true } });
      t.equal(json.status, 200);
      const other = json.body.response.bots[0].id;
      t.match((await call(sb, 'GET', `/bots/${other}`)).body.response.bots[0], { autoRun: 'True', redditAuth: null, botType: echoType });

      assertError(t, await call(sb, 'POST', '/bots', { form: { name: 'x' } }), 400, '400 Bad Request', /Missing required parameters: 'botType', 'autoRun'/);
      assertError(t, await call(sb, 'POST', '/bots', { form: { botType: '1', autoRun: 'true' } }), 400, '400 Bad Request', /Missing required parameter 'name'/);
      assertError(t, await call(sb, 'POST', '/bots', { form: { name: 'heart', botType: '1', autoRun: 'False' } }), 400, '400 Bad Request', /A bot named 'heart' already exists/);
      assertError(t, await call(sb, 'POST', '/bots', { form: { name: 'n1', botType: '999', autoRun: 'False' } }), 400, '400 Bad Request', /botType 999 is not the id of an existing bot type/);
      assertError(t, await call(sb, 'POST', '/bots', { form: { name: 'n2', botType: 'abc', autoRun: 'False' } }), 400, '400 Bad Request', /'botType' must be the integer id/);
      assertError(t, await call(sb, 'POST', '/bots', { form: { name: 'n3', botType: '1', autoRun: 'maybe' } }), 400, '400 Bad Request', /'autoRun' must be True or False \(got 'maybe'\)/);
      assertError(t, await call(sb, 'POST', '/bots', { form: { name: 'n4', botType: '1', autoRun: 'False', redditAuth: '77' } }), 400, '400 Bad Request', /redditAuth 77 is not the id of an existing reddit authorization/);
      assertError(t, await call(sb, 'POST', '/bots', { json: { name: 'n5', botType: 1, autoRun: 1 } }), 400, '400 Bad Request', /autoRun/);
      assertError(t, await call(sb, 'POST', '/bots', { json: [1, 2] }), 400, '400 Bad Request', /must be an object/);
      assertError(t, await call(sb, 'POST', '/bots', { raw: { body: '{"name":', type: 'application/json' } }), 400, '400 Bad Request', /not valid JSON/);
      assertError(t, await call(sb, 'POST', '/bots', { form: { name: 'x'.repeat(201), botType: '1', autoRun: 'False' } }), 400, '400 Bad Request', /at most 200 characters/);
      t.equal((await call(sb, 'GET', '/bots')).body.response.bots.length, 2, 'refused requests wrote nothing');

      assertError(t, await call(sb, 'PUT', `/bots/${other}`, { form: {} }), 400, '400 Bad Request', /Nothing provided to update/);
      assertError(t, await call(sb, 'PUT', `/bots/${other}`, { form: { name: 'heart' } }), 400, '400 Bad Request', /already exists/);
      assertError(t, await call(sb, 'PUT', `/bots/${other}`, { form: { botType: '999' } }), 400, '400 Bad Request', /botType 999/);
      t.equal((await call(sb, 'PUT', `/bots/${other}`, { form: { name: 'renamed', autoRun: 'false', redditAuth: String(authId) } })).status, 200);
      t.match((await call(sb, 'GET', `/bots/${other}`)).body.response.bots[0], { name: 'renamed', autoRun: 'False', redditAuth: authId });
      t.equal((await call(sb, 'PUT', `/bots/${other}`, { query: { redditAuth: '' } })).status, 200);
      t.equal((await call(sb, 'GET', `/bots/${other}/redditAuth`)).body.response.bots[0].redditAuth, null, 'an empty redditAuth detaches it');
      t.equal((await call(sb, 'PUT', `/bots/${other}`, { form: { redditAuth: String(authId) } })).status, 200);
      t.equal((await call(sb, 'PUT', `/bots/${other}`, { form: { redditAuth: '0' } })).status, 200);
      t.equal((await call(sb, 'GET', `/bots/${other}/redditAuth`)).body.response.bots[0].redditAuth, null, "0 (redball's 'None') detaches it too");

      // Records in use cannot be deleted.
      assertError(t, await call(sb, 'DELETE', `/bottypes/${echoType}`), 400, '400 Bad Request', new RegExp(`used by bot ${other}`));
      assertError(t, await call(sb, 'DELETE', `/redditauths/${authId}`), 400, '400 Bad Request', new RegExp(`used by bot ${botId}`));
      t.equal((await call(sb, 'DELETE', `/bots/${other}`)).status, 200);
      t.equal((await call(sb, 'DELETE', `/bottypes/${echoType}`)).status, 200, 'unused now');
      echoType = (await call(sb, 'POST', '/bottypes', { form: { description: 'Echo Bot', moduleName: 'echo' } })).body.response.botTypes[0].id;
    });

    t.test('settings: the JSON document, POST preserves, PUT replaces, delete', async (t) => {
      const doc = {
        Heartbeat: [
          { key: 'INTERVAL_MS', description: 'Beat interval', type: 'int', val: '20', options: [], subkeys: [], parent_key: '' },
          { key: 'MESSAGE', description: '', type: 'str', val: 'lub-dub' },
        ],
        Extra: [
          { key: 'ENABLED', type: 'bool', val: 'True', subkeys: ['TEAMS'] },
          { key: 'TEAMS', type: 'list', val: 'NYY, BOS ,TOR', parent_key: 'ENABLED' },
          { key: 'MODE', val: 'fast', options: ['fast', 'slow'] },
        ],
      };
      const written = await call(sb, 'POST', `/bots/${botId}/config`, { json: doc });
      t.same([written.status, written.body.errors, written.body.response], [200, '', ''], 'written');
      const read = await call(sb, 'GET', `/bots/${botId}/config`);
      const config = read.body.response.bots[0].config;
      t.equal(read.body.response.bots[0].id, String(botId));
      t.same(Object.keys(config), ['Extra', 'Heartbeat', 'Logging']);
      const byKey = (cat: string, key: string) => config[cat].find((s: { key: string }) => s.key === key);
      t.same(Object.keys(byKey('Heartbeat', 'INTERVAL_MS')), ['id', 'botId', 'key', 'description', 'type', 'val', 'options', 'subkeys', 'parent_key']);
      t.match(byKey('Heartbeat', 'INTERVAL_MS'), { botId, key: 'INTERVAL_MS', description: 'Beat interval', type: 'int', val: 20, options: [], subkeys: [], parent_key: '' });
      t.match(byKey('Heartbeat', 'MESSAGE'), { type: 'str', val: 'lub-dub', description: '' });
      t.same(byKey('Extra', 'ENABLED').val, true);
      t.same(byKey('Extra', 'ENABLED').options, [true, false], 'bool settings get [true, false] options');
      t.same(byKey('Extra', 'TEAMS').val, ['NYY', 'BOS', 'TOR']);
      t.same(byKey('Extra', 'MODE').options, ['fast', 'slow']);

      // The exported document (with id and botId) can be posted back unchanged.
      t.equal((await call(sb, 'PUT', `/bots/${botId}/config`, { json: config })).status, 200, 'round trip');
      t.same((await call(sb, 'GET', `/bots/${botId}/config`)).body.response.bots[0].config, config, 'the round trip changes nothing');

      // POST again: existing values are preserved, new keys are added.
      await call(sb, 'POST', `/bots/${botId}/config`, { json: { Heartbeat: [{ key: 'MESSAGE', val: 'changed' }, { key: 'NEW', val: 'added' }] } });
      let now = (await call(sb, 'GET', `/bots/${botId}/config`)).body.response.bots[0].config;
      t.equal(now.Heartbeat.find((s: { key: string }) => s.key === 'MESSAGE').val, 'lub-dub', 'POST kept the value');
      t.equal(now.Heartbeat.find((s: { key: string }) => s.key === 'NEW').val, 'added', 'POST added the new key');
      // PUT overwrites.
      await call(sb, 'PUT', `/bots/${botId}/config`, { json: { Heartbeat: [{ key: 'MESSAGE', val: 'changed', description: 'The text' }] } });
      now = (await call(sb, 'GET', `/bots/${botId}/config`)).body.response.bots[0].config;
      const message = now.Heartbeat.find((s: { key: string }) => s.key === 'MESSAGE');
      t.match(message, { val: 'changed', description: 'The text', id: byKey('Heartbeat', 'MESSAGE').id }, 'PUT replaced the value, same id');
      t.ok(now.Heartbeat.find((s: { key: string }) => s.key === 'NEW'), 'PUT deleted nothing');

      // One setting from form fields; one setting by id.
      t.equal((await call(sb, 'POST', `/bots/${botId}/config`, { form: { category: 'Single', key: 'COUNT', val: '7', type: 'int', description: 'A count' } })).status, 200);
      const single = (await call(sb, 'GET', `/bots/${botId}/config`)).body.response.bots[0].config.Single[0];
      t.match(single, { key: 'COUNT', val: 7, type: 'int', description: 'A count' });
      t.same((await call(sb, 'GET', `/bots/${botId}/config/${single.id}`)).body.response, { bots: [{ id: String(botId), config: { Single: [single] } }] });
      t.equal((await call(sb, 'PUT', `/bots/${botId}/config/${single.id}`, { form: { val: '8' } })).status, 200);
      t.equal((await call(sb, 'GET', `/bots/${botId}/config/${single.id}`)).body.response.bots[0].config.Single[0].val, 8);
      assertError(t, await call(sb, 'PUT', `/bots/${botId}/config/${single.id}`, { form: { val: 'eight' } }), 400, '400 Bad Request', /must be an integer/);
      assertError(t, await call(sb, 'PUT', `/bots/${botId}/config/${single.id}`, { form: { type: 'bool' } }), 400, '400 Bad Request', /must be true or false/);
      assertError(t, await call(sb, 'PUT', `/bots/${botId}/config/${single.id}`, { form: { category: 'Heartbeat', key: 'MESSAGE' } }), 400, '400 Bad Request', /already has a setting 'MESSAGE'/);
      assertError(t, await call(sb, 'PUT', `/bots/${botId}/config/${single.id}`, { form: { nothing: 'x' } }), 400, '400 Bad Request', /Nothing provided/);
      assertError(t, await call(sb, 'POST', `/bots/${botId}/config`, { form: { category: 'Single', key: 'X' } }), 400, '400 Bad Request', /Missing required parameter 'val'/);
      assertError(t, await call(sb, 'POST', `/bots/${botId}/config`, { form: {} }), 400, '400 Bad Request', /No settings given/);

      // A document with one bad setting writes nothing at all.
      const before = (await call(sb, 'GET', `/bots/${botId}/config`)).body.response.bots[0].config;
      const bad = await call(sb, 'PUT', `/bots/${botId}/config`, {
        json: { Heartbeat: [{ key: 'MESSAGE', val: 'should not be written' }], Broken: [{ key: 'N', type: 'int', val: 'abc' }, { key: 'NO_VAL' }, { val: 1 }], Wrong: 'x' },
      });
      assertError(t, bad, 400, '400 Bad Request', /Setting 1 of category 'Broken': 'val' must be an integer/, /Setting 2 of category 'Broken' is missing required field 'val'/, /Setting 3 of category 'Broken' is missing required field 'key'/, /Category 'Wrong' must be a list/);
      t.same((await call(sb, 'GET', `/bots/${botId}/config`)).body.response.bots[0].config, before, 'nothing was written');
      assertError(t, await call(sb, 'POST', `/bots/${botId}/config`, { json: [1] }), 400, '400 Bad Request', /must be a JSON object/);
      assertError(t, await call(sb, 'POST', `/bots/${botId}/config`, { json: { A: [{ key: 'K', val: 1, type: 'float' }] } }), 400, '400 Bad Request', /'type' must be one of str, int, bool, list/);

      // Deleting: one setting, a system setting (refused), then all.
      t.equal((await call(sb, 'DELETE', `/bots/${botId}/config/${single.id}`)).status, 200);
      assertError(t, await call(sb, 'GET', `/bots/${botId}/config/${single.id}`), 404, '404 Not Found', /Setting \d+ of bot \d+ was not found/);
      assertError(t, await call(sb, 'DELETE', `/bots/${botId}/config/${single.id}`), 404, '404 Not Found');
      const system = before.Logging[0];
      assertError(t, await call(sb, 'DELETE', `/bots/${botId}/config/${system.id}`), 400, '400 Bad Request', /system setting/);
      t.equal((await call(sb, 'DELETE', `/bots/${botId}/config`)).status, 200);
      t.same(Object.keys((await call(sb, 'GET', `/bots/${botId}/config`)).body.response.bots[0].config), ['Logging'], 'only the system settings remain');
      // Put back what the heartbeat needs for the next test.
      await call(sb, 'POST', `/bots/${botId}/config`, { json: { Heartbeat: [{ key: 'INTERVAL_MS', type: 'int', val: 20 }, { key: 'MESSAGE', val: 'lub-dub' }] } });
    });

    t.test('start, observe, stop, stop again', async (t) => {
      const started = await call(sb, 'PUT', `/bots/${botId}/start`);
      t.same([started.status, started.body.errors, started.body.response], [200, '', { result: true }]);
      t.equal((await call(sb, 'GET', `/bots/${botId}/status`)).body.response.bots[0].status, 'Running', 'Running as soon as start answers');
      const count = async () => (await call(sb, 'GET', `/bots/${botId}/detailedState`)).body.response.bots[0].detailedState.heartbeat?.count as number | undefined;
      const first = await eventually('a first heartbeat', count);
      const later = await eventually('the detailedState to change', async () => {
        const c = await count();
        return c !== undefined && c > first ? c : undefined;
      });
      t.ok(later > first, `the heartbeat counts on (${first} → ${later})`);
      const state = (await call(sb, 'GET', `/bots/${botId}`)).body.response.bots[0].detailedState;
      t.match(state.summary.text, /^lub-dub #\d+ at /, 'the bot got its settings');
      t.equal(state.heartbeat.intervalMs, 20);
      t.same((await call(sb, 'PUT', `/bots/${botId}/start`)).body.response, { result: true }, 'starting a running bot is fine');
      t.ok(runner.isRunning(botId));

      const stopped = await call(sb, 'PUT', `/bots/${botId}/stop`);
      t.same([stopped.status, stopped.body.errors, stopped.body.response], [200, '', { result: true }]);
      t.equal((await call(sb, 'GET', `/bots/${botId}/status`)).body.response.bots[0].status, 'Stopped');
      t.notOk(runner.isRunning(botId));
      const frozen = await count();
      await new Promise((r) => setTimeout(r, 100));
      t.equal(await count(), frozen, 'a stopped bot publishes nothing more');

      const again = await call(sb, 'PUT', `/bots/${botId}/stop`);
      t.same([again.status, again.body.errors, again.body.response], [200, [`Bot ${botId} is not running.`], { result: false }]);
    });

    t.test('a bot type whose module is missing fails start clearly', async (t) => {
      const bot = (await call(sb, 'POST', '/bots', { form: { name: 'echoer', botType: String(echoType), autoRun: 'False' } })).body.response.bots[0].id;
      const a = await call(sb, 'PUT', `/bots/${bot}/start`);
      t.equal(a.status, 200);
      t.same(a.body.response, { result: false });
      t.match((a.body.errors as string[])[0], /^Cannot start bot \d+ \(bot type 'echo-bot'\): (the built-in module 'echo' is missing|module 'echo' was not found in the bots directory)/);
      const view = (await call(sb, 'GET', `/bots/${bot}`)).body.response.bots[0];
      t.equal(view.status, 'Stopped');
      t.match(view.detailedState.error.message, /module 'echo' was not found/);
      t.equal((await call(sb, 'DELETE', `/bots/${bot}`)).status, 200);
    });

    t.test('deleting a running bot stops it first', async (t) => {
      t.same((await call(sb, 'PUT', `/bots/${botId}/start`)).body.response, { result: true });
      t.ok(runner.isRunning(botId));
      const del = await call(sb, 'DELETE', `/bots/${botId}`);
      t.same([del.status, del.body.errors, del.body.response], [200, '', '']);
      t.notOk(runner.isRunning(botId), 'the bot no longer runs');
      for (const p of [`/bots/${botId}`, `/bots/${botId}/config`, `/bots/${botId}/name`]) assertError(t, await call(sb, 'GET', p), 404, '404 Not Found', /Bot \d+ was not found/);
      const rows = await ctx.db(ctx.table('bot_config')).where({ bot_id: botId });
      t.same(rows, [], 'its settings are gone');
      t.same(await ctx.db(ctx.table('bot_runs')).where({ bot_id: botId }), [], 'its run record is gone');
      t.equal((await call(sb, 'DELETE', `/redditauths/${authId}`)).status, 200, 'its reddit authorization is free now');
    });

    t.test('every other error, in the envelope', async (t) => {
      for (const [method, p] of [
        ['GET', '/bots/999'],
        ['PUT', '/bots/999'],
        ['DELETE', '/bots/999'],
        ['GET', '/bots/999/config'],
        ['POST', '/bots/999/config'],
        ['PUT', '/bots/999/config'],
        ['DELETE', '/bots/999/config'],
        ['GET', '/bots/999/config/1'],
        ['PUT', '/bots/999/config/1'],
        ['DELETE', '/bots/999/config/1'],
        ['PUT', '/bots/999/start'],
        ['PUT', '/bots/999/stop'],
        ['GET', '/bots/abc'],
        ['PUT', '/bots/0/start'],
        ['GET', '/bots/99999999999/name'],
      ]) {
        assertError(t, await call(sb, method, p, { form: { name: 'x', category: 'c', key: 'k', val: 'v' } }), 404, '404 Not Found', /Bot \w+ was not found/);
      }
      for (const method of ['PATCH', 'OPTIONS']) {
        for (const p of ['/bots', '/bots/1', '/anything/at/all', '']) {
          const a = await call(sb, method, p, { key: null });
          assertError(t, a, 405, '405 Method Not Allowed');
        }
      }
      const head = await sb.fetch('/api/v1/bots?apikey=' + KEY, { method: 'HEAD' });
      t.equal(head.status, 405, 'HEAD is 405 as in redball');
      assertError(t, await call(sb, 'GET', ''), 400, '400 Bad Request', /No resource given/);
      assertError(t, await call(sb, 'GET', '/'), 400, '400 Bad Request', /No resource given/);
      assertError(t, await call(sb, 'GET', '/users'), 400, '400 Bad Request', /Unknown resource 'users'/);
      assertError(t, await call(sb, 'POST', '/bots/1'), 400, '400 Bad Request', /This API has no POST/);
      assertError(t, await call(sb, 'GET', '/bots/1/config/2/3'), 400, '400 Bad Request');
      assertError(t, await call(sb, 'DELETE', '/bottypes'), 400, '400 Bad Request');
      assertError(t, await call(sb, 'GET', '/users', { key: 'wrong-key-0123456789' }), 401, '401 Unauthorized');
      const big = await call(sb, 'POST', '/bots', { raw: { body: JSON.stringify({ name: 'x'.repeat(2_000_000) }), type: 'application/json' } });
      assertError(t, big, 413, '413 Payload Too Large');
    });

    t.test('the OpenAPI document describes the API', async (t) => {
      const doc = sb.kernel.openapi({ title: 'redball' });
      const result = await new Validator().validate(doc as never);
      t.same(result.errors, undefined, 'a valid OpenAPI 3.1 document');
      for (const p of ['/api/v1/bots', '/api/v1/bots/{botId}', '/api/v1/bots/{botId}/config', '/api/v1/bots/{botId}/config/{settingId}', '/api/v1/bots/{botId}/start', '/api/v1/bottypes/{typeId}/{field}', '/api/v1/redditauths']) {
        t.ok(doc.paths[p], `documents ${p}`);
      }
      t.notOk(Object.keys(doc.paths).some((p) => p.includes('rest')), 'catch-alls are hidden');
      const list = doc.paths['/api/v1/bots'] as Record<string, { security?: unknown; responses: Record<string, unknown> }>;
      t.ok(list.get.responses['200'] && list.get.responses['401'], 'answers are documented');
      t.ok(list.post.security, 'the apikey is documented');
    });
  });
}

t.test('mounted under a prefix', async (t) => {
  for (const kind of databaseKinds()) {
    const sb = await startTestKernel({ database: kind, plugins: [{ plugin: redballPlugin, config: { apiKeys: [KEY], botsDir: emptyBotsDir }, mount: '/redball' }] });
    t.teardown(sb.close);
    const list = await call(sb, 'GET', '/bottypes', { prefix: '/redball' });
    t.equal(list.status, 200, `${kind}: served under the prefix`);
    t.equal(list.body.response.botTypes[0].name, 'heartbeat');
    const created = await call(sb, 'POST', '/bots', { prefix: '/redball', form: { name: 'p', botType: '1', autoRun: 'False' } });
    t.same(created.body.response, { bots: [{ id: 1 }] });
    assertError(t, await call(sb, 'GET', '/nope', { prefix: '/redball' }), 400, '400 Bad Request', /Unknown resource 'nope'/);
    assertError(t, await call(sb, 'GET', '', { prefix: '/redball' }), 400, '400 Bad Request', /No resource given/);
    assertError(t, await call(sb, 'PATCH', '/bots', { prefix: '/redball' }), 405, '405 Method Not Allowed');
    t.equal((await sb.fetch(`/api/v1/bots?apikey=${KEY}`)).status, 404, `${kind}: nothing at the native path`);
  }
});
