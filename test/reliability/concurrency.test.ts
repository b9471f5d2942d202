/**
 * Concurrency: bursts of 200 writers at once against every family, on SQLite and on
 * PostgreSQL. No client sees an error (no 5xx, no SQLITE_BUSY, no leaked database error),
 * and nothing is lost: counters count every write, settings written at once all land,
 * a value written by 200 writers at once ends as one of theirs (the same in the API and in
 * the database), and a name claimed by 200 writers at once is given to exactly one.
 */
import fs from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';
import { createTestDatabase, databaseKinds, startTestKernel, type TestKernel } from '../../src/testing/index.js';
import { spawnTs } from '../helpers/child.js';
import { WebSocket } from 'ws';
import { talkApi } from '../../plugins/talk/index.js';
import { OwncastTokens, type BroadcastService } from '../../plugins/owncast/index.js';
import { allPlugins, basicOf, burst, CREDENTIALS, identity, type BurstResult } from './fixtures-b/burst.js';
import { request, TALK_V1, TALK_V4, type Answer } from './fixtures-b/standalone.js';

/** Writers in each burst. */
const N = 200;

/** Requests fired and errors seen, for the figures printed per database. */
const tally = { requests: 0, errors: 0 };

function noErrors(t: Test, result: BurstResult, what: string): void {
  tally.requests += result.answers.length + result.errors.filter((e) => !/^#\d+: \d{3} /.test(e)).length;
  tally.errors += result.errors.length;
  t.same(result.errors, [], `${what}: no client saw an error (${JSON.stringify(result.statuses)})`);
}

function ocs(sb: TestKernel, user: string) {
  const headers = { 'OCS-APIRequest': 'true', Accept: 'application/json', Authorization: basicOf(user) };
  return {
    get: (p: string) => request(`${sb.url}${p}`, { headers }),
    post: (p: string, json?: unknown) => request(`${sb.url}${p}`, { method: 'POST', headers, json: json ?? {} }),
  };
}

async function eventually<T>(check: () => Promise<T | undefined>, ms = 10_000): Promise<T | undefined> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined || Date.now() > until) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function talk(t: Test, sb: TestKernel): Promise<void> {
  const owner = ocs(sb, 'owner');
  const room = await owner.post(`${TALK_V4}/room`, { roomType: 2, roomName: 'Busy room' });
  t.equal(room.status, 201);
  const token = room.json.ocs.data.token as string;

  const joined = await burst(N, (i) => owner.post(`${TALK_V4}/room/${token}/participants`, { newParticipant: `user${i}`, source: 'users' }));
  noErrors(t, joined, 'participants added at once');
  t.same(joined.statuses, { 200: N }, 'every participant added');
  const participants = await owner.get(`${TALK_V4}/room/${token}/participants`);
  t.equal(participants.json.ocs.data.length, N + 1, 'the room has every participant once, and the owner');

  const posted = await burst(N, (i) => ocs(sb, `user${i}`).post(`${TALK_V1}/chat/${token}`, { message: `message ${i}` }));
  noErrors(t, posted, 'messages posted at once');
  t.same(posted.statuses, { 201: N }, 'every message created');
  const ids = new Set(posted.answers.map((a) => a.json.ocs.data.id));
  t.equal(ids.size, N, 'each message has its own id');
  const history = await owner.get(`${TALK_V1}/chat/${token}?lookIntoFuture=0&limit=200`);
  const texts = new Set((history.json.ocs.data as Array<{ message: string; actorType: string }>).filter((m) => m.actorType === 'users').map((m) => m.message));
  t.equal(texts.size, N, 'the history holds every message');
  const ownerView = await owner.get(`${TALK_V4}/room/${token}`);
  t.equal(ownerView.json.ocs.data.lastMessage.id, Math.max(...ids), 'the last message is the newest');

  const first = Math.min(...ids);
  const reacted = await burst(N, (i) => ocs(sb, `user${i}`).post(`${TALK_V1}/reaction/${token}/${first}`, { reaction: '👍' }));
  noErrors(t, reacted, 'reactions at once');
  t.same(reacted.statuses, { 201: N }, 'every reaction added');
  const reactions = await owner.get(`${TALK_V1}/reaction/${token}/${first}`);
  t.equal(reactions.json.ocs.data['👍'].length, N, 'the reaction lists every reacting user once');
  const again = await owner.get(`${TALK_V1}/chat/${token}?lookIntoFuture=0&limit=200`);
  const message = (again.json.ocs.data as Array<{ id: number; reactions: Record<string, number> }>).find((m) => m.id === first);
  t.same(message?.reactions, { '👍': N }, 'the message counts every reaction');

  // Every webhook to a bot whose URL the outbound policy refuses counts as a failure at once.
  const api = talkApi(sb.kernel);
  const bot = await api.bots.install({ name: 'Refused', secret: 'refused-bot-secret-'.padEnd(64, 'r'), url: 'http://10.255.255.1/hook', features: ['webhook'] });
  await api.bots.setup(bot.id, [token]);
  const refused = await burst(N, (i) => ocs(sb, `user${i}`).post(`${TALK_V1}/chat/${token}`, { message: `to a refused bot ${i}` }));
  noErrors(t, refused, 'messages to a room with a refused bot');
  t.same(refused.statuses, { 201: N });
  const admin = await owner.get(`${TALK_V1}/bot/admin`);
  const counted = (admin.json.ocs.data as Array<{ id: number; error_count: number }>).find((b) => b.id === bot.id);
  // The Join of the setup was refused too.
  t.equal(counted?.error_count, N + 1, 'error_count counts every refused delivery');
}

