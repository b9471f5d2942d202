/**
 * Delivery ids are UUIDs of version 7 (time first), so the unique index on them grows at its
 * end instead of taking each new row at a random page: ids made in a later millisecond sort
 * after earlier ones, every id is distinct (across many refills of the pool their random part
 * comes from), and the id a receiver gets in `X-Switchboard-Delivery` is the stored one.
 */
import t from 'tap';
import { newDeliveryId } from '../../src/outbox/new-deliveries.js';
import type { EnqueuedDelivery } from '../../src/index.js';
import { databaseKinds, startTestKernel } from '../../src/testing/index.js';
import { startReceiver } from '../helpers/receiver.js';
import { contextHolder, type ContextHolder } from '../helpers/context-holder.js';
import { until } from '../helpers/waiting.js';

/** RFC 9562: version 7 in the 13th digit, variant 10 in the 17th. */
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const nextMillisecond = async (): Promise<void> => {
  const now = Date.now();
  while (Date.now() <= now) await new Promise((r) => setTimeout(r, 1));
};

t.test('ids are version 7 UUIDs, distinct, and later ones sort later', async (t) => {
  const many = Array.from({ length: 20_000 }, () => newDeliveryId());
  t.ok(many.every((id) => UUID_V7.test(id)), 'every id is a version 7 UUID');
  t.equal(new Set(many).size, many.length, `${many.length} ids are distinct (the random pool was refilled many times)`);

  const inOrder: string[] = [];
  for (let i = 0; i < 20; i++) {
    await nextMillisecond();
    inOrder.push(newDeliveryId());
  }
  t.same([...inOrder].sort(), inOrder, 'ids made in later milliseconds sort after earlier ones');
  const before = Date.now();
  const stamp = parseInt(newDeliveryId().replace(/-/g, '').slice(0, 12), 16);
  t.ok(stamp >= before && stamp <= Date.now(), 'the id begins with the time it was made, in ms');
});

for (const kind of databaseKinds()) {
  t.test(`${kind}: the stored ids sort in enqueueing order, and receivers get them`, async (t) => {
    const receiver = await startReceiver();
    t.teardown(receiver.close);
    const holder: ContextHolder = {};
    const sb = await startTestKernel({ database: kind, plugins: [contextHolder(holder)] });
    t.teardown(sb.close);
    const outbox = holder.ctx!.outbox;
    const enqueued: EnqueuedDelivery[] = [];
    for (let i = 0; i < 5; i++) {
      await nextMillisecond();
      enqueued.push(...(await outbox.enqueueMany([{ url: `${receiver.url}/a`, body: { i } }, { url: `${receiver.url}/b`, body: { i } }])));
    }
    const stored = (await holder.ctx!.db('swb_outbox').select('id', 'delivery_id').orderBy('delivery_id')) as Array<{ id: number | string; delivery_id: string }>;
    t.equal(stored.length, 10, 'every delivery is stored');
    const byRequest = (id: string) => Math.floor(enqueued.findIndex((d) => d.deliveryId === id) / 2);
    const requests = stored.map((r) => byRequest(r.delivery_id));
    t.same(requests, [...requests].sort((a, b) => a - b), 'ordered by delivery id, the rows are in the order they were enqueued');

    await until('every delivery arrived', async () => receiver.received.length === 10, 30_000);
    const sent = receiver.received.map((r) => r.headers['x-switchboard-delivery']);
    t.same(new Set(sent), new Set(enqueued.map((d) => d.deliveryId)), 'each receiver got the stored id');
    t.ok(sent.every((id) => typeof id === 'string' && UUID_V7.test(id)), 'as a version 7 UUID');
  });
}
