/**
 * The owncast plugin's tables: settings, the broadcast state, chat messages, access tokens,
 * webhooks and metric samples. Times are epoch milliseconds (bigint) so that range queries
 * and ordering are cheap and identical on SQLite and PostgreSQL.
 */
import type { Migration } from '../../../src/index.js';
import { presenceMigration } from './002_presence.js';

/** Creates every table of the plugin. */
export const initMigration: Migration = {
  name: '001_init',
  async up(db, { table }) {
    await db.schema.createTable(table('settings'), (t) => {
      t.string('key', 64).primary();
      t.text('value').notNullable();
      t.bigInteger('updated_at').notNullable();
    });
    await db.schema.createTable(table('broadcast'), (t) => {
      t.integer('id').primary();
      t.boolean('online').notNullable().defaultTo(false);
      t.bigInteger('last_connect_at').nullable();
      t.bigInteger('last_disconnect_at').nullable();
      t.integer('session_peak').notNullable().defaultTo(0);
      t.integer('overall_peak').notNullable().defaultTo(0);
      t.text('broadcaster').nullable();
      t.integer('revision').notNullable().defaultTo(0);
      t.string('origin', 200).nullable();
      t.string('event_message_id', 32).nullable();
    });
    await db(table('broadcast')).insert({ id: 1, online: false, session_peak: 0, overall_peak: 0, revision: 0 });
    await db.schema.createTable(table('messages'), (t) => {
      t.increments('seq');
      t.string('id', 32).notNullable().unique();
      t.string('type', 32).notNullable();
      t.text('author').notNullable();
      t.text('body').notNullable();
      t.text('raw_body').notNullable();
      t.boolean('visible').notNullable();
      t.bigInteger('created_at').notNullable();
      t.string('client_id', 64).nullable();
      t.index(['created_at', 'seq'], `${table('messages')}_time_idx`);
      t.index(['type', 'created_at', 'seq'], `${table('messages')}_type_time_idx`);
    });
    await db.schema.createTable(table('access_tokens'), (t) => {
      t.increments('id');
      t.string('token', 128).notNullable();
      t.string('token_hash', 64).notNullable().unique();
      t.text('name').notNullable();
      t.text('scopes').notNullable();
      t.bigInteger('created_at').notNullable();
      t.bigInteger('last_used').nullable();
    });
    await db.schema.createTable(table('webhooks'), (t) => {
      t.increments('id');
      t.text('url').notNullable();
      t.text('events').notNullable();
      t.bigInteger('created_at').notNullable();
      t.bigInteger('last_used').nullable();
    });
    await db.schema.createTable(table('metrics'), (t) => {
      t.increments('id');
      t.string('kind', 16).notNullable();
      t.bigInteger('time').notNullable();
      t.integer('value').notNullable();
      t.index(['kind', 'id'], `${table('metrics')}_kind_idx`);
    });
  },
  async down(db, { table }) {
    for (const name of ['metrics', 'webhooks', 'access_tokens', 'messages', 'broadcast', 'settings']) {
      await db.schema.dropTableIfExists(table(name));
    }
  },
};

/** Every migration of the plugin, in order. */
export const migrations: Migration[] = [initMigration, presenceMigration];
