/**
 * opsdroid's wire style (aiohttp's): successful bodies are JSON, errors are plain text
 * `<status>: <reason>` — `404: Not Found`, `405: Method Not Allowed`, `403: Forbidden`,
 * `400: Unable to decode json.` — with the reason also on the status line, as aiohttp does.
 */
import { STATUS_CODES } from 'node:http';
import { applyErrorHeaders, HttpError, TEXT_CONTENT_TYPE, writeAnswer, writeJson, type Responder } from '../../src/index.js';

/** The code of errors whose message is the reason to show (the kernel's own use the status text). */
export const OPSDROID_REASON = 'OPSDROID_REASON';

/** An error shown with its own reason: `<status>: <reason>`. */
export function reasonError(status: number, reason: string): HttpError {
  return new HttpError(status, reason, { code: OPSDROID_REASON });
}

/** Status lines may only carry visible ASCII. */
const STATUS_LINE_SAFE = /^[\x20-\x7e]*$/;

/** The aiohttp-style responder. */
export function aiohttpResponder(): Responder {
  return {
    name: 'aiohttp',
    send(_req, res, status, body, serialize = JSON.stringify) {
      if (body === undefined) writeAnswer(res, status, undefined, undefined);
      else writeJson(res, status, serialize(body));
    },
    error(_req, res, err) {
      applyErrorHeaders(res, err);
      const reason = err.code === OPSDROID_REASON ? err.message : (STATUS_CODES[err.status] ?? err.message);
      if (err.code === OPSDROID_REASON && STATUS_LINE_SAFE.test(reason) && reason.length <= 200) res.statusMessage = reason;
      writeAnswer(res, err.status, TEXT_CONTENT_TYPE, `${err.status}: ${reason}`);
    },
  };
}
