/**
 * The randoms of accepted bot requests (`X-Nextcloud-Talk-Random`), remembered for the
 * replay window so that a captured signed request cannot be sent again, by any instance
 * sharing the database.
 */
import type { Migration } from '../../../src/index.js';

/** Creates the table of remembered bot randoms. */
export const botRandoms: Migration = {
  name: '002_bot_randoms',
  async up(db, { table }) {
    await db.schema.createTable(table('bot_randoms'), (t) => {
      // SHA-256 of the random (hex): a fixed width whatever the client sent.
      t.string('random_hash', 64).primary();
      t.bigInteger('seen_at').notNullable().index();
    });
  },
  async down(db, { table }) {
    await db.schema.dropTableIfExists(table('bot_randoms'));
  },
};
