/**
 * The static part of the anope storage: the global id table, the record of what the schema
 * synchronization created per type, API tokens and settings. The per-type tables are
 * created by the schema synchronization (`schema-sync.ts`), because types are registered
 * at run time.
 */
import type { Migration } from '../../../src/index.js';

/** Creates the static anope tables. */
export const init: Migration = {
  name: '001_init',
  async up(db, ctx) {
    // Ids are global across types. AUTOINCREMENT (SQLite) and a sequence (PostgreSQL)
    // never hand out an id twice, so concurrent creates cannot collide.
    await db.schema.createTable(ctx.table('objects'), (t) => {
      t.bigIncrements('id');
      t.string('type', 64).notNullable();
    });
    await db.schema.createTable(ctx.table('types'), (t) => {
      t.string('name', 64).primary();
      t.text('fields').notNullable();
      t.string('updated_at', 32).notNullable();
    });
    await db.schema.createTable(ctx.table('tokens'), (t) => {
      t.increments('id');
      t.string('hash', 64).notNullable().unique();
      t.string('label', 200).notNullable().defaultTo('');
      t.string('created_at', 32).notNullable();
    });
    await db.schema.createTable(ctx.table('settings'), (t) => {
      t.string('key', 64).primary();
      t.text('value').notNullable();
    });
  },
  async down(db, ctx) {
    await db.schema.dropTableIfExists(ctx.table('settings'));
    await db.schema.dropTableIfExists(ctx.table('tokens'));
    await db.schema.dropTableIfExists(ctx.table('types'));
    await db.schema.dropTableIfExists(ctx.table('objects'));
  },
};
