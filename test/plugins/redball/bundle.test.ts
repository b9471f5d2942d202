/**
 * Bots under the shipped server: the esbuild bundle that `npm start` runs
 * (dist/bundle/standalone.cjs, which loads the bundled server dist/bundle/server.cjs), in a
 * child process, on SQLite and PostgreSQL.
 *
 * The bundle used to hand the built-in heartbeat bot to its worker as source text, which the
 * minifier had broken (`ReferenceError: s is not defined`). Now the worker program and the
 * built-in bots are module files found through the package's name, and this test runs them
 * where that matters: the API key comes from the installed `switchboard` command (captured as
 * a script would, from standard output alone), the built-in heartbeat reaches `Running` and
 * publishes its detailedState, and a user's module from the bots directory runs through the
 * same worker program.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { createTestDatabase, databaseKinds } from '../../../src/testing/index.js';
import { checkBuilt, ROOT } from '../../helpers/build.js';
import { startShipped } from '../../helpers/shipped-server.js';
import { until } from '../../helpers/waiting.js';

// `npm test` builds first (its pretest script); a file run alone says when dist/ may be stale.
const stale = checkBuilt();
if (stale) t.comment(stale);

const BUNDLE = path.join(ROOT, 'dist', 'bundle', 'server.cjs');

t.test('the bundle carries no bot code as text', async (t) => {
  const text = fs.readFileSync(BUNDLE, 'utf8');
  t.notMatch(text, /data:text\/javascript/, 'no module made from source text');
  t.notMatch(text, /eval:\s*(!0|true)/, 'no worker evaluated from source text');
  t.match(text, /switchboard\/plugins\/redball\//, 'the shipped modules are found by the package name');
});

for (const kind of databaseKinds()) {
  t.test(kind, async (t) => {
    const db = kind === 'postgres' ? await createTestDatabase('postgres') : undefined;
    if (db) t.teardown(db.drop);
    const botsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'swb-redball-bundle-bots-'));
    t.teardown(() => fs.rmSync(botsDir, { recursive: true, force: true }));
    fs.writeFileSync(
      path.join(botsDir, 'echo.mjs'),
      `export async function run({ signal, settings, publishState, sleep }) {
        let n = 0;
        while (!signal.aborted) {
          n += 1;
          publishState({ summary: { text: 'echo ' + n, html: '', markdown: '' }, n, said: settings.Echo?.SAY ?? null });
          await sleep(30);
        }
      }\n`,
    );
    const server = await startShipped(
      {
        server: { host: '127.0.0.1', port: 0 },
        ...(db ? { database: { url: db.url } } : {}),
        plugins: {
          redball: { botsDir, stopGraceMs: 500 },
          opsdroid: { enabled: false },
          talk: { enabled: false },
          anope: { enabled: false },
          owncast: { enabled: false },
        },
      },
      { label: `redball-bundle-${kind}` },
    );
    let stopped = false;
    t.teardown(async () => {
      if (!stopped) await server.stop();
    });

    // KEY=$(switchboard redball apikey create): standard output is the key and nothing else.
    const created = await server.cli(['redball', 'apikey', 'create', '--name', 'bundle test']);
    t.equal(created.code, 0, created.stderr);
    t.match(created.stdout, /^[A-Za-z0-9_-]{32}\n$/, 'the bare key alone on standard output');
    t.match(created.stderr, /^API key 1 \(bundle test\) created\. Store it now; it cannot be shown again\.\n$/, 'the sentence on standard error');
    const key = created.stdout.trim();
    const asJson = await server.cli(['redball', 'apikey', 'create', '--json']);
    t.equal(asJson.code, 0);
    t.match(JSON.parse(asJson.stdout), { id: 2, name: '', key: /^[A-Za-z0-9_-]{32}$/ }, '--json: structured output');

    const api = async (method: string, p: string, body?: unknown) => {
      const res = await fetch(`${server.url}/api/v1${p}?apikey=${key}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as { errors: unknown; response: any } };
    };
    const bot = async (id: number) => (await api('GET', `/bots/${id}`)).body.response.bots[0];

    await t.test('the built-in heartbeat runs, publishes its detailedState and stops', async (t) => {
      const types = (await api('GET', '/bottypes')).body.response.botTypes as Array<{ id: number; moduleName: string }>;
      const heartbeat = types.find((b) => b.moduleName === 'heartbeat');
      t.ok(heartbeat, 'the built-in type');
      const made = await api('POST', '/bots', { name: 'pulse', botType: heartbeat!.id, autoRun: 'False' });
      t.equal(made.status, 200);
      const id = made.body.response.bots[0].id as number;
      const settings = { Heartbeat: [{ key: 'INTERVAL_MS', type: 'int', val: 40 }, { key: 'MESSAGE', val: 'from the bundle' }] };
      t.equal((await api('POST', `/bots/${id}/config`, settings)).status, 200);
      const start = await api('PUT', `/bots/${id}/start`);
      t.same([start.body.errors, start.body.response], ['', { result: true }]);
      const running = await until('three heartbeats', async () => {
        const b = await bot(id);
        if (b.detailedState.error) throw new Error(`the bot failed: ${JSON.stringify(b.detailedState.error)}`);
        return b.status === 'Running' && b.detailedState.heartbeat?.count >= 3 ? b : undefined;
      });
      t.match(running.detailedState, {
        summary: { text: /^from the bundle #\d+ at \d{4}-/, html: /^<p>from the bundle #\d+ at /, markdown: /^from the bundle #\d+/ },
        heartbeat: { intervalMs: 40, startedAt: /^\d{4}-/ },
      });
      t.match(server.stdout(), /bot \d+ \(pulse\) started: built-in 'heartbeat'/, 'the server logs the start');
      const stop = await api('PUT', `/bots/${id}/stop`);
      t.same([stop.body.errors, stop.body.response], ['', { result: true }]);
      const after = await bot(id);
      t.equal(after.status, 'Stopped');
      t.notOk(after.detailedState.error, 'stopped without an error');
      await new Promise((r) => setTimeout(r, 150));
      t.equal((await bot(id)).detailedState.heartbeat.count, after.detailedState.heartbeat.count, 'no beat after the stop');
      t.match(server.stdout(), /heartbeat stopped after \d+ beats/, "the bot's own log line");
    });

    await t.test("a user's module from the bots directory runs through the same worker program", async (t) => {
      const type = await api('POST', '/bottypes', { description: 'Echo', moduleName: 'echo' });
      t.equal(type.status, 200);
      const made = await api('POST', '/bots', { name: 'echo', botType: type.body.response.botTypes[0].id, autoRun: 'False' });
      const id = made.body.response.bots[0].id as number;
      t.equal((await api('POST', `/bots/${id}/config`, { Echo: [{ key: 'SAY', val: 'hi' }] })).status, 200);
      t.same((await api('PUT', `/bots/${id}/start`)).body.response, { result: true });
      const running = await until('two echoes', async () => {
        const b = await bot(id);
        return b.status === 'Running' && b.detailedState.n >= 2 ? b : undefined;
      });
      t.equal(running.detailedState.said, 'hi', 'its settings reached it');
      t.same((await api('PUT', `/bots/${id}/stop`)).body.response, { result: true });
      t.equal((await bot(id)).status, 'Stopped');
    });

    stopped = true;
    t.equal(await server.stop(), 0, 'the server exits cleanly');
    t.notMatch(server.stderr(), /ReferenceError|TypeError|\n\s+at /, 'no error on standard error');
  });
}
