/**
 * The log of refused authentication: every request an auth strategy refuses is logged
 * (warn) with its method, path, status and client address — never its credentials, its
 * query string or its body — so an operator sees who is knocking. A burst from one client
 * is capped per time window, so a brute-force attempt cannot flood the log (or push
 * everything else out of the kernel's log ring); the next line logged for that client says
 * how many were left out. The cap is per client and plugin.
 */
import type { Request } from 'express';
import type { Logger } from '../logger.js';
import { isHttpError } from './http-error.js';

interface Window {
  start: number;
  logged: number;
  suppressed: number;
}

/** Options of {@link RefusalLog}. */
export interface RefusalLogOptions {
  /** Lines per client per window (default 10). */
  perWindow?: number;
  /** The window, ms (default 60 000). */
  windowMs?: number;
  /** Clients tracked at most (default 10 000); older windows are dropped beyond it. */
  maxClients?: number;
  /** The clock (tests). */
  now?: () => number;
}

/** The longest path written to a refusal line. */
const MAX_PATH = 200;

/** Logs refused requests, capped per client. */
export class RefusalLog {
  private readonly windows = new Map<string, Window>();
  private readonly perWindow: number;
  private readonly windowMs: number;
  private readonly maxClients: number;
  private readonly now: () => number;

  /** @param options - see {@link RefusalLogOptions} */
  constructor(options: RefusalLogOptions = {}) {
    this.perWindow = options.perWindow ?? 10;
    this.windowMs = options.windowMs ?? 60_000;
    this.maxClients = options.maxClients ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /**
   * Records one refused request; logs it unless this client is over the cap for `scope`
   * (the plugin: each family's log shows its own refusals).
   */
  note(logger: Logger, req: Request, err: unknown, scope = ''): void {
    const ip = req.ip ?? req.socket?.remoteAddress ?? 'unknown';
    const key = `${scope} ${ip}`;
    const now = this.now();
    let window = this.windows.get(key);
    let suppressedBefore = 0;
    if (!window || now - window.start >= this.windowMs) {
      suppressedBefore = window?.suppressed ?? 0;
      if (!window && this.windows.size >= this.maxClients) this.prune(now);
      window = { start: now, logged: 0, suppressed: 0 };
      this.windows.set(key, window);
    }
    if (window.logged >= this.perWindow) {
      window.suppressed++;
      return;
    }
    window.logged++;
    const path = req.path.length > MAX_PATH ? `${req.path.slice(0, MAX_PATH)}…` : req.path;
    const fields: Record<string, unknown> = { method: req.method, path, status: isHttpError(err) ? err.status : undefined, ip };
    if (suppressedBefore > 0) fields.notLogged = suppressedBefore;
    logger.warn(fields, suppressedBefore > 0 ? `request refused by authentication (${suppressedBefore} more from this client were not logged)` : 'request refused by authentication');
  }

  private prune(now: number): void {
    for (const [key, w] of this.windows) if (now - w.start >= this.windowMs) this.windows.delete(key);
    if (this.windows.size >= this.maxClients) this.windows.clear();
  }
}
