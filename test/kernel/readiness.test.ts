/**
 * The embedded kernel's readiness, as the README states it: from the moment `start()` has
 * declared the plugins' routes until every plugin has started, and while the kernel stops,
 * a plugin's routes answer 503 in the family's own error style; before the routes are
 * declared, requests reach the host app like any unknown path. On SQLite and PostgreSQL.
 */
import t from 'tap';
import http from 'node:http';
import express from 'express';
import { definePlugin, Kernel } from '../../src/index.js';
import { createTestDatabase, databaseKinds } from '../../src/testing/index.js';
import { opsdroidPlugin } from '../../plugins/opsdroid/index.js';
import { anopePlugin } from '../../plugins/anope/index.js';

for (const kind of databaseKinds()) {
  t.test(`503 in each family's style while starting and stopping (${kind})`, async (t) => {
    const db = await createTestDatabase(kind);
    t.teardown(() => db.drop());
    let release!: () => void;
    const blocked = new Promise<void>((r) => (release = r));
    let entered!: () => void;
    const inStart = new Promise<void>((r) => (entered = r));
    // Starts last (it depends on both families) and holds the start open.
    const gate = definePlugin({
      id: 'gate',
      version: '1.0.0',
      dependsOn: ['opsdroid', 'anope'],
      async start() {
        entered();
        await blocked;
      },
    });
    const app = express();
    const kernel = new Kernel({ app, database: db.url, logger: { level: 'silent' }, plugins: [opsdroidPlugin, { plugin: anopePlugin, config: { auth: 'none' } }, gate] });
    app.use((_req, res) => void res.status(404).json({ host: 'not found' }));
    const server = http.createServer(app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.teardown(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

    // Before start, no route is declared yet: the host answers.
    t.same(await (await fetch(`${base}/stats`)).json(), { host: 'not found' }, 'before start(): the host app answers');

    const starting = kernel.start();
    await inStart;
    const stats = await fetch(`${base}/stats`);
    t.equal(stats.status, 503, 'opsdroid while starting');
    t.equal(stats.headers.get('retry-after'), '1');
    t.equal(await stats.text(), '503: Service Unavailable', "opsdroid's aiohttp-style text");
    const types = await fetch(`${base}/rest/types`);
    t.equal(types.status, 503, 'anope while starting');
    t.notMatch(types.headers.get('content-type') ?? '', /html/);
    const anopeWhileStarting = await types.text();
    release();
    await starting;
    t.equal((await fetch(`${base}/stats`)).status, 200, 'served once running');
    t.equal((await fetch(`${base}/rest/types`)).status, 200);

    await kernel.stop();
    const after = await fetch(`${base}/stats`);
    t.equal(after.status, 503, 'after stop');
    t.equal(await after.text(), '503: Service Unavailable');
    t.equal(await (await fetch(`${base}/rest/types`)).text(), anopeWhileStarting, "anope's own 503, the same starting and stopped");
  });
}
