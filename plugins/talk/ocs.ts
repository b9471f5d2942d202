/**
 * The OCS wire conventions of Nextcloud Talk, as the original server really answers:
 *
 * - the `{"ocs": {"meta", "data"}}` envelope in JSON (with PHP's `JSON_HEX_TAG`) or XML,
 *   chosen by `?format=`, else the Accept header, else XML;
 * - `304 Not Modified` and `405 Method Not Allowed` without a body;
 * - a failed CSRF check as the bare `{"message":"CSRF check failed"}` (412), not wrapped;
 * - not logged in → HTTP 401 with OCS statuscode 997; not an admin → 403
 *   `Logged in account must be an admin`; an unknown route → 404 with the OCS router's
 *   "Invalid query" message.
 *
 * The checks run in the original's order: login, then admin, then CSRF (a request that is
 * not logged in gets 401 even without `OCS-APIRequest`).
 */
import type { Request, Response } from 'express';
import {
  andThen,
  HttpError,
  HttpErrorCodes,
  applyErrorHeaders,
  hostIdentity,
  ocsFormat,
  ocsXml,
  declaredData,
  RawJson,
  writeAnswer,
  type AuthStrategy,
  type JsonSerializer,
  type OcsMeta,
  type Principal,
  type Responder,
  type ValidationIssue,
} from '../../src/index.js';
import { INVALID_QUERY_MESSAGE } from './constants.js';

/** Stable codes of the talk plugin's own errors. */
export const TalkErrorCodes = {
  /** The request lacks `OCS-APIRequest: true` (and is not Bearer-authenticated). */
  CSRF: 'TALK_ERR_CSRF',
  /** Nobody is logged in. */
  NOT_LOGGED_IN: 'TALK_ERR_NOT_LOGGED_IN',
  /** A bot request whose signature matches no bot enabled in the conversation. */
  BOT_UNAUTHORIZED: 'TALK_ERR_BOT_UNAUTHORIZED',
  /** Any other refusal in the original's terms (status and data carry the meaning). */
  REFUSED: 'TALK_ERR_REFUSED',
} as const;

/** The OCS statuscode the original's v2 mapping reports for "not logged in". */
export const OCS_NOT_LOGGED_IN_STATUSCODE = 997;

/** An error in Talk's terms: a status, OCS `data` (default `[]`) and an (often empty) message. */
export function talkError(status: number, data: unknown = [], message = ''): HttpError {
  return new HttpError(status, message, { code: TalkErrorCodes.REFUSED, data });
}

/** JSON the way PHP's `json_encode(..., JSON_HEX_TAG)` writes it: `<` and `>` escaped. */
export function hexTagJson(value: unknown, serialize: JsonSerializer = JSON.stringify): string {
  const text = serialize(value);
  return text.includes('<') || text.includes('>') ? text.replace(/</g, '\\u003C').replace(/>/g, '\\u003E') : text;
}

const OCS_JSON = 'application/json; charset=utf-8';
const OCS_XML = 'application/xml; charset=utf-8';

/**
 * Writes one answer; `serialize` (from the route's response schema) writes the JSON envelope.
 * `data` may be a {@link RawJson}: data serialized once (with {@link hexTagJson}) for many
 * answers, which only gets the envelope around it here (the XML form parses it back).
 */
function write(req: Request, res: Response, status: number, meta: OcsMeta, data: unknown, serialize?: JsonSerializer): void {
  if (status === 304 || status === 204) writeAnswer(res, status, undefined, undefined);
  else if (data instanceof RawJson) writeRaw(req, res, status, meta, data);
  else if (ocsFormat(req) === 'json') writeAnswer(res, status, OCS_JSON, hexTagJson({ ocs: { meta, data } }, serialize));
  else writeAnswer(res, status, OCS_XML, ocsXml(meta, serialize ? declaredData(serialize, meta, data) : data));
}

/** {@link write} for pre-serialized data: the envelope's fields in the serializer's order. */
function writeRaw(req: Request, res: Response, status: number, meta: OcsMeta, data: RawJson): void {
  if (ocsFormat(req) !== 'json') {
    writeAnswer(res, status, OCS_XML, ocsXml(meta, JSON.parse(data.text)));
    return;
  }
  const head = `{"ocs":{"meta":${hexTagJson({ status: meta.status, statuscode: meta.statuscode, message: meta.message })},"data":`;
  writeAnswer(res, status, OCS_JSON, `${head}${data.text}}}`, Buffer.byteLength(head) + data.byteLength + 2);
}

