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
  const cases: Array<[string, string | RegExp]> = [
    [write('a.yaml', 'server:\n  port: eighty\n'), 'server.port: must be an integer from 0 to 65535 (got a string)'],
    [write('b.yaml', 'server:\n  prot: 80\n'), 'server.prot: unknown key (known: host, port)'],
    [write('c.yaml', 'users:\n  - id: alice\n'), 'users[0].password: required, a non-empty string'],
    [write('d.json', '{"database": {"url": 5}}'), 'database.url: must be a string (got an integer)'],
    [write('e.yaml', 'server: [unclosed\n'), /^\S+e\.yaml: not valid YAML: [^\n]+$/],
    [write('f.yaml', '- a\n- b\n'), /f\.yaml: must hold a mapping of keys to values$/],
    [
      write('g.yaml', 'server:\n  port: 99999\n  host: 5\nlog:\n  level: loud\nplugins:\n  anope:\n    enabled: "yes"\n'),
      [
        'server.host: must be a string (got an integer)',
        'server.port: must be an integer from 0 to 65535',
        'log.level: must be one of trace | debug | info | warn | error | fatal | silent',
        'plugins.anope.enabled: must be true or false (got a string)',
      ].join('\n'),
    ],
  ];
  for (const [file, expected] of cases) {
    const err = t.throws(() => loadStandaloneConfig({ SWITCHBOARD_CONFIG: file }), { code: 'SWB_ERR_INVALID_CONFIG' }, path.basename(file)) as Error;
    if (typeof expected === 'string') t.equal(err.message, expected, `${path.basename(file)}: one line per problem`);
    else t.match(err.message, expected, path.basename(file));
  }
  t.throws(() => loadStandaloneConfig({ SWITCHBOARD_CONFIG: path.join(dir, 'missing.yaml') }), { message: /missing\.yaml: cannot read the config file \(ENOENT\)$/ });
  t.throws(() => loadStandaloneConfig({ PORT: 'abc' }), { message: "server.port (from the environment's PORT): must be an integer from 0 to 65535" });
});

t.test('plugin config errors: one line per problem with the full key, unions explained by the closest variant', async (t) => {
  const { createStandalone } = await import('../../examples/standalone/app.js');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swb-plugconf-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const start = async (plugins: Record<string, unknown>) => {
    const { config } = loadStandaloneConfig({ SWITCHBOARD_CONFIG: '', DATABASE_URL: `sqlite:${path.join(dir, 'db.sqlite')}`, PORT: '0' });
    const standalone = createStandalone({ ...config, plugins: plugins as never }, { logger: { level: 'silent' } });
    const err = (await standalone.start().then(() => undefined, (e: unknown) => e)) as { code?: string; message?: string } | undefined;
    await standalone.stop();
    return err;
  };
  const alternatives = '(or auth: tokens | none | host | { middleware } | { strategy })';
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ anope: { auth: { token: undefined } } }, `plugins.anope.auth.token: required, at least 16 characters ${alternatives}`],
    [{ anope: { auth: {} } }, `plugins.anope.auth.token: required, at least 16 characters ${alternatives}`],
    [{ anope: { auth: { token: 'short' } } }, `plugins.anope.auth.token: must be at least 16 characters ${alternatives}`],
    [{ anope: { auth: 'toknes' } }, 'plugins.anope.auth: must be one of tokens | none | host | { token } | { middleware } | { strategy }'],
    [{ anope: { auth: 16 } }, 'plugins.anope.auth: must be one of tokens | none | host | { token } | { middleware } | { strategy } (got an integer)'],
    [
      { anope: { pageSize: 'big', types: [{ name: 'x', fields: [{ name: 'y', onDelete: 'drop' }] }] }, opsdroid: { skills: ['hello'] } },
      [
        'plugins.opsdroid.skills: must be an object (got a list)',
        "plugins.anope.types[0].fields[0].onDelete: must be one of cascade | null (or fields[0]: a string)",
        'plugins.anope.pageSize: must be an integer from 10 to 10000 (got a string)',
      ].join('\n'),
    ],
  ];
  for (const [plugins, expected] of cases) {
    const err = await start(plugins);
    t.equal(err?.code, 'SWB_ERR_INVALID_CONFIG');
    t.equal(err?.message, expected, JSON.stringify(plugins));
  }
});

