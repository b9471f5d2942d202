import t from 'tap';
import crypto from 'node:crypto';
import { definePlugin, Kernel, ErrorCodes, type AttemptOutcome, type PluginContext } from '../../src/index.js';
import { createTestDatabase, databaseKinds, startTestKernel } from '../../src/testing/index.js';
import { startReceiver } from '../helpers/receiver.js';

/** A plugin that exposes its context and records every attempt outcome. */
function notifier(outcomes: AttemptOutcome[], holder: { ctx?: PluginContext }) {
  return definePlugin({
    id: 'notifier',
    version: '1',
    init(ctx) {
      holder.ctx = ctx;
      ctx.outbox.registerSigner('hmac', async ({ body, ownerRef }) => {
        // Signers may look their key up asynchronously, by the owner's reference.
        const secret = await Promise.resolve(ownerRef === 'webhook:1' || ownerRef === null ? 'the-shared-secret' : 'other');
        const random = crypto.randomBytes(32).toString('hex');
        return { 'x-random': random, 'x-signature': crypto.createHmac('sha256', secret).update(random).update(body).digest('hex') };
      });
      ctx.outbox.onAttempt((o) => void outcomes.push(o));
    },
  });
}

const until = async (cond: () => boolean | Promise<boolean>, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
};

for (const kind of databaseKinds()) {
  t.test(`${kind}: delivered once when healthy, signed over the exact bytes`, async (t) => {
    const receiver = await startReceiver();
    t.teardown(receiver.close);
    const outcomes: AttemptOutcome[] = [];
    const holder: { ctx?: PluginContext } = {};
    const sb = await startTestKernel({ database: kind, plugins: [notifier(outcomes, holder)] });
    t.teardown(sb.close);
    const body = Buffer.from('{"type":"CHAT","eventData":{"body":"héllo \\u00e9"}}');
    const { deliveryId } = await holder.ctx!.outbox.enqueue({ url: receiver.url, body, headers: { 'Content-Type': 'application/json' }, signer: 'hmac', ownerRef: 'webhook:1' });
    await receiver.waitFor(1);
    await until(() => outcomes.length === 1);
    await new Promise((r) => setTimeout(r, 200));
    t.equal(receiver.received.length, 1, 'exactly one request');
    const got = receiver.received[0];
    t.same(got.body, body, 'body bytes unchanged');
    t.equal(got.headers['x-switchboard-delivery'], deliveryId);
    const expected = crypto.createHmac('sha256', 'the-shared-secret').update(String(got.headers['x-random'])).update(got.body).digest('hex');
    t.equal(got.headers['x-signature'], expected, 'signature verifies against the received bytes');
    t.match(outcomes[0], { ok: true, status: 200, next: 'delivered', attempt: 1, ownerRef: 'webhook:1', deliveryId });
    t.match(await holder.ctx!.outbox.stats(), { pending: 0, delivering: 0, delivered: 1, dead: 0 });
  });

  t.test(`${kind}: a receiver down for a while gets every event, in order`, async (t) => {
    const receiver = await startReceiver(() => ({ status: 503 }));
    t.teardown(receiver.close);
    const outcomes: AttemptOutcome[] = [];
    const holder: { ctx?: PluginContext } = {};
    const sb = await startTestKernel({ database: kind, plugins: [notifier(outcomes, holder)] });
    t.teardown(sb.close);
    const ids: string[] = [];
    for (let i = 1; i <= 5; i++) ids.push((await holder.ctx!.outbox.enqueue({ url: receiver.url, body: { n: i } })).deliveryId);
    await receiver.waitFor(3);
    t.ok(receiver.received.every((r) => JSON.parse(String(r.body)).n === 1), 'only the first event is tried while the receiver is down');
    receiver.behave(() => ({ status: 200 }));
    await until(() => outcomes.filter((o) => o.ok).length === 5);
    const accepted = outcomes.filter((o) => o.ok).map((o) => o.deliveryId);
    t.same(accepted, ids, 'delivered in enqueue order');
    // Duplicates only of retried deliveries, each recognisable by its id.
    const seen = receiver.received.map((r) => String(r.headers['x-switchboard-delivery']));
    t.same([...new Set(seen)], ids, 'first arrivals in order');
    t.ok(outcomes.some((o) => !o.ok && o.status === 503 && o.next === 'retry' && o.error === 'UnexpectedStatusCode: 503'));
  });

  t.test(`${kind}: a hanging receiver is cut at the timeout and retried`, async (t) => {
    const receiver = await startReceiver((_r, i) => (i === 0 ? 'hang' : { status: 200 }));
    t.teardown(receiver.close);
    const outcomes: AttemptOutcome[] = [];
    const holder: { ctx?: PluginContext } = {};
    const sb = await startTestKernel({ database: kind, plugins: [notifier(outcomes, holder)], outbox: { timeoutMs: 300 } });
    t.teardown(sb.close);
    await holder.ctx!.outbox.enqueue({ url: receiver.url, body: 'x' });
    await until(() => outcomes.length === 2);
    t.match(outcomes[0], { ok: false, next: 'retry', error: /timeout after 300 ms/ });
    t.ok(outcomes[0].durationMs >= 290 && outcomes[0].durationMs < 2000, `cut near the timeout (${outcomes[0].durationMs} ms)`);
    t.match(outcomes[1], { ok: true, attempt: 2 });
  });

  t.test(`${kind}: success rules — 500 fails, 202 succeeds where configured, 201 does not for Talk`, async (t) => {
    const statuses = [500, 202, 201, 200];
    const receiver = await startReceiver((_r, i) => ({ status: statuses[Math.min(i, statuses.length - 1)] }));
    t.teardown(receiver.close);
    const outcomes: AttemptOutcome[] = [];
    const holder: { ctx?: PluginContext } = {};
    const sb = await startTestKernel({ database: kind, plugins: [notifier(outcomes, holder)] });
    t.teardown(sb.close);
    await holder.ctx!.outbox.enqueue({ url: receiver.url, body: 'a', success: [200, 202] });
    await until(() => outcomes.length === 2);
    t.match(outcomes[0], { ok: false, status: 500 });
    t.match(outcomes[1], { ok: true, status: 202, next: 'delivered' });
    await holder.ctx!.outbox.enqueue({ url: receiver.url, body: 'b', success: [200, 202] });
    await until(() => outcomes.length === 4);
    t.match(outcomes[2], { ok: false, status: 201 });
    t.match(outcomes[3], { ok: true, status: 200 });
  });

  t.test(`${kind}: dead letters after the last attempt, listed and re-queued`, async (t) => {
    const receiver = await startReceiver(() => ({ status: 500 }));
    t.teardown(receiver.close);
    const outcomes: AttemptOutcome[] = [];
    const holder: { ctx?: PluginContext } = {};
    const sb = await startTestKernel({ database: kind, plugins: [notifier(outcomes, holder)], outbox: { maxAttempts: 2 } });
    t.teardown(sb.close);
    const { id } = await holder.ctx!.outbox.enqueue({ url: receiver.url, body: 'x', ownerRef: 'bot:7' });
    await until(() => outcomes.length === 2);
    t.equal(outcomes[1].next, 'dead');
    const dead = await holder.ctx!.outbox.dead();
    t.equal(dead.length, 1);
    t.match(dead[0], { id, ownerRef: 'bot:7', attempts: 2, lastStatus: 500 });
    t.match(await holder.ctx!.outbox.stats(), { dead: 1, pending: 0 });
    receiver.behave(() => ({ status: 200 }));
    t.equal(await holder.ctx!.outbox.requeue(id), true);
    t.equal(await holder.ctx!.outbox.requeue(id), false, 'only dead deliveries can be re-queued');
    await until(() => outcomes.length === 3);
    t.match(outcomes[2], { ok: true, attempt: 1 });
  });

  t.test(`${kind}: a re-queued delivery goes back to its place in its lane: after the head, before the deliveries made after it`, async (t) => {
    const receiver = await startReceiver(() => ({ status: 500 }));
    t.teardown(receiver.close);
    const outcomes: AttemptOutcome[] = [];
    const holder: { ctx?: PluginContext } = {};
    const sb = await startTestKernel({ database: kind, plugins: [notifier(outcomes, holder)], outbox: { maxAttempts: 1000, backoffBaseMs: 20, backoffMaxMs: 40 } });
    t.teardown(sb.close);
    const outbox = holder.ctx!.outbox;
    const first = await outbox.enqueue({ url: receiver.url, body: 'first', orderingKey: 'lane', maxAttempts: 1 });
    await until(() => outcomes.some((o) => o.id === first.id && o.next === 'dead'));
    const [second, third] = await outbox.enqueueMany([
      { url: receiver.url, body: 'second', orderingKey: 'lane' },
      { url: receiver.url, body: 'third', orderingKey: 'lane' },
    ]);
    // The second is the lane's head now, failing and retried; the third waits behind it.
    await until(() => outcomes.some((o) => o.id === second.id));
    t.equal(await outbox.requeue(first.id), true);
    receiver.behave(() => ({ status: 200 }));
    await until(() => outcomes.filter((o) => o.ok).length === 3);
    t.same(
      outcomes.filter((o) => o.ok).map((o) => o.id),
      [second.id, first.id, third.id],
      'the head first, then the re-queued delivery, then the one made after it',
    );
  });

  t.test(`${kind}: Retry-After is honoured`, async (t) => {
    const receiver = await startReceiver((_r, i) => (i === 0 ? { status: 429, headers: { 'Retry-After': '1' } } : { status: 200 }));
    t.teardown(receiver.close);
    const outcomes: AttemptOutcome[] = [];
    const holder: { ctx?: PluginContext } = {};
    const sb = await startTestKernel({ database: kind, plugins: [notifier(outcomes, holder)] });
    t.teardown(sb.close);
    await holder.ctx!.outbox.enqueue({ url: receiver.url, body: 'x' });
    await receiver.waitFor(2);
    const gap = receiver.received[1].at - receiver.received[0].at;
    t.ok(gap >= 950, `second attempt waited for Retry-After (${gap} ms)`);
  });

  t.test(`${kind}: a restart in the middle of retries still delivers`, async (t) => {
    const database = await createTestDatabase(kind);
    t.teardown(database.drop);
    // Find a free port, then keep it closed: the receiver is "down".
    const probe = await startReceiver();
    const port = Number(new URL(probe.url).port);
    const url = probe.url;
    await probe.close();
    const outcomes: AttemptOutcome[] = [];
    const holder: { ctx?: PluginContext } = {};
    const outbox = { allow: ['127.0.0.0/8'], pollIntervalMs: 50, backoffBaseMs: 100, backoffMaxMs: 300 };
    const first = new Kernel({ database: database.url, logger: { level: 'silent' }, plugins: [notifier(outcomes, holder)], outbox });
    await first.start();
    const a = await holder.ctx!.outbox.enqueue({ url, body: 'one' });
    const b = await holder.ctx!.outbox.enqueue({ url, body: 'two' });
    await until(() => outcomes.length >= 2);
    t.match(outcomes[0], { ok: false, error: /ECONNREFUSED/ });
    await first.stop();

    const receiver = await startReceiver(() => ({ status: 200 }), port);
    t.teardown(receiver.close);
    const after: AttemptOutcome[] = [];
    const second = new Kernel({ database: database.url, logger: { level: 'silent' }, plugins: [notifier(after, {})], outbox });
    await second.start();
    t.teardown(() => second.stop());
    await receiver.waitFor(2);
    await until(() => after.filter((o) => o.ok).length === 2);
    t.same(receiver.received.map((r) => String(r.body)), ['one', 'two']);
    t.same(after.map((o) => o.deliveryId), [a.deliveryId, b.deliveryId]);
  });

  t.test(`${kind}: stop waits for an attempt in flight; past the deadline it stays pending`, async (t) => {
    const database = await createTestDatabase(kind);
    t.teardown(database.drop);
    const receiver = await startReceiver(() => 'hang');
    t.teardown(receiver.close);
    const outcomes: AttemptOutcome[] = [];
    const holder: { ctx?: PluginContext } = {};
    const outbox = { allow: ['127.0.0.0/8'], pollIntervalMs: 50, timeoutMs: 5000 };
    const k = new Kernel({ database: database.url, logger: { level: 'silent' }, plugins: [notifier(outcomes, holder)], outbox, stopTimeoutMs: 300 });
    await k.start();
    await holder.ctx!.outbox.enqueue({ url: receiver.url, body: 'x' });
    await receiver.waitFor(1);
    const started = Date.now();
    await k.stop();
    t.ok(Date.now() - started < 2000, 'stop did not wait for the 5 s timeout');
    t.equal(outcomes.length, 0, 'the cut attempt is not reported as a failure');
    receiver.behave(() => ({ status: 200 }));
    const again: AttemptOutcome[] = [];
    const k2 = new Kernel({ database: database.url, logger: { level: 'silent' }, plugins: [notifier(again, {})], outbox });
    await k2.start();
    t.teardown(() => k2.stop());
    await until(() => again.length === 1);
    t.match(again[0], { ok: true, attempt: 1 });
  });

  t.test(`${kind}: stop waits for both attempts of a delivery taken again after its claim lapsed`, async (t) => {
    const database = await createTestDatabase(kind);
    t.teardown(database.drop);
    const receiver = await startReceiver();
    t.teardown(receiver.close);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let signed!: () => void;
    const signing = new Promise<void>((r) => (signed = r));
    let signatures = 0;
    let ctx!: PluginContext;
    // The first attempt's signer hangs until released; the next ones answer at once.
    const plugin = definePlugin({
      id: 'slow-signer',
      version: '1',
      init(c) {
        ctx = c;
        c.outbox.registerSigner('slow', async () => {
          if (signatures++ === 0) {
            signed();
            await gate;
          }
          return {};
        });
      },
    });
    const outbox = { allow: ['127.0.0.0/8'], pollIntervalMs: 10, timeoutMs: 1000, claimMarginMs: 50 };
    const k = new Kernel({ database: database.url, logger: { level: 'silent' }, plugins: [plugin], outbox, stopTimeoutMs: 5000 });
    await k.start();
    await ctx.outbox.enqueue({ url: receiver.url, body: 'x', signer: 'slow' });
    await signing;
    // Past its claim, the worker takes the delivery again and delivers it while the first
    // attempt still hangs in its signer.
    await receiver.waitFor(1);
    setTimeout(release, 300);
    await k.stop();
    const atStop = receiver.received.length;
    await new Promise((r) => setTimeout(r, 500));
    t.equal(atStop, 2, 'stop returned only after the first attempt, once released, was made too');
    t.equal(receiver.received.length, atStop, 'nothing was sent after stop returned');
  });

  t.test(`${kind}: the URL policy refuses disallowed URLs at enqueue with a clear error`, async (t) => {
    const holder: { ctx?: PluginContext } = {};
    const sb = await startTestKernel({ database: kind, plugins: [notifier([], holder)], outbox: { allow: [], deny: ['203.0.113.0/24'] } });
    t.teardown(sb.close);
    const refused: Array<[string, RegExp]> = [
      ['ftp://example.com/x', /Only http and https/],
      ['http://127.0.0.1:9/x', /127\.0\.0\.1 is loopback/],
      ['http://localhost:9/x', /is loopback/],
      ['http://[::1]:9/x', /::1 is loopback/],
      ['http://10.1.2.3/x', /is private/],
      ['http://169.254.169.254/latest/meta-data', /is link-local/],
      ['http://[::127.0.0.1]:9/', /is IPv4-compatible/],
      ['http://[::ffff:192.168.0.1]/', /192\.168\.0\.1 is private/],
      ['http://user:pw@example.com/', /embedded credentials/],
      ['http://203.0.113.5/', /denied by configuration/],
      ['not a url', /not a valid URL/],
    ];
    for (const [url, why] of refused) {
      const err = (await holder.ctx!.outbox.enqueue({ url, body: 'x' }).catch((e) => e)) as { code: string; message: string };
      t.equal(err.code, ErrorCodes.URL_NOT_ALLOWED, url);
      t.match(err.message, why, url);
    }
    t.match(await holder.ctx!.outbox.stats(), { pending: 0 }, 'nothing was enqueued');
    const ok = await holder.ctx!.outbox.enqueue({ url: 'http://93.184.215.14/hook', body: 'x', maxAttempts: 1, timeoutMs: 200 });
    t.ok(ok.id > 0, 'a public address is accepted');
    // The delivery-time lookup refuses too (DNS rebinding cannot get around the policy).
    const lookup = sb.kernel.outbox.urlPolicy.lookup();
    const err = await new Promise<Error | null>((r) => lookup('localhost', {}, (e) => r(e)));
    t.match(err?.message, /loopback/);
  });

  t.test(`${kind}: cancel drops the waiting deliveries of one owner reference, and the lane moves on`, async (t) => {
    const receiver = await startReceiver(() => ({ status: 503 }));
    t.teardown(receiver.close);
    const outcomes: AttemptOutcome[] = [];
    const holder: { ctx?: PluginContext } = {};
    // A long backoff: after its first failure the head waits, and is not in flight, when we cancel.
    const sb = await startTestKernel({ database: kind, plugins: [notifier(outcomes, holder)], outbox: { backoffBaseMs: 60_000, backoffMaxMs: 60_000 } });
    t.teardown(sb.close);
    const ob = holder.ctx!.outbox;
    await ob.enqueue({ url: receiver.url, body: 'old-1', ownerRef: 'webhook:1', orderingKey: 'lane' });
    await ob.enqueue({ url: receiver.url, body: 'old-2', ownerRef: 'webhook:1', orderingKey: 'lane' });
    await receiver.waitFor(1);
    await ob.enqueue({ url: receiver.url, body: 'keep', ownerRef: 'webhook:2', orderingKey: 'lane' });
    // Let the head's attempt finish so it is waiting for a retry, not in flight.
    while ((await ob.stats()).delivering > 0) await new Promise((r) => setTimeout(r, 10));
    t.equal(await ob.cancel('webhook:1'), 2, 'both deliveries of the deleted webhook dropped');
    receiver.behave(() => ({ status: 200 }));
    while (!outcomes.some((o) => o.ok)) await new Promise((r) => setTimeout(r, 20));
    t.same(receiver.received.filter((r) => String(r.body) !== 'old-1').map((r) => String(r.body)), ['keep'], 'only the other webhook’s delivery arrived');
    t.equal(await ob.cancel('webhook:1'), 0);
  });
}

t.test('sqlite: a delivery left in flight by a crash is attempted again as soon as the worker starts', async (t) => {
  const database = await createTestDatabase('sqlite');
  t.teardown(database.drop);
  const receiver = await startReceiver();
  t.teardown(receiver.close);
  const outbox = { allow: ['127.0.0.0/8'], pollIntervalMs: 50 };
  const holder: { ctx?: PluginContext } = {};
  const first = new Kernel({ database: database.url, logger: { level: 'silent' }, plugins: [notifier([], holder)], outbox });
  await first.prepare('cli');
  const { id } = await holder.ctx!.outbox.enqueue({ url: receiver.url, body: 'cut by a crash' });
  // As a killed process leaves it: claimed, its claim valid for a long time yet.
  await first.db('swb_outbox').where({ id }).update({ status: 'delivering', locked_by: 'dead-instance', locked_until: Date.now() + 3_600_000 });
  await first.stop();
  const outcomes: AttemptOutcome[] = [];
  const second = new Kernel({ database: database.url, logger: { level: 'silent' }, plugins: [notifier(outcomes, {})], outbox });
  await second.start();
  t.teardown(() => second.stop());
  await receiver.waitFor(1, 5000);
  t.equal(String(receiver.received[0].body), 'cut by a crash');
});
