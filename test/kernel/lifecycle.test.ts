import t from 'tap';
import { Kernel, ErrorCodes, isSwitchboardError, definePlugin, Type, HttpError } from '../../src/index.js';
import { startTestKernel } from '../../src/testing/index.js';
import { recorder } from '../helpers/recorder.js';

const silent = { level: 'silent' as const };

t.test('hooks run in dependency order up and in reverse down', async (t) => {
  const log: string[] = [];
  // Given in an order that is not the dependency order.
  const plugins = [recorder('c', log, { dependsOn: ['b'] }), recorder('a', log), recorder('b', log, { dependsOn: ['a'] })];
  const kernel = new Kernel({ database: 'sqlite::memory:', logger: silent, plugins });
  t.equal(kernel.state, 'created');
  await kernel.start();
  t.equal(kernel.state, 'running');
  t.same(log, ['init:a', 'init:b', 'init:c', 'start:a', 'start:b', 'start:c']);
  log.length = 0;
  await kernel.stop();
  t.same(log, ['stop:c', 'cleanup:c', 'stop:b', 'cleanup:b', 'stop:a', 'cleanup:a']);
  t.equal(kernel.state, 'stopped');
  // Idempotent: a second and concurrent stops do nothing more.
  await Promise.all([kernel.stop(), kernel.stop()]);
  t.same(log, ['stop:c', 'cleanup:c', 'stop:b', 'cleanup:b', 'stop:a', 'cleanup:a']);
});

t.test('graph errors carry stable codes', async (t) => {
  const cases: Array<[string, ReturnType<typeof recorder>[], string, RegExp]> = [
    ['duplicate id', [recorder('a', []), recorder('a', [])], ErrorCodes.DUPLICATE_PLUGIN, /'a'/],
    ['missing dependency', [recorder('a', [], { dependsOn: ['ghost'] })], ErrorCodes.MISSING_DEPENDENCY, /'a' depends on 'ghost'/],
    [
      'cycle',
      [recorder('a', [], { dependsOn: ['c'] }), recorder('b', [], { dependsOn: ['a'] }), recorder('c', [], { dependsOn: ['b'] })],
      ErrorCodes.DEPENDENCY_CYCLE,
      /a -> c -> b -> a/,
    ],
  ];
  for (const [name, plugins, code, message] of cases) {
    const kernel = new Kernel({ database: 'sqlite::memory:', logger: silent, plugins });
    const err = await kernel.start().then(() => undefined, (e: unknown) => e);
    t.ok(isSwitchboardError(err, code as never), `${name}: code ${code}`);
    t.match((err as Error).message, message, `${name}: message`);
    t.equal(kernel.state, 'failed');
  }
  const bad = new Kernel({ database: 'sqlite::memory:', logger: silent, plugins: [{ id: 'Bad Id', version: '1' }] });
  t.equal(((await bad.start().catch((e) => e)) as { code: string }).code, ErrorCodes.INVALID_PLUGIN);
});

t.test('config is validated: defaults applied, unknown keys and wrong types named', async (t) => {
  let seen: unknown;
  const configurable = definePlugin({
    id: 'conf',
    version: '1.0.0',
    config: Type.Object({ greeting: Type.String({ default: 'hi' }), nested: Type.Object({ size: Type.Integer({ default: 3 }) }, { default: {} }) }),
    init(ctx) {
      seen = ctx.config;
    },
  });
  const ok = new Kernel({ database: 'sqlite::memory:', logger: silent, plugins: [{ plugin: configurable, config: {} }] });
  await ok.start();
  t.same(seen, { greeting: 'hi', nested: { size: 3 } });
  await ok.stop();

  for (const [config, key] of [
    [{ greting: 'typo' }, 'plugins.conf.greting: unknown key (known: greeting, nested)'],
    [{ nested: { size: 'big' } }, 'plugins.conf.nested.size: must be an integer (got a string)'],
    [{ nested: { size: 1, extra: true } }, 'plugins.conf.nested.extra: unknown key (known: size)'],
  ] as const) {
    const k = new Kernel({ database: 'sqlite::memory:', logger: silent, plugins: [{ plugin: configurable, config }] });
    const err = (await k.start().catch((e) => e)) as { code: string; message: string; pluginId: string };
    t.equal(err.code, ErrorCodes.INVALID_CONFIG);
    t.equal(err.pluginId, 'conf');
    t.equal(err.message, key);
  }
});

