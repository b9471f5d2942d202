/**
 * The redball schema: bot types, reddit authorizations, bots, their settings, the runner's
 * record of each bot's run, and hashed API keys.
 *
 * Settings values (`val`, `options`, `subkeys`) and a run's `detailed_state` are JSON text on
 * both engines: a JSON string value such as `"abc"` must survive the round trip unchanged,
 * which a PostgreSQL `jsonb` column read through `Dialect.json` would not.
 */
import type { Migration } from '../../../src/index.js';

/** Creates every redball table. */
export const initMigration: Migration = {
  name: '001_init',
  async up(db, { table }) {
    await db.schema.createTable(table('bot_types'), (t) => {
      t.increments('id');
      t.string('name', 200).notNullable().unique();
      t.string('description', 500).notNullable();
      t.string('module_name', 200).notNullable();
    });
    await db.schema.createTable(table('reddit_auths'), (t) => {
      t.increments('id');
      t.string('description', 500).notNullable().unique();
      t.string('app_id', 200).notNullable();
      t.text('app_secret').notNullable();
      t.text('scopes').notNullable();
      t.text('refresh_token');
      t.string('unique_code', 64).notNullable();
    });
    await db.schema.createTable(table('bots'), (t) => {
      t.increments('id');
      t.string('name', 200).notNullable().unique();
      t.integer('bot_type_id').notNullable().references('id').inTable(table('bot_types')).onDelete('RESTRICT');
      t.integer('reddit_auth_id').references('id').inTable(table('reddit_auths')).onDelete('RESTRICT');
      t.boolean('auto_run').notNullable().defaultTo(false);
    });
    await db.schema.createTable(table('bot_config'), (t) => {
      t.increments('id');
      t.integer('bot_id').notNullable().references('id').inTable(table('bots')).onDelete('CASCADE');
      t.string('category', 200).notNullable();
      t.string('key', 200).notNullable();
      t.text('description').notNullable().defaultTo('');
      t.string('type', 8).notNullable().defaultTo('str');
      t.text('val').notNullable();
      t.text('options').notNullable().defaultTo('[]');
      t.text('subkeys').notNullable().defaultTo('[]');
      t.string('parent_key', 200).notNullable().defaultTo('');
      t.boolean('read_only').notNullable().defaultTo(false);
      t.boolean('system').notNullable().defaultTo(false);
      t.unique(['bot_id', 'category', 'key']);
    });
    // Written only by the bot runner. One row per bot; a later lease (several instances)
    // adds its columns here, so readers never need to change.
    await db.schema.createTable(table('bot_runs'), (t) => {
      t.integer('bot_id').primary().references('id').inTable(table('bots')).onDelete('CASCADE');
      t.string('status', 16).notNullable().defaultTo('stopped');
      t.string('instance_id', 200);
      t.string('started_at', 40);
      t.string('stopped_at', 40);
      t.text('detailed_state').notNullable();
      t.text('error');
      t.string('updated_at', 40).notNullable();
    });
    await db.schema.createTable(table('api_keys'), (t) => {
      t.increments('id');
      t.string('name', 200).notNullable().defaultTo('');
      t.string('key_hash', 64).notNullable().unique();
      t.string('created_at', 40).notNullable();
    });
  },
  async down(db, { table }) {
    for (const name of ['api_keys', 'bot_runs', 'bot_config', 'bots', 'reddit_auths', 'bot_types']) {
      await db.schema.dropTableIfExists(table(name));
    }
  },
};
