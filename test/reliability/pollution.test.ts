/**
 * Prototype pollution, the class (issue 15): every route of every plugin — enumerated from the
 * kernel's route registry, so new routes are covered without touching this file — gets the
 * names `__proto__`, `constructor` and `prototype` in every path parameter, query value and
 * query key, in every string field of its body (nested too) and as JSON object keys, with
 * valid credentials. Then a canary must hold in the server process:
 *
 * - nothing appeared on (or vanished from) `Object.prototype` or `Object`, and
 *   `({}).polluted === undefined` — checked in the test process for the in-process server
 *   after every route (naming the route), and inside the `npm start` child through an IPC
 *   probe;
 * - one write succeeds in each family, and a redball bot still starts and runs (the stored
 *   settings are read back first, as a bot start reads them).
 *
 * Also: the running standalone server (`npm start` and `switchboard start`) has no
 * `Object.prototype.__proto__` (defence in depth), and the audit's individual fixes.
 * The `npm start` part needs `npm run build` (the bundle); CI builds it in `npm ci`.
 * `POLLUTION_DEBUG=<text>` prints every answer of the routes whose `METHOD path` contains it.
 */
import t, { type Test } from 'tap';
import { databaseKinds, startTestKernel } from '../../src/testing/index.js';
import { validateConfig, Type } from '../../src/index.js';
import { anopePlugin, AnopeTypeRegistry } from '../../plugins/anope/index.js';
import { OwncastTokens, type Owncast } from '../../plugins/owncast/index.js';
import { loadStandaloneConfig } from '../../examples/standalone/config.js';
import { families, resolveRoutes, type ResolvedRoute } from './fixtures-a/families.js';
import { shapeOf } from './fixtures-a/shapes.js';
import { startFullStandalone } from './fixtures-a/standalone.js';
import { basicAuth, type Sending, type Sent } from './fixtures-a/http.js';
import type { FuzzInput } from './fixtures-a/hostile.js';
import { baseInput, pollutionInputs, PROTO_NAMES } from './fixtures-pollution/inputs.js';
import { prototypeChanges, prototypeState, undoPollution, type PrototypeState } from './fixtures-pollution/prototype-state.js';
import { botStarts, canaryWrites } from './fixtures-pollution/canary-writes.js';
import { missingBuild, startChild, type Entry } from './fixtures-pollution/child.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// Four fuzz runs of a few thousand requests (in process and in the npm start child, on both
// engines) take longer than the default per-file timeout on a loaded machine.
t.setTimeout(900_000);

/** Requests in flight at once per route. */
const CONCURRENCY = 6;

/** `POLLUTION_DEBUG=<text>`: every answer of the routes whose `METHOD path` contains the text, on stderr. */
const DEBUG = process.env.POLLUTION_DEBUG;

/** Why a 5xx is the family's contract (Owncast's `/api/chat` answers non-GET with 501). */
type Contract5xx = (route: ResolvedRoute, status: number) => string | undefined;

interface Target {
  send(input: Sending): Promise<Sent>;
  /** The prototype state inside the server. */
  state(): Promise<PrototypeState>;
  /** Undoes pollution found after a route (in-process only), so the next route is judged alone. */
  undo?(before: PrototypeState): string[];
  /** Puts back credentials a request may have changed (Owncast's stream key). */
  repair(): Promise<void>;
}

