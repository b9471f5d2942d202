/**
 * Concurrent chat sends share transactions (group commit), on SQLite and PostgreSQL: every
 * sender is answered only once its message and its webhook deliveries are committed (another
 * connection sees them at the answer); a send whose write fails gets its own error in
 * Owncast's style and the others of its batch are stored; chat clients, the history and each
 * webhook see the messages in one order, the commit order. Concurrent token checks share reads.
 */
import t from 'tap';
import type { Knex } from 'knex';
import { openDatabase } from '../../../src/index.js';
import { databaseKinds } from '../../../src/testing/index.js';
import { startReceiver, type Receiver } from '../../helpers/receiver.js';
import { bearer, chatClient, getJson, owncastOf, post, startOwncast, until } from './fixtures/helpers.js';

const HOOKS = 3;
const SENDS = 40;

for (const kind of databaseKinds()) {
  t.test(kind, async (t) => {
    const receivers: Receiver[] = [];
    for (let i = 0; i < HOOKS; i++) receivers.push(await startReceiver());
    t.teardown(() => Promise.all(receivers.map((r) => r.close())));
    const sb = await startOwncast(kind);
    t.teardown(sb.close);
    const owncast = owncastOf(sb);
    for (const r of receivers) await owncast.webhooks.create(r.url, ['CHAT']);
    const { token } = await owncast.tokens.create('sender', ['CAN_SEND_MESSAGES']);
    const { knex: reader } = openDatabase(sb.databaseUrl!);
    t.teardown(() => reader.destroy());
    const client = await chatClient(sb);
    t.teardown(client.close);

    // A write of one message fails in the database: a trigger refuses the body 'poison'.
    if (kind === 'sqlite') {
      await reader.raw(`CREATE TRIGGER owncast_poison BEFORE INSERT ON owncast_messages WHEN NEW.raw_body = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned message'); END`);
    } else {
      await reader.raw(`CREATE FUNCTION owncast_poison() RETURNS trigger AS $$ BEGIN IF NEW.raw_body = 'poison' THEN RAISE EXCEPTION 'poisoned message'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql`);
      await reader.raw(`CREATE TRIGGER owncast_poison BEFORE INSERT ON owncast_messages FOR EACH ROW EXECUTE FUNCTION owncast_poison()`);
    }
    const inserts: Array<{ sql: string; rows: number }> = [];
    const tokenReads: string[] = [];
    const { db, reads } = sb.kernel.context('owncast');
    const onQuery = (q: { sql: string; bindings?: unknown[] }) => {
      // Messages per insert: its bindings over its columns.
      const columns = /^insert into \S+ \(([^)]*)\)/i.exec(q.sql)?.[1].split(',').length;
      if (/^insert into .?owncast_messages/i.test(q.sql)) inserts.push({ sql: q.sql, rows: (q.bindings?.length ?? 0) / (columns ?? 1) });
      if (/^select .* from .?owncast_access_tokens/i.test(q.sql)) tokenReads.push(q.sql);
    };
    // Tokens are read through ctx.reads (on SQLite a connection of its own), the rest through ctx.db.
    const handles = reads === db ? [db] : [db, reads];
    for (const h of handles) h.on('query', onQuery);
    t.teardown(() => handles.forEach((h) => void h.off('query', onQuery)));

    const bodies = Array.from({ length: SENDS }, (_, i) => (i === 17 ? 'poison' : `m${i}`));
    // The sends arrive while the first token check and (on SQLite) the first write wait, as
    // they would behind a slow query or batch, so that batching does not depend on how fast
    // this machine answers (a lone send that finds nothing in flight is checked and written
    // at once: then nothing batches). On SQLite a transaction holds each of the two
    // connections (writing, and ctx.reads, which token checks use); on PostgreSQL a lock on
    // the token table holds the checks.
    let released = false;
    const waiting: Array<() => void> = [];
    const gate = () => new Promise<void>((resolve) => (released ? resolve() : waiting.push(resolve)));
    const holding: Array<Promise<void>> = [];
    const hold = (handle: Knex, first: string) => {
      let began!: () => void;
      holding.push(new Promise<void>((resolve) => (began = resolve)));
      return handle.transaction(async (trx) => {
        await trx.raw(first);
        began();
        await gate();
      });
    };
    const held =
      kind === 'sqlite'
        ? Promise.all([hold(db, 'SELECT 1'), hold(reads, 'SELECT 1')])
        : hold(reader, 'LOCK TABLE owncast_access_tokens IN ACCESS EXCLUSIVE MODE');
    await Promise.all(holding);
    setTimeout(() => {
      released = true;
      waiting.splice(0).forEach((resolve) => resolve());
    }, 300);
    const answers = await Promise.all(
      bodies.map(async (body) => {
        const res = await post(sb, '/api/integrations/chat/user', { user: 'bot', body }, bearer(token));
        const json = (await res.json()) as Record<string, unknown>;
        // At the answer, another connection sees the message and its deliveries (committed).
        const row = (await reader('owncast_messages').where('raw_body', body).first()) as { id: string } | undefined;
        const outbox = (await reader('swb_outbox').where('owner', 'owncast').select('body')) as Array<{ body: Buffer }>;
        const deliveries = row ? outbox.filter((d) => (JSON.parse(Buffer.from(d.body).toString('utf8')) as { eventData: { id: string } }).eventData.id === row.id).length : 0;
        return { body, status: res.status, json, row, deliveries };
      }),
    );
    await held;

    t.test('a bad write fails only its own sender, in Owncast’s error style', async (t) => {
      const bad = answers.find((a) => a.body === 'poison')!;
      t.equal(bad.status, 500);
      t.same(Object.keys(bad.json).sort(), ['message', 'success']);
      t.equal(bad.json.success, false);
      t.notMatch(JSON.stringify(bad.json), /poison|RAISE|trigger|sqlite|at .*\.js/i, 'no exception text');
      t.notOk(bad.row, 'its message is not stored');
      for (const a of answers.filter((x) => x.body !== 'poison')) {
        t.equal(a.status, 200, `${a.body} answered 200`);
        t.same(a.json, { success: true, message: 'sent' });
      }
    });

    t.test('each sender is answered after its message and deliveries committed', async (t) => {
      for (const a of answers.filter((x) => x.body !== 'poison')) {
        t.ok(a.row, `${a.body} visible to another connection at its answer`);
        t.equal(a.deliveries, HOOKS, `${a.body}'s ${HOOKS} deliveries visible at its answer`);
      }
    });

    t.test('the sends were batched', async (t) => {
      // A batch that holds the failing message fails whole and its messages are written again
      // one by one, so the number of inserts alone does not show batching; their sizes do.
      const largest = Math.max(...inserts.map((i) => i.rows));
      t.ok(largest > 1, `one insert held ${largest} messages (${inserts.length} message inserts for ${SENDS} sends)`);
      t.ok(inserts.length < 2 * SENDS, 'no send was written more than twice');
      t.ok(tokenReads.length > 0 && tokenReads.length < SENDS, `${tokenReads.length} token reads for ${SENDS} sends (concurrent verifications share a query)`);
    });

    t.test('chat clients, the history and every webhook see one order: the commit order', async (t) => {
      const sent = bodies.filter((b) => b !== 'poison');
      const stored = (await reader('owncast_messages').whereIn('raw_body', sent).orderBy('seq').select('id', 'created_at')) as Array<{ id: string; created_at: string | number }>;
      t.equal(stored.length, sent.length);
      const commitOrder = stored.map((r) => r.id);
      const times = stored.map((r) => Number(r.created_at));
      t.same(times, [...times].sort((a, b) => a - b), 'message times never go back in commit order');
      await until(() => client.frames.filter((f) => f.type === 'CHAT').length >= sent.length, 10_000, 'all chat frames');
      const frames = client.frames.filter((f) => f.type === 'CHAT');
      t.same(frames.map((f) => f.id), commitOrder, 'websocket frames in commit order');
      t.notOk(frames.some((f) => f.body.includes('poison')), 'the failed message was never sent to clients');
      const history = await getJson<Array<{ id: string }>>(sb, '/api/integrations/chat', bearer((await owncast.tokens.create('mod', ['HAS_ADMIN_ACCESS'])).token));
      t.same(history.map((m) => m.id), commitOrder, 'GET history in commit order');
      for (const [i, r] of receivers.entries()) {
        await r.waitFor(sent.length, 20_000);
        const ids = r.received.map((x) => (JSON.parse(String(x.body)) as { eventData: { id: string } }).eventData.id);
        t.same(ids, commitOrder, `webhook ${i} received the messages in commit order`);
      }
    });
  });
}
