import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { Validator } from '@seriousme/openapi-schema-validator';
import { loadStandaloneConfig } from '../../examples/standalone/config.js';
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

t.test('defaults: 127.0.0.1:8080 and SQLite under ./data', async (t) => {
  const { config, file } = loadStandaloneConfig({});
  t.equal(file, undefined);
  t.equal(config.server.host, '127.0.0.1');
  t.equal(config.server.port, 8080);
  t.equal(config.database.url, 'sqlite:./data/switchboard.db');
  const env = loadStandaloneConfig({ PORT: '9001', HOST: '0.0.0.0', DATABASE_URL: 'postgres://u@h/db' }).config;
  t.equal(env.server.port, 9001);
  t.equal(env.server.host, '0.0.0.0');
  t.equal(env.database.url, 'postgres://u@h/db');
});

t.test('config errors name the key', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swb-conf-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => {
    fs.writeFileSync(path.join(dir, name), text);
    return path.join(dir, name);
  };
  const cases: Array<[string, RegExp]> = [
    [write('a.yaml', 'server:\n  port: eighty\n'), /key 'server.port' must be integer/],
    [write('b.yaml', 'server:\n  prot: 80\n'), /unknown key 'server.prot'/],
    [write('c.yaml', 'users:\n  - id: alice\n'), /missing key 'users.0.password'/],
    [write('d.json', '{"database": {"url": 5}}'), /key 'database.url' must be string/],
    [write('e.yaml', 'server: [unclosed\n'), /is not valid YAML/],
  ];
  for (const [file, re] of cases) {
    t.throws(() => loadStandaloneConfig({ SWITCHBOARD_CONFIG: file }), { code: 'SWB_ERR_INVALID_CONFIG', message: re }, path.basename(file));
  }
  t.throws(() => loadStandaloneConfig({ PORT: 'abc' }), { message: /PORT 'abc'/ });
});

t.test('npm start: serves, answers /openapi.json with valid OpenAPI 3.1, SIGTERM exits within 2 s', async (t) => {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'swb-start-'));
  t.teardown(() => fs.rmSync(cwd, { recursive: true, force: true }));
  const port = await freePort();
  const child = spawnTs(path.resolve(MAIN), [], { cwd, env: { PORT: String(port), SWITCHBOARD_CONFIG: '', DATABASE_URL: '' } });
  t.teardown(() => void child.proc.kill('SIGKILL'));
  const [, url] = await child.waitFor(/Switchboard listening on (http:\/\/127\.0\.0\.1:\d+)/);
  t.equal(url, `http://127.0.0.1:${port}`);
  t.ok(fs.existsSync(path.join(cwd, 'data', 'switchboard.db')), 'SQLite file under ./data');

  const res = await fetch(`${url}/openapi.json`);
  t.equal(res.status, 200);
  const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
  t.equal(doc.openapi, '3.1.0');
  const result = await new Validator().validate(doc as never);
  t.same(result.errors, undefined);
  t.ok(result.valid, 'valid OpenAPI 3.1');
  t.equal((await fetch(`${url}/readyz`)).status, 200);
  t.equal((await fetch(`${url}/healthz`)).status, 200);

  const sent = Date.now();
  child.proc.kill('SIGTERM');
  const code = await child.exited;
  const took = Date.now() - sent;
  t.equal(code, 0, 'clean exit');
  t.ok(took < 2000, `exited within 2 s (${took} ms)`);
  t.match(child.stdout(), /Switchboard stopping \(SIGTERM\)/);
  t.notMatch(child.stderr(), /Error|at /, 'nothing on stderr');
});

t.test('a bad config stops startup with the key named and exit code 1', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swb-bad-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'switchboard.config.yaml'), 'plugins:\n  nosuch: {}\n');
  const child = spawnTs(path.resolve(MAIN), [], { cwd: dir, env: { SWITCHBOARD_CONFIG: '', PORT: '0' } });
  t.teardown(() => void child.proc.kill('SIGKILL'));
  t.equal(await child.exited, 1);
  t.match(child.stderr(), /switchboard: Invalid config for switchboard: unknown key 'plugins.nosuch'/);
  t.notMatch(child.stderr(), /\n\s+at /, 'no stack trace');
});

t.test('the annotated example config is valid and starts every family', async (t) => {
  const { config } = loadStandaloneConfig({ SWITCHBOARD_CONFIG: 'examples/standalone/switchboard.config.yaml' });
  t.equal(config.users.length, 2);
  const { createStandalone, enabledPlugins } = await import('../../examples/standalone/app.js');
  const { bundledPlugins } = await import('../../examples/standalone/plugins.js');
  t.same(enabledPlugins(config, bundledPlugins).map((e) => e.plugin.id), ['opsdroid', 'redball', 'talk', 'anope', 'owncast']);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swb-example-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const standalone = createStandalone({ ...config, database: { url: `sqlite:${path.join(dir, 'db.sqlite')}` } }, { logger: { level: 'silent' } });
  await standalone.kernel.prepare('cli');
  await standalone.kernel.stop();
});
