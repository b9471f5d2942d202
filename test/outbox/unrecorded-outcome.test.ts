/**
 * An attempt whose outcome cannot be recorded, on SQLite and PostgreSQL: because another
 * instance took the delivery over during the attempt, or because the database refused the
 * outcome. Either way the attempt is not in the log (it is logged by the statement or
 * transaction that records its outcome), the lane does not move on to its next delivery, and
 * the delivery is attempted again once its claim lapses.
 */
import t from 'tap';
import { definePlugin, type PluginContext } from '../../src/index.js';
import { databaseKinds, startTestKernel, type TestKernel } from '../../src/testing/index.js';
import { startReceiver } from '../helpers/receiver.js';
import { until } from '../helpers/waiting.js';

interface Setup {
  server: TestKernel;
  ctx: PluginContext;
  logs: string[];
  /** Resolves when the gated signer is first called (the first delivery is claimed and being attempted). */
  signing: Promise<void>;
  /** Lets the gated signer return. */
  release: () => void;
}

async function gatedKernel(kind: 'sqlite' | 'postgres', outbox: Record<string, unknown>): Promise<Setup> {
  let ctx!: PluginContext;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let signed!: () => void;
  const signing = new Promise<void>((r) => (signed = r));
  const plugin = definePlugin({
    id: 'notifier',
    version: '1',
    init: (c) => {
      ctx = c;
      c.outbox.registerSigner('gated', async () => {
        signed();
        await gate;
        return {};
      });
    },
  });
  const logs: string[] = [];
  const server = await startTestKernel({ database: kind, plugins: [plugin], outbox, logger: { level: 'warn', destination: { write: (line: string) => void logs.push(line) } } });
  return { server, ctx, logs, signing, release };
}

async function statusOf(server: TestKernel, id: number): Promise<{ status: string; locked_by: string | null; attempts: number }> {
  return (await server.kernel.db('swb_outbox').where({ id }).first('status', 'locked_by', 'attempts')) as { status: string; locked_by: string | null; attempts: number };
}

for (const kind of databaseKinds()) {
  t.test(`${kind}: an attempt made after another instance took the delivery over is not logged, and its lane stays put`, async (t) => {
    const { server, ctx, logs, signing, release } = await gatedKernel(kind, { pollIntervalMs: 10, timeoutMs: 2000 });
    t.teardown(server.close);
    const receiver = await startReceiver();
    t.teardown(receiver.close);
    const [first, second] = await ctx.outbox.enqueueMany([
      { url: receiver.url, body: { i: 0 }, orderingKey: 'lane', signer: 'gated' },
      { url: receiver.url, body: { i: 1 }, orderingKey: 'lane' },
    ]);
    await signing;
    // Another instance takes the delivery over while this one is still attempting it.
    await server.kernel.db('swb_outbox').where({ id: first.id }).update({ locked_by: 'other-instance' });
    release();
    await receiver.waitFor(1);
    await until('the result was turned down', async () => logs.some((l) => l.includes('delivery claim expired during the attempt')));
    t.same(await statusOf(server, first.id), { status: 'delivering', locked_by: 'other-instance', attempts: 0 }, 'the other instance keeps it');
    t.equal((await statusOf(server, second.id)).status, 'queued', 'the lane did not move on');
    const logged = await server.kernel.outbox.attemptLog.forDeliveries([first.id, second.id]);
    t.equal(logged.size, 0, 'no attempt logged');
    t.equal(receiver.received.length, 1, 'nothing else sent');
  });

  t.test(`${kind}: an outcome the database refuses leaves no attempt logged; the delivery is attempted again when its claim lapses`, async (t) => {
    const { server, ctx, logs, signing, release } = await gatedKernel(kind, { pollIntervalMs: 10, timeoutMs: 300, claimMarginMs: 100 });
    t.teardown(server.close);
    const db = server.kernel.db;
    // The database refuses to record any outcome answered 201 (as a full disk or a broken row would).
    if (kind === 'sqlite') {
      await db.raw("CREATE TRIGGER refuse_201 BEFORE UPDATE ON swb_outbox WHEN NEW.last_status = 201 BEGIN SELECT RAISE(ABORT, 'refused'); END");
    } else {
      await db.raw("CREATE FUNCTION refuse_201() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.last_status = 201 THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$");
      await db.raw('CREATE TRIGGER refuse_201 BEFORE UPDATE ON swb_outbox FOR EACH ROW EXECUTE FUNCTION refuse_201()');
    }
    const dropTrigger = async () => {
      await db.raw('DROP TRIGGER IF EXISTS refuse_201' + (kind === 'sqlite' ? '' : ' ON swb_outbox'));
      if (kind !== 'sqlite') await db.raw('DROP FUNCTION IF EXISTS refuse_201()');
    };
    t.teardown(dropTrigger);
    const receiver = await startReceiver((_, i) => ({ status: i === 0 ? 201 : 200 }));
    t.teardown(receiver.close);
    const [first, second] = await ctx.outbox.enqueueMany([
      { url: receiver.url, body: { i: 0 }, orderingKey: 'lane', signer: 'gated' },
      { url: receiver.url, body: { i: 1 }, orderingKey: 'lane' },
    ]);
    await signing;
    release();
    await until('the outcome was refused', async () => logs.some((l) => l.includes('outbox delivery failed unexpectedly')));
    const refused = await statusOf(server, first.id);
    t.equal(refused.status, 'delivering', 'still claimed: no outcome recorded');
    t.equal(refused.attempts, 0);
    t.equal((await statusOf(server, second.id)).status, 'queued', 'the lane did not move on');
    t.equal((await server.kernel.outbox.attemptLog.forDeliveries([first.id])).size, 0, 'the attempt is not in the log');
    await dropTrigger();
    // The claim lapses (300 ms + 100 ms), the delivery is attempted again, and the lane flows on in order.
    await until('both delivered', async () => (await statusOf(server, second.id)).status === 'delivered');
    t.same(receiver.received.map((r) => (JSON.parse(String(r.body)) as { i: number }).i), [0, 0, 1], 'the refused one again, then the next');
    const logged = await server.kernel.outbox.attemptLog.forDeliveries([first.id, second.id]);
    t.same(logged.get(first.id)?.map((a) => [a.attempt, a.status, a.outcome]), [[1, 200, 'delivered']], 'only the recorded attempt is logged');
    t.same(logged.get(second.id)?.map((a) => [a.attempt, a.status, a.outcome]), [[1, 200, 'delivered']]);
  });
}
