/**
 * The opsdroid plugin end to end, on SQLite and PostgreSQL: the REST API, the websocket
 * connector and the bundled skills, webhooks with and without the token, crontab skills on
 * a manual clock, the command center (tokens, scrubbing, every 400 reason, the spec's PATCH
 * examples taking effect) and persistence across a restart on the same database.
 */
import t from 'tap';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Type } from '../../../src/index.js';
import { createTestDatabase, databaseKinds, startTestKernel, type TestKernel } from '../../../src/testing/index.js';
import {
  createOpsdroidPlugin,
  defineSkill,
  DANCE_MOVES,
  LOUD_NOISES,
  ManualClock,
  matchAlways,
  matchCrontab,
  matchRegex,
  matchWebhook,
  MAX_MESSAGE_TEXT,
  MAX_MESSAGE_USER,
  OPSDROID_RUNTIME,
  shellConnector,
  StatsStore,
  ModuleConfigStore,
  WebhookResponse,
  type Opsdroid,
  type StatsBody,
} from '../../../plugins/opsdroid/index.js';
import { CC_TOKEN, Chat, nextParsed, openSocket, WEBHOOK_TOKEN } from './fixtures/helpers.js';
import { ShellIO } from './fixtures/shell-io.js';

const SKILL_SECRET = 'ops-api-key-secret-42';
const SKILL_PASSWORD = 'ops-password-hunter2';
const SOCKET_TOKEN_NOT_USED = 'never-shown-socket-token';
const SECRETS = [CC_TOKEN, WEBHOOK_TOKEN, SKILL_SECRET, SKILL_PASSWORD, SOCKET_TOKEN_NOT_USED];
const GREETING = /^(Hi|Hello|Hey)$/;

/** A host skill with webhooks, a crontab, a regex and a slow always-matcher, and a record of its cron runs and of what it noted. */
function opsSkill() {
  const ticks: string[] = [];
  const noted: string[] = [];
  const skill = defineSkill({
    name: 'ops',
    config: Type.Object({ 'api-key': Type.Optional(Type.String()), password: Type.Optional(Type.String()), greeting: Type.Optional(Type.String()) }),
    matchers: [
      matchWebhook('ping', () => undefined),
      matchWebhook('custom', (_bot, config, request) => new WebhookResponse(201, { got: request.json(), greeting: config.greeting ?? null }, { 'x-skill': 'ops' })),
      matchWebhook('boom', () => {
        throw new Error('kaboom');
      }),
      matchCrontab('*/5 * * * *', async (bot, _config, tick) => {
        ticks.push(tick.scheduledAt.toISOString());
        await bot.send(`tick ${tick.scheduledAt.toISOString()}`);
      }),
      matchRegex('explode', () => {
        throw new Error('the skill broke');
      }),
      matchRegex('status', (_bot, config, message) => message.respond(`status: ${String(config.greeting ?? 'ok')}`), { matchingCondition: 'fullmatch' }),
      // Notes what slowpoke says, taking its time (as a database write may).
      matchAlways(async (_bot, _config, message) => {
        if (message.user !== 'slowpoke') return;
        await new Promise((resolve) => setTimeout(resolve, 100));
        noted.push(message.text);
      }),
    ],
  });
  return { skill, ticks, noted };
}

function config() {
  return {
    web: {
      'webhook-token': WEBHOOK_TOKEN,
      'command-center': { enabled: true, token: CC_TOKEN, 'excluded-keys': ['api-key'] },
    },
    connectors: {
      websocket: { 'bot-name': 'mybot', 'max-connections': 3, 'connection-timeout': 10 },
      shell: { 'bot-name': 'mybot' },
    },
    skills: { dance: {}, hello: {}, loudnoises: {}, seen: {}, ops: { 'api-key': SKILL_SECRET, password: SKILL_PASSWORD } },
    databases: { sqlite: {} },
    parsers: { regex: {}, crontab: {} },
  };
}

const cc = (extra: Record<string, string> = {}) => ({ authorization: CC_TOKEN, ...extra });

async function json<T = Record<string, unknown>>(sb: TestKernel, path: string, init?: RequestInit): Promise<T> {
  const res = await sb.fetch(path, init);
  if (res.status !== 200) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}

const stats = (sb: TestKernel) => json<StatsBody>(sb, '/stats/');

