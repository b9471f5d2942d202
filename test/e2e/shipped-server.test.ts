/**
 * End to end on the shipped artifact: the server started exactly as `npm start` starts it
 * (package.json's `start` script, in a child process, a fresh working directory and a fresh
 * database), driven from outside over HTTP, websockets and the `switchboard` command, one
 * main flow per family, on SQLite and on PostgreSQL (with PG_URL). One server per database.
 *
 * Prints `e2e: N flows passed on sqlite, postgres` (read by .ci/run).
 */
import t, { type Test } from 'tap';
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTestDatabase, databaseKinds, type DatabaseKind } from '../../src/testing/index.js';
import { checkBuilt, packageJson } from '../helpers/build.js';
import { startShipped, type ShippedServer } from '../helpers/shipped-server.js';
import { openWs } from '../helpers/ws-client.js';
import { until } from '../helpers/waiting.js';

const stale = checkBuilt();
if (stale) t.comment(stale);
// More than tap's default per file: two servers and four switchboard commands: minutes on a busy 2-core machine.
t.setTimeout(480_000);
t.comment(`npm start = ${packageJson().scripts.start}`);

/** Random secrets of this run (the secrets check looks for each one in the server's log). */
function secret(prefix: string): string {
  return `${prefix}-${crypto.randomBytes(16).toString('hex')}`;
}

interface Answer {
  status: number;
  text: string;
  json: any;
}

async function call(url: string, init: RequestInit & { json?: unknown; form?: Record<string, string> } = {}): Promise<Answer> {
  const { json, form, ...rest } = init;
  const headers = new Headers(rest.headers);
  let body = rest.body;
  if (json !== undefined) {
    body = JSON.stringify(json);
    headers.set('content-type', 'application/json');
  } else if (form) {
    body = new URLSearchParams(form).toString();
    headers.set('content-type', 'application/x-www-form-urlencoded');
  }
  const res = await fetch(url, { ...rest, headers, body });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, text, json: parsed };
}