async function opsdroid(t: Test, sb: TestKernel): Promise<void> {
  const center = { authorization: CREDENTIALS.opsdroidCenterToken };
  const before = (await request(`${sb.url}/stats/`)).json.messages.webhooks_called as number;
  const called = await burst(N, () => request(`${sb.url}/skill/dance/party`, { method: 'POST', headers: { authorization: `Bearer ${CREDENTIALS.opsdroidWebhookToken}` } }));
  noErrors(t, called, 'webhook skills called at once');
  t.same(called.statuses, { 200: N });
  t.equal((await request(`${sb.url}/stats/`)).json.messages.webhooks_called, before + N, '/stats/ counts every call');
  const ctx = sb.kernel.context('opsdroid');
  const stored = await eventually(async () => {
    const [row] = await ctx.db(ctx.table('stats')).sum({ n: 'webhooks_called' });
    return Number(row.n) === before + N ? Number(row.n) : undefined;
  });
  t.equal(stored, before + N, 'the stored counter counts every call');

  const patched = await burst(N, (i) =>
    request(`${sb.url}/skills`, { method: 'PATCH', headers: center, json: { module_type: 'skills', module_name: 'hello', config: { [`burst-${i}`]: i } } }),
  );
  noErrors(t, patched, 'module changes at once');
  t.same(patched.statuses, { 204: N });
  const hello = (await request(`${sb.url}/skills`, { headers: center })).json.hello as Record<string, unknown>;
  const lost = Array.from({ length: N }, (_, i) => i).filter((i) => hello[`burst-${i}`] !== i);
  t.same(lost, [], 'every concurrent change of the module is kept');
  const [row] = await ctx.db(ctx.table('module_config')).where({ module_type: 'skills', module_name: 'hello' });
  const storedConfig = ctx.dialect.json<Record<string, unknown>>(row.config);
  t.equal(Array.from({ length: N }, (_, i) => i).filter((i) => storedConfig[`burst-${i}`] === i).length, N, 'and stored');
}

