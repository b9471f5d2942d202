/**
 * Chat presence of each running instance (several instances on one PostgreSQL): how many
 * chat clients it holds and who they are, kept alive with an expiry, so every instance can
 * report the cluster's viewer count and client list (see `ClusterConnections`).
 */
import type { Migration } from '../../../src/index.js';

/** Creates the presence table. */
export const presenceMigration: Migration = {
  name: '002_presence',
  async up(db, { table }) {
    await db.schema.createTable(table('presence'), (t) => {
      t.string('instance_id', 200).primary();
      t.integer('viewer_count').notNullable().defaultTo(0);
      t.text('clients').notNullable();
      t.bigInteger('alive_until').notNullable();
    });
  },
  async down(db, { table }) {
    await db.schema.dropTableIfExists(table('presence'));
  },
};
