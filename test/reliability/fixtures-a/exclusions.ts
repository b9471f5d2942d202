/** The writes the reliability tests expect without a client changing anything (see {@link EXCLUSIONS}). */
import type { WriteExclusions } from './write-counter.js';

/**
 * Tables and columns written by design without a client changing anything. Each entry is a
 * decision; everything else must stay untouched by a rejected request.
 */
export const EXCLUSIONS: WriteExclusions = {
  // Migration bookkeeping is written only at start.
  '*_migrations': { skip: true },
  '*_migrations_lock': { skip: true },
  // Coordination between instances (lease renewals, the cluster event log) runs on timers.
  swb_leases: { skip: true },
  swb_cluster_events: { skip: true },
  // The outbox worker updates and removes rows in the background; a rejected request must
  // still never enqueue a delivery.
  swb_outbox: { ops: ['insert'] },
  // Talk's brute-force protection counts bad bot signatures: the 401 itself writes here by design.
  talk_throttle: { skip: true },
  // Delivery failures are recorded on the bot by the outbox worker (error_count, last_error_*).
  talk_bots: { ignoreColumns: ['error_count', 'last_error_date', 'last_error_message'] },
  // owncast-notes.md: "Using a token updates its lastUsed" — also when the token lacks the scope.
  owncast_access_tokens: { ignoreColumns: ['last_used'] },
  // Deliveries set a webhook's lastUsed in the background.
  owncast_webhooks: { ignoreColumns: ['last_used'] },
  // Hardware and viewer samples are taken on timers.
  owncast_metrics: { skip: true },
  // A running bot publishes its state (status, detailedState) from its own thread, and each
  // instance renews its membership row, whatever requests arrive.
  redball_bot_runs: { ops: ['insert', 'delete'] },
  redball_instances: { skip: true },
};
