/**
 * Leases: exactly-one ownership across every instance sharing the database. A lease is a
 * row (`swb_leases`: name, holder, expiry) taken or renewed in one atomic upsert; whoever
 * holds an unexpired lease owns the thing it names (a running bot, a cron tick). If the
 * holder dies, its lease expires and another instance can take it.
 */
import type { Knex } from 'knex';
import { dialectOf, type Dialect } from '../db/dialect.js';

/** Exactly-one ownership across instances (`ctx.leases`). */
export interface Leases {
  /** This instance's id (the holder written in lease rows). */
  readonly holder: string;
  /**
   * Takes the lease `name` for `ttlMs`, or renews it when this instance already holds it.
   * Returns true when this instance holds it afterwards.
   */
  acquire(name: string, ttlMs: number): Promise<boolean>;
  /** Gives up a lease this instance holds (no-op otherwise). */
  release(name: string): Promise<void>;
  /** The current holder of an unexpired lease, or undefined. */
  holderOf(name: string): Promise<string | undefined>;
  /**
   * Claims a one-off key (e.g. `cron:skill:2026-01-01T10:00`) for this instance: true for
   * exactly one caller across the cluster while the claim lives (`ttlMs`).
   */
  once(key: string, ttlMs: number): Promise<boolean>;
}

/** The lease service on the kernel's `swb_leases` table. */
export class LeaseService implements Leases {
  private readonly table: string;
  private readonly dialect: Dialect;
  private lastPurge = 0;

  /**
   * @param knex - the shared database
   * @param tablePrefix - the kernel's table prefix
   * @param holder - this instance's id
   */
  constructor(
    private readonly knex: Knex,
    tablePrefix: string,
    readonly holder: string,
  ) {
    this.table = `${tablePrefix}leases`;
    this.dialect = dialectOf(knex);
  }

  async acquire(name: string, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    // One statement: insert, or take over an expired lease, or renew our own.
    const result = await this.knex.raw(
      `INSERT INTO ${this.table} (name, holder, expires_at) VALUES (?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
         WHERE ${this.table}.holder = excluded.holder OR ${this.table}.expires_at < ?
         RETURNING holder`,
      [name, this.holder, now + ttlMs, now],
    );
    await this.purge(now);
    return this.dialect.rows<{ holder: string }>(result)[0]?.holder === this.holder;
  }

  async release(name: string): Promise<void> {
    await this.knex(this.table).where({ name, holder: this.holder }).del();
  }

  async holderOf(name: string): Promise<string | undefined> {
    const row = (await this.knex(this.table).where('name', name).andWhere('expires_at', '>=', Date.now()).first('holder')) as { holder: string } | undefined;
    return row?.holder;
  }

  async once(key: string, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    const result = await this.knex.raw(
      `INSERT INTO ${this.table} (name, holder, expires_at) VALUES (?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
         WHERE ${this.table}.expires_at < ?
         RETURNING holder`,
      [`once:${key}`, this.holder, now + ttlMs, now],
    );
    await this.purge(now);
    return this.dialect.rows<{ holder: string }>(result)[0]?.holder === this.holder;
  }

  /** Deletes long-expired rows now and then, so one-off claims do not pile up. */
  private async purge(now: number): Promise<void> {
    if (now - this.lastPurge < 60_000) return;
    this.lastPurge = now;
    await this.knex(this.table).where('expires_at', '<', now - 60 * 60 * 1000).del();
  }
}
