/**
 * Route fuzzing: every route of every plugin, enumerated from the kernel's route registry
 * (`kernel.httpSurfaces()`, so a new route is fuzzed without touching this file), on the
 * standalone server with all five families, gets a bounded, seeded set of hostile inputs.
 *
 * For every input: an answer arrives (no dropped connection, no hang), no 5xx unless the
 * family's contract requires one, no stack trace, file path or `Error:` in the body, and a
 * rejected request (4xx) wrote nothing to the database (counted by triggers on every table).
 * After every route the server still answers `/healthz`, and no exception escaped.
 *
 * `FUZZ_PER_ROUTE=1000` sends every input instead of the seeded subset, `FUZZ_SEED=<n>` picks
 * another subset, `FUZZ_DEBUG=1` prints each route's base answer (`FUZZ_DEBUG=all`: every answer).
 */
import t from 'tap';
import { databaseKinds } from '../../src/testing/index.js';
import { OwncastTokens, type Owncast } from '../../plugins/owncast/index.js';
import { families, resolveRoutes } from './fixtures-a/families.js';
import { budget, hash32, hostileInputs, type FuzzInput } from './fixtures-a/hostile.js';
import { shapeOf } from './fixtures-a/shapes.js';
import { startFullStandalone } from './fixtures-a/standalone.js';
import { EXCLUSIONS } from './fixtures-a/exclusions.js';
import { installWriteCounter, reproducedWrites } from './fixtures-a/write-counter.js';

/** Inputs per route and method at most (the base request and one of each kind always run). */
const PER_ROUTE = Number(process.env.FUZZ_PER_ROUTE ?? 40);
/**
 * Inputs at most for a route that declares no parameters, query, body or body encoding (a
 * fixed answer such as Owncast's "GET not supported" siblings of its POST routes).
 */
const PER_PLAIN_ROUTE = Math.min(PER_ROUTE, 12);
/** The seed of the run (`FUZZ_SEED` explores other subsets, `FUZZ_PER_ROUTE=1000` runs every input). */
const SEED = Number(process.env.FUZZ_SEED ?? 20261124);


