import t from 'tap';
import knexFactory from 'knex';
import { definePlugin, Kernel, dialectOf, type Migration } from '../../src/index.js';
import { createTestDatabase, databaseKinds, startTestKernel } from '../../src/testing/index.js';

const notes: Migration[] = [
  {
    name: '001_notes',
    async up(db, { table }) {
      await db.schema.createTable(table('parent'), (t) => {
        t.increments('id');
        t.string('name').notNullable().unique();
      });
      await db.schema.createTable(table('child'), (t) => {
        t.increments('id');
        t.integer('parent_id').notNullable().references('id').inTable(table('parent')).onDelete('CASCADE');
        t.boolean('flag').notNullable().defaultTo(false);
        t.text('created_at');
      });
    },
  },
];

const notesPlugin = definePlugin({ id: 'notes', version: '1.0.0', migrations: notes });
const otherPlugin = definePlugin({
  id: 'other-thing',
  version: '1.0.0',
  migrations: [{ name: '001', up: (db, { table }) => db.schema.createTable(table('x'), (t) => t.increments('id')) }],
});

for (const kind of databaseKinds()) {
  t.test(kind, async (t) => {
    const sb = await startTestKernel({ database: kind, plugins: [notesPlugin, otherPlugin] });
    t.teardown(sb.close);
    const db = sb.kernel.db;
    const ctx = sb.kernel.context('notes');
    t.equal(ctx.tablePrefix, 'notes_');
    t.equal(sb.kernel.context('other-thing').table('x'), 'other_thing_x');

    // One migration table per plugin, plus the kernel's own.
    for (const table of ['swb_migrations', 'notes_migrations', 'other_thing_migrations']) {
      t.ok(await db.schema.hasTable(table), `${table} exists`);
    }
    const applied = await db('notes_migrations').select('name');
    t.same(applied.map((r: { name: string }) => r.name), ['001_notes']);
    t.same((await db('other_thing_migrations').select('name')).map((r: { name: string }) => r.name), ['001']);

    // Dialect helpers: ids, booleans, dates, constraint errors.
    const d = dialectOf(db);
    t.equal(d.name, kind);
    const parentId = await d.insertId(db, 'notes_parent', { name: 'p' });
    t.type(parentId, 'number');
    const when = new Date('2026-01-02T03:04:05.678Z');
    await db('notes_child').insert({ parent_id: parentId, flag: true, created_at: d.toDate(when) });
    const child = await db('notes_child').first();
    t.equal(d.bool(child.flag), true);
    t.same(d.date(child.created_at), when);
    const dup = await d.insertId(db, 'notes_parent', { name: 'p' }).catch((e) => e);
    t.ok(d.isUniqueViolation(dup), 'unique violation recognised');

    // Foreign keys are enforced (on SQLite only because the kernel turns them on).
    const orphan = await db('notes_child').insert({ parent_id: 9999, flag: false }).catch((e) => e);
    t.ok(d.isForeignKeyViolation(orphan), 'foreign key enforced');
    await db('notes_parent').where({ id: parentId }).del();
    t.equal((await db('notes_child').count({ n: '*' }))[0].n, kind === 'postgres' ? '0' : 0, 'ON DELETE CASCADE ran');

    // Several DDL statements in one round trip, inside a transaction too.
    await db.transaction((trx) => d.execBatch(trx, ['CREATE TABLE notes_batch_a (id integer primary key)', 'CREATE TABLE notes_batch_b (id integer primary key)']));
    t.ok((await db.schema.hasTable('notes_batch_a')) && (await db.schema.hasTable('notes_batch_b')), 'execBatch ran every statement');
    await t.rejects(db.transaction((trx) => d.execBatch(trx, ['CREATE TABLE notes_batch_c (id integer primary key)', 'CREATE TABLE notes_batch_a (id integer primary key)'])));
    t.notOk(await db.schema.hasTable('notes_batch_c'), 'a failing batch leaves nothing behind in its transaction');

    if (kind === 'sqlite') {
      const [{ journal_mode }] = await db.raw('PRAGMA journal_mode');
      t.equal(journal_mode, 'wal');
      const [{ timeout }] = await db.raw('PRAGMA busy_timeout');
      t.equal(timeout, 5000);
    }
  });

  t.test(`${kind}: ctx.reads sees every commit, never an open transaction, and does not wait for it`, async (t) => {
    const sb = await startTestKernel({ database: kind, plugins: [notesPlugin] });
    t.teardown(sb.close);
    const ctx = sb.kernel.context('notes');
    const names = async () => ((await ctx.reads('notes_parent').select('name').orderBy('name')) as Array<{ name: string }>).map((r) => r.name);
    await ctx.db('notes_parent').insert({ name: 'committed' });
    t.same(await names(), ['committed'], 'a commit is seen by the next read');
    if (kind === 'postgres') {
      t.equal(ctx.reads, ctx.db, 'PostgreSQL reads through the shared pool');
      return;
    }
    t.not(ctx.reads, ctx.db, 'a SQLite file has a read connection of its own');
    // A read while a write transaction holds the one writing connection: answered at once,
    // without the uncommitted row (on the writing connection it would wait for the commit).
    await ctx.db.transaction(async (trx) => {
      await trx('notes_parent').insert({ name: 'open' });
      const read = await Promise.race([names(), new Promise((r) => setTimeout(() => r('timed out'), 2000))]);
      t.same(read, ['committed'], 'answered during the transaction, from the last commit');
    });
    t.same(await names(), ['committed', 'open']);
    const write = await ctx.reads('notes_parent').insert({ name: 'through reads' }).catch((err: Error) => err);
    t.match(String(write), /readonly/, 'the read connection refuses writes');
    t.same(await names(), ['committed', 'open']);
    await sb.close();
    t.equal((ctx.reads.client as { pool?: unknown }).pool, undefined, 'stopping the kernel closed the read connection');
  });

  t.test(`${kind}: migrations run once; a restart finds them applied`, async (t) => {
    const database = await createTestDatabase(kind);
    t.teardown(database.drop);
    let runs = 0;
    const counting = definePlugin({
      id: 'counting',
      version: '1',
      migrations: [{ name: '001', up: async (db, { table }) => { runs++; await db.schema.createTable(table('t'), (t) => t.increments('id')); } }],
    });
    for (let i = 0; i < 2; i++) {
      const k = new Kernel({ database: database.url, logger: { level: 'silent' }, plugins: [counting] });
      await k.start();
      await k.stop();
    }
    t.equal(runs, 1);
  });
}

t.test('an in-memory SQLite database and a host-owned Knex read through their one handle', async (t) => {
  for (const database of ['sqlite::memory:', knexFactory({ client: 'sqlite3', connection: { filename: ':memory:' }, useNullAsDefault: true })]) {
    const sb = await startTestKernel({ database, plugins: [notesPlugin] });
    const ctx = sb.kernel.context('notes');
    t.equal(ctx.reads, ctx.db);
    await ctx.db('notes_parent').insert({ name: 'x' });
    t.equal(((await ctx.reads('notes_parent').select('name')) as unknown[]).length, 1);
    await sb.close();
    if (typeof database !== 'string') await database.destroy();
  }
});