async function redball(t: Test, sb: TestKernel): Promise<void> {
  const api = (method: string, p: string, init: { json?: unknown; form?: Record<string, string> } = {}): Promise<Answer> => {
    const url = `${sb.url}/api/v1${p}?apikey=${CREDENTIALS.redballKey}`;
    if (init.form) return request(url, { method, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(init.form).toString() });
    return request(url, { method, json: init.json });
  };
  const named = await burst(N, () => api('POST', '/bots', { form: { name: 'only-one', botType: '1', autoRun: 'False' } }));
  noErrors(t, named, 'bots created with one name at once');
  t.same(named.statuses, { 200: 1, 400: N - 1 }, 'exactly one gets the name, the others a 400');
  const bots = (await api('GET', '/bots')).json.response.bots as Array<{ id: number; name: string }>;
  t.equal(bots.filter((b) => b.name === 'only-one').length, 1, 'one bot has the name');
  const botId = bots[0].id;

  const added = await burst(N, (i) => api('POST', `/bots/${botId}/config`, { json: { Burst: [{ key: `KEY_${i}`, type: 'int', val: i }] } }));
  noErrors(t, added, 'settings added at once');
  t.same(added.statuses, { 200: N });
  const put = await burst(N, (i) => api('PUT', `/bots/${botId}/config`, { json: { Burst: [{ key: 'SHARED', type: 'int', val: i }] } }));
  noErrors(t, put, 'one setting replaced at once');
  t.same(put.statuses, { 200: N });
  const config = (await api('GET', `/bots/${botId}/config`)).json.response.bots[0].config as Record<string, Array<{ key: string; val: number }>>;
  const burstSettings = config.Burst ?? [];
  t.same(
    Array.from({ length: N }, (_, i) => i).filter((i) => burstSettings.find((s) => s.key === `KEY_${i}`)?.val !== i),
    [],
    'every setting added at once is there with its value',
  );
  const shared = burstSettings.filter((s) => s.key === 'SHARED');
  t.equal(shared.length, 1, 'the setting written by every writer exists once');
  t.ok(shared[0].val >= 0 && shared[0].val < N, `and holds one writer's value (${shared[0]?.val})`);
}

async function anope(t: Test, sb: TestKernel): Promise<void> {
  const auth = { authorization: `Bearer ${CREDENTIALS.anopeToken}` };
  const created = await burst(N, (i) => request(`${sb.url}/rest/account`, { method: 'POST', headers: auth, json: { display: `burst${i}`, email: `burst${i}@example.org` } }));
  noErrors(t, created, 'accounts created at once');
  t.same(created.statuses, { 201: N });
  t.equal(new Set(created.answers.map((a) => a.text.trim())).size, N, 'each account has its own id');
  const id = created.answers[0].text.trim();
  const put = await burst(N, (i) => request(`${sb.url}/rest/account/${id}/email`, { method: 'PUT', headers: { ...auth, 'content-type': 'text/plain' }, body: `writer${i}@example.net` }));
  noErrors(t, put, 'one field written at once');
  t.same(put.statuses, { 200: N });
  const account = (await request(`${sb.url}/rest/account/${id}`, { headers: auth })).json;
  t.match(account.email, /^writer\d+@example\.net$/, "the field holds one writer's value");
  const list = (await request(`${sb.url}/rest/account`, { headers: auth })).json.account as Array<{ display: string }>;
  t.equal(list.filter((a) => a.display.startsWith('burst')).length, N, 'the list holds every account');
}