t.test('a failed start stops everything already started and names the plugin', async (t) => {
  for (const phase of ['init', 'start'] as const) {
    const log: string[] = [];
    const plugins = [recorder('a', log), recorder('b', log, { dependsOn: ['a'], fail: phase }), recorder('c', log, { dependsOn: ['b'] })];
    const kernel = new Kernel({ database: 'sqlite::memory:', logger: silent, plugins });
    const err = (await kernel.start().catch((e) => e)) as { code: string; message: string; pluginId: string; cause: Error };
    t.equal(err.code, ErrorCodes.PLUGIN_START, phase);
    t.equal(err.pluginId, 'b');
    t.match(err.message, `Plugin 'b' startup failed: b cannot ${phase}`);
    t.equal(err.cause.message, `b cannot ${phase}`);
    t.equal(kernel.state, 'failed');
    if (phase === 'init') t.same(log, ['init:a', 'init:b', 'cleanup:b', 'cleanup:a']);
    else t.same(log, ['init:a', 'init:b', 'init:c', 'start:a', 'start:b', 'cleanup:c', 'cleanup:b', 'stop:a', 'cleanup:a']);
    // stop() after a failed start is harmless.
    await kernel.stop();
  }
});

t.test('start twice shares one start; start after stop is refused', async (t) => {
  const log: string[] = [];
  const kernel = new Kernel({ database: 'sqlite::memory:', logger: silent, plugins: [recorder('a', log)] });
  await Promise.all([kernel.start(), kernel.start()]);
  t.same(log, ['init:a', 'start:a']);
  await kernel.stop();
  const again = new Kernel({ database: 'sqlite::memory:', logger: silent, plugins: [] });
  await again.stop();
  t.equal(((await again.start().catch((e) => e)) as { code: string }).code, ErrorCodes.KERNEL_STATE);
});

t.test('requests get 503 while starting and while stopping', async (t) => {
  let releaseStart!: () => void;
  let releaseRequest!: () => void;
  const slowStart = new Promise<void>((r) => (releaseStart = r));
  const requestBlock = new Promise<void>((r) => (releaseRequest = r));
  const slow = definePlugin({
    id: 'slow',
    version: '1.0.0',
    init(ctx) {
      ctx.routes.add({ method: 'GET', path: '/slow/ping', handler: () => ({ pong: true }) });
      ctx.routes.add({ method: 'GET', path: '/slow/hold', handler: async () => { await requestBlock; return { held: true }; } });
    },
    start: () => slowStart,
  });
  const express = (await import('express')).default;
  const http = await import('node:http');
  const app = express();
  app.get('/host', (_req, res) => void res.json({ host: true }));
  const kernel = new Kernel({ app, database: 'sqlite::memory:', logger: silent, plugins: [slow] });
  app.use((_req, res) => void res.status(404).json({ hostNotFound: true }));
  const server = http.createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

  const starting = kernel.start();
  while (kernel.activeRequests === 0 && (await fetch(`${base}/slow/ping`)).status !== 503) await new Promise((r) => setTimeout(r, 5));
  const during = await fetch(`${base}/slow/ping`);
  t.equal(during.status, 503, 'plugin route answers 503 during start');
  t.equal(during.headers.get('retry-after'), '1');
  t.equal((await fetch(`${base}/host`)).status, 200, 'host routes are not affected');
  releaseStart();
  await starting;
  t.same(await (await fetch(`${base}/slow/ping`)).json(), { pong: true });
  t.same(await (await fetch(`${base}/nowhere`)).json(), { hostNotFound: true }, 'unmatched paths fall through to the host');

  // An in-flight request is drained; new ones get 503 while stopping.
  const held = fetch(`${base}/slow/hold`);
  while (kernel.activeRequests === 0) await new Promise((r) => setTimeout(r, 5));
  const stopping = kernel.stop();
  t.equal(kernel.state, 'stopping');
  t.equal((await fetch(`${base}/slow/ping`)).status, 503, 'plugin route answers 503 during stop');
  releaseRequest();
  t.same(await (await held).json(), { held: true }, 'in-flight request completed');
  await stopping;
  t.equal((await fetch(`${base}/slow/ping`)).status, 503, 'and after stop');
});

