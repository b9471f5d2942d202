/**
 * Each family's own metrics (through `ctx.metrics`), scraped from a running kernel and parsed
 * with a Prometheus text parser: each one moves after the matching action, on SQLite and
 * PostgreSQL. Anope's object counts are sampled (one grouped query, reused for a few seconds).
 */
import t from 'tap';
import { Type } from '../../src/index.js';
import { databaseKinds, startTestKernel, type TestKernel } from '../../src/testing/index.js';
import { AnopeNames, ObjectCounts, OBJECT_COUNT_CACHE_MS } from '../../plugins/anope/index.js';
import { createOpsdroidPlugin, defineSkill, matchRegex } from '../../plugins/opsdroid/index.js';
import { redballPlugin } from '../../plugins/redball/index.js';
import { talkApi, talkPlugin } from '../../plugins/talk/index.js';
import { startAnope } from '../plugins/anope/fixtures/helpers.js';
import { Chat } from '../plugins/opsdroid/fixtures/helpers.js';
import { chatClient, owncastOf, startOwncast, until } from '../plugins/owncast/fixtures/helpers.js';
import { call, KEY } from '../plugins/redball/fixtures/client.js';
import { startTalkBot } from '../plugins/talk/bot-server.js';
import { identity, secretOf } from '../plugins/talk/helpers.js';
import { eventually, scrape, type Scrape } from './scrape.js';
import { freePort } from '../helpers/waiting.js';

/** Mounts `kernel.metrics()` at /metrics and returns a scraper. */
function metricsOf(sb: TestKernel): () => Promise<Scrape> {
  sb.app.get('/metrics', sb.kernel.metrics());
  return () => scrape(`${sb.url}/metrics`);
}

