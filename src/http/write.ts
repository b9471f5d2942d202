/**
 * Writing a complete answer in one step: status, content type, content length, body.
 *
 * The responders write through here instead of Express's `res.json` / `res.send`, which on
 * every answer re-parse the content type to add a charset, hash the whole body for a weak
 * ETag (when the app has ETags on, Express's default) and check the request's freshness
 * against it. Plugin answers carry no ETag and are never answered 304: the products these
 * families are compatible with send none on their API answers, and no family's client
 * revalidates. Express's `json spaces`, `json replacer` and `json escape` settings of the
 * host app do not apply to plugin answers either (their wire format is the family's).
 *
 * A HEAD request gets the headers of the GET answer, Content-Length included, and no body
 * (Node's HTTP server drops it); 204 and 304 answers get neither a body nor body headers.
 */
import type { ServerResponse } from 'node:http';

/** `application/json; charset=utf-8`, what Express's `res.json` sends. */
export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** `text/plain; charset=utf-8`. */
export const TEXT_CONTENT_TYPE = 'text/plain; charset=utf-8';

/**
 * Writes a complete answer and ends the response. `body` undefined: an empty answer (no
 * content type set; Node sends Content-Length 0 unless the status has no body).
 *
 * @param res - the response (headers set before, by hooks or middleware, are kept)
 * @param status - the HTTP status
 * @param contentType - the Content-Type header, or undefined to leave it as it is
 * @param body - the body, as text (UTF-8) or bytes
 * @param byteLength - the body's length in bytes, when the caller knows it already (text is counted otherwise)
 */
export function writeAnswer(res: ServerResponse, status: number, contentType: string | undefined, body: string | Buffer | undefined, byteLength?: number): void {
  res.statusCode = status;
  if (status === 204 || status === 304 || (status >= 100 && status < 200)) {
    res.removeHeader('Content-Type');
    res.removeHeader('Content-Length');
    res.removeHeader('Transfer-Encoding');
    res.end();
    return;
  }
  if (body === undefined) {
    // Node writes Content-Length: 0 itself.
    res.end();
    return;
  }
  if (contentType !== undefined) res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Length', byteLength ?? (typeof body === 'string' ? Buffer.byteLength(body) : body.length));
  res.end(body);
}

/**
 * Writes a JSON text (already serialized) as `application/json; charset=utf-8`.
 *
 * @param byteLength - the text's length in bytes, when the caller knows it already
 */
export function writeJson(res: ServerResponse, status: number, text: string | Buffer, byteLength?: number): void {
  writeAnswer(res, status, JSON_CONTENT_TYPE, text, byteLength);
}
