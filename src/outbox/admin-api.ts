/**
 * The kernel's admin API: the outbox operations of `switchboard outbox …` over HTTP, for
 * operators and their tooling. Off unless a token is configured (`admin.token`); every
 * request needs `Authorization: Bearer <token>` (compared in constant time), else 401.
 *
 * | method and path (under the prefix, default `/_switchboard`) | what |
 * |---|---|
 * | `GET /outbox?owner=&state=&limit=` | deliveries, newest first |
 * | `GET /outbox/:id` | one delivery (row id or delivery id) with its attempts |
 * | `POST /outbox/:id/replay` | replays a dead delivery (same delivery id) |
 * | `POST /outbox/replay-dead?owner=` | replays dead deliveries, up to 500 a call |
 * | `DELETE /outbox?state=dead&olderThan=7d&owner=` | purges finished deliveries |
 *
 * Answers are JSON; errors are `{"error":{"code","message"}}`. Refused tokens are logged
 * (warn, capped per client like every refusal) and so is every operation that changes
 * something (info: a replay, a purge, with what it did). It is not part of the
 * OpenAPI document: that document describes the families' public APIs (and is served
 * without credentials at `/openapi.json` and `/docs`), while this is an operator's
 * interface that is off by default.
 */
import express, { type Request, type Response, type Router } from 'express';
import { HttpError, HttpErrorCodes } from '../http/http-error.js';
import { RefusalLog } from '../http/refusal-log.js';
import type { Logger } from '../logger.js';
import { safeEqual } from '../secrets.js';
import { parseDuration } from './duration.js';
import { DELIVERY_STATES, PURGEABLE_STATES, type DeliveryState, type OutboxOperator, type PurgeableState } from './operator.js';

/** Settings of the admin API (standalone config: `admin:`). */
export interface AdminOptions {
  /** The Bearer token every request needs. Without one the admin API is not mounted. */
  token?: string;
  /** Where it is mounted, below the kernel's base path (default `/_switchboard`). */
  prefix?: string;
}

/** The default mount point of the admin API. */
export const DEFAULT_ADMIN_PREFIX = '/_switchboard';

const OWNER = /^[a-z][a-z0-9_-]{0,63}$/;

function fail(res: Response, status: number, code: string, message: string): void {
  res.status(status).json({ error: { code, message } });
}

/** The query value `name`, when it was given once as text; `null` when it is malformed. */
function single(req: Request, name: string): string | undefined | null {
  const v = (req.query as Record<string, unknown>)[name];
  if (v === undefined) return undefined;
  return typeof v === 'string' ? v : null;
}

function ownerParam(req: Request, res: Response): string | undefined | false {
  const owner = single(req, 'owner');
  if (owner === null || (owner !== undefined && !OWNER.test(owner))) {
    fail(res, 400, 'invalid_owner', 'owner must be a plugin id');
    return false;
  }
  return owner;
}

/**
 * Builds the admin API's router.
 *
 * @param token - the Bearer token every request must carry
 * @param operator - the operator service, or undefined while the kernel is not ready (503)
 * @param logger - where refusals and changes are logged
 */
export function createAdminRouter(token: string, operator: () => OutboxOperator | undefined, logger: Logger): Router {
  const router = express.Router({ strict: false });
  const refusals = new RefusalLog();
  router.use((req, res, next) => {
    const header = req.headers.authorization ?? '';
    const given = /^Bearer (\S+)$/i.exec(header)?.[1] ?? '';
    if (!safeEqual(given, token)) {
      refusals.note(logger, req, new HttpError(401, 'A valid admin Bearer token is required', { code: HttpErrorCodes.UNAUTHORIZED }), 'admin');
      res.setHeader('WWW-Authenticate', 'Bearer realm="switchboard-admin"');
      return fail(res, 401, 'unauthorized', 'A valid admin Bearer token is required');
    }
    res.setHeader('Cache-Control', 'no-store');
    if (!operator()) return fail(res, 503, 'unavailable', 'The kernel is not running');
    next();
  });

  router.get('/outbox', async (req, res) => {
    const owner = ownerParam(req, res);
    if (owner === false) return;
    const state = single(req, 'state');
    if (state === null || (state !== undefined && !DELIVERY_STATES.includes(state as DeliveryState))) {
      return fail(res, 400, 'invalid_state', `state must be one of ${DELIVERY_STATES.join(', ')}`);
    }
    const limitText = single(req, 'limit');
    if (limitText === null || (limitText !== undefined && !(/^[1-9]\d{0,3}$/.test(limitText) && Number(limitText) <= 1000))) {
      return fail(res, 400, 'invalid_limit', 'limit must be an integer from 1 to 1000');
    }
    const deliveries = await operator()!.list({ owner, state: state as DeliveryState | undefined, limit: limitText === undefined ? undefined : Number(limitText) });
    res.json({ deliveries });
  });

  router.post('/outbox/replay-dead', async (req, res) => {
    const owner = ownerParam(req, res);
    if (owner === false) return;
    const result = await operator()!.replayDead({ owner });
    logger.info({ operation: 'replay-dead', owner, replayed: result.replayed.length, refused: result.refused.length, remaining: result.remaining }, `admin API: ${result.replayed.length} dead deliveries replayed`);
    res.json(result);
  });

  router.get('/outbox/:id', async (req, res) => {
    const delivery = await operator()!.show(String(req.params.id));
    if (!delivery) return fail(res, 404, 'not_found', 'No such delivery');
    res.json(delivery);
  });

  router.post('/outbox/:id/replay', async (req, res) => {
    const result = await operator()!.replay(String(req.params.id));
    if (result.ok) {
      logger.info({ operation: 'replay', delivery: result.delivery.id, owner: result.delivery.owner }, `admin API: delivery ${result.delivery.id} replayed`);
      return void res.json({ replayed: true, delivery: result.delivery });
    }
    if (result.reason === 'not-found') return fail(res, 404, 'not_found', 'No such delivery');
    res.status(409).json({ error: { code: result.reason === 'not-dead' ? 'not_dead' : 'url_refused', message: result.message }, delivery: result.delivery });
  });

  router.delete('/outbox', async (req, res) => {
    const owner = ownerParam(req, res);
    if (owner === false) return;
    const state = single(req, 'state');
    if (!state || !PURGEABLE_STATES.includes(state as PurgeableState)) {
      return fail(res, 400, 'invalid_state', `state is required and must be one of ${PURGEABLE_STATES.join(', ')}`);
    }
    const olderText = single(req, 'olderThan');
    const olderThanMs = olderText ? parseDuration(olderText) : undefined;
    if (olderThanMs === undefined) return fail(res, 400, 'invalid_older_than', 'olderThan is required: a duration such as 7d, 12h, 30m or 45s');
    const purged = await operator()!.purge({ state: state as PurgeableState, olderThanMs, owner });
    logger.info({ operation: 'purge', state, olderThan: olderText, owner, purged }, `admin API: ${purged} ${state} deliveries purged`);
    res.json({ purged });
  });

  router.use((_req: Request, res: Response) => fail(res, 404, 'not_found', 'No such admin operation'));
  router.use((err: unknown, _req: Request, res: Response, _next: express.NextFunction) => {
    if (res.headersSent) return;
    // Express's own 4xx (a path segment that is not valid percent-encoding) is the client's.
    const status = (err as { status?: unknown } | null)?.status;
    if (typeof status === 'number' && status >= 400 && status < 500) return fail(res, 400, 'invalid_request', 'The request is malformed');
    logger.error({ err }, 'admin API: the operation failed');
    fail(res, 500, 'internal', 'The operation failed');
  });
  return router;
}
