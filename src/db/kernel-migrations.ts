/** The kernel's own tables (prefix `swb_`): the outbox and its attempts, leases and spilled cluster events. */
import type { Migration } from './migrations.js';

/** Migrations of the kernel's tables. */
export const kernelMigrations: Migration[] = [
  {
    name: '001_outbox',
    async up(db, { table }) {
      await db.schema.createTable(table('outbox'), (t) => {
        t.bigIncrements('id').primary();
        t.string('delivery_id', 64).notNullable().unique();
        t.string('owner', 64).notNullable();
        t.string('owner_ref', 255).nullable();
        t.text('url').notNullable();
        t.string('ordering_key', 512).notNullable();
        t.text('headers').notNullable();
        t.binary('body').notNullable();
        t.string('signer', 64).nullable();
        t.string('success', 64).notNullable();
        t.string('status', 16).notNullable();
        t.integer('attempts').notNullable().defaultTo(0);
        t.integer('failures').notNullable().defaultTo(0);
        t.integer('max_attempts').notNullable();
        t.integer('timeout_ms').notNullable();
        t.bigInteger('next_attempt_at').notNullable();
        t.bigInteger('created_at').notNullable();
        t.bigInteger('expires_at').notNullable();
        t.bigInteger('finished_at').nullable();
        t.string('locked_by', 128).nullable();
        t.bigInteger('locked_until').nullable();
        t.integer('last_status').nullable();
        t.text('last_error').nullable();
        t.index(['status', 'next_attempt_at'], 'swb_outbox_due');
        t.index(['ordering_key', 'status', 'id'], 'swb_outbox_order');
        t.index(['owner', 'status'], 'swb_outbox_owner');
      });
    },
    async down(db, { table }) {
      await db.schema.dropTable(table('outbox'));
    },
  },
  {
    name: '002_cluster',
    async up(db, { table }) {
      await db.schema.createTable(table('leases'), (t) => {
        t.string('name', 255).primary();
        t.string('holder', 128).notNullable();
        t.bigInteger('expires_at').notNullable();
        t.index(['expires_at'], 'swb_leases_expiry');
      });
      await db.schema.createTable(table('cluster_events'), (t) => {
        t.bigIncrements('id').primary();
        t.text('payload').notNullable();
        t.bigInteger('created_at').notNullable();
      });
    },
    async down(db, { table }) {
      await db.schema.dropTable(table('cluster_events'));
      await db.schema.dropTable(table('leases'));
    },
  },
  {
    name: '003_outbox_attempts',
    async up(db, { table }) {
      // Every attempt of a delivery (the newest few are kept per delivery); they go when
      // their delivery goes (retention, cancel, purge).
      await db.schema.createTable(table('outbox_attempts'), (t) => {
        t.bigIncrements('id').primary();
        t.bigInteger('outbox_id').notNullable().references('id').inTable(table('outbox')).onDelete('CASCADE');
        t.integer('attempt').notNullable();
        t.bigInteger('at').notNullable();
        t.integer('status').nullable();
        t.string('error', 255).nullable();
        t.integer('duration_ms').notNullable();
        t.string('outcome', 16).notNullable();
        t.string('instance', 128).nullable();
        t.index(['outbox_id', 'id'], 'swb_outbox_attempts_delivery');
      });
    },
    async down(db, { table }) {
      await db.schema.dropTable(table('outbox_attempts'));
    },
  },
  {
    name: '004_outbox_lane_indexes',
    async up(db, { table }) {
      // A lane's queued deliveries and its head, each in a partial index of its own, instead of
      // one index of every row by (ordering_key, status, id): a delivered or dead row, most of
      // the table, is in neither, and a row that moves on leaves one small index instead of
      // moving its long key (the URL) within a large one. Measured on SQLite, a delivery's
      // result transaction took 0.50 ms instead of 0.60–0.66 (docs/performance.md).
      const t = table('outbox');
      await db.schema.alterTable(t, (b) => b.dropIndex(['ordering_key', 'status', 'id'], 'swb_outbox_order'));
      await db.raw(`CREATE INDEX swb_outbox_queued ON ${t} (ordering_key, id) WHERE status = 'queued'`);
      await db.raw(`CREATE INDEX swb_outbox_heads ON ${t} (ordering_key) WHERE status IN ('pending', 'delivering')`);
    },
    async down(db, { table }) {
      const t = table('outbox');
      await db.raw('DROP INDEX swb_outbox_heads');
      await db.raw('DROP INDEX swb_outbox_queued');
      await db.schema.alterTable(t, (b) => b.index(['ordering_key', 'status', 'id'], 'swb_outbox_order'));
    },
  },
  {
    name: '005_outbox_attempt_logged_with_outcome',
    async up(db, { table, dialect }) {
      // The row keeps its last attempt whole: when it ended and how long it took, beside the
      // status and error it already had. On SQLite a trigger copies each new attempt from the
      // row into the attempt log, so that recording an outcome and logging its attempt are one
      // statement: one trip to SQLite's thread per result instead of two
      // (src/outbox/result-writer.ts). PostgreSQL logs in the result's transaction, as before.
      // The trigger fires only for an update that brings a new `last_attempt_at`: not for a
      // lane's next head or a replay (which leave it), nor for an update by an earlier release
      // of Switchboard, which logs its attempts itself and never sets it.
      const t = table('outbox');
      await db.schema.alterTable(t, (b) => {
        b.bigInteger('last_attempt_at').nullable();
        b.integer('last_attempt_ms').nullable();
      });
      if (dialect.name !== 'sqlite') return;
      await db.raw(`CREATE TRIGGER ${table('outbox_attempt_logged')} AFTER UPDATE OF last_attempt_at ON ${t}
        FOR EACH ROW WHEN NEW.last_attempt_at IS NOT NULL AND NEW.last_attempt_at IS NOT OLD.last_attempt_at
        BEGIN
          INSERT INTO ${table('outbox_attempts')} (outbox_id, attempt, at, status, error, duration_ms, outcome, instance)
          VALUES (NEW.id, NEW.attempts, NEW.last_attempt_at, NEW.last_status, NEW.last_error, COALESCE(NEW.last_attempt_ms, 0),
            CASE NEW.status WHEN 'pending' THEN 'retry' ELSE NEW.status END, substr(OLD.locked_by, 1, 128));
        END`);
    },
    async down(db, { table, dialect }) {
      const t = table('outbox');
      if (dialect.name !== 'sqlite') {
        await db.schema.alterTable(t, (b) => b.dropColumns('last_attempt_at', 'last_attempt_ms'));
        return;
      }
      await db.raw(`DROP TRIGGER IF EXISTS ${table('outbox_attempt_logged')}`);
      // SQLite's own DROP COLUMN (3.35+): Knex's would copy the table and drop the original,
      // and with foreign keys on, the attempt log would go with it (ON DELETE CASCADE).
      await db.raw(`ALTER TABLE ${t} DROP COLUMN last_attempt_at`);
      await db.raw(`ALTER TABLE ${t} DROP COLUMN last_attempt_ms`);
    },
  },
];