t.test('npm start: serves, answers /openapi.json with valid OpenAPI 3.1, SIGTERM exits within 2 s', async (t) => {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'swb-start-'));
  t.teardown(() => fs.rmSync(cwd, { recursive: true, force: true }));
  const port = await freePort();
  const child = spawnTs(path.resolve(MAIN), [], { cwd, env: { PORT: String(port), SWITCHBOARD_CONFIG: '', DATABASE_URL: '' } });
  t.teardown(() => void child.proc.kill('SIGKILL'));
  const [, url] = await child.waitFor(/Switchboard listening on (http:\/\/127\.0\.0\.1:\d+)/, 120_000); // a loaded machine compiles slowly
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
  const file = (name: string, text: string) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `swb-bad-${name}-`));
    t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
    fs.writeFileSync(path.join(dir, 'switchboard.config.yaml'), text);
    return dir;
  };
  // Both at once (each child compiles the sources, which takes a while on a busy machine).
  // The second is a plugin's config, checked by the kernel: every problem on its own line.
  const unknown = spawnTs(path.resolve(MAIN), [], { cwd: file('unknown', 'plugins:\n  nosuch: {}\n'), env: { SWITCHBOARD_CONFIG: '', PORT: '0' } });
  const plugin = spawnTs(path.resolve(MAIN), [], {
    cwd: file('plugin', 'server:\n  port: 0\nplugins:\n  anope:\n    auth:\n      token: short\n  opsdroid:\n    web:\n      webhook-token: " padded "\n'),
    env: { SWITCHBOARD_CONFIG: '', PORT: '' },
  });
  t.teardown(() => void unknown.proc.kill('SIGKILL'));
  t.teardown(() => void plugin.proc.kill('SIGKILL'));
  const [unknownCode, pluginCode] = await Promise.all([unknown.exited, plugin.exited]);
  t.equal(unknownCode, 1);
  t.equal(unknown.stderr(), 'switchboard: plugins.nosuch: unknown plugin (known: opsdroid, redball, talk, anope, owncast)\n', 'one line, no stack');
  t.equal(pluginCode, 1);
  t.equal(
    plugin.stderr(),
    [
      'switchboard: plugins.opsdroid.web.webhook-token: must be printable ASCII without leading or trailing spaces (what an HTTP header can carry)',
      'switchboard: plugins.anope.auth.token: must be at least 16 characters (or auth: tokens | none | host | { middleware } | { strategy })',
      '',
    ].join('\n'),
  );
  t.equal(plugin.stdout(), '', 'nothing on stdout: it never listened');
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

t.test("the server builds requests and responses with the app's prototypes (expressServerOptions)", async (t) => {
  const { createStandalone } = await import('../../examples/standalone/app.js');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swb-protos-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const { config } = loadStandaloneConfig({ SWITCHBOARD_CONFIG: '', DATABASE_URL: `sqlite:${path.join(dir, 'db.sqlite')}`, PORT: '0' });
  const standalone = createStandalone({ ...config, plugins: { redball: { apiKeys: ['protos-test-key-0123456789'] } } as never }, { logger: { level: 'silent' } });
  const built: boolean[] = [];
  standalone.server.prependListener('request', (req, res) => void built.push(Object.getPrototypeOf(req) === standalone.app.request && Object.getPrototypeOf(res) === standalone.app.response));
  const url = await standalone.start();
  t.teardown(() => standalone.stop());
  t.equal((await fetch(`${url}/healthz`)).status, 200);
  const bots = await fetch(`${url}/api/v1/bots?apikey=protos-test-key-0123456789`);
  t.equal(bots.status, 200, 'a plugin route');
  t.same(((await bots.json()) as { response: unknown }).response, { bots: [] });
  t.same(built, [true, true]);
});