async function owncast(t: Test, sb: TestKernel): Promise<void> {
  const admin = { authorization: `Basic ${Buffer.from(`admin:${CREDENTIALS.owncastStreamKey}`).toString('base64')}` };
  const created = await request(`${sb.url}/api/admin/accesstokens/create`, { method: 'POST', headers: admin, json: { name: 'burst', scopes: ['CAN_SEND_MESSAGES'] } });
  t.equal(created.status, 200);
  const bearer = { authorization: `Bearer ${created.json.token}` };
  const chat = await burst(N, (i) => request(`${sb.url}/api/integrations/chat/user`, { method: 'POST', headers: bearer, json: { user: `chatter${i}`, body: `burst chat ${i}` } }));
  noErrors(t, chat, 'chat messages at once');
  t.same(chat.statuses, { 200: N });
  const messages = (await request(`${sb.url}/api/admin/chat/messages`, { headers: admin })).json as Array<{ body: string }>;
  const bodies = messages.map((m) => m.body).join('\n');
  t.same(
    Array.from({ length: N }, (_, i) => i).filter((i) => !bodies.includes(`burst chat ${i}<`) && !bodies.endsWith(`burst chat ${i}`)),
    [],
    'every chat message is stored',
  );

  // Distinct settings written once each, in the same burst as one setting written by everyone else.
  const distinct: Array<[string, unknown, (config: any) => unknown]> = [
    ['name', 'Burst name', (c) => c.instanceDetails.name],
    ['serversummary', 'Burst summary', (c) => c.instanceDetails.summary],
    ['pagecontent', '# Burst page', (c) => c.instanceDetails.extraPageContent],
    ['customstyles', 'body { color: red }', (c) => c.instanceDetails.customStyles],
    ['tags', ['burst', 'tags'], (c) => c.instanceDetails.tags],
    ['serverurl', 'https://burst.example/live', (c) => c.yp.instanceUrl],
  ];
  const written = await burst(N, (i) =>
    i < distinct.length
      ? request(`${sb.url}/api/admin/config/${distinct[i][0]}`, { method: 'POST', headers: admin, json: { value: distinct[i][1] } })
      : request(`${sb.url}/api/admin/config/streamtitle`, { method: 'POST', headers: admin, json: { value: `title ${i}` } }),
  );
  noErrors(t, written, 'settings written at once');
  t.same(written.statuses, { 200: N });
  const serverConfig = (await request(`${sb.url}/api/admin/serverconfig`, { headers: admin })).json;
  for (const [setter, value, read] of distinct) t.same(read(serverConfig), value, `${setter} kept its value`);
  const ctx = sb.kernel.context('owncast');
  const stored = await ctx.db(ctx.table('settings')).where({ key: 'streamTitle' }).first();
  const storedTitle = JSON.parse(stored.value) as string;
  t.match(storedTitle, /^title \d+$/, "the stored title is one writer's");
  // The copy in memory follows the database within the refresh interval.
  const shown = await eventually(async () => {
    const title = (await request(`${sb.url}/api/admin/serverconfig`, { headers: admin })).json.instanceDetails.streamTitle;
    return title === storedTitle ? title : undefined;
  }, 3000);
  t.equal(shown, storedTitle, 'the API shows the stored title');

  // Viewers: chat clients connecting at once during a broadcast count, and so does the peak.
  const broadcasts = sb.kernel.container.resolve<BroadcastService>(OwncastTokens.Broadcasts);
  await broadcasts.start({ remoteAddr: '127.0.0.1' });
  t.teardown(() => broadcasts.stop().catch(() => undefined));
  const sockets = await Promise.allSettled(
    Array.from({ length: N }, () => {
      const socket = new WebSocket(`${sb.url.replace('http', 'ws')}/entry`);
      return new Promise<WebSocket>((resolve, reject) => {
        socket.once('open', () => resolve(socket));
        socket.once('error', reject);
      });
    }),
  );
  const open = sockets.filter((s): s is PromiseFulfilledResult<WebSocket> => s.status === 'fulfilled').map((s) => s.value);
  t.teardown(() => open.forEach((s) => s.terminate()));
  t.equal(open.length, N, 'every chat client connected');
  const status = async () => (await request(`${sb.url}/api/status`)).json as { viewerCount: number; sessionMaxViewerCount: number; overallMaxViewerCount: number };
  t.equal((await eventually(async () => ((await status()).viewerCount === N ? N : undefined)))!, N, 'every connected client is a viewer');
  const peak = await eventually(async () => ((await status()).sessionMaxViewerCount === N ? N : undefined));
  t.equal(peak, N, 'the session peak counts them all');
  const row = await eventually(async () => {
    const r = await ctx.db(ctx.table('broadcast')).first().catch(() => undefined);
    return r && Number(r.session_peak) === N ? r : undefined;
  });
  t.equal(Number(row?.session_peak), N, 'the stored session peak too');
  for (const s of open.slice(0, N / 2)) s.close();
  t.equal(await eventually(async () => ((await status()).viewerCount === N / 2 ? N / 2 : undefined)), N / 2, 'clients that leave stop counting');
  t.equal((await status()).sessionMaxViewerCount, N, 'the peak stays');
}

for (const kind of databaseKinds()) {
  t.test(`${kind}: ${N} writers at once`, async (t) => {
    const sb = await startTestKernel({ database: kind, identity, plugins: allPlugins() });
    t.teardown(sb.close);
    tally.requests = 0;
    tally.errors = 0;
    await t.test('talk: participants, messages, reactions, error counts', (t) => talk(t, sb));
    await t.test('opsdroid: webhook counters, module changes', (t) => opsdroid(t, sb));
    await t.test('redball: a contested name, settings added and replaced', (t) => redball(t, sb));
    await t.test('anope: creates, one field', (t) => anope(t, sb));
    await t.test('owncast: chat, settings, viewers', (t) => owncast(t, sb));
    t.comment(`${kind}: ${tally.requests} requests in bursts of ${N} at once, errors seen by clients: ${tally.errors}`);
  });
}

