/**
 * The standalone server accepts no connection before every plugin has started, and an
 * unknown path gets a JSON 404 (never Express's HTML page), at any time.
 */
import t from 'tap';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createStandalone } from '../../examples/standalone/app.js';
import { loadStandaloneConfig } from '../../examples/standalone/config.js';
import { definePlugin } from '../../src/index.js';
import { createTestDatabase, databaseKinds } from '../../src/testing/index.js';
import { spawnTs } from '../helpers/child.js';

const MAIN = 'examples/standalone/main.ts';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Resolves true once a TCP connection to the port succeeds (false while it is refused). */
function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

for (const kind of databaseKinds()) {
  t.test(`in process (${kind}): not listening while a plugin starts; JSON 404 and JSON errors`, async (t) => {
    const db = await createTestDatabase(kind);
    t.teardown(() => db.drop());
    let release!: () => void;
    const blocked = new Promise<void>((r) => (release = r));
    let startEntered!: () => void;
    const entered = new Promise<void>((r) => (startEntered = r));
    const slow = definePlugin({
      id: 'slow',
      version: '1.0.0',
      init(ctx) {
        ctx.routes.add({ method: 'GET', path: '/slow/ping', handler: () => ({ pong: true }) });
      },
      async start() {
        startEntered();
        await blocked;
      },
    });
    const { config } = loadStandaloneConfig({ SWITCHBOARD_CONFIG: '', PORT: '0', DATABASE_URL: db.url });
    const standalone = createStandalone(config, { plugins: [slow], logger: { level: 'silent' } });
    t.teardown(() => standalone.stop());
    // An error no route answers: the answer must not show its text.
    standalone.app.get('/boom', (_req, _res, next) => next(new Error('secret internal detail')));

    const starting = standalone.start();
    await entered;
    t.equal(standalone.server.listening, false, 'no listening socket while a plugin is still starting');
    release();
    const url = await starting;
    t.equal(standalone.server.listening, true);
    t.equal(standalone.kernel.state, 'running', 'listening only once the kernel runs');

    t.same(await (await fetch(`${url}/slow/ping`)).json(), { pong: true });
    for (const p of ['/no/such/path', '/api/v1/bots', '/openapi.json/x']) {
      const res = await fetch(`${url}${p}`);
      t.equal(res.status, 404, `${p}: 404`);
      t.match(res.headers.get('content-type'), /^application\/json/, `${p}: JSON`);
      t.same(await res.json(), { error: 'Not Found' }, `${p}: the JSON body`);
    }
    const post = await fetch(`${url}/healthz`, { method: 'POST' });
    t.equal(post.status, 404);
    t.same(await post.json(), { error: 'Not Found' }, 'an unknown method on a server route: JSON 404');
    const boom = await fetch(`${url}/boom`);
    t.equal(boom.status, 500);
    const text = await boom.text();
    t.same(JSON.parse(text), { error: 'Internal Server Error' });
    t.notMatch(text, /secret internal detail|at /, 'no exception text, no stack');
  });

  t.test(`a failing plugin start (${kind}): never listens, stops what started`, async (t) => {
    const db = await createTestDatabase(kind);
    t.teardown(() => db.drop());
    const port = await freePort();
    const failing = definePlugin({
      id: 'failing',
      version: '1.0.0',
      start() {
        throw new Error('cannot start');
      },
    });
    const { config } = loadStandaloneConfig({ SWITCHBOARD_CONFIG: '', PORT: String(port), DATABASE_URL: db.url });
    const standalone = createStandalone(config, { plugins: [failing], logger: { level: 'silent' } });
    await t.rejects(standalone.start(), { code: 'SWB_ERR_PLUGIN_START' });
    t.equal(standalone.server.listening, false);
    t.equal(await connects(port), false, 'the port was never opened');
    t.equal(standalone.kernel.state, 'failed');
  });

  t.test(`npm start (${kind}): the first connection it accepts is already served by every plugin`, async (t) => {
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'swb-ready-'));
    t.teardown(() => fs.rmSync(cwd, { recursive: true, force: true }));
    const db = await createTestDatabase(kind);
    t.teardown(() => db.drop());
    const port = await freePort();
    const child = spawnTs(path.resolve(MAIN), [], { cwd, env: { PORT: String(port), SWITCHBOARD_CONFIG: '', DATABASE_URL: db.url } });
    t.teardown(() => void child.proc.kill('SIGKILL'));
    // Connect as early as possible: from the moment the process exists, every few ms.
    let refused = 0;
    const deadline = Date.now() + 60_000;
    while (!(await connects(port))) {
      refused++;
      if (Date.now() > deadline || child.proc.exitCode !== null) t.fail(`never accepted; stderr: ${child.stderr()}`);
      if (Date.now() > deadline || child.proc.exitCode !== null) return;
      await new Promise((r) => setTimeout(r, 10));
    }
    t.ok(refused > 0, `refused ${refused} connection attempts while starting`);
    // The first accepted connection: plugin routes and the document are served, not 404/503.
    const [stats, doc, unknown] = await Promise.all([fetch(`http://127.0.0.1:${port}/stats`), fetch(`http://127.0.0.1:${port}/openapi.json`), fetch(`http://127.0.0.1:${port}/nowhere`)]);
    t.equal(stats.status, 200, 'an opsdroid route answers at once');
    t.match(await stats.json(), { messages: {} });
    t.equal(doc.status, 200, '/openapi.json answers at once');
    t.equal(unknown.status, 404);
    t.same(await unknown.json(), { error: 'Not Found' }, 'an unknown path: JSON 404');
    t.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200);
    child.proc.kill('SIGTERM');
    t.equal(await child.exited, 0);
  });
}
