/**
 * The auth matrix: every protected route of every family — derived from the route registry's
 * auth declarations, plus the routes whose handler checks the credential (opsdroid's webhook
 * token, Talk's bot signatures) — is called with no credential, a wrong one, every other
 * family's valid credentials, and valid credentials of a lower scope or role. Each must get
 * the family's own refusal (status and body, byte for byte where the family fixes it) and
 * never data; no refusal writes to the database.
 *
 * Then Talk's brute-force protection: repeated bad bot signatures get 429 (also for a right
 * signature, for a while), other conversations are unaffected; and every refusal is logged
 * without the secret — no configured secret and no wrong credential reaches any log line.
 */
import t from 'tap';
import { databaseKinds } from '../../src/testing/index.js';
import { OwncastTokens, type Owncast } from '../../plugins/owncast/index.js';
import { TALK_API, talkSignature, type TalkApi } from '../../plugins/talk/index.js';
import { EXCLUSIONS } from './fixtures-a/exclusions.js';
import { families, resolveRoutes, TALK_BOT_MESSAGE, TALK_BOT_REACTION, TALK_RANDOM, WRONG, type Credential, type Family, type ResolvedRoute } from './fixtures-a/families.js';
import { encodeBody, type RouteShape } from './fixtures-a/hostile.js';
import { basicAuth, type Sent } from './fixtures-a/http.js';
import { sample } from './fixtures-a/schema-sample.js';
import { credentialStrategies, shapeOf } from './fixtures-a/shapes.js';
import { CANARY, startFullStandalone, type FullStandalone } from './fixtures-a/standalone.js';
import { installWriteCounter, reproducedWrites } from './fixtures-a/write-counter.js';

type CaseKind = 'none' | 'wrong' | 'foreign' | 'lower';
interface Case {
  kind: CaseKind;
  name: string;
  credential: Credential;
}

/** Every family's valid credentials, to be tried on the other families' routes. */
function foreignCredentials(sa: FullStandalone, streamKey: string): Array<{ family: string; name: string; credential: Credential }> {
  const s = sa.secrets;
  return [
    { family: 'opsdroid', name: 'opsdroid command-center token', credential: { headers: { authorization: s.opsdroidCommandCenter } } },
    { family: 'opsdroid', name: 'opsdroid webhook token', credential: { headers: { authorization: `Bearer ${s.opsdroidWebhook}` } } },
    { family: 'redball', name: 'redball API key', credential: { query: [['apikey', s.redballKey]] } },
    { family: 'talk', name: 'Talk administrator alice', credential: { headers: { authorization: basicAuth('alice', s.users.alice) } } },
    {
      family: 'talk',
      name: 'Talk bot signature',
      credential: { headers: { 'x-nextcloud-talk-bot-random': TALK_RANDOM, 'x-nextcloud-talk-bot-signature': talkSignature(s.talkBotSecret, TALK_RANDOM, 'signed sample') } },
    },
    { family: 'anope', name: 'anope token', credential: { headers: { authorization: `Bearer ${s.anopeToken}` } } },
    { family: 'owncast', name: 'Owncast admin', credential: { headers: { authorization: basicAuth('admin', streamKey) } } },
    ...Object.entries(s.owncastTokens).map(([scope, token]) => ({ family: 'owncast', name: `Owncast ${scope} token`, credential: { headers: { authorization: `Bearer ${token}` } } })),
  ];
}

/** The request of a case: the route's realistic path, query and body, with only the case's credential. */
function requestOf(shape: RouteShape, credential: Credential) {
  const path = `/${shape.segments.map((s) => ('literal' in s ? s.literal : s.value)).join('/')}`;
  const query = [...shape.baseQuery, ...(credential.query ?? [])];
  const qs = query.length > 0 ? `?${query.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}` : '';
  const headers: Record<string, string> = { ...shape.headers, ...credential.headers };
  let body: string | undefined;
  if (shape.body || shape.rawBody !== undefined) {
    const encoded = shape.body ? encodeBody(shape.baseValue !== undefined ? shape.baseValue : sample(shape.body), shape.accepts[0] ?? 'json') : { body: shape.rawBody!, contentType: 'text/plain' };
    body = encoded.body;
    headers['content-type'] = encoded.contentType;
  }
  return { method: shape.method, path: path + qs, headers, body };
}

