/**
 * Instance membership for several instances on one database: each running instance keeps
 * its row's `alive_until` (epoch ms) in the future (see `BotOwnership`).
 */
import type { Migration } from '../../../src/index.js';

/** Creates the membership table. */
export const instancesMigration: Migration = {
  name: '003_instances',
  async up(db, { table }) {
    await db.schema.createTable(table('instances'), (t) => {
      t.string('instance_id', 200).primary();
      t.bigInteger('alive_until').notNullable();
    });
  },
  async down(db, { table }) {
    await db.schema.dropTableIfExists(table('instances'));
  },
};