/** Runs the pollution inputs of `routes`; returns problems per route (empty arrays for clean routes). */
async function fuzz(target: Target, routes: readonly ResolvedRoute[], fams: ReturnType<typeof families>, reference: PrototypeState): Promise<{ problems: Map<string, string[]>; sent: number; byKind: Map<string, number> }> {
  const problems = new Map<string, string[]>();
  const byKind = new Map<string, number>();
  let sent = 0;
  for (const route of routes) {
    const family = fams[route.plugin];
    const list: string[] = [];
    const inputs = pollutionInputs(shapeOf(route, family));
    // A few at a time: the check is after the route's last answer, and the run stays within tap's timeout.
    let next = 0;
    const worker = async () => {
      while (next < inputs.length) {
        const input = inputs[next++];
        const res = await target.send({ method: input.method, path: input.path, headers: input.headers, body: input.body });
        sent++;
        byKind.set(input.kind, (byKind.get(input.kind) ?? 0) + 1);
        if (DEBUG && `${route.method} ${route.fullPath}`.includes(DEBUG)) process.stderr.write(`${res.status} ${input.method} ${input.path.slice(0, 120)} ${String(input.body ?? '').slice(0, 160)} → ${res.text.slice(0, 120)}\n`);
        if (res.status <= 0 || res.error) list.push(`${input.label}: no complete answer (${res.error})`);
        else if (res.status >= 500 && !(family?.contract5xx as Contract5xx | undefined)?.(route, res.status)) list.push(`${input.label}: ${res.status} ${res.text.slice(0, 160)}`);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    if (route.plugin === 'owncast') await target.repair();
    const changes = prototypeChanges(reference, await target.state());
    if (changes.length > 0) {
      list.push(`after its ${inputs.length} inputs: ${changes.join('; ')}`);
      target.undo?.(reference);
    }
    problems.set(`${route.plugin} ${route.method} ${route.fullPath} (${inputs.length} inputs)`, list);
  }
  return { problems, sent, byKind };
}

/** The base request of every GET route: reads back what the fuzz stored (a bot start reads settings the same way). */
async function readBack(target: Target, routes: readonly ResolvedRoute[], fams: ReturnType<typeof families>): Promise<string[]> {
  const problems: string[] = [];
  for (const route of routes.filter((r) => r.method === 'GET')) {
    const input: FuzzInput = baseInput(shapeOf(route, fams[route.plugin]));
    const res = await target.send({ method: input.method, path: input.path, headers: input.headers, body: input.body });
    if (res.status <= 0 || (res.status >= 500 && !fams[route.plugin]?.contract5xx?.(route, res.status))) problems.push(`GET ${route.fullPath}: ${res.status} ${res.text.slice(0, 160)}`);
  }
  return problems;
}

/** The routes of the registry, kept from the in-process test for the child's (the same code). */
let registry: ResolvedRoute[] | undefined;

function ordered(routes: readonly ResolvedRoute[]): { writes: ResolvedRoute[]; deletes: ResolvedRoute[] } {
  return { writes: routes.filter((r) => r.method !== 'DELETE'), deletes: routes.filter((r) => r.method === 'DELETE') };
}

t.test('the audit: the three names are refused where outside text names things', async (t) => {
  const schema = Type.Object({ a: Type.Optional(Type.Object({}, { additionalProperties: true })) }, { additionalProperties: true });
  for (const name of PROTO_NAMES) {
    const raw = JSON.parse(`{"a": {"ok": 1, "${name}": {"polluted": "yes"}}}`);
    t.throws(() => validateConfig('plugins.x', schema, raw), { code: 'SWB_ERR_INVALID_CONFIG', message: new RegExp(`a\\.${name}`) }, `a config key ${name} is refused, named`);
    const registry = new AnopeTypeRegistry();
    if (name !== '__proto__') t.throws(() => registry.register({ name, fields: ['x'] }), /reserved/, `anope refuses the type name ${name}`);
    else t.throws(() => registry.register({ name, fields: ['x'] }), /names use/, 'anope refuses the type name __proto__');
    t.throws(() => registry.register({ name: 'thing', fields: [name] }), name === '__proto__' ? /names use/ : /reserved/, `anope refuses the field name ${name}`);
  }
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'nothing was polluted by refusing');
  // The standalone config file: a YAML key __proto__ is refused with its path.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swb-pollution-conf-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'c.yaml');
  fs.writeFileSync(file, 'plugins:\n  anope:\n    __proto__:\n      polluted: yes\n');
  t.throws(() => loadStandaloneConfig({ SWITCHBOARD_CONFIG: file }), { code: 'SWB_ERR_INVALID_CONFIG', message: /__proto__/ }, 'a config file key __proto__ is refused');
  t.equal(({} as Record<string, unknown>).polluted, undefined);
});

t.test('the audit: anope refuses the names as configured types and fields', async (t) => {
  for (const kind of databaseKinds()) {
    for (const name of ['constructor', 'prototype']) {
      await t.rejects(
        startTestKernel({ database: kind, plugins: [{ plugin: anopePlugin, config: { auth: { token: 'anope-token-0123456789abcdef' }, types: [{ name: 'widget', fields: [name] }] } }] }),
        /reserved/,
        `${kind}: a configured field ${name} stops startup`,
      );
    }
  }
});

for (const kind of databaseKinds()) {
  t.test(`${kind}: in-process server, canary checked after every route`, async (t) => {
    const sa = await startFullStandalone(kind, { talkMaxFailures: 1_000_000 });
    t.teardown(sa.close);
    const kernel = sa.standalone.kernel;
    const owncast = kernel.context('owncast').container.resolve<Owncast>(OwncastTokens.Owncast);
    const fams = families(sa.secrets, sa.seeds, () => owncast.settings.streamKey());
    const routes = resolveRoutes(kernel.httpSurfaces());
    registry = routes;
    t.same([...new Set(routes.map((r) => r.plugin))].sort(), ['anope', 'opsdroid', 'owncast', 'redball', 'talk'], 'all five families are enabled');
    const reference = prototypeState();
    t.equal(reference.polluted, 'undefined', 'the test process starts clean');
    const target: Target = {
      send: sa.send,
      state: async () => prototypeState(),
      undo: undoPollution,
      repair: async () => void (await sa.repair()),
    };

    // The audit's fixes that the fuzz reaches only indirectly, each against this server.
    const cc = { authorization: sa.secrets.opsdroidCommandCenter, 'content-type': 'application/json' };
    for (const name of PROTO_NAMES) {
      const res = await sa.send({ method: 'PATCH', path: '/skills', headers: cc, body: `{"module_type":"skills","module_name":"hello","config":{"${name}":{"polluted":"yes"}}}` });
      t.equal(res.status, 400, `opsdroid PATCH with a config key ${name}: 400`);
      t.match(res.text, new RegExp(`^400: .*${name}`), 'in opsdroid\'s style, naming the key');
    }
    // A reaction stored as 'constructor' (Talk's API lets only emoji in, but the table is shared) lists fine.
    await kernel.db(kernel.context('talk').table('reactions')).insert({ message_id: sa.seeds.talkMessageId, actor_type: 'users', actor_id: 'alice', actor_display_name: 'Alice', reaction: 'constructor', created_at: 1 });
    const ocs = { authorization: basicAuth('alice', sa.secrets.users.alice), 'ocs-apirequest': 'true' };
    for (const format of ['json', 'xml']) {
      const res = await sa.send({ method: 'GET', path: `/ocs/v2.php/apps/spreed/api/v1/reaction/${sa.seeds.talkRoom}/${sa.seeds.talkMessageId}?format=${format}`, headers: ocs });
      t.equal(res.status, 200, `Talk lists a reaction named 'constructor' (${format})`);
      t.match(res.text, /constructor/);
    }

    const { writes, deletes } = ordered(routes);
    const first = await fuzz(target, writes, fams, reference);
    for (const [route, list] of first.problems) t.same(list, [], route);
    t.same(await readBack(target, routes, fams), [], 'every GET route reads back what the fuzz stored');
    t.same(prototypeChanges(reference, prototypeState()), [], 'no pollution after reading back');
    t.same(await botStarts(sa.send, sa.secrets.redballKey, sa.seeds.redballBotId), [], 'the seeded redball bot (its settings fuzzed) still starts');
    const second = await fuzz(target, deletes, fams, reference);
    for (const [route, list] of second.problems) t.same(list, [], route);
    t.same(await canaryWrites(sa.send, sa.secrets, () => owncast.settings.streamKey()), [], 'one write in every family succeeds, a new bot starts');
    const final = prototypeState();
    t.same(prototypeChanges(reference, final), [], 'canary: Object.prototype and Object unchanged');
    t.equal(({} as Record<string, unknown>).polluted, undefined, 'canary: ({}).polluted === undefined');
    t.comment(`${kind}: ${routes.length} routes, ${first.sent + second.sent} pollution requests (${[...first.byKind].map(([k, n]) => `${k} ${n + (second.byKind.get(k) ?? 0)}`).join(', ')})`);
  });
}

async function childTest(t: Test, kind: 'sqlite' | 'postgres', entry: Entry, fuzzIt: boolean): Promise<void> {
  const missing = missingBuild(entry);
  if (missing) {
    t.fail(`${entry} needs ${missing}: run \`npm run build\` first`);
    return;
  }
  const child = await startChild(kind, entry);
  t.teardown(child.close);
  const reference = await child.state();
  t.equal(reference.protoAccessor, false, `${entry}: the running server has no Object.prototype.__proto__ (--disable-proto=delete)`);
  t.equal(reference.polluted, 'undefined');
  // What the deleted accessor means: a JSON key __proto__ assigned in the server is an own property.
  if (!fuzzIt) return;
  const secrets = child.secrets;
  const seeds = await child.seed();
  // The stream key may be changed by a fuzzed admin request: find it again and put it back.
  let streamKey = secrets.owncastStreamKey;
  const candidates = () => [secrets.owncastStreamKey, ...PROTO_NAMES, 'polluted', 'sample'];
  const repair = async () => {
    const ok = (key: string) => child.send({ method: 'GET', path: '/api/admin/status', headers: { authorization: basicAuth('admin', key) } }).then((r) => r.status === 200);
    if (await ok(streamKey)) return;
    for (const key of candidates()) {
      if (!(await ok(key))) continue;
      streamKey = key;
      const res = await child.send({ method: 'POST', path: '/api/admin/config/key', headers: { authorization: basicAuth('admin', key), 'content-type': 'application/json' }, body: JSON.stringify({ value: secrets.owncastStreamKey }) });
      if (res.status === 200) streamKey = secrets.owncastStreamKey;
      return;
    }
  };
  // The routes are the same code as in process: the registry of the in-process instance lists them.
  let routes = registry;
  if (!routes) {
    const sa = await startFullStandalone(kind);
    routes = resolveRoutes(sa.standalone.kernel.httpSurfaces());
    await sa.close();
  }
  const fams = families(secrets, seeds, () => streamKey);
  const target: Target = { send: child.send, state: child.state, repair };
  const { writes, deletes } = ordered(routes);
  const first = await fuzz(target, writes, fams, reference);
  const second = await fuzz(target, deletes, fams, reference);
  for (const [route, list] of [...first.problems, ...second.problems]) if (list.length > 0) t.same(list, [], route);
  t.same(await readBack(target, routes, fams), [], 'every GET route still answers');
  t.same(await canaryWrites(child.send, secrets, () => streamKey), [], 'canary: one write in every family succeeds and a redball bot starts, in the npm start server');
  const final = await child.state();
  t.same(prototypeChanges(reference, final), [], 'canary inside the npm start server: Object.prototype and Object unchanged, ({}).polluted undefined');
  t.comment(`${kind}: ${first.sent + second.sent} pollution requests to the npm start server`);
}

for (const kind of databaseKinds()) {
  t.test(`${kind}: npm start (the bundle) in a child: fuzz, writes, bot start, canary inside it`, (t) => childTest(t, kind, 'npm start', true));
  t.test(`${kind}: switchboard start runs without Object.prototype.__proto__ too`, (t) => childTest(t, kind, 'switchboard start', false));
}