/** Checks an answer against the family's refusal for a case; returns what is wrong, or nothing. */
function refusalProblems(route: ResolvedRoute, c: Case, res: Sent): string[] {
  const problems: string[] = [];
  const expectStatus = (...allowed: number[]) => {
    if (!allowed.includes(res.status)) problems.push(`status ${res.status}, expected ${allowed.join(' or ')}`);
  };
  const expectText = (text: string) => {
    if (res.text !== text) problems.push(`body ${JSON.stringify(res.text.slice(0, 200))}, expected ${JSON.stringify(text)}`);
  };
  const expectHeader = (name: string, value: string | RegExp) => {
    const got = String(res.headers[name] ?? '');
    if (typeof value === 'string' ? got !== value : !value.test(got)) problems.push(`header ${name}: ${JSON.stringify(got)}, expected ${String(value)}`);
  };
  const json = res.json as any;
  if (res.text.includes(CANARY)) problems.push('the refusal shows seeded data');
  switch (route.plugin) {
    case 'opsdroid':
      if (route.fullPath.startsWith('/skill/')) {
        // opsdroid-notes.md: a wrong webhook token → 403 with body {"called_skill": "<webhook>"}.
        expectStatus(403);
        expectText('{"called_skill":"party"}');
      } else {
        // The command center: 403 `403: Forbidden`, aiohttp's plain text.
        expectStatus(403);
        expectText('403: Forbidden');
        expectHeader('content-type', /^text\/plain/);
      }
      break;
    case 'redball':
      // redball-notes.md: missing or unknown key → 401, errors ["401 Unauthorized"], response "".
      expectStatus(401);
      if (!(json && json.meta?.api_version === 1 && typeof json.meta.timestamp === 'number' && JSON.stringify(json.errors) === '["401 Unauthorized"]' && json.response === '' && Object.keys(json).length === 3)) {
        problems.push(`not redball's 401 envelope: ${res.text.slice(0, 200)}`);
      }
      break;
    case 'talk': {
      const meta = json?.ocs?.meta;
      const data = json?.ocs?.data;
      if (route.fullPath === TALK_BOT_MESSAGE || route.fullPath === TALK_BOT_REACTION) {
        // talk-notes.md: missing signature headers → 400; no bot matches → 401; repeated 401s → 429.
        if (!c.credential.headers?.['x-nextcloud-talk-bot-signature']) expectStatus(400);
        else expectStatus(401, 429);
        if (res.status === 429) {
          if (!(meta?.statuscode === 429 && JSON.stringify(data) === '[]')) problems.push(`not Talk's 429: ${res.text.slice(0, 200)}`);
        } else if (!(meta?.status === 'failure' && meta.statuscode === res.status && data === null)) problems.push(`not Talk's bot refusal: ${res.text.slice(0, 200)}`);
        break;
      }
      if (c.kind === 'lower' && c.name.startsWith('carol') && route.fullPath.includes(':token')) {
        expectStatus(404); // not a participant: the conversation does not exist for her
      } else if (c.kind === 'lower') {
        expectStatus(403);
        const message = route.fullPath.endsWith('/bot/admin') ? 'Logged in account must be an admin' : '';
        if (!(meta?.status === 'failure' && meta.statuscode === 403 && meta.message === message && JSON.stringify(data) === '[]')) problems.push(`not Talk's 403: ${res.text.slice(0, 200)}`);
        break;
      } else {
        // talk-notes.md: not logged in → 401 with OCS statuscode 997.
        expectStatus(401);
      }
      const statuscode = res.status === 401 ? 997 : res.status;
      if (!(meta?.status === 'failure' && meta.statuscode === statuscode && JSON.stringify(data) === '[]')) problems.push(`not Talk's ${res.status}: ${res.text.slice(0, 200)}`);
      break;
    }
    case 'anope':
      expectStatus(401);
      expectText('Unauthorized');
      expectHeader('www-authenticate', 'Bearer realm="anope"');
      break;
    case 'owncast':
      expectStatus(401);
      if (route.auth.some((s) => s.name === 'basic')) {
        // owncast-notes.md: 401 `Unauthorized` with the Basic challenge.
        expectText('Unauthorized');
        expectHeader('www-authenticate', 'Basic realm="Owncast Authenticated Request"');
      } else {
        // owncast-notes.md: a missing, unknown or out-of-scope token → 401 `invalid access token`.
        expectText('invalid access token');
      }
      expectHeader('content-type', /^text\/plain/);
      break;
    default:
      if (res.status < 400) problems.push(`status ${res.status}: a refusal was expected`);
  }
  return problems;
}