function patch(sb: TestKernel, body: unknown, path = '/skills', headers: Record<string, string> = cc()): Promise<Response> {
  return sb.fetch(path, { method: 'PATCH', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

for (const kind of databaseKinds()) {
  t.test(kind, async (t) => {
    const db = await createTestDatabase(kind);
    t.teardown(() => db.drop());
    const clock = new ManualClock('2025-01-01T00:00:30Z');
    const { skill, ticks, noted } = opsSkill();
    const shell = new ShellIO();
    const plugin = createOpsdroidPlugin({ clock, skills: [skill], connectors: [shellConnector({ input: shell.input, output: shell.output, user: 'tester' })] });
    const sb = await startTestKernel({ database: db.url, plugins: [{ plugin, config: config() }] });
    t.teardown(sb.close);
    const ctx = sb.kernel.context('opsdroid');
    const runtime = ctx.container.resolve<Opsdroid>(OPSDROID_RUNTIME);
    const statsTable = ctx.table('stats');
    const memoryTable = ctx.table('memory');

    let chat: Chat;
    t.teardown(() => chat?.close());

    await t.test('GET / and GET /stats/ (with and without the trailing slash)', async (t) => {
      const root = await sb.fetch('/');
      t.equal(root.status, 200);
      t.match(root.headers.get('content-type'), /^application\/json/);
      t.same(await root.json(), { message: 'Welcome to the opsdroid API' });
      const a = await json<StatsBody>(sb, '/stats');
      const b = await stats(sb);
      t.same(a, b);
      t.equal(b.version, '0.1.0');
      t.equal(b.messages.total_parsed, 1, 'the runtime parsed its own started event');
      t.same(b.messages, { total_parsed: 1, webhooks_called: 0, total_response_time: 0, total_responses: 0, average_response_time: 0 });
      t.same(b.modules, { skills: 5, connectors: 2, databases: 1 });
    });

    await t.test('the OpenAPI document is valid and lists the routes', async (t) => {
      const doc = sb.kernel.openapi();
      const result = await new Validator().validate(doc as never);
      t.same(result.errors, undefined, 'no schema errors');
      t.same(Object.keys(doc.paths).sort(), ['/', '/config', '/connector/websocket', '/connectors', '/databases', '/parsers', '/skill/{skill}/{webhook}', '/skills', '/stats']);
      t.same(Object.keys(doc.paths['/skills']).sort(), ['get', 'patch']);
      t.same((doc.paths['/skills'].patch as { security: unknown }).security, [{ opsdroid_token: [] }], 'the command center needs its token');
    });

    await t.test('errors are aiohttp plain text', async (t) => {
      const cases: Array<[string, string, number, string]> = [
        ['DELETE', '/stats', 405, '405: Method Not Allowed'],
        ['POST', '/stats/', 405, '405: Method Not Allowed'],
        ['GET', '/skill/ops/ping', 405, '405: Method Not Allowed'],
        ['GET', '/connector/websocket', 405, '405: Method Not Allowed'],
        ['POST', '/skill/nope/ping', 404, '404: Not Found'],
        ['GET', '/skill/nope/ping', 404, '404: Not Found'],
        ['POST', '/skill/ops/nope/', 404, '404: Not Found'],
        ['POST', '/skill/ops', 404, '404: Not Found'],
        ['GET', '/connector/slack', 404, '404: Not Found'],
      ];
      for (const [method, path, status, body] of cases) {
        const res = await sb.fetch(path, { method });
        t.equal(res.status, status, `${method} ${path}`);
        t.match(res.headers.get('content-type'), /^text\/plain/, `${method} ${path} content type`);
        t.equal(await res.text(), body, `${method} ${path} body`);
      }
      const res = await sb.fetch('/stats', { method: 'DELETE' });
      t.equal(res.headers.get('allow'), 'GET');
      await res.text();
    });

    await t.test('CORS: headers only with an Origin; preflights answer 200', async (t) => {
      const plain = await sb.fetch('/stats/');
      t.equal(plain.headers.get('access-control-allow-origin'), null);
      await plain.text();
      const cross = await sb.fetch('/stats/', { headers: { origin: 'https://dash.example' } });
      t.equal(cross.headers.get('access-control-allow-origin'), '*');
      t.equal(cross.headers.get('access-control-allow-methods'), null, 'methods only for OPTIONS');
      await cross.text();
      const preflight = await sb.fetch('/connectors', { method: 'OPTIONS', headers: { origin: 'https://dash.example', 'access-control-request-method': 'PATCH' } });
      t.equal(preflight.status, 200);
      t.equal(await preflight.text(), '');
      t.equal(preflight.headers.get('access-control-allow-origin'), '*');
      t.equal(preflight.headers.get('access-control-allow-methods'), 'DELETE, GET, OPTIONS, PATCH, POST, PUT');
      t.match(preflight.headers.get('access-control-allow-headers'), /^accept, accept-encoding, authorization, content-type, .*Authorization$/);
      const bare = await sb.fetch('/skill/ops/ping', { method: 'OPTIONS', headers: { 'access-control-request-method': 'POST' } });
      t.equal(bare.status, 200, 'a preflight without Origin still gets 200');
      t.equal(bare.headers.get('access-control-allow-origin'), null);
      await bare.text();
      const error = await sb.fetch('/connectors', { headers: { origin: 'https://dash.example' } });
      t.equal(error.status, 403);
      t.equal(error.headers.get('access-control-allow-origin'), '*', 'errors are readable cross-origin too');
      await error.text();
    });

    await t.test('a websocket client chats with the bundled skills; /stats/ counts it', async (t) => {
      const before = await stats(sb);
      const request = await sb.fetch('/connector/websocket', { method: 'POST' });
      t.equal(request.status, 200);
      t.match(request.headers.get('content-type'), /^application\/json/);
      t.equal(request.headers.get('access-control-allow-origin'), '*');
      const { socket } = (await request.json()) as { socket: string };
      t.match(socket, /^[0-9a-f-]{36}$/);
      chat = new Chat(await openSocket(`${sb.url.replace('http', 'ws')}/connector/websocket/${socket}`), socket);

      const parsed = nextParsed(sb, (e) => e.text === 'hi');
      t.match(await chat.ask('hi'), GREETING, 'hello answers "hi"');
      t.same(await parsed, { instanceId: sb.kernel.instanceId, event: 'Message', connector: 'websocket', user: null, text: 'hi', skills: ['hello'] });
      const after = await stats(sb);
      t.equal(after.messages.total_parsed, before.messages.total_parsed + 1, 'the message was parsed');
      t.equal(after.messages.total_responses, before.messages.total_responses + 1, 'and answered');
      t.ok(after.messages.total_response_time > before.messages.total_response_time, 'with a response time');
      t.equal(after.messages.average_response_time, after.messages.total_response_time / after.messages.total_responses);

      t.match(await chat.ask({ message: 'hello', user: 'alice' }), /^(Hi|Hello|Hey) alice$/, 'JSON frames name the user');
      t.match(await chat.ask({ message: 'bye bye', user: 'alice' }), /^(Bye|See you|Au revoir) alice$/);
      t.equal(await chat.ask('THIS IS VERY LOUD'), LOUD_NOISES, 'loudnoises shouts back');
      chat.say('can you dance?');
      for (const move of DANCE_MOVES) t.equal(await chat.next(), move, `dance move ${move}`);

      await clock.advance(5 * 60_000 + 2_000);
      t.equal(await chat.next(), 'tick 2025-01-01T00:05:00.000Z', 'the crontab skill ticked meanwhile');
      t.equal(await chat.ask({ message: 'when did you last see alice?', user: 'bob' }), 'I last saw alice 5 minutes ago', 'seen remembers');
      t.equal(await chat.ask({ message: 'when did you last see carol?', user: 'bob' }), "I've never seen carol before");
      // Over the bounds, a message is dropped unparsed: neither greeted nor remembered (an
      // answer to either would come before the one asked for next).
      chat.say({ message: `hello ${'x'.repeat(MAX_MESSAGE_TEXT)}`, user: 'erin' });
      chat.say({ message: 'hello', user: 'f'.repeat(MAX_MESSAGE_USER + 1) });
      t.equal(await chat.ask({ message: 'when did you last see erin?', user: 'bob' }), "I've never seen erin before", 'messages over the bounds are dropped');
      t.match(await chat.ask({ message: `hello ${'x'.repeat(MAX_MESSAGE_TEXT - 6)}`, user: 'f'.repeat(MAX_MESSAGE_USER) }), /^(Hi|Hello|Hey) f+$/, 'and at the bounds, answered');
      const row = await ctx.db(memoryTable).where({ namespace: 'opsdroid', key: 'seen:alice' }).first();
      t.ok(row, 'seen keeps its memory in the database');

      const statsNow = await stats(sb);
      await ctx.container.resolve(StatsStore).flush();
      const rows = await ctx.db(statsTable).select();
      const sum = (col: string) => rows.reduce((n: number, r: Record<string, unknown>) => n + Number(r[col]), 0);
      t.equal(sum('messages_parsed'), statsNow.messages.total_parsed, 'the counters are in the database');
      t.equal(sum('total_responses'), statsNow.messages.total_responses);
      t.ok(Math.abs(sum('total_response_time') - statsNow.messages.total_response_time) < 1e-9);
    });

    await t.test('host skills answer; a skill that fails tells the user', async (t) => {
      t.equal(await chat.ask('status'), 'status: ok', 'a host regex skill with fullmatch answers');
      t.equal(await chat.ask({ message: 'status', user: 'slowpoke' }), 'status: ok');
      t.same(noted, ['status'], 'the skills that see every message finished before the answer went out');
      t.equal(await chat.ask('explode'), 'Whoops there has been an error.');
      t.equal(await chat.next(), 'Check the log for details.');
    });

    await t.test('socket requests: unknown id, timeout, max-connections, token', async (t) => {
      const ws = `${sb.url.replace('http', 'ws')}/connector/websocket`;
      await t.rejects(openSocket(`${ws}/not-a-socket`), { status: 400, message: '"Please request a socket first"' });
      const { socket } = (await json<{ socket: string }>(sb, '/connector/websocket', { method: 'POST' }));
      await clock.advance(11_000);
      await t.rejects(openSocket(`${ws}/${socket}`), { status: 408, message: '"Socket request timed out"' });
      await t.rejects(openSocket(`${ws}/${socket}`), { status: 400, message: '"Please request a socket first"' }, 'a request is used once');
      // One socket is open (the chat); the timed-out request no longer counts: two more fit.
      const second = await json<{ socket: string }>(sb, '/connector/websocket/', { method: 'POST' });
      await json(sb, '/connector/websocket', { method: 'POST' });
      const full = await sb.fetch('/connector/websocket', { method: 'POST' });
      t.equal(full.status, 429);
      t.equal(await full.text(), '"No connections available"');
      const other = await openSocket(`${ws}/${second.socket}`);
      t.equal(other.readyState, other.OPEN, 'a pending request opens within the timeout');
      other.close();
      await clock.advance(11_000);
    });

    await t.test('webhooks: the token, the default answer, a custom answer, a failing skill', async (t) => {
      const before = await stats(sb);
      const none = await sb.fetch('/skill/ops/ping', { method: 'POST' });
      t.equal(none.status, 403);
      t.same(await none.json(), { called_skill: 'ping' });
      for (const authorization of [`Bearer wrong`, WEBHOOK_TOKEN, `bearer ${WEBHOOK_TOKEN}`, `Bearer ${WEBHOOK_TOKEN} extra`]) {
        const res = await sb.fetch('/skill/ops/ping', { method: 'POST', headers: { authorization } });
        t.equal(res.status, 403, `Authorization: ${authorization.replace(WEBHOOK_TOKEN, '<token>')}`);
        t.same(await res.json(), { called_skill: 'ping' });
      }
      t.equal((await stats(sb)).messages.webhooks_called, before.messages.webhooks_called, 'refused calls are not counted');
      const auth = { authorization: `Bearer ${WEBHOOK_TOKEN}` };
      const ok = await sb.fetch('/skill/ops/ping/', { method: 'POST', headers: auth, body: 'anything' });
      t.equal(ok.status, 200);
      t.match(ok.headers.get('content-type'), /^application\/json/);
      t.same(await ok.json(), { called_skill: 'ping' }, 'the webhook\'s name, not the skill\'s');
      const custom = await sb.fetch('/skill/ops/custom', { method: 'POST', headers: { ...auth, 'content-type': 'text/plain' }, body: '{"deploy": 7}' });
      t.equal(custom.status, 201);
      t.equal(custom.headers.get('x-skill'), 'ops');
      t.same(await custom.json(), { got: { deploy: 7 }, greeting: null });
      const boom = await sb.fetch('/skill/ops/boom', { method: 'POST', headers: auth });
      t.equal(boom.status, 500);
      t.equal(await boom.text(), '500: Internal Server Error');
      t.equal((await stats(sb)).messages.webhooks_called, before.messages.webhooks_called + 3, 'authorized calls count, failed ones too');

      const party = await sb.fetch('/skill/dance/party', { method: 'POST', headers: auth });
      t.same(await party.json(), { called_skill: 'party' });
      for (const move of DANCE_MOVES) t.equal(await chat.next(), move, 'the bundled dance webhook dances on the websocket');
    });

    await t.test('crontab skills fire on schedule', async (t) => {
      ticks.length = 0;
      const now = clock.now();
      const next = new Date(Math.ceil((now.getTime() + 1) / 300_000) * 300_000);
      await clock.advanceTo(new Date(next.getTime() - 1000));
      t.same(ticks, [], 'nothing before the time');
      await clock.advanceTo(next);
      t.same(ticks, [next.toISOString()]);
      t.equal(await chat.next(), `tick ${next.toISOString()}`, 'a cron skill sends to the default connector');
      await clock.advance(10 * 60_000);
      t.same(ticks, [next.toISOString(), new Date(next.getTime() + 300_000).toISOString(), new Date(next.getTime() + 600_000).toISOString()]);
      t.equal(await chat.next(), `tick ${ticks[1]}`);
      t.equal(await chat.next(), `tick ${ticks[2]}`);
    });

    await t.test('the shell connector', async (t) => {
      shell.type('hi');
      t.match(await shell.next(), /^(Hi|Hello|Hey) tester$/);
    });

    await t.test('command center: token rules', async (t) => {
      for (const headers of [{}, { authorization: 'wrong' }, { authorization: `Bearer ${CC_TOKEN}` }, { authorization: `Token ${CC_TOKEN}` }, { authorization: CC_TOKEN.toUpperCase() }] as Array<Record<string, string>>) {
        for (const path of ['/connectors', '/skills/', '/databases', '/parsers/', '/config']) {
          const res = await sb.fetch(path, { headers });
          t.equal(res.status, 403, `${path} ${JSON.stringify(headers).replace(CC_TOKEN, '<token>')}`);
          t.equal(await res.text(), '403: Forbidden');
        }
        const res = await patch(sb, { module_type: 'skills', module_name: 'hello', config: { enabled: false } }, '/skills', headers);
        t.equal(res.status, 403, 'PATCH needs the token too');
        t.equal(await res.text(), '403: Forbidden');
      }
      t.equal((await stats(sb)).modules.skills, 5, 'nothing changed');
    });

    await t.test('command center: GET lists modules as opsdroid does', async (t) => {
      const connectors = await json(sb, '/connectors', { headers: cc() });
      t.same(await json(sb, '/connectors/', { headers: cc() }), connectors);
      t.same(Object.keys(connectors), ['websocket', 'shell']);
      t.strictSame(connectors.websocket, {
        name: 'websocket',
        module: '',
        'bot-name': 'mybot',
        'max-connections': 3,
        'connection-timeout': 10,
        type: 'connector',
        enabled: true,
        entrypoint: null,
        module_path: 'opsdroid.connector.websocket',
        install_path: 'opsdroid_modules/connector/websocket',
        branch: 'master',
      });
      t.same(Object.keys(connectors.websocket as object), ['name', 'module', 'bot-name', 'max-connections', 'connection-timeout', 'type', 'enabled', 'entrypoint', 'module_path', 'install_path', 'branch'], 'opsdroid\'s key order');
      const skills = await json<Record<string, Record<string, unknown>>>(sb, '/skills', { headers: cc() });
      t.same(Object.keys(skills), ['dance', 'hello', 'loudnoises', 'seen', 'ops']);
      t.strictSame(skills.hello, { name: 'hello', module: '', type: 'skill', enabled: true, entrypoint: null, module_path: 'opsdroid_modules.skill.hello', install_path: 'opsdroid_modules/skill/hello', branch: 'master' });
      t.notOk('password' in skills.ops, 'password is scrubbed from skills');
      t.notOk('api-key' in skills.ops, 'the user\'s excluded keys too');
      t.strictSame(await json(sb, '/databases', { headers: cc() }), {
        sqlite: { name: 'sqlite', module: '', type: 'database', enabled: true, entrypoint: null, module_path: 'opsdroid.database.sqlite', install_path: 'opsdroid_modules/database/sqlite', branch: 'master' },
      });
      const parsers = await json<Record<string, Record<string, unknown>>>(sb, '/parsers', { headers: cc() });
      t.same(Object.keys(parsers), ['regex', 'crontab']);
      t.equal(parsers.crontab.type, 'parsers');
      t.equal(parsers.crontab.module_path, 'opsdroid.parsers.crontab');
      const whole = await json<Record<string, Record<string, unknown>>>(sb, '/config', { headers: cc() });
      t.same(Object.keys(whole), ['web', 'connectors', 'skills', 'databases', 'parsers']);
      t.same(whole.web['command-center'], { enabled: true, 'excluded-keys': ['api-key'] }, 'the token is gone');
      t.notOk('webhook-token' in whole.web);
      t.same(whole.skills.ops, {});
    });

    await t.test('command center: every 400 reason of the notes, and nothing changes', async (t) => {
      const before = await json(sb, '/skills', { headers: cc() });
      const cases: Array<[unknown, string]> = [
        ['{not json', 'Unable to decode json.'],
        ['', 'Unable to decode json.'],
        [{ module_type: 'skills', module_name: 'hello' }, `"Received payload is missing required key: 'config', please include all required keys ('module_type', 'module_name', 'config') in your payload."`],
        [{ module_name: 'hello', config: {} }, `"Received payload is missing required key: 'module_type', please include all required keys ('module_type', 'module_name', 'config') in your payload."`],
        [{ module_type: 'skills', module_name: 5, config: {} }, "The field 'module_name' is of type '<class 'int'>', but should be of type '<class 'str'>'"],
        [{ module_type: 'skills', module_name: 'hello', config: [] }, "The field 'config' is of type '<class 'list'>', but should be of type '<class 'dict'>'"],
        [{ module_type: 'skills', module_name: 'hello', config: 'off' }, "The field 'config' is of type '<class 'str'>', but should be of type '<class 'dict'>'"],
        [{ module_type: 'web', module_name: 'x', config: {} }, "The change type 'web' is not a supported type. Please provide one of the allowed types ('connectors', 'skills', 'databases', 'parsers')."],
        [{ module_type: 'config', module_name: 'x', config: {} }, "The change type 'config' is not a supported type. Please provide one of the allowed types ('connectors', 'skills', 'databases', 'parsers')."],
        [{ module_type: null, module_name: 'x', config: {} }, "The change type 'None' is not a supported type. Please provide one of the allowed types ('connectors', 'skills', 'databases', 'parsers')."],
        ['5', "argument of type 'int' is not iterable"],
        [{ module_type: 'skills', module_name: 'hello', config: { enabled: 'no' } }, "Invalid config for skills 'hello': enabled: must be true or false (got a string)"],
        [{ module_type: 'connectors', module_name: 'websocket', config: { 'max-connections': 'lots' } }, "Invalid config for connectors 'websocket': max-connections: must be an integer at least 0 (got a string)"],
      ];
      for (const [body, reason] of cases) {
        const res = await patch(sb, body);
        t.equal(res.status, 400, reason);
        t.equal(res.statusText, reason.length <= 200 ? reason : 'Bad Request', 'the reason is on the status line');
        t.match(res.headers.get('content-type'), /^text\/plain/);
        t.equal(await res.text(), `400: ${reason}`);
      }
      const unknown = await patch(sb, { module_type: 'skills', module_name: 'nope', config: { enabled: false } });
      t.equal(unknown.status, 404);
      t.equal(await unknown.text(), "404: There is no skills module named 'nope'.");
      t.same(await json(sb, '/skills', { headers: cc() }), before, 'nothing changed');
      t.same(await ctx.db(ctx.table('module_config')).select(), [], 'nothing was stored');
    });

    await t.test("the spec's PATCH examples answer 204 and take effect", async (t) => {
      // requests.patch("http://localhost:8080/connectors", json={"module_type": "connectors", "module_name": "shell", "config": {"enabled": false}})
      const shellOff = await patch(sb, { module_type: 'connectors', module_name: 'shell', config: { enabled: false } }, '/connectors');
      t.equal(shellOff.status, 204);
      t.equal(await shellOff.text(), '');
      t.equal(((await json<Record<string, Record<string, unknown>>>(sb, '/connectors', { headers: cc() })).shell).enabled, false);
      t.equal((await stats(sb)).modules.connectors, 1);
      let shellParses = 0;
      const off = sb.kernel.events.on('opsdroid.parsed', (e) => void (e.connector === 'shell' && shellParses++));
      t.teardown(off);
      shell.type('hi');
      t.match(await chat.ask('hi'), GREETING, 'the websocket still works');
      t.same(shell.lines, [], 'the shell no longer answers');

      // requests.patch("http://localhost:8080/skills", json={"module_type": "skills", "module_name": "seen", "config": {"enabled": false}})
      const seenOff = await patch(sb, { module_type: 'skills', module_name: 'seen', config: { enabled: false } });
      t.equal(seenOff.status, 204);
      t.equal((await stats(sb)).modules.skills, 4);
      const parsed = nextParsed(sb, (e) => e.user === 'dave');
      chat.say({ message: 'when did you last see alice?', user: 'dave' });
      t.same((await parsed).skills, [], 'the disabled skill no longer matches');
      t.match(await chat.ask('hi'), GREETING, 'no answer came before this one');
      t.notOk(await ctx.db(memoryTable).where({ key: 'seen:dave' }).first(), 'nor does it record who spoke');
      const seenOn = await patch(sb, { module_type: 'skills', module_name: 'seen', config: { enabled: true } });
      t.equal(seenOn.status, 204);
      t.match(await chat.ask({ message: 'when did you last see alice?', user: 'dave' }), /^I last saw alice \d+ minutes ago$/, 'back when enabled');

      // requests.patch("http://localhost:8080/databases", json={"module_type": "databases", "module_name": "sqlite", "config": {"enabled": false}})
      const dbOff = await patch(sb, { module_type: 'databases', module_name: 'sqlite', config: { enabled: false } }, '/databases');
      t.equal(dbOff.status, 204);
      t.equal((await stats(sb)).modules.databases, 0);
      t.equal(await chat.ask({ message: 'when did you last see alice?', user: 'dave' }), "I've never seen alice before", 'without a database the bot remembers nothing');
      t.equal((await patch(sb, { module_type: 'databases', module_name: 'sqlite', config: { enabled: true } }, '/databases')).status, 204);
      t.match(await chat.ask({ message: 'when did you last see alice?', user: 'dave' }), /^I last saw alice/, 'the memory is back');

      // requests.patch("http://localhost:8080/parsers", json={"module_type": "parsers", "module_name": "crontab", "config": {"enabled": false}})
      const cronOff = await patch(sb, { module_type: 'parsers', module_name: 'crontab', config: { enabled: false } }, '/parsers');
      t.equal(cronOff.status, 204);
      ticks.length = 0;
      await clock.advance(15 * 60_000);
      t.same(ticks, [], 'crontab skills stop');
      t.equal((await patch(sb, { module_type: 'parsers', module_name: 'crontab', config: { enabled: true } }, '/parsers')).status, 204);
      await clock.advance(5 * 60_000);
      t.equal(ticks.length, 1, 'and fire again');
      t.match(await chat.next(), /^tick /);
      t.equal(shellParses, 0, 'the shell never read the line');
    });

    await t.test('a disabled skill stops answering and comes back; the regex parser too', async (t) => {
      t.equal((await patch(sb, { module_type: 'skills', module_name: 'hello', config: { enabled: false } })).status, 204);
      const parsed = nextParsed(sb, (e) => e.text === 'hi');
      chat.say('hi');
      t.same((await parsed).skills, []);
      t.equal(await chat.ask('NOW I AM SHOUTING'), LOUD_NOISES, 'nothing answered "hi"');
      t.equal((await patch(sb, { module_type: 'skills', module_name: 'hello', config: { enabled: true } })).status, 204);
      t.match(await chat.ask('hi'), GREETING);

      t.equal((await patch(sb, { module_type: 'parsers', module_name: 'regex', config: { enabled: false } }, '/parsers')).status, 204);
      const none = nextParsed(sb, (e) => e.text === 'hi');
      chat.say('hi');
      t.same((await none).skills, [], 'no regex parsing');
      t.equal((await patch(sb, { module_type: 'parsers', module_name: 'regex', config: { enabled: true } }, '/parsers')).status, 204);
      t.match(await chat.ask('hi'), GREETING, 'the only answer is to the last "hi"');

      // A skill's own config: shallow merge, reloaded.
      t.equal((await patch(sb, { module_type: 'skills', module_name: 'ops', config: { greeting: 'all green' } })).status, 204);
      t.equal(await chat.ask('status'), 'status: all green');
      const ops = (await json<Record<string, Record<string, unknown>>>(sb, '/skills', { headers: cc() })).ops;
      t.equal(ops.greeting, 'all green');
      t.notOk('password' in ops);
    });

    await t.test('the websocket connector: disable closes sockets and refuses new ones; enable brings it back', async (t) => {
      t.equal((await patch(sb, { module_type: 'connectors', module_name: 'websocket', config: { 'max-connections': 5 } }, '/connectors')).status, 204);
      t.equal(await chat.closed, 1001, 'a reload disconnects, as opsdroid does');
      chat = await Chat.open(sb);
      const ws = (await json<Record<string, Record<string, unknown>>>(sb, '/connectors', { headers: cc() })).websocket;
      t.equal(ws['max-connections'], 5);
      t.equal(ws['bot-name'], 'mybot', 'shallow merge keeps the other keys');

      const pending = await json<{ socket: string }>(sb, '/connector/websocket', { method: 'POST' });
      t.equal((await patch(sb, { module_type: 'connectors', module_name: 'websocket', config: { enabled: false } }, '/connectors')).status, 204);
      t.equal(await chat.closed, 1001, 'disabling closes open sockets');
      const refused = await sb.fetch('/connector/websocket', { method: 'POST' });
      t.equal(refused.status, 429);
      t.equal(await refused.text(), '"No connections available"');
      await t.rejects(openSocket(`${sb.url.replace('http', 'ws')}/connector/websocket/${pending.socket}`), { status: 400, message: '"Please request a socket first"' }, 'pending requests are gone');
      t.equal((await patch(sb, { module_type: 'connectors', module_name: 'websocket', config: { enabled: true } }, '/connectors')).status, 204);
      chat = await Chat.open(sb);
      t.match(await chat.ask('hi'), GREETING);
    });

    await t.test('no secret appears in any GET', async (t) => {
      for (const path of ['/', '/stats', '/stats/', '/connectors', '/connectors/', '/skills', '/skills/', '/databases', '/databases/', '/parsers', '/parsers/', '/config', '/config/']) {
        const res = await sb.fetch(path, { headers: cc() });
        t.equal(res.status, 200, path);
        const body = await res.text();
        for (const secret of SECRETS) t.notOk(body.includes(secret), `${path} does not show a secret`);
      }
      const logs = JSON.stringify(sb.kernel.logs.entries());
      for (const secret of SECRETS) t.notOk(logs.includes(secret), 'nor does the log');
    });

    await t.test('changes persist in the database and survive a restart', async (t) => {
      t.equal((await patch(sb, { module_type: 'skills', module_name: 'dance', config: { enabled: false } })).status, 204);
      const last = await stats(sb);
      chat.close();
      await sb.close();

      const again = await startTestKernel({ database: db.url, plugins: [{ plugin: createOpsdroidPlugin({ clock, skills: [opsSkill().skill] }), config: config() }] });
      t.teardown(again.close);
      const skills = await json<Record<string, Record<string, unknown>>>(again, '/skills', { headers: cc() });
      t.equal(skills.dance.enabled, false, 'the disabled skill stays disabled');
      t.equal(skills.seen.enabled, true);
      t.equal(skills.ops.greeting, 'all green');
      const connectors = await json<Record<string, Record<string, unknown>>>(again, '/connectors', { headers: cc() });
      t.equal(connectors.shell.enabled, false);
      t.equal(connectors.websocket['max-connections'], 5);
      const restarted = await stats(again);
      t.equal(restarted.messages.total_parsed, last.messages.total_parsed + 1, 'the stats survive (plus the new started event)');
      t.equal(restarted.messages.total_responses, last.messages.total_responses);
      t.equal(restarted.messages.webhooks_called, last.messages.webhooks_called);
      t.same(restarted.modules, { skills: 4, connectors: 1, databases: 1 });
      const chat2 = await Chat.open(again);
      t.teardown(() => chat2.close());
      const parsed = nextParsed(again, (e) => e.text === 'dance');
      chat2.say('dance');
      t.same((await parsed).skills, [], 'the disabled skill does not answer after the restart');
      t.match(await chat2.ask({ message: 'when did you last see alice?', user: 'erin' }), /^I last saw alice/, 'the memory survives');

      // Another instance re-enables dance: its change is in the database and its event arrives.
      const actx = again.kernel.context('opsdroid');
      await actx.container.resolve(ModuleConfigStore).save('skills', 'dance', { enabled: true });
      again.kernel.events.emitLocal('opsdroid.module.changed', { instanceId: 'another-instance', type: 'skills', name: 'dance', enabled: true });
      await actx.container.resolve<Opsdroid>(OPSDROID_RUNTIME).settled();
      chat2.say('dance');
      for (const move of DANCE_MOVES) t.equal(await chat2.next(), move, 'the other instance\'s change applies here');
      t.equal((await stats(again)).modules.skills, 5);
    });
  });
}