for (const kind of databaseKinds()) {
  t.test(`${kind}: redball bots by state, read from the database at scrape`, async (t) => {
    const sb = await startTestKernel({ database: kind, plugins: [{ plugin: redballPlugin, config: { apiKeys: [KEY], autoRun: false } }] });
    t.teardown(sb.close);
    const metrics = metricsOf(sb);
    const bots = async (state: string) => (await metrics()).value('switchboard_redball_bots', { state });
    t.same([await bots('running'), await bots('stopped'), await bots('failed')], [0, 0, 0], 'no bots yet');

    const bot = async (name: string, moduleName: string) => {
      const type = await call(sb, 'POST', '/bottypes', { form: { description: `type ${name}`, moduleName } });
      const created = await call(sb, 'POST', '/bots', { form: { name, botType: String(type.body.response.botTypes[0].id), autoRun: 'False' } });
      return created.body.response.bots[0].id as number;
    };
    const beat = await bot('beat', 'heartbeat');
    const missing = await bot('missing', 'no-such-module');
    t.same([await bots('running'), await bots('stopped'), await bots('failed')], [0, 2, 0], 'two stopped bots');

    t.equal((await call(sb, 'PUT', `/bots/${beat}/start`)).status, 200);
    await call(sb, 'PUT', `/bots/${missing}/start`);
    t.same([await bots('running'), await bots('stopped'), await bots('failed')], [1, 0, 1], 'one running, one failed to start');

    t.equal((await call(sb, 'PUT', `/bots/${beat}/stop`)).status, 200);
    t.same([await bots('running'), await bots('stopped'), await bots('failed')], [0, 1, 1], 'stopped again');
  });

  t.test(`${kind}: Owncast viewers and chat messages`, async (t) => {
    const sb = await startOwncast(kind);
    t.teardown(sb.close);
    const metrics = metricsOf(sb);
    const before = await metrics();
    t.equal(before.value('switchboard_owncast_viewers'), 0, 'no viewers');
    t.equal(before.value('switchboard_owncast_chat_messages_total'), 0, 'no messages');

    const client = await chatClient(sb);
    t.teardown(() => client.close());
    await until(async () => (await metrics()).value('switchboard_owncast_viewers') === 1, 5000, 'one viewer');
    client.send({ type: 'USER_JOINED', username: 'alice' });
    client.send({ type: 'CHAT', body: 'hello metrics' });
    await client.next((f) => f.type === 'CHAT');
    await owncastOf(sb).chat.post({ type: 'SYSTEM', author: 'Owncast', body: 'from the server' });
    const after = await metrics();
    t.equal(after.value('switchboard_owncast_chat_messages_total', { type: 'CHAT' }), 1, 'the chat message counted');
    t.equal(after.value('switchboard_owncast_chat_messages_total', { type: 'SYSTEM' }), 1, 'the system message counted');
    await client.close();
    await until(async () => (await metrics()).value('switchboard_owncast_viewers') === 0, 5000, 'the viewer gone');
  });

  t.test(`${kind}: opsdroid messages parsed and skills run`, async (t) => {
    const broken = defineSkill({
      name: 'broken',
      config: Type.Object({}),
      matchers: [
        matchRegex('explode', () => {
          throw new Error('the skill broke');
        }),
      ],
    });
    const sb = await startTestKernel({
      database: kind,
      plugins: [
        {
          plugin: createOpsdroidPlugin({ skills: [broken] }),
          config: { connectors: { websocket: { 'bot-name': 'mybot' } }, skills: { hello: {}, broken: {} }, databases: {}, parsers: { regex: {} } },
        },
      ],
    });
    t.teardown(sb.close);
    const metrics = metricsOf(sb);
    const parsedBefore = (await metrics()).value('switchboard_opsdroid_messages_parsed_total');
    const chat = await Chat.open(sb);
    t.teardown(() => chat.ws.close());
    t.match(await chat.ask('hi'), /^(Hi|Hello|Hey)$/);
    await chat.ask('explode');
    const after = await metrics();
    t.equal(after.value('switchboard_opsdroid_messages_parsed_total') - parsedBefore, 2, 'two messages parsed');
    t.equal(after.value('switchboard_opsdroid_skills_run_total', { skill: 'hello', trigger: 'message', outcome: 'ok' }), 1, 'hello ran');
    t.equal(after.value('switchboard_opsdroid_skills_run_total', { skill: 'broken', trigger: 'message', outcome: 'error' }), 1, 'the broken skill failed');
  });

  t.test(`${kind}: Talk deliveries by outcome and bot errors`, async (t) => {
    const sb = await startTestKernel({ database: kind, identity, plugins: [{ plugin: talkPlugin, config: { delivery: { maxAttempts: 1 } } }] });
    t.teardown(sb.close);
    const metrics = metricsOf(sb);
    const api = talkApi(sb.kernel);
    const { room } = await api.conversations.createRoom({ id: 'alice', displayName: 'Alice' }, { type: 2, name: 'Metrics' });
    const bot = await startTalkBot(secretOf('metrics-bot'), () => undefined);
    t.teardown(bot.close);
    const good = await api.bots.install({ name: 'Good', secret: secretOf('metrics-bot'), url: bot.url });
    const bad = await api.bots.install({ name: 'Bad', secret: secretOf('metrics-dead'), url: `http://127.0.0.1:${await freePort()}/bot` });
    t.equal((await metrics()).value('switchboard_talk_bot_errors'), 0, 'no errors yet');
    await api.bots.setup(good.id, [room.token]);
    await api.bots.setup(bad.id, [room.token]);
    await eventually(async () => (await metrics()).value('switchboard_talk_deliveries_total', { outcome: 'delivered' }) === 1, 10_000, 'the Join delivered');
    await eventually(async () => (await metrics()).value('switchboard_talk_deliveries_total', { outcome: 'dead' }) === 1, 10_000, 'the Join to a dead bot');
    await eventually(async () => (await metrics()).value('switchboard_talk_bot_errors') === 1, 10_000, 'the error counted');
    t.equal((await api.bots.get(bad.id))!.error_count, 1, "agrees with Talk's error_count");
  });

  t.test(`${kind}: Anope objects by type, sampled at scrape`, async (t) => {
    const sb = await startAnope(kind);
    t.teardown(sb.close);
    const a = await sb.create('account', { display: 'Adam' });
    await sb.create('account', { display: 'Eve' });
    await sb.create('nsaccess', { account: `account:${a}`, mask: 'a@*' });
    const metrics = metricsOf(sb);
    const first = await metrics();
    t.equal(first.value('switchboard_anope_objects', { type: 'account' }), 2);
    t.equal(first.value('switchboard_anope_objects', { type: 'nsaccess' }), 1);
    t.ok(first.labels('switchboard_anope_objects').length >= 2, 'one series per registered type');
    t.ok(first.labels('switchboard_anope_objects').every((l) => typeof l.type === 'string' && l.type !== ''), 'only type names as labels');
  });

  t.test(`${kind}: Anope's object counts are one query, reused for ${OBJECT_COUNT_CACHE_MS} ms`, async (t) => {
    const sb = await startAnope(kind);
    t.teardown(sb.close);
    await sb.create('account', { display: 'Adam' });
    let now = 1_000_000;
    let queries = 0;
    const knex = sb.kernel.db;
    knex.on('query', (q: { sql: string }) => {
      if (/GROUP BY type/i.test(q.sql)) queries++;
    });
    const counts = new ObjectCounts(knex, new AnopeNames(sb.kernel.context('anope').tablePrefix), () => now);
    t.equal((await counts.counts()).get('account'), 1);
    await sb.create('account', { display: 'Eve' });
    now += OBJECT_COUNT_CACHE_MS - 1;
    t.equal((await counts.counts()).get('account'), 1, 'reused within the cache time');
    now += 2;
    t.equal((await counts.counts()).get('account'), 2, 'read again after it');
    t.equal(queries, 2, 'one query per sample');
  });
}