/** The cases of a protected route, or none when it is not protected. */
function casesOf(route: ResolvedRoute, family: Family, foreign: ReturnType<typeof foreignCredentials>): Case[] {
  const strategies = credentialStrategies(route, family);
  const handler = strategies.length === 0 ? family.handlerCredential?.(route) : undefined;
  if (strategies.length === 0 && !handler) return [];
  const wrong = strategies.length > 0 ? family.wrongCredential(strategies[0]) : family.handlerWrongCredential!(route)!;
  return [
    { kind: 'none', name: 'no credential', credential: {} },
    { kind: 'wrong', name: 'a wrong credential', credential: wrong },
    ...foreign.filter((f) => f.family !== route.plugin).map((f) => ({ kind: 'foreign' as const, name: f.name, credential: f.credential })),
    ...(family.lowerCredentials?.(route) ?? []).map((l) => ({ kind: 'lower' as const, name: l.name, credential: l.credential })),
  ];
}

for (const kind of databaseKinds()) {
  t.test(kind, async (t) => {
    const sa = await startFullStandalone(kind);
    t.teardown(sa.close);
    const kernel = sa.standalone.kernel;
    const owncast = kernel.context('owncast').container.resolve<Owncast>(OwncastTokens.Owncast);
    const streamKey = () => owncast.settings.streamKey();
    const fams = families(sa.secrets, sa.seeds, streamKey);
    const foreign = foreignCredentials(sa, streamKey());
    const counter = await installWriteCounter(kernel.db, EXCLUSIONS);
    let last = await counter.read();
    const background = new Set<string>();

    let protectedRoutes = 0;
    let requests = 0;
    const perFamily = new Map<string, number>();
    for (const route of resolveRoutes(kernel.httpSurfaces())) {
      const family = fams[route.plugin];
      if (!family) continue;
      const cases = casesOf(route, family, foreign);
      if (cases.length === 0) continue;
      protectedRoutes++;
      perFamily.set(route.plugin, (perFamily.get(route.plugin) ?? 0) + 1);
      const shape = shapeOf(route, family, false);
      const problems: string[] = [];
      for (const c of cases) {
        const req = requestOf(shape, c.credential);
        const res = await sa.send(req);
        requests++;
        for (const p of refusalProblems(route, c, res)) problems.push(`${c.kind} (${c.name}): ${p}`);
        // A refusal writes nothing (a write some plugin's timer made meanwhile does not happen again when the request is sent twice).
        await sa.settle();
        const now = await counter.read();
        const writes = counter.diff(last, now).map((d) => d.table);
        last = now;
        if (writes.length > 0) {
          const again = await reproducedWrites(sa, counter, req, writes);
          last = await counter.read();
          for (const table of writes) if (!again.includes(table)) background.add(table);
          if (again.length > 0) problems.push(`${c.kind} (${c.name}): the refusal wrote to ${again.join(', ')}`);
        }
      }
      t.same(problems, [], `${route.plugin} ${route.method} ${route.fullPath}: ${cases.length} refusals`);
    }
    if (background.size > 0) t.comment(`written by a timer during the matrix (not again when the request was sent twice): ${[...background].sort().join(', ')}`);
    t.same([...perFamily.keys()].sort(), ['anope', 'opsdroid', 'owncast', 'redball', 'talk'], 'every family has protected routes');
    t.comment(`auth matrix (${kind}): ${protectedRoutes} protected routes, ${requests} refused requests (${[...perFamily].map(([f, n]) => `${f} ${n}`).join(', ')})`);

    // Each family's valid credential still opens a route of its own: the matrix refused for the right reason.
    const opens: Array<[string, Parameters<FullStandalone['send']>[0]]> = [
      ['opsdroid', { method: 'GET', path: '/config', headers: { authorization: sa.secrets.opsdroidCommandCenter } }],
      ['redball', { method: 'GET', path: `/api/v1/bots?apikey=${sa.secrets.redballKey}` }],
      ['talk', { method: 'GET', path: '/ocs/v2.php/apps/spreed/api/v1/bot/admin', headers: { authorization: basicAuth('alice', sa.secrets.users.alice), 'ocs-apirequest': 'true', accept: 'application/json' } }],
      ['anope', { method: 'GET', path: '/rest/account', headers: { authorization: `Bearer ${sa.secrets.anopeToken}` } }],
      ['owncast', { method: 'GET', path: '/api/admin/serverconfig', headers: { authorization: basicAuth('admin', streamKey()) } }],
      ['owncast', { method: 'GET', path: '/api/integrations/chat', headers: { authorization: `Bearer ${sa.secrets.owncastTokens.HAS_ADMIN_ACCESS}` } }],
    ];
    for (const [family, req] of opens) t.equal((await sa.send(req)).status, 200, `${family}: ${req.method} ${req.path.split('?')[0]} opens with the right credential`);

    await t.test("Talk: repeated bad bot signatures get 429, for this client and conversation only", async (t) => {
      const V1 = '/ocs/v2.php/apps/spreed/api/v1';
      const V4 = '/ocs/v2.php/apps/spreed/api/v4';
      const alice = { authorization: basicAuth('alice', sa.secrets.users.alice), 'ocs-apirequest': 'true', accept: 'application/json', 'content-type': 'application/json' };
      const talk = kernel.context('talk').container.resolve<TalkApi>(TALK_API);
      const rooms: string[] = [];
      for (const name of ['throttled', 'unaffected']) {
        const res = await sa.send({ method: 'POST', path: `${V4}/room`, headers: alice, body: JSON.stringify({ roomType: 2, roomName: name }) });
        rooms.push((res.json as any).ocs.data.token);
        t.equal((await sa.send({ method: 'POST', path: `${V1}/bot/${rooms.at(-1)}/${sa.seeds.talkBotId}`, headers: alice })).status, 201);
      }
      const post = (room: string, secret: string, message: string) =>
        sa.send({
          method: 'POST',
          path: `${V1}/bot/${room}/message`,
          headers: { 'ocs-apirequest': 'true', accept: 'application/json', 'content-type': 'application/json', 'x-nextcloud-talk-bot-random': TALK_RANDOM, 'x-nextcloud-talk-bot-signature': talkSignature(secret, TALK_RANDOM, message) },
          body: JSON.stringify({ message }),
        });
      const max = sa.standalone.kernel.context<{ throttle: { maxFailures: number; windowSeconds: number } }>('talk').config.throttle;
      const statuses: number[] = [];
      for (let i = 0; i < max.maxFailures; i++) statuses.push((await post(rooms[0], WRONG.talkBotSecret, `guess ${i}`)).status);
      t.same(statuses, Array(max.maxFailures).fill(401), `the first ${max.maxFailures} bad signatures get 401`);
      const limited = await post(rooms[0], WRONG.talkBotSecret, 'one more guess');
      t.equal(limited.status, 429, 'then 429');
      t.equal(limited.headers['retry-after'], String(max.windowSeconds));
      t.same((limited.json as any).ocs.meta, { status: 'failure', statuscode: 429, message: 'Reached maximum delay' });
      t.equal((await post(rooms[0], sa.secrets.talkBotSecret, 'the right signature')).status, 429, 'a right signature waits out the window too');
      t.equal((await post(rooms[1], sa.secrets.talkBotSecret, 'elsewhere')).status, 201, 'another conversation is unaffected');
      const history = await sa.send({ method: 'GET', path: `${V1}/chat/${rooms[0]}?lookIntoFuture=0`, headers: alice });
      t.notMatch(history.text, /guess|the right signature/, 'nothing was posted in the throttled conversation');
      void talk;
    });

    await t.test('refusals are logged, without any secret', async (t) => {
      const ring = kernel.logs.entries('warn');
      for (const plugin of ['redball', 'talk', 'anope', 'owncast', 'opsdroid']) {
        t.ok(ring.some((e) => e.plugin === plugin && /request refused by authentication/.test(e.message)), `${plugin}: refused requests are in the log`);
      }
      t.ok(ring.some((e) => e.plugin === 'talk' && /signature that matches no bot/.test(e.message)), 'talk: bad bot signatures are in the log');
      t.ok(kernel.logs.entries('error').some((e) => e.plugin === 'opsdroid' && /Unauthorized to run skill party via webhook/.test(e.message)), 'opsdroid: a refused webhook is in the log, as opsdroid logs it');
      const text = sa.logLines.join('\n');
      const secrets = [
        ...Object.values(sa.secrets.users),
        sa.secrets.opsdroidCommandCenter,
        sa.secrets.opsdroidWebhook,
        sa.secrets.redballKey,
        sa.secrets.anopeToken,
        sa.secrets.owncastStreamKey,
        sa.secrets.talkBotSecret,
        ...Object.values(sa.secrets.owncastTokens),
        ...Object.values(WRONG),
        talkSignature(WRONG.talkBotSecret, TALK_RANDOM, 'guess 0'),
        TALK_RANDOM,
        basicAuth('alice', sa.secrets.users.alice).slice(6),
        basicAuth('admin', sa.secrets.owncastStreamKey).slice(6),
      ];
      const leaked = secrets.filter((s) => text.includes(s));
      t.same(leaked, [], `none of ${secrets.length} secrets and wrong credentials is in ${sa.logLines.length} log lines`);
      t.ok(sa.logLines.length > 20, 'the log was written');
    });
  });
}
