/**
 * The opsdroid plugin's tables: runtime statistics (one row per instance, summed by
 * `/stats/`), module configuration changed through the command center, the bots' memory
 * (the `sqlite` database module), and websocket socket requests waiting to be opened.
 */
import type { Migration } from '../../../src/index.js';

/** The first schema. */
export const initMigration: Migration = {
  name: '001_init',
  async up(db, { table, dialect }) {
    await db.schema.createTable(table('stats'), (t) => {
      t.string('instance_id', 200).primary();
      t.bigInteger('messages_parsed').notNullable().defaultTo(0);
      t.bigInteger('webhooks_called').notNullable().defaultTo(0);
      t.bigInteger('total_responses').notNullable().defaultTo(0);
      t.double('total_response_time').notNullable().defaultTo(0);
      t.string('updated_at', 40).notNullable();
    });
    await db.schema.createTable(table('module_config'), (t) => {
      t.string('module_type', 20).notNullable();
      t.string('module_name', 200).notNullable();
      dialect.jsonColumn(t, 'config').notNullable();
      t.string('updated_at', 40).notNullable();
      t.primary(['module_type', 'module_name']);
    });
    await db.schema.createTable(table('memory'), (t) => {
      t.string('namespace', 200).notNullable();
      t.string('key', 500).notNullable();
      dialect.jsonColumn(t, 'value').notNullable();
      t.string('updated_at', 40).notNullable();
      t.primary(['namespace', 'key']);
    });
    await db.schema.createTable(table('socket_request'), (t) => {
      t.string('id', 64).primary();
      t.string('connector', 200).notNullable();
      t.string('created_at', 40).notNullable();
      t.string('instance_id', 200).notNullable();
      t.index(['connector', 'created_at']);
    });
  },
  async down(db, { table }) {
    for (const name of ['socket_request', 'memory', 'module_config', 'stats']) await db.schema.dropTableIfExists(table(name));
  },
};

/** Every migration, in order. */
export const migrations: Migration[] = [initMigration];
