/**
 * Owncast's wire conventions, in one place:
 *
 * - successes are plain JSON;
 * - `BasicResponse` `{"success": bool, "message": string}` answers 200 on success and 400 on
 *   failure (routes registered as "basic" render every error this way, even a body that is
 *   not JSON);
 * - other failures are `{"error": "..."}`;
 * - refused credentials are plain text (`Unauthorized`, `invalid access token`).
 */
import type { Request, Response } from 'express';
import { applyErrorHeaders, HttpError, reply, TEXT_CONTENT_TYPE, writeAnswer, writeJson, type Reply, type Responder, type ValidationIssue } from '../../src/index.js';

/** The error code of answers that are written as plain text (auth refusals). */
export const PLAIN_TEXT_ERROR = 'OWNCAST_PLAIN_TEXT';

/** A BasicResponse body. */
export interface BasicResponse {
  /** Whether the operation succeeded. */
  success: boolean;
  /** A context-specific message. */
  message: string;
}

/** A successful BasicResponse (200). */
export function ok(message: string): BasicResponse {
  return { success: true, message };
}

/** A failed BasicResponse (400), as a reply. */
export function failed(message: string): Reply {
  return reply(400, { success: false, message } satisfies BasicResponse);
}

/** A 400 refusal; on a BasicResponse route it renders as `{"success": false, "message": …}`. */
export function badRequest(message: string): HttpError {
  return new HttpError(400, message);
}

/** Normalizes a request path for lookups: lower case, no trailing slash. */
export function normalizePath(path: string): string {
  const lower = path.toLowerCase();
  return lower.length > 1 && lower.endsWith('/') ? lower.slice(0, -1) : lower;
}

/** The family's responder. `basicPaths` are the full paths whose errors are BasicResponses. */
export function owncastResponder(basicPaths: ReadonlySet<string>): Responder {
  return {
    name: 'owncast',
    send(_req: Request, res: Response, status: number, body: unknown, serialize = JSON.stringify) {
      if (body === undefined) writeAnswer(res, status, undefined, undefined);
      else writeJson(res, status, serialize(body));
    },
    error(req: Request, res: Response, err: HttpError) {
      applyErrorHeaders(res, err);
      if (err.code === PLAIN_TEXT_ERROR) {
        writeAnswer(res, err.status, TEXT_CONTENT_TYPE, err.message);
      } else if (basicPaths.has(normalizePath(req.path))) {
        writeJson(res, err.status, JSON.stringify({ success: false, message: err.message } satisfies BasicResponse));
      } else {
        writeJson(res, err.status, JSON.stringify({ error: err.message }));
      }
    },
  };
}

/** Turns a JSON pointer into a readable name: `/value/0/url` → `value[0].url`. */
function pointerName(pointer: string, property?: string): string {
  const parts = pointer.split('/').filter(Boolean);
  if (property !== undefined) parts.push(property);
  let out = '';
  for (const part of parts) out += /^\d+$/.test(part) ? `[${part}]` : out ? `.${part}` : part;
  return out || 'request body';
}

/** A sentence naming every problem of a request body, e.g. `value must be string`. */
export function describeIssues(issues: readonly ValidationIssue[]): string {
  const lines = issues.map((issue) => {
    if (issue.keyword === 'required') return `${pointerName(issue.path, issue.property)} is required`;
    const text = issue.message.replace(/^(body|query|params|headers)\S*\s+/, '');
    return `${pointerName(issue.path)} ${text}`;
  });
  return [...new Set(lines)].join('; ');
}

/** The `onValidationError` of every route: a 400 naming the problem (rendered in the route's style). */
export function validationFailure(issues: ValidationIssue[]): HttpError {
  return new HttpError(400, describeIssues(issues), { issues });
}