t.test(`sqlite: the CLI writing from a second process while ${N} writers at a time keep the server busy`, async (t) => {
  const database = await createTestDatabase('sqlite');
  t.teardown(database.drop);
  const sb = await startTestKernel({ database: database.url, identity, plugins: allPlugins(), outbox: { allow: ['127.0.0.0/8'] } });
  t.teardown(sb.close);
  // The CLI reads the standalone config: the same database and plugin settings.
  const configFile = path.join(path.dirname(database.url.slice('sqlite:'.length)), 'switchboard.config.json');
  const plugins = Object.fromEntries(allPlugins().map((e) => [e.plugin.id, e.config]));
  fs.writeFileSync(configFile, JSON.stringify({ database: { url: database.url }, log: { level: 'warn' }, webhooks: { allow: ['127.0.0.0/8'] }, plugins }));

  const owner = ocs(sb, 'owner');
  const room = (await owner.post(`${TALK_V4}/room`, { roomType: 2, roomName: 'Beside the CLI' })).json.ocs.data.token as string;
  const redballUrl = (p: string) => `${sb.url}/api/v1${p}?apikey=${CREDENTIALS.redballKey}`;
  const botId = (await request(redballUrl('/bots'), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'name=beside&botType=1&autoRun=False' })).json.response.bots[0].id;
  const admin = { authorization: `Basic ${Buffer.from(`admin:${CREDENTIALS.owncastStreamKey}`).toString('base64')}` };
  const owncastToken = (await request(`${sb.url}/api/admin/accesstokens/create`, { method: 'POST', headers: admin, json: { name: 'beside', scopes: ['CAN_SEND_MESSAGES'] } })).json.token;

  const cli = spawnTs('test/reliability/fixtures-b/cli-loop.ts', [configFile, '4000']);
  t.teardown(() => void cli.proc.kill('SIGKILL'));
  await cli.waitFor(/cli-loop: started/, 60_000);
  let round = 0;
  let sent = 0;
  const errors: string[] = [];
  const statuses: Record<number, number> = {};
  let exited = false;
  void cli.exited.then(() => (exited = true));
  while (!exited) {
    const r = round++;
    const result = await burst(N, (i) => {
      const tag = `${r}-${i}`;
      switch (i % 4) {
        case 0:
          return owner.post(`${TALK_V1}/chat/${room}`, { message: `beside ${tag}` });
        case 1:
          return request(`${sb.url}/rest/account`, { method: 'POST', headers: { authorization: `Bearer ${CREDENTIALS.anopeToken}` }, json: { display: `beside${tag}` } });
        case 2:
          return request(redballUrl(`/bots/${botId}/config`), { method: 'POST', json: { Beside: [{ key: `K_${r}_${i}`, val: tag }] } });
        default:
          return request(`${sb.url}/api/integrations/chat/user`, { method: 'POST', headers: { authorization: `Bearer ${owncastToken}` }, json: { user: 'beside', body: `beside ${tag}` } });
      }
    });
    sent += N;
    errors.push(...result.errors);
    for (const [status, n] of Object.entries(result.statuses)) statuses[Number(status)] = (statuses[Number(status)] ?? 0) + n;
  }
  const summary = JSON.parse(/cli-loop: (\{.*\})/.exec(cli.stdout())?.[1] ?? '{}') as { commands?: number; failures?: string[] };
  t.comment(`requests while the CLI wrote: ${sent} in ${round} bursts of ${N}; CLI commands: ${summary.commands}`);
  t.same(errors, [], `no client saw an error (${JSON.stringify(statuses)})`);
  if (errors.length > 0) t.comment(sb.kernel.logs.entries('error').slice(0, 3).map((e) => e.message).join('\n'));
  t.equal(Object.keys(statuses).filter((s) => Number(s) >= 300).length, 0, 'every request succeeded');
  t.same(summary.failures, [], 'no CLI command failed');
  t.ok((summary.commands ?? 0) >= 4, 'the CLI wrote while the server was busy');
  t.equal(round > 0, true, 'the server was busy while the CLI wrote');
  t.equal(cli.stderr().match(/SQLITE_BUSY/g)?.length ?? 0, 0, 'nothing about SQLITE_BUSY on the CLI side');
});
