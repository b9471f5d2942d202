/**
 * `enqueueMany` with more rows than one insert statement may carry (SQLite refuses a
 * multi-row insert of more than 500): every delivery is stored and delivered, inside the
 * caller's transaction and without one, and a batch with one refused URL enqueues nothing.
 */
import t from 'tap';
import { ErrorCodes } from '../../src/index.js';
import { databaseKinds, startTestKernel } from '../../src/testing/index.js';
import { startReceiver } from '../helpers/receiver.js';
import { contextHolder, type ContextHolder } from '../helpers/context-holder.js';
import { until } from '../helpers/waiting.js';

const BATCH = 1_200;

for (const kind of databaseKinds()) {
  t.test(`${kind}: ${BATCH} deliveries in one enqueueMany, with and without a transaction`, async (t) => {
    const receiver = await startReceiver();
    t.teardown(receiver.close);
    const holder: ContextHolder = {};
    const sb = await startTestKernel({ database: kind, plugins: [contextHolder(holder)] });
    t.teardown(sb.close);
    const outbox = holder.ctx!.outbox;
    const inputs = (tag: string) => Array.from({ length: BATCH }, (_, n) => ({ url: `${receiver.url}/${n % 40}`, body: { tag, n } }));

    const alone = await outbox.enqueueMany(inputs('alone'));
    const inTrx = await holder.ctx!.db.transaction((trx) => outbox.enqueueMany(inputs('trx'), { trx }));
    t.equal(alone.length + inTrx.length, 2 * BATCH, 'one result per input');
    t.equal(new Set([...alone, ...inTrx].map((d) => d.deliveryId)).size, 2 * BATCH, 'distinct delivery ids');
    t.equal(new Set([...alone, ...inTrx].map((d) => String(d.id))).size, 2 * BATCH, 'distinct row ids');

    const refused = [...inputs('refused'), { url: 'http://169.254.169.254/latest/meta-data', body: { tag: 'refused', n: -1 } }];
    await t.rejects(outbox.enqueueMany(refused), { code: ErrorCodes.URL_NOT_ALLOWED }, 'one refused URL refuses the batch');

    await until('every delivery delivered', async () => (await outbox.stats()).delivered === 2 * BATCH, 60_000);
    const tags = receiver.received.map((r) => (JSON.parse(String(r.body)) as { tag: string }).tag);
    t.equal(tags.filter((tag) => tag === 'alone').length, BATCH, 'every delivery enqueued alone arrived');
    t.equal(tags.filter((tag) => tag === 'trx').length, BATCH, 'every delivery enqueued in the transaction arrived');
    t.equal(tags.filter((tag) => tag === 'refused').length, 0, 'nothing of the refused batch was enqueued');
  });
}