/** Signs of a leaked stack trace or internal detail in a body. */
const LEAKS: ReadonlyArray<[string, RegExp]> = [
  ['stack frame', /\n\s+at \S/],
  ['stack frame', /\bat (?:async )?\S+ \(\S+:\d+:\d+\)/],
  ['source location', /\.(?:ts|js|mjs|cjs):\d+:\d+/],
  ['file path', /(?:\/work\/|\/home\/|\/usr\/lib\/|node_modules|file:\/\/)/],
  ['error name', /\b(?:[A-Z][a-zA-Z]*)?Error: /],
  ['SQL error', /\b(?:SQLITE_[A-Z]+|syntax error at or near|violates (?:unique|foreign key|not-null) constraint|relation "[^"]+" does not exist)\b/],
];

interface Problem {
  input: string;
  status: number;
  problem: string;
}

function describe(input: FuzzInput): string {
  return `${input.kind}: ${input.label} — ${input.method} ${input.path.length > 160 ? `${input.path.slice(0, 160)}…` : input.path}`;
}

for (const kind of databaseKinds()) {
  t.test(kind, async (t) => {
    // The fuzzer sends hundreds of badly signed bot requests; with Talk's default limit (10
    // per client and conversation) the rest would get 429 before reaching the handler.
    const sa = await startFullStandalone(kind, { talkMaxFailures: 1_000_000 });
    t.teardown(sa.close);
    const escaped: unknown[] = [];
    const onEscape = (err: unknown) => void escaped.push(err);
    process.on('uncaughtException', onEscape);
    process.on('unhandledRejection', onEscape);
    t.teardown(() => {
      process.off('uncaughtException', onEscape);
      process.off('unhandledRejection', onEscape);
    });
    const kernel = sa.standalone.kernel;
    const counter = await installWriteCounter(kernel.db, EXCLUSIONS);
    const owncast = kernel.context('owncast');
    const fams = families(sa.secrets, sa.seeds, () => owncast.container.resolve<Owncast>(OwncastTokens.Owncast).settings.streamKey());
    // Deletions run last, so that the other routes still find the seeded records.
    const all = resolveRoutes(kernel.httpSurfaces());
    const routes = [...all.filter((r) => r.method !== 'DELETE'), ...all.filter((r) => r.method === 'DELETE')];
    t.ok(routes.length > 100, `the registry lists every route (${routes.length})`);

    // The detectors can fail: a write is counted, a stack trace is recognised.
    const probeBefore = await counter.read();
    const created = await sa.send({ method: 'POST', path: '/rest/account', headers: { authorization: `Bearer ${sa.secrets.anopeToken}` }, body: '{"display":"probe"}' });
    t.equal(created.status, 201);
    const probeWrites = counter.diff(probeBefore, await counter.read()).map((d) => d.table);
    t.ok(probeWrites.includes('anope_objects') && probeWrites.includes('anope_obj_account'), `the write counter sees an accepted write (${probeWrites.join(', ')})`);
    const stack = new Error('probe').stack ?? '';
    t.ok(LEAKS.some(([, re]) => re.test(stack)), 'a stack trace is recognised');
    t.ok(LEAKS.some(([, re]) => re.test('{"error":"TypeError: x is not a function"}')), 'an error name is recognised');
    t.ok(LEAKS.some(([, re]) => re.test('SQLITE_CONSTRAINT: UNIQUE constraint failed')), 'a database error is recognised');
    t.same([...new Set(routes.map((r) => r.plugin))].sort(), ['anope', 'opsdroid', 'owncast', 'redball', 'talk'], 'all five families are enabled');

    let sent = 0;
    const byKind = new Map<string, number>();
    const statuses = new Map<number, number>();
    const rejected = { count: 0 };
    const background = new Set<string>();
    for (const route of routes) {
      const family = fams[route.plugin];
      const shape = shapeOf(route, family);
      const plain = !route.route.params && !route.route.query && !route.route.body && shape.accepts.length === 0;
      const inputs = budget(hostileInputs(shape), plain ? PER_PLAIN_ROUTE : PER_ROUTE, SEED ^ hash32(`${route.method} ${route.fullPath}`));
      const problems: Problem[] = [];
      let last = await counter.read();
      for (const input of inputs) {
        const before = last;
        const res = await sa.send({ method: input.method, path: input.path, headers: input.headers, body: input.body });
        await sa.settle();
        const after = await counter.read();
        last = (await sa.repair()) ? await counter.read() : after;
        sent++;
        byKind.set(input.kind, (byKind.get(input.kind) ?? 0) + 1);
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (process.env.FUZZ_DEBUG && (input.kind === 'base' || process.env.FUZZ_DEBUG === 'all')) t.comment(`${res.status} ${describe(input)} ${res.text.slice(0, 150).replace(/\s+/g, ' ')}`);
        const report = (problem: string) => problems.push({ input: describe(input), status: res.status, problem });
        if (res.status <= 0 || res.error) {
          report(`no complete answer: ${res.error}`);
          continue;
        }
        if (res.status >= 500) {
          const why = family?.contract5xx?.(route, res.status);
          if (!why) report(`${res.status} ${res.text.slice(0, 200)}`);
        }
        for (const [what, re] of LEAKS) if (re.test(res.text)) report(`body shows a ${what}: ${res.text.slice(0, 300)}`);
        if (res.status >= 400 && res.status < 500) {
          rejected.count++;
          const writes = counter.diff(before, after);
          if (writes.length > 0) {
            // Sent again: a write that does not happen again was some plugin's timer, not this request.
            const again = await reproducedWrites(sa, counter, { method: input.method, path: input.path, headers: input.headers, body: input.body }, writes.map((w) => w.table));
            last = await counter.read();
            for (const w of writes) if (!again.includes(w.table)) background.add(w.table);
            if (again.length > 0) report(`rejected with ${res.status} but wrote ${writes.filter((w) => again.includes(w.table)).map((w) => `${w.writes} row(s) of ${w.table}`).join(', ')} (again when sent twice)`);
          }
        }
      }
      const health = await sa.send({ method: 'GET', path: '/healthz' });
      if (health.status !== 200) problems.push({ input: 'GET /healthz after the route', status: health.status, problem: 'the server stopped answering' });
      t.same(problems, [], `${route.plugin} ${route.method} ${route.fullPath} (${inputs.length} inputs)`);
    }
    t.same(escaped.map(String), [], 'no exception or rejection escaped');
    t.equal(kernel.state, 'running', 'the kernel is still running');
    const kinds = [...byKind].map(([k, n]) => `${k} ${n}`).join(', ');
    const codes = [...statuses].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}×${n}`).join(' ');
    t.comment(`routes fuzzed: ${routes.length}, inputs sent: ${sent} (${kind}; ${rejected.count} rejected with 4xx)`);
    t.comment(`inputs by kind: ${kinds}`);
    t.comment(`answers: ${codes}`);
    if (background.size > 0) t.comment(`written by a timer while a refused request was in flight (not again when it was sent twice): ${[...background].sort().join(', ')}`);
  });
}