/** A local HTTP server that records JSON POSTs and answers with `answer`. */
async function receiver(answer: (body: Buffer, headers: http.IncomingHttpHeaders) => Promise<void> | void = () => undefined) {
  const received: Array<{ headers: http.IncomingHttpHeaders; body: Buffer }> = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      received.push({ headers: req.headers, body });
      res.writeHead(200).end();
      void Promise.resolve(answer(body, req.headers)).catch(() => undefined);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

const passedOn = new Map<DatabaseKind, number>();
const FLOWS = 5;

for (const kind of databaseKinds()) {
  t.test(`${kind}: npm start, each family's main flow from outside`, async (t) => {
    const secrets = {
      admin: secret('e2e-admin'),
      alice: secret('e2e-alice'),
      redballKey: secret('e2e-redball'),
      opsdroidWebhook: secret('e2e-opsdroid'),
      streamKey: secret('e2e-stream'),
    };
    // SQLite: the default database under ./data of the fresh working directory.
    const db = kind === 'postgres' ? await createTestDatabase('postgres') : undefined;
    if (db) t.teardown(db.drop);
    const config = {
      server: { host: '127.0.0.1', port: 0 },
      ...(db ? { database: { url: db.url } } : {}),
      users: [
        { id: 'admin', password: secrets.admin, admin: true },
        { id: 'alice', password: secrets.alice, displayName: 'Alice' },
      ],
      webhooks: { allow: ['127.0.0.0/8'], timeoutMs: 2000 },
      plugins: {
        redball: { apiKeys: [secrets.redballKey] },
        opsdroid: { web: { 'webhook-token': secrets.opsdroidWebhook } },
        owncast: { streamKey: secrets.streamKey },
      },
    };
    const server: ShippedServer = await startShipped(config, { label: `e2e-${kind}` });
    let stopped = false;
    t.teardown(async () => {
      if (!stopped) await server.stop();
    });
    const base = server.url;
    let passed = 0;
    const flow = (name: string, fn: (t: Test) => Promise<void>) =>
      t.test(name, async (t) => {
        await fn(t);
        if (t.passing()) passed++;
      });

    // The switchboard commands of the Talk and Anope flows run one after the other while the
    // first flows talk to the server (each command loads the whole package: seconds on 2 cores).
    const botSecret = crypto.randomBytes(32).toString('hex');
    const replies: number[] = [];
    const verified: boolean[] = [];
    // The bot of docs/plugins/talk.md: verifies what it receives, answers signed.
    const bot = await receiver(async (body, headers) => {
      const digest = crypto.createHmac('sha256', botSecret).update(String(headers['x-nextcloud-talk-random'])).update(body).digest('hex');
      verified.push(digest === String(headers['x-nextcloud-talk-signature']).toLowerCase());
      const activity = JSON.parse(body.toString('utf8'));
      if (activity.type !== 'Create') return;
      const message = `echo: ${JSON.parse(activity.object.content).message}`;
      const random = crypto.randomBytes(32).toString('hex');
      const res = await fetch(`${headers['x-nextcloud-talk-backend']}ocs/v2.php/apps/spreed/api/v1/bot/${activity.target.id}/message`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'OCS-APIRequest': 'true',
          'X-Nextcloud-Talk-Bot-Random': random,
          'X-Nextcloud-Talk-Bot-Signature': crypto.createHmac('sha256', botSecret).update(random + message).digest('hex'),
        },
        body: JSON.stringify({ message, replyTo: Number(activity.object.id) }),
      });
      replies.push(res.status);
    });
    t.teardown(bot.close);
    const commands = (async () => {
      const install = await server.cli(['talk', 'bot:install', 'Echo', botSecret, `${bot.url}/echo`, 'Repeats what you say']);
      const anopeToken = await server.cli(['anope', 'token', 'create', '--label', 'e2e']);
      return { install, anopeToken };
    })();
    commands.catch(() => undefined);

    await flow('redball: the built-in heartbeat bot reaches Running, publishes detailedState, stops', async (t) => {
      const api = (p: string, init: Parameters<typeof call>[1] = {}) => call(`${base}/api/v1${p}${p.includes('?') ? '&' : '?'}apikey=${secrets.redballKey}`, init);
      const types = await api('/bottypes');
      t.equal(types.status, 200);
      const heartbeat = (types.json.response.botTypes as Array<{ id: number; moduleName: string }>).find((b) => b.moduleName === 'heartbeat');
      t.ok(heartbeat, 'the built-in heartbeat type');
      const created = await api('/bots', { method: 'POST', form: { name: 'pulse', botType: String(heartbeat!.id), autoRun: 'False' } });
      t.equal(created.status, 200, created.text);
      const id = created.json.response.bots[0].id as number;
      const configured = await api(`/bots/${id}/config`, { method: 'POST', json: { Heartbeat: [{ key: 'INTERVAL_MS', type: 'int', val: 100 }] } });
      t.equal(configured.status, 200, configured.text);
      const start = await api(`/bots/${id}/start`, { method: 'PUT' });
      t.same(start.json?.response, { result: true }, `start: ${start.text}`);
      const running = await until('two heartbeats', async () => {
        const bot = (await api(`/bots/${id}`)).json?.response?.bots?.[0];
        if (bot?.detailedState?.error) throw new Error(`the bot failed: ${JSON.stringify(bot.detailedState.error)}`);
        return bot?.status === 'Running' && bot.detailedState?.heartbeat?.count >= 2 ? bot : undefined;
      });
      t.equal(running.status, 'Running');
      t.match(running.detailedState.summary.text, /^alive #\d+ at /, 'detailedState published by the bot');
      const field = await api(`/bots/${id}/detailedState`);
      t.ok(field.json.response.bots[0].detailedState.heartbeat.count >= 2, 'GET …/detailedState');
      const stop = await api(`/bots/${id}/stop`, { method: 'PUT' });
      t.same(stop.json?.response, { result: true }, `stop: ${stop.text}`);
      const after = (await api(`/bots/${id}`)).json.response.bots[0];
      t.equal(after.status, 'Stopped');
      t.notOk(after.detailedState?.error, 'stopped without an error');
    });

    await flow('Owncast: a chat message over /entry reaches a webhook receiver', async (t) => {
      const hook = await receiver();
      t.teardown(hook.close);
      const admin = { authorization: `Basic ${Buffer.from(`admin:${secrets.streamKey}`).toString('base64')}` };
      const created = await call(`${base}/api/admin/webhooks/create`, { method: 'POST', headers: admin, json: { url: `${hook.url}/owncast`, events: ['CHAT'] } });
      t.equal(created.status, 200, created.text);
      const chat = await openWs(`${base.replace(/^http/, 'ws')}/entry`);
      t.teardown(chat.close);
      const text = `hello from e2e ${crypto.randomBytes(4).toString('hex')}`;
      chat.send({ type: 'USER_JOINED', username: 'alice' });
      chat.send({ type: 'CHAT', author: 'alice', body: text });
      const echoed = JSON.parse(await chat.next((f) => f.includes(text)));
      t.equal(echoed.type, 'CHAT', 'the message comes back to the chat');
      await until('the webhook', async () => (hook.received.length > 0 ? true : undefined));
      const delivery = JSON.parse(hook.received[0].body.toString('utf8'));
      t.equal(delivery.type, 'CHAT');
      t.match(delivery.eventData.body, text, 'the webhook carries the message');
      t.equal(delivery.eventData.author, 'alice');
      const history = await call(`${base}/api/chat`);
      t.ok((history.json as Array<{ body: string }>).some((m) => m.body.includes(text)), '/api/chat has it');
    });

    await flow('Talk: a bot installed with the CLI and enabled gets a signed message, its signed reply is accepted', async (t) => {
      const { install } = await commands;
      t.equal(install.code, 0, `bot:install exits 0${install.code === 0 ? '' : `: ${install.stderr.trim()}`}`);
      const botId = Number(/^ID: (\d+)$/m.exec(install.stdout)?.[1]);
      t.ok(botId > 0, 'bot:install prints the ID');
      const ocs = `${base}/ocs/v2.php/apps/spreed/api`;
      const alice = { 'OCS-APIRequest': 'true', Accept: 'application/json', authorization: `Basic ${Buffer.from(`alice:${secrets.alice}`).toString('base64')}` };
      const room = await call(`${ocs}/v4/room`, { method: 'POST', headers: alice, form: { roomType: '2', roomName: 'Team' } });
      t.equal(room.status, 201, room.text);
      const token = room.json.ocs.data.token as string;
      const enabled = await call(`${ocs}/v1/bot/${token}/${botId}`, { method: 'POST', headers: alice });
      t.equal(enabled.status, 201, 'enabled');
      t.equal(enabled.json.ocs.data.state, 1);
      const posted = await call(`${ocs}/v1/chat/${token}`, { method: 'POST', headers: alice, form: { message: 'hello bot' } });
      t.equal(posted.status, 201);
      const answer = await until('the bot\'s answer in the chat', async () => {
        const chat = await call(`${ocs}/v1/chat/${token}?lookIntoFuture=0`, { headers: alice });
        return (chat.json?.ocs?.data as Array<{ actorType: string; message: string }> | undefined)?.find((m) => m.actorType === 'bots');
      });
      t.equal(answer.message, 'echo: hello bot');
      const types = bot.received.map((r) => JSON.parse(r.body.toString('utf8')).type);
      t.same(types, ['Join', 'Create'], 'the bot got the Join, then the message');
      t.same(verified, [true, true], 'every delivery carried a valid signature');
      t.same(replies, [201], 'the signed reply was accepted');
    });

    await flow('opsdroid: a round trip through the websocket connector, and a webhook skill', async (t) => {
      const requested = await call(`${base}/connector/websocket`, { method: 'POST' });
      t.equal(requested.status, 200, requested.text);
      const ws = await openWs(`${base.replace(/^http/, 'ws')}/connector/websocket/${requested.json.socket}`);
      t.teardown(ws.close);
      ws.send({ message: 'hi there', user: 'alice' });
      t.match(await ws.next((f) => /alice/.test(f)), /alice/, 'the hello skill greets alice by name over the socket');
      // Skills run concurrently, as opsdroid's do: the seen skill may still be storing alice's
      // message when the greeting arrives, so bob asks until it has.
      let seen = '';
      for (let i = 0; i < 30 && !/last saw/.test(seen); i++) {
        if (i > 0) await new Promise((r) => setTimeout(r, 200));
        const asked = ws.frames.length;
        ws.send({ message: 'when did you last see alice?', user: 'bob' });
        seen = await ws.next((f) => /seen alice|saw alice/.test(f), 10_000, asked);
      }
      t.match(seen, /^I last saw alice \d+ seconds? ago$/, 'the seen skill remembers alice, through the database');
      ws.send('THIS IS LOUD');
      await ws.next((f) => f === 'LOUD NOISES!');
      t.pass('loudnoises answers');
      const refused = await call(`${base}/skill/dance/party`, { method: 'POST', headers: { authorization: 'Bearer wrong-token-wrong-token' } });
      t.equal(refused.status, 403, 'a wrong webhook token is refused');
      const before = ws.frames.length;
      const called = await call(`${base}/skill/dance/party`, { method: 'POST', headers: { authorization: `Bearer ${secrets.opsdroidWebhook}` } });
      t.equal(called.status, 200);
      t.same(called.json, { called_skill: 'party' });
      await until('the dance on the open socket', async () => (ws.frames.length >= before + 4 ? true : undefined));
      t.pass('the webhook skill danced on the open conversation');
      const stats = await call(`${base}/stats/`);
      t.ok(stats.json.messages.webhooks_called >= 1, '/stats/ counts the webhook');
      t.ok(stats.json.messages.total_parsed >= 3, '/stats/ counts the messages');
    });

    await flow('Anope: the walkthrough of docs/plugins/anope.md, with a cascade', async (t) => {
      const { anopeToken: created } = await commands;
      t.equal(created.code, 0, `anope token create exits 0${created.code === 0 ? '' : `: ${created.stderr.trim()}`}`);
      const token = created.stdout.trim().split('\n').pop()!;
      const auth = { authorization: `Bearer ${token}` };
      t.equal((await call(`${base}/rest/types`)).status, 401, 'no token: 401');
      const types = await call(`${base}/rest/types`, { headers: auth });
      t.ok(types.json.types.includes('account') && types.json.types.includes('nsaccess'), 'types');
      const account = await call(`${base}/rest/account`, { method: 'POST', headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' }, body: '{"display": "Adam", "email": "adam@sigterm.info"}' });
      t.equal(account.status, 201);
      const id = account.text.trim();
      t.match(id, /^\d+$/, 'the bare new id');
      const found = await call(`${base}/rest/account/display/adam`, { headers: auth });
      t.equal(found.json.id, id, 'names match case-insensitively');
      t.equal((await call(`${base}/rest/account/${id}/email`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' }, body: 'adam@anope.org' })).status, 200);
      t.equal((await call(`${base}/rest/account/${id}`, { headers: auth })).json.email, 'adam@anope.org');
      const access = await call(`${base}/rest/nsaccess`, { method: 'POST', headers: auth, body: `{"account": "account:${id}", "mask": "adam@*"}` });
      t.equal(access.status, 201);
      const accessId = access.text.trim();
      const refs = await call(`${base}/rest/account/${id}?refs=nsaccess`, { headers: auth });
      // Anope answers the referencing objects under the queried type's name.
      t.same(refs.json.account?.map((o: { id: string; mask: string }) => [o.id, o.mask]), [[accessId, 'adam@*']], "the account's access list");
      t.equal((await call(`${base}/rest/account/${id}`, { method: 'DELETE', headers: auth })).status, 200);
      const gone = await call(`${base}/rest/nsaccess/${accessId}`, { headers: auth });
      t.equal(gone.status, 404, 'the access entry went with the account (cascade)');
      t.equal(gone.text, 'Not found');
    });

    const code = await server.stop();
    stopped = true;
    t.equal(code, 0, 'SIGTERM: a clean exit');
    t.notMatch(server.stderr(), /\n\s+at |Error:/, 'no stack or error on stderr');
    passedOn.set(kind, passed);
  });
}

t.test('counts', async (t) => {
  const kinds = [...passedOn.keys()];
  const passed = kinds.reduce((n, k) => n + passedOn.get(k)!, 0);
  const counts = kinds.every((k) => passedOn.get(k) === FLOWS)
    ? `${FLOWS} flows passed on ${kinds.join(', ')}`
    : kinds.map((k) => `${passedOn.get(k)} of ${FLOWS} flows passed on ${k}`).join(', ');
  t.comment(`e2e: ${counts || 'no flow ran'}`);
  t.equal(passed, FLOWS * databaseKinds().length, 'every flow passed on every database');
});
