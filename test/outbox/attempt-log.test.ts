/**
 * The outbox's attempt log, on SQLite and PostgreSQL: only the newest 20 attempts of a
 * delivery are kept; error texts are shortened (URLs cut to their origin, so no path, query
 * or credentials; control characters gone; bounded length) and never carry the receiver's
 * body; a delivery's attempts go with it (purged, or cancelled by its owner); a dead or
 * delivered delivery always has its last attempt logged; and purge removes only finished
 * deliveries older than asked, of the owner asked.
 */
import t from 'tap';
import { ATTEMPTS_KEPT, ATTEMPT_ERROR_MAX, definePlugin, sanitizeAttemptError, type PluginContext } from '../../src/index.js';
import { databaseKinds, startTestKernel, type TestKernel } from '../../src/testing/index.js';
import { startReceiver } from '../helpers/receiver.js';
import { freePort, until } from '../helpers/waiting.js';

t.test('sanitizeAttemptError', async (t) => {
  const secretUrl = 'https://user:hunter2@vault.example:8443/v1/secret/path?token=abc123&x=1#frag';
  const cut = sanitizeAttemptError(`could not fetch ${secretUrl} (after 3 tries)`);
  t.equal(cut, 'could not fetch https://vault.example:8443 (after 3 tries)', 'a URL is cut to its origin');
  for (const leak of ['hunter2', 'user', '/v1', 'secret', 'token', 'abc123', 'frag']) t.notOk(cut.includes(leak), `no ${leak}`);
  t.equal(sanitizeAttemptError("refused 'http://10.0.0.1/admin?k=v'"), "refused 'http://10.0.0.1'", 'quoted URLs too');
  t.equal(sanitizeAttemptError('HTTP://Example.com/A/B and http://[::1]:9/x'), 'http://example.com and http://[::1]:9', 'any case, IPv6');
  t.equal(sanitizeAttemptError('bad http://%zz/ url'), 'bad <url> url', 'an unparsable URL is hidden whole');
  t.equal(sanitizeAttemptError('line one\r\nline two\u0000\u001b[31m red\u007f'), 'line one line two [31m red', 'control characters removed');
  const long = sanitizeAttemptError('x'.repeat(10_000));
  t.equal(long.length, ATTEMPT_ERROR_MAX, 'bounded');
  t.ok(long.endsWith('…'), 'marked as cut');
  t.equal(sanitizeAttemptError('y'.repeat(ATTEMPT_ERROR_MAX)), 'y'.repeat(ATTEMPT_ERROR_MAX), 'exactly the bound is kept whole');
  t.equal(sanitizeAttemptError('  ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:9  '), 'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:9');
});

async function notifierKernel(kind: 'sqlite' | 'postgres', outbox: Record<string, unknown>, signer?: (attempt: number) => void): Promise<{ server: TestKernel; ctx: PluginContext }> {
  let ctx!: PluginContext;
  const plugin = definePlugin({
    id: 'notifier',
    version: '1',
    init: (c) => {
      ctx = c;
      if (signer) c.outbox.registerSigner('failing', ({ attempt }) => (signer(attempt), {}));
    },
  });
  const server = await startTestKernel({ database: kind, plugins: [plugin, definePlugin({ id: 'other', version: '1', init: () => undefined })], outbox });
  return { server, ctx };
}