t.test('mounted under a prefix: everything below it is 503 before start, 404 unknown after', async (t) => {
  const p = definePlugin({
    id: 'pfx',
    version: '1.0.0',
    init(ctx) {
      ctx.routes.add({ method: 'GET', path: '/a', handler: () => 'a' });
      ctx.routes.notFoundUnder('/');
    },
  });
  const sb = await startTestKernel({ plugins: [{ plugin: p, mount: '/x' }] });
  t.teardown(sb.close);
  t.equal((await sb.fetch('/x/a')).status, 200);
  t.equal((await sb.fetch('/a')).status, 404);
  const unknown = await sb.fetch('/x/zzz');
  t.equal(unknown.status, 404);
  t.same(await unknown.json(), { error: 'Not Found' });
});

t.test('stop closes only what the kernel opened', async (t) => {
  const knex = (await import('knex')).default({ client: 'sqlite3', connection: { filename: ':memory:' }, useNullAsDefault: true });
  t.teardown(() => knex.destroy());
  const kernel = new Kernel({ database: knex, logger: silent, plugins: [] });
  await kernel.start();
  await kernel.stop();
  t.same(await knex.raw('select 1 as one'), [{ one: 1 }], 'host-owned Knex still usable');
  const owned = new Kernel({ database: 'sqlite::memory:', logger: silent, plugins: [] });
  await owned.start();
  const handle = owned.db;
  await owned.stop();
  await t.rejects(handle.raw('select 1'), 'kernel-opened Knex destroyed');
});

t.test('two plugins claiming the same route is an error naming both', async (t) => {
  const mk = (id: string) => definePlugin({ id, version: '1', init: (ctx) => ctx.routes.add({ method: 'GET', path: '/same/:x', handler: () => id }) });
  const other = definePlugin({ id: 'other', version: '1', init: (ctx) => ctx.routes.add({ method: 'GET', path: '/SAME/:y/', handler: () => 'x' }) });
  const kernel = new Kernel({ database: 'sqlite::memory:', logger: silent, plugins: [mk('one'), other] });
  const err = (await kernel.start().catch((e) => e)) as { code: string; message: string };
  t.equal(err.code, ErrorCodes.ROUTE_CONFLICT);
  t.match(err.message, /'other'.*'one'/);
  // The same path under different mounts is fine.
  const ok = new Kernel({ database: 'sqlite::memory:', logger: silent, plugins: [{ plugin: mk('one'), mount: '/1' }, { plugin: mk('two'), mount: '/2' }] });
  await ok.start();
  await ok.stop();
});

t.test('stop waits for a handler whose client already went away', async (t) => {
  let handlerDone = 0;
  const p = definePlugin({
    id: 'lingering',
    version: '1',
    init(ctx) {
      ctx.routes.add({
        method: 'GET',
        path: '/linger',
        handler: async () => {
          await new Promise((r) => setTimeout(r, 400));
          handlerDone = Date.now();
          return { late: true };
        },
      });
      ctx.routes.notFoundUnder('/linger-zone', () => new HttpError(400, 'no such resource'));
    },
  });
  const sb = await startTestKernel({ plugins: [p] });
  t.teardown(sb.close);
  t.equal((await sb.fetch('/linger-zone/x')).status, 400, 'a plugin can refuse unknown paths with its own status');
  const abort = new AbortController();
  const request = sb.fetch('/linger', { signal: abort.signal }).catch(() => undefined);
  while (sb.kernel.activeRequests === 0) await new Promise((r) => setTimeout(r, 5));
  abort.abort();
  await request;
  await sb.kernel.stop();
  t.ok(handlerDone > 0 && handlerDone <= Date.now(), 'the handler finished before stop returned');
});
