/**
 * The first schema of the talk plugin: conversations, their attendees, chat messages and
 * reactions (the conversation model), installed bots and the conversations they are set up
 * in, and the counters that throttle bad bot signatures.
 */
import type { Migration } from '../../../src/index.js';

/** Creates every table of the talk plugin. */
export const init: Migration = {
  name: '001_init',
  async up(db, { table }) {
    await db.schema.createTable(table('rooms'), (t) => {
      t.increments('id');
      t.string('token', 32).notNullable().unique();
      t.integer('type').notNullable();
      t.string('name', 255).notNullable().defaultTo('');
      t.text('description').notNullable().defaultTo('');
      t.bigInteger('created_at').notNullable();
      t.bigInteger('last_activity').notNullable();
      t.integer('last_message_id').nullable();
    });
    await db.schema.createTable(table('attendees'), (t) => {
      t.increments('id');
      t.integer('room_id').notNullable().references('id').inTable(table('rooms')).onDelete('CASCADE');
      t.string('actor_type', 32).notNullable();
      t.string('actor_id', 255).notNullable();
      t.string('display_name', 255).notNullable().defaultTo('');
      t.integer('participant_type').notNullable();
      t.bigInteger('created_at').notNullable();
      t.unique(['room_id', 'actor_type', 'actor_id']);
      t.index(['actor_type', 'actor_id']);
    });
    await db.schema.createTable(table('messages'), (t) => {
      t.increments('id');
      t.integer('room_id').notNullable().references('id').inTable(table('rooms')).onDelete('CASCADE');
      t.string('actor_type', 32).notNullable();
      t.string('actor_id', 255).notNullable();
      t.string('actor_display_name', 255).notNullable().defaultTo('');
      t.text('message').notNullable();
      t.string('message_type', 32).notNullable().defaultTo('comment');
      t.string('reference_id', 64).notNullable().defaultTo('');
      t.integer('reply_to').nullable();
      t.boolean('silent').notNullable().defaultTo(false);
      t.bigInteger('created_at').notNullable();
      t.index(['room_id', 'id']);
    });
    await db.schema.createTable(table('reactions'), (t) => {
      t.increments('id');
      t.integer('message_id').notNullable().references('id').inTable(table('messages')).onDelete('CASCADE');
      t.string('actor_type', 32).notNullable();
      t.string('actor_id', 255).notNullable();
      t.string('actor_display_name', 255).notNullable().defaultTo('');
      t.string('reaction', 64).notNullable();
      t.bigInteger('created_at').notNullable();
      t.unique(['message_id', 'actor_type', 'actor_id', 'reaction']);
    });
    await db.schema.createTable(table('bots'), (t) => {
      t.increments('id');
      t.string('name', 64).notNullable();
      t.text('url').notNullable();
      t.string('url_hash', 64).notNullable().unique();
      t.text('description').notNullable().defaultTo('');
      t.string('secret', 128).notNullable().unique();
      t.integer('error_count').notNullable().defaultTo(0);
      t.bigInteger('last_error_date').nullable();
      t.text('last_error_message').notNullable().defaultTo('');
      t.integer('state').notNullable();
      t.integer('features').notNullable();
      t.bigInteger('created_at').notNullable();
    });
    await db.schema.createTable(table('bot_conversations'), (t) => {
      t.increments('id');
      t.integer('bot_id').notNullable().references('id').inTable(table('bots')).onDelete('CASCADE');
      t.integer('room_id').notNullable().references('id').inTable(table('rooms')).onDelete('CASCADE');
      t.integer('state').notNullable();
      t.unique(['bot_id', 'room_id']);
      t.index(['room_id']);
    });
    await db.schema.createTable(table('throttle'), (t) => {
      t.string('throttle_key', 255).primary();
      t.bigInteger('window_start').notNullable();
      t.integer('failures').notNullable();
    });
  },
  async down(db, { table }) {
    for (const name of ['throttle', 'bot_conversations', 'bots', 'reactions', 'messages', 'attendees', 'rooms']) {
      await db.schema.dropTableIfExists(table(name));
    }
  },
};