/**
 * The talk responder. A handler's `null` stays `null` (`DataResponse(null)` in the
 * original); `undefined` becomes `[]`.
 */
export function talkResponder(): Responder {
  return {
    name: 'ocs',
    send(req, res, status, body, serialize) {
      const ok = status >= 200 && status < 300;
      write(req, res, status, { status: ok ? 'ok' : 'failure', statuscode: status, message: ok ? 'OK' : '' }, body === undefined ? [] : body, serialize);
    },
    error(req, res, err) {
      applyErrorHeaders(res, err);
      if (err.code === TalkErrorCodes.CSRF) {
        writeAnswer(res, 412, OCS_JSON, JSON.stringify({ message: 'CSRF check failed' }));
        return;
      }
      if (err.status === 405) {
        // Nextcloud's OCS entry point answers a known path with the wrong method with an empty 405.
        res.status(405).end();
        return;
      }
      if (err.code === HttpErrorCodes.NOT_FOUND) {
        write(req, res, 404, { status: 'failure', statuscode: 404, message: INVALID_QUERY_MESSAGE }, []);
        return;
      }
      const statuscode = err.code === TalkErrorCodes.NOT_LOGGED_IN ? OCS_NOT_LOGGED_IN_STATUSCODE : err.status;
      write(req, res, err.status, { status: 'failure', statuscode, message: err.message }, err.data === undefined ? [] : err.data);
    },
  };
}

/**
 * Route parameters that do not match Talk's patterns (`token` `[a-z0-9]{4,30}`, numeric
 * ids) mean that no route matched in the original: answer its 404. Other validation
 * problems are a 400 naming them.
 */
export function onValidationError(issues: ValidationIssue[]): HttpError {
  if (issues.some((i) => i.location === 'params')) return new HttpError(404, 'Not Found', { code: HttpErrorCodes.NOT_FOUND });
  return new HttpError(400, issues.map((i) => i.message).join('; '), { code: HttpErrorCodes.VALIDATION, issues });
}

/** True when a request passes Nextcloud's CSRF rule for OCS controllers. */
export function passesOcsCsrfCheck(req: Request): boolean {
  if (req.headers['ocs-apirequest'] === 'true') return true;
  const auth = req.headers.authorization;
  return typeof auth === 'string' && auth.startsWith('Bearer ');
}

function csrfError(): HttpError {
  return new HttpError(412, 'CSRF check failed', { code: TalkErrorCodes.CSRF });
}

/**
 * A logged-in user from the host's identity resolver (`hostIdentity`), optionally an
 * administrator, then the CSRF rule — in the original's order.
 */
export function userAuth(options: { admin?: boolean } = {}): AuthStrategy {
  const inner = hostIdentity({
    admin: options.admin,
    fail: () => new HttpError(401, 'Current user is not logged in', { code: TalkErrorCodes.NOT_LOGGED_IN }),
    forbidden: () => new HttpError(403, 'Logged in account must be an admin', { code: HttpErrorCodes.FORBIDDEN }),
    // Too many password checks at once: Nextcloud's brute-force throttle answers 429.
    busy: () => new HttpError(429, 'Reached maximum delay', { code: HttpErrorCodes.TOO_MANY_REQUESTS, headers: { 'Retry-After': '1' } }),
  });
  return {
    name: inner.name,
    securityScheme: inner.securityScheme,
    authenticate(req, ctx): Principal | Promise<Principal> {
      return andThen(inner.authenticate(req, ctx), (principal) => {
        if (!passesOcsCsrfCheck(req)) throw csrfError();
        return principal;
      });
    },
  };
}

/** Public endpoints (the bot's own signed requests): no login, but the CSRF rule still holds. */
export function publicAuth(): AuthStrategy {
  return {
    name: 'ocs_api_request',
    securityScheme: { type: 'apiKey', in: 'header', name: 'OCS-APIRequest', description: 'Must be `true` (Nextcloud\'s CSRF rule for OCS requests); no login.' },
    authenticate(req): Principal {
      if (!passesOcsCsrfCheck(req)) throw csrfError();
      return { id: '', kind: 'public' };
    },
  };
}
