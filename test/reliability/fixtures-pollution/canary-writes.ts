/**
 * The canary's writes: after the pollution fuzz, one write must still succeed in every family
 * (prototype pollution broke every UPDATE of every family: Knex wrote the inherited key as a
 * column), and a redball bot must still start and run. Each returns the problems it saw.
 */
import type { Sending, Sent } from '../fixtures-a/http.js';
import { basicAuth } from '../fixtures-a/http.js';
import type { Secrets } from '../fixtures-a/standalone.js';

/** Sends one request to the server under test. */
export type Send = (input: Sending) => Promise<Sent>;

const TALK = '/ocs/v2.php/apps/spreed/api';

function expect(problems: string[], what: string, res: Sent, ...statuses: number[]): boolean {
  if (statuses.includes(res.status)) return true;
  problems.push(`${what}: ${res.status} ${res.error ?? ''}${res.text.slice(0, 200)}`);
  return false;
}

const json = (body: unknown) => ({ 'content-type': 'application/json', body: JSON.stringify(body) });

/**
 * Starts a redball bot, waits until it publishes a detailedState (it really runs), stops it.
 * Returns the problems.
 */
export async function botStarts(sendTo: Send, apikey: string, botId: number): Promise<string[]> {
  const problems: string[] = [];
  const rb = (p: string) => `/api/v1${p}?apikey=${encodeURIComponent(apikey)}`;
  const started = await sendTo({ method: 'PUT', path: rb(`/bots/${botId}/start`) });
  if (!expect(problems, `redball PUT /bots/${botId}/start`, started, 200)) return problems;
  if ((started.json as { response?: { result?: unknown } })?.response?.result !== true) problems.push(`redball start answered ${started.text.slice(0, 200)}`);
  const deadline = Date.now() + 15_000;
  let state: unknown;
  for (;;) {
    const res = await sendTo({ method: 'GET', path: rb(`/bots/${botId}`) });
    if (!expect(problems, `redball GET /bots/${botId} while running`, res, 200)) break;
    const bot = (res.json as { response?: { bots?: Array<{ status?: string; detailedState?: unknown }> } })?.response?.bots?.[0];
    state = bot?.detailedState;
    if (bot?.status === 'Running' && state && typeof state === 'object' && Object.keys(state).length > 0) break;
    if (Date.now() > deadline) {
      problems.push(`redball bot ${botId} did not run within 15 s (status ${bot?.status}, detailedState ${JSON.stringify(state)})`);
      break;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(problems, `redball PUT /bots/${botId}/stop`, await sendTo({ method: 'PUT', path: rb(`/bots/${botId}/stop`) }), 200);
  return problems;
}

/** One write in every family, and a new redball bot that starts. Returns the problems. */
export async function canaryWrites(sendTo: Send, secrets: Secrets, streamKey: () => string): Promise<string[]> {
  const problems: string[] = [];
  const tag = `canary${Date.now().toString(36)}`;

  // anope: create, then update a field (an UPDATE: what pollution broke).
  const anope = { authorization: `Bearer ${secrets.anopeToken}` };
  const created = await sendTo({ method: 'POST', path: '/rest/account', headers: anope, body: JSON.stringify({ display: tag, email: `${tag}@example.org` }) });
  if (expect(problems, 'anope POST /rest/account', created, 201)) {
    expect(problems, 'anope PUT /rest/account/<id>/email', await sendTo({ method: 'PUT', path: `/rest/account/${created.text.trim()}/email`, headers: { ...anope, 'content-type': 'text/plain' }, body: `new-${tag}@example.org` }), 200, 204);
  }

  // opsdroid: the command center changes a module.
  const patch = json({ module_type: 'skills', module_name: 'hello', config: { greeting: tag } });
  expect(problems, 'opsdroid PATCH /skills', await sendTo({ method: 'PATCH', path: '/skills', headers: { authorization: secrets.opsdroidCommandCenter, 'content-type': patch['content-type'] }, body: patch.body }), 204, 200);

  // Talk: a new conversation and a message in it.
  const ocs = { authorization: basicAuth('alice', secrets.users.alice), 'ocs-apirequest': 'true', accept: 'application/json', 'content-type': 'application/json' };
  const room = await sendTo({ method: 'POST', path: `${TALK}/v4/room`, headers: ocs, body: JSON.stringify({ roomType: 2, roomName: tag }) });
  if (expect(problems, 'talk POST /v4/room', room, 201, 200)) {
    const token = (room.json as { ocs: { data: { token: string } } }).ocs.data.token;
    expect(problems, 'talk POST /v1/chat/<token>', await sendTo({ method: 'POST', path: `${TALK}/v1/chat/${token}`, headers: ocs, body: JSON.stringify({ message: tag }) }), 201);
  }

  // Owncast: an admin setting.
  expect(
    problems,
    'owncast POST /api/admin/config/name',
    await sendTo({ method: 'POST', path: '/api/admin/config/name', headers: { authorization: basicAuth('admin', streamKey()), 'content-type': 'application/json' }, body: JSON.stringify({ value: tag }) }),
    200,
  );

  // redball: a new bot type, authorization, bot and setting; then the bot starts.
  const rb = (p: string) => `/api/v1${p}?apikey=${encodeURIComponent(secrets.redballKey)}`;
  const post = (p: string, body: unknown) => {
    const b = json(body);
    return sendTo({ method: 'POST', path: rb(p), headers: { 'content-type': b['content-type'] }, body: b.body });
  };
  const type = await post('/bottypes', { description: `Heartbeat ${tag}`, moduleName: 'heartbeat' });
  const auth = await post('/redditauths', { description: `auth ${tag}`, reddit_appId: 'app-id', reddit_appSecret: 'reddit-app-secret-canary', reddit_scopes: "['identity']" });
  if (expect(problems, 'redball POST /bottypes', type, 200) && expect(problems, 'redball POST /redditauths', auth, 200)) {
    const typeId = (type.json as any).response.botTypes[0].id as number;
    const authId = (auth.json as any).response.redditAuths[0].id as number;
    const bot = await post('/bots', { name: `bot-${tag}`, botType: typeId, autoRun: 'False', redditAuth: authId });
    if (expect(problems, 'redball POST /bots', bot, 200)) {
      const botId = (bot.json as any).response.bots[0].id as number;
      if (expect(problems, 'redball POST /bots/<id>/config', await post(`/bots/${botId}/config`, { Heartbeat: [{ key: 'INTERVAL_MS', type: 'int', val: 50 }, { key: 'MESSAGE', val: tag }] }), 200)) {
        problems.push(...(await botStarts(sendTo, secrets.redballKey, botId)));
      }
    }
  }
  return problems;
}