for (const kind of databaseKinds()) {
  t.test(`${kind}: only the newest ${ATTEMPTS_KEPT} attempts are kept, without the receiver's body`, async (t) => {
    const { server, ctx } = await notifierKernel(kind, { maxAttempts: 25, backoffBaseMs: 1, backoffMaxMs: 2, pollIntervalMs: 10, timeoutMs: 2000 });
    t.teardown(server.close);
    const receiver = await startReceiver(() => ({ status: 500, headers: { 'content-type': 'text/plain' } }));
    t.teardown(receiver.close);
    const [d] = await ctx.outbox.enqueueMany([{ url: receiver.url, body: { n: 1 }, orderingKey: 'bound' }]);
    const shown = await until('25 attempts', async () => {
      const s = await server.kernel.outboxOperator.show(d.id);
      return s?.state === 'dead' && s;
    });
    t.equal(receiver.received.length, 25, 'all 25 attempts were made');
    t.equal(shown.attempts, 25);
    t.same(shown.attemptLog.map((a) => a.attempt), Array.from({ length: ATTEMPTS_KEPT }, (_, i) => 6 + i), 'attempts 6 to 25 kept, oldest first');
    t.same(shown.attemptLog.at(-1), { ...shown.attemptLog.at(-1), outcome: 'dead', status: 500, error: 'UnexpectedStatusCode: 500' });
    t.ok(shown.attemptLog.slice(0, -1).every((a) => a.outcome === 'retry' && a.status === 500));
    // The receiver answered 'ok'; nothing of it is kept.
    t.notOk(JSON.stringify(shown).includes('"ok"'), 'no receiver body');
    const rows = await server.kernel.db('swb_outbox_attempts').where('outbox_id', d.id).count({ n: '*' });
    t.equal(Number((rows as Array<{ n: number | string }>)[0].n), ATTEMPTS_KEPT, 'the table holds no more than the bound');
  });

  t.test(`${kind}: error texts are sanitized where they are kept and shown`, async (t) => {
    const longUrl = `https://deploy:s3cr3t-pass@keys.example/v2/tenant/signing-key?access_token=tok-999 ${'z'.repeat(500)}`;
    const { server, ctx } = await notifierKernel(kind, { maxAttempts: 1, timeoutMs: 2000 }, () => {
      throw new Error(`signing key unavailable from ${longUrl}\nretry later`);
    });
    t.teardown(server.close);
    const url = `http://127.0.0.1:${await freePort()}/private/path?apikey=k-123`;
    const [signed, refused] = await ctx.outbox.enqueueMany([
      { url, body: {}, orderingKey: 's', signer: 'failing' },
      { url, body: {}, orderingKey: 'r' },
    ]);
    const operator = server.kernel.outboxOperator;
    await until('both dead', async () => (await operator.list({ state: 'dead' })).length === 2);
    const a = (await operator.show(signed.id))!;
    const b = (await operator.show(refused.id))!;
    const texts = JSON.stringify([a, b, await operator.list()]);
    for (const leak of ['s3cr3t', 'deploy', 'signing-key', 'tok-999', 'k-123', '\\n']) t.notOk(texts.includes(leak), `nothing shows ${leak}`);
    t.match(a.attemptLog[0].error, /^signing key unavailable from https:\/\/keys\.example zzz+…$/);
    t.equal(a.attemptLog[0].error!.length, ATTEMPT_ERROR_MAX);
    t.equal(a.lastError, a.attemptLog[0].error, 'the last error is shown sanitized too');
    t.match(b.attemptLog[0].error, /^ECONNREFUSED/);
    t.equal(a.url, `http://127.0.0.1:${new URL(url).port}/private/path?apikey=…`, 'the target without credentials or query values');
    // Kept sanitized, not only shown so.
    const stored = (await server.kernel.db('swb_outbox_attempts').where('outbox_id', signed.id).select('error')) as Array<{ error: string }>;
    t.equal(stored[0].error, a.attemptLog[0].error);
  });

  t.test(`${kind}: a finished delivery always has its last attempt logged`, async (t) => {
    const { server, ctx } = await notifierKernel(kind, { maxAttempts: 1, pollIntervalMs: 10, timeoutMs: 2000 });
    t.teardown(server.close);
    const receiver = await startReceiver((_, i) => ({ status: i % 2 ? 200 : 500 }));
    t.teardown(receiver.close);
    const n = 30;
    const made = await ctx.outbox.enqueueMany(Array.from({ length: n }, (_, i) => ({ url: receiver.url, body: { i }, orderingKey: `lane-${i % 3}` })));
    const ids = made.map((d) => d.id);
    const finished = new Set<number>();
    let checked = 0;
    // Watch as closely as the database allows: whenever a delivery is seen finished, its attempt is there.
    while (finished.size < n) {
      const rows = (await server.kernel.db('swb_outbox').whereIn('id', ids).whereIn('status', ['dead', 'delivered']).select('id')) as Array<{ id: number | string }>;
      const fresh = rows.map((r) => Number(r.id)).filter((id) => !finished.has(id));
      if (fresh.length) {
        const logged = await server.kernel.outbox.attemptLog.forDeliveries(fresh);
        for (const id of fresh) {
          t.equal(logged.get(id)?.length, 1, `delivery ${id} finished with its attempt logged`);
          finished.add(id);
          checked++;
        }
      }
    }
    t.equal(checked, n);
  });

  t.test(`${kind}: an attempt that cannot be logged undoes no outcome, and costs no other attempt its entry`, async (t) => {
    const { server, ctx } = await notifierKernel(kind, { maxAttempts: 1, pollIntervalMs: 10, timeoutMs: 2000 });
    t.teardown(server.close);
    // The database refuses to log any attempt answered 201 (as a full disk or a broken row would).
    const db = server.kernel.db;
    if (kind === 'sqlite') {
      await db.raw("CREATE TRIGGER refuse_201 BEFORE INSERT ON swb_outbox_attempts WHEN NEW.status = 201 BEGIN SELECT RAISE(ABORT, 'refused'); END");
    } else {
      await db.raw("CREATE FUNCTION refuse_201() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.status = 201 THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$");
      await db.raw('CREATE TRIGGER refuse_201 BEFORE INSERT ON swb_outbox_attempts FOR EACH ROW EXECUTE FUNCTION refuse_201()');
    }
    t.teardown(async () => {
      await db.raw('DROP TRIGGER IF EXISTS refuse_201' + (kind === 'sqlite' ? '' : ' ON swb_outbox_attempts'));
      if (kind !== 'sqlite') await db.raw('DROP FUNCTION IF EXISTS refuse_201()');
    });
    const receiver = await startReceiver((r) => ({ status: (JSON.parse(String(r.body)) as { i: number }).i % 4 === 1 ? 201 : 200 }));
    t.teardown(receiver.close);
    const n = 24;
    const made = await ctx.outbox.enqueueMany(Array.from({ length: n }, (_, i) => ({ url: receiver.url, body: { i }, orderingKey: `lane-${i % 3}` })));
    const ids = made.map((d) => d.id);
    await until('all delivered', async () => Number(((await db('swb_outbox').whereIn('id', ids).where('status', 'delivered').count({ n: '*' })) as Array<{ n: number | string }>)[0].n) === n);
    t.equal(receiver.received.length, n, 'each delivered once: no outcome was undone and attempted again');
    const order = receiver.received.map((r) => (JSON.parse(String(r.body)) as { i: number }).i);
    for (let lane = 0; lane < 3; lane++) {
      const sent = order.filter((i) => i % 3 === lane);
      t.same(sent, [...sent].sort((a, b) => a - b), `lane ${lane} in order`);
    }
    const logged = await server.kernel.outbox.attemptLog.forDeliveries(ids);
    made.forEach((d, i) => t.equal(logged.get(d.id)?.length ?? 0, i % 4 === 1 ? 0 : 1, `delivery ${i}: ${i % 4 === 1 ? 'not logged' : 'logged'}`));
  });

  t.test(`${kind}: attempts go with their delivery; purge takes only old finished ones of the owner asked`, async (t) => {
    const { server, ctx } = await notifierKernel(kind, { maxAttempts: 2, backoffBaseMs: 60_000, backoffMaxMs: 60_000, timeoutMs: 2000 });
    t.teardown(server.close);
    const receiver = await startReceiver((req) => ({ status: JSON.parse(String(req.body)).ok ? 200 : 500 }));
    t.teardown(receiver.close);
    const db = server.kernel.db;
    const operator = server.kernel.outboxOperator;
    const attempts = async (id: number) => Number(((await db('swb_outbox_attempts').where('outbox_id', id).count({ n: '*' })) as Array<{ n: number | string }>)[0].n);
    const other = server.kernel.context('other').outbox;
    const [retrying, delivered, dead] = await ctx.outbox.enqueueMany([
      { url: receiver.url, body: { ok: false }, orderingKey: 'r', ownerRef: 'thing:r' },
      { url: receiver.url, body: { ok: true }, orderingKey: 'd' },
      { url: receiver.url, body: { ok: false }, orderingKey: 'x', maxAttempts: 1 },
    ]);
    const [othersDead] = await other.enqueueMany([{ url: receiver.url, body: { ok: false }, orderingKey: 'o', maxAttempts: 1 }]);
    await until('three finished and one retrying', async () => {
      const states = await Promise.all([retrying, delivered, dead, othersDead].map(async (d) => (await operator.show(d.id))?.state));
      return states.join() === 'retrying,delivered,dead,dead';
    });
    for (const d of [retrying, delivered, dead, othersDead]) t.equal(await attempts(d.id), 1, `delivery ${d.id} has its attempt`);

    // Everything is old now, the retrying one too: purge still never takes live work.
    const old = Date.now() - 30 * 24 * 3600 * 1000;
    await db('swb_outbox').whereIn('id', [delivered.id, dead.id, othersDead.id]).update({ finished_at: old });
    await db('swb_outbox').where('id', retrying.id).update({ created_at: old });
    t.equal(await operator.purge({ state: 'dead', olderThanMs: 40 * 24 * 3600 * 1000 }), 0, 'none older than 40 days');
    t.equal(await operator.purge({ state: 'dead', olderThanMs: 7 * 24 * 3600 * 1000, owner: 'notifier' }), 1, 'the owner\'s dead one');
    t.equal(await operator.show(dead.id), undefined);
    t.equal(await attempts(dead.id), 0, 'its attempts went with it');
    t.equal((await operator.show(othersDead.id))?.state, 'dead', 'another owner\'s stays');
    t.equal(await attempts(othersDead.id), 1);
    t.equal((await operator.show(delivered.id))?.state, 'delivered', 'a delivered one stays under a dead purge');
    t.equal(await operator.purge({ state: 'delivered', olderThanMs: 7 * 24 * 3600 * 1000 }), 1);
    t.equal(await attempts(delivered.id), 0);
    t.equal((await operator.show(retrying.id))?.state, 'retrying', 'live work is never purged');
    t.equal(await attempts(retrying.id), 1);

    // Its owner cancelling a waiting delivery drops its attempts as well.
    t.equal(await ctx.outbox.cancel('thing:r'), 1);
    t.equal(await operator.show(retrying.id), undefined);
    t.equal(await attempts(retrying.id), 0, 'a cancelled delivery\'s attempts went with it');
  });
}
