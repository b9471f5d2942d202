/**
 * The settings store: a read of the database that raced a local change does not undo that
 * change in memory (the periodic refresh used to put an old value back until the next
 * refresh, so a setter's answer and the next `/api/config` could disagree).
 */
import t from 'tap';
import type { Knex } from 'knex';
import { databaseKinds } from '../../../src/testing/index.js';
import { SettingsStore } from '../../../plugins/owncast/index.js';
import { startOwncast } from './fixtures/helpers.js';

for (const kind of databaseKinds()) {
  t.test(`${kind}: a read that raced a local write is not applied over it`, async (t) => {
    const sb = await startOwncast(kind);
    t.teardown(sb.close);
    const real = sb.kernel.context('owncast');
    // Reads (select) wait for `gate` after the database answered: the answer is the old rows.
    let gate: Promise<void> | undefined;
    const db = ((table: string) => {
      const query = real.db(table);
      const pending = gate;
      if (pending) {
        const select = query.select.bind(query);
        (query as unknown as { select: unknown }).select = (...columns: string[]) => select(...columns).then(async (rows: unknown) => (await pending, rows));
      }
      return query;
    }) as unknown as Knex;
    const store = new SettingsStore(Object.create(real, { db: { value: db } }));
    await store.update({ summary: 'stored before' });
    await store.load();
    const before = store.settings.name;

    let release!: () => void;
    gate = new Promise((resolve) => (release = resolve));
    const reading = store.load();
    gate = undefined;
    await store.update({ name: 'changed while reading' });
    release();
    await reading;
    t.equal(store.settings.name, 'changed while reading', 'the local change stays');
    t.not(before, 'changed while reading');
    t.equal(await store.load(), true, 'the next read applies the database');
    t.equal(store.settings.name, 'changed while reading');
  });
}
