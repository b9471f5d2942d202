/**
 * Auth: closed by default (stored tokens, one generated and shown once on the first start),
 * a fixed token, the host's identity, the host's own middleware or strategy, `none`; and the
 * token CLI.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import type { Request } from 'express';
import { HttpError, type AuthStrategy } from '../../../src/index.js';
import { createTestDatabase, databaseKinds, startTestKernel } from '../../../src/testing/index.js';
import { anopePlugin } from '../../../plugins/anope/index.js';
import { buildCli } from '../../../examples/standalone/cli.js';
import { withShorthands, type AnopeKernel } from './fixtures/helpers.js';

/** Starts a kernel on `database` with this anope config, capturing what it writes to stderr. */
async function start(database: string, config: Record<string, unknown>, options: { identity?: (req: Request) => unknown } = {}): Promise<{ sb: AnopeKernel; stderr: string }> {
  const written: string[] = [];
  const original = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    written.push(String(chunk));
    return (original as (...a: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stderr.write;
  try {
    const sb = await startTestKernel({ database, plugins: [{ plugin: anopePlugin, config }], identity: options.identity as never });
    return { sb: withShorthands(sb), stderr: written.join('') };
  } finally {
    process.stderr.write = original;
  }
}

function cli(argv: string[], configFile: string) {
  const out: string[] = [];
  const err: string[] = [];
  const codes: number[] = [];
  const program = buildCli(['node', 'switchboard', ...argv], { env: { SWITCHBOARD_CONFIG: configFile }, output: { out: (l) => void out.push(l), err: (l) => void err.push(l) }, setExitCode: (c) => void codes.push(c) });
  return { done: program.parseAsync(argv, { from: 'user' }), out, err, codes };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function expect401(t: Test, sb: AnopeKernel, headers: Record<string, string>, scheme = 'Bearer'): Promise<void> {
  const res = await sb.get('/rest/types', headers);
  t.equal(res.status, 401);
  t.equal(res.text, 'Unauthorized');
  t.match(res.headers.get('content-type'), /^text\/plain/);
  t.equal(res.headers.get('www-authenticate'), `${scheme} realm="anope"`);
}

for (const kind of databaseKinds()) {
  t.test(`${kind}: closed by default; the first start generates a token and shows it once`, async (t) => {
    const db = await createTestDatabase(kind);
    t.teardown(db.drop);
    const first = await start(db.url, {});
    const token = /Bearer (anope_[A-Za-z0-9_-]+)/.exec(first.stderr)?.[1];
    t.ok(token, 'the token was written to stderr');
    t.match(first.stderr, /shown only this once/);
    await expect401(t, first.sb, {});
    await expect401(t, first.sb, bearer('anope_wrong'));
    await expect401(t, first.sb, { authorization: `Basic ${token}` });
    t.equal((await first.sb.get('/rest/types', bearer(token!))).status, 200);
    t.equal((await first.sb.get('/rest/nosuch', {})).status, 401, 'nothing is revealed before auth, not even unknown types');
    t.equal((await first.sb.request('OPTIONS', '/rest/account')).status, 204, 'OPTIONS needs no auth');
    t.equal(first.sb.kernel.secrets.scrub(`x ${token} y`), 'x [REDACTED] y', 'the token is scrubbed from logs from now on');
    t.notOk(JSON.stringify(first.sb.kernel.logs.entries()).includes(token!), 'and never went to the log');
    await first.sb.close();

    const second = await start(db.url, {});
    t.equal(second.stderr, '', 'a restart shows nothing');
    t.equal((await second.sb.get('/rest/types', bearer(token!))).status, 200, 'the token still works');
    await second.sb.close();
  });

  t.test(`${kind}: a fixed token, host identity, host middleware, host strategy, none`, async (t) => {
    const db = await createTestDatabase(kind);
    t.teardown(db.drop);
    const secret = 'a-fixed-token-of-some-length';
    const fixed = (await start(db.url, { auth: { token: secret } })).sb;
    t.equal((await fixed.get('/rest/types', bearer(secret))).status, 200);
    t.equal((await fixed.get('/rest/types', { authorization: `bearer ${secret}` })).status, 200, 'the scheme is case-insensitive');
    await expect401(t, fixed, bearer(`${secret}x`));
    await expect401(t, fixed, { authorization: secret });
    t.equal(fixed.kernel.secrets.scrub(secret), '[REDACTED]');
    await fixed.close();
    await t.rejects(start(db.url, { auth: { token: 'short' } }), { code: 'SWB_ERR_INVALID_CONFIG', message: /^plugins\.anope\.auth\.token: must be at least 16 characters \(or auth: tokens \| none \| host/ }, 'a short token is refused at start');

    const identity = (req: Request) => {
      const user = req.headers['x-user'];
      return user === 'admin' ? { id: 'admin', admin: true } : user ? { id: String(user), admin: false } : null;
    };
    const host = (await start(db.url, { auth: 'host' }, { identity })).sb;
    t.equal((await host.get('/rest/types', { 'x-user': 'admin' })).status, 200);
    const forbidden = await host.get('/rest/types', { 'x-user': 'bob' });
    t.equal(forbidden.status, 403);
    t.equal(forbidden.text, 'Forbidden');
    await expect401(t, host, {}, 'Basic');
    await host.close();

    const middleware = (req: Request, res: import('express').Response, next: (err?: unknown) => void) => {
      if (req.headers['x-key'] === 'open-sesame') return next();
      if (req.headers['x-key'] === 'error') return next(Object.assign(new Error('Key expired'), { status: 401 }));
      res.status(403).type('text/plain').send('Go away');
    };
    const mw = (await start(db.url, { auth: { middleware } })).sb;
    t.equal((await mw.get('/rest/types', { 'x-key': 'open-sesame' })).status, 200);
    const refused = await mw.get('/rest/types', { 'x-key': 'nope' });
    t.equal(refused.status, 403);
    t.equal(refused.text, 'Go away', "the middleware's own answer stands");
    const errored = await mw.get('/rest/types', { 'x-key': 'error' });
    t.equal(errored.status, 401);
    t.equal(errored.text, 'Key expired');
    t.equal((await mw.post('/rest/account', '{"display": "viaMiddleware"}', { 'x-key': 'open-sesame' })).status, 201, 'bodies still reach the handler');
    await mw.close();

    const strategy: AuthStrategy = {
      name: 'custom',
      authenticate: (req) => {
        if (req.headers['x-custom'] === 'yes') return { id: 'custom' };
        throw new HttpError(401, 'Unauthorized');
      },
    };
    const custom = (await start(db.url, { auth: { strategy } })).sb;
    t.equal((await custom.get('/rest/types', { 'x-custom': 'yes' })).status, 200);
    t.equal((await custom.get('/rest/types')).status, 401);
    await custom.close();

    const open = (await start(db.url, { auth: 'none' })).sb;
    t.equal((await open.get('/rest/types')).status, 200);
    t.equal((await open.get('/rest/account/display/viaMiddleware')).status, 200);
    await open.close();
  });

  t.test(`${kind}: switchboard anope token create | list | revoke, types, sync`, async (t) => {
    const db = await createTestDatabase(kind);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'anope-cli-'));
    t.teardown(async () => {
      fs.rmSync(dir, { recursive: true, force: true });
      await db.drop();
    });
    const file = path.join(dir, 'config.json');
    const off = { enabled: false };
    fs.writeFileSync(file, JSON.stringify({ database: { url: db.url }, log: { level: 'silent' }, plugins: { opsdroid: off, redball: off, talk: off, owncast: off, anope: {} } }));

    const sync = cli(['anope', 'sync'], file);
    await sync.done;
    t.same(sync.out, ['anope schema is up to date (34 types)']);
    const types = cli(['anope', 'types'], file);
    await types.done;
    t.ok(types.out.includes('nsaccess: account -> account (cascade), mask'));
    t.ok(types.out.includes('vhost: owner -> any (cascade), vident, vhost, creator, created, default'));
    t.ok(types.out.includes('account: display (nocase), pass, email, language'));

    const a = cli(['anope', 'token', 'create', '--label', 'first'], file);
    await a.done;
    const tokenA = a.out[0];
    t.match(tokenA, /^anope_[A-Za-z0-9_-]{32}$/);
    const b = cli(['anope', 'token', 'create'], file);
    await b.done;
    const tokenB = b.out[0];
    const list = cli(['anope', 'token', 'list'], file);
    await list.done;
    t.equal(list.out.length, 2);
    t.match(list.out[0], /^1\t\d{4}-\d\d-\d\dT.*\tfirst$/);
    t.notOk(list.out.join('\n').includes(tokenA), 'never lists the tokens themselves');
    const revoke = cli(['anope', 'token', 'revoke', '1'], file);
    await revoke.done;
    t.same(revoke.out, ['token 1 revoked']);
    const again = cli(['anope', 'token', 'revoke', '1'], file);
    await again.done;
    t.same(again.codes, [1]);
    t.same(again.err, ['no token 1']);

    const { sb, stderr } = await start(db.url, {});
    t.teardown(sb.close);
    t.equal(stderr, '', 'no token is generated when one was created with the CLI');
    await expect401(t, sb, bearer(tokenA));
    t.equal((await sb.get('/rest/types', bearer(tokenB))).status, 200);
  });
}

