/**
 * redball's wire style on top of the kernel's redball responder: every error's `errors` list
 * starts with redball's own status line (`"400 Bad Request"`, `"401 Unauthorized"`, …) and
 * goes on with sentences saying what was wrong, so clients of the original that look for the
 * status line keep working and people see the reason.
 */
import http from 'node:http';
import type { Request, Response } from 'express';
import { HttpError, redballResponder, type Responder, type ValidationIssue } from '../../src/index.js';

/** redball's status line for a code, e.g. `400 Bad Request`. */
export function statusLine(status: number): string {
  return `${status} ${http.STATUS_CODES[status] ?? 'Error'}`;
}

/** An error rendered as `errors: ["<status line>", ...details]`. */
export function redballError(status: number, ...details: string[]): HttpError {
  return new HttpError(status, details[0] ?? statusLine(status), { data: [statusLine(status), ...details] });
}

/** 400 with the reasons. */
export function badRequest(...details: string[]): HttpError {
  return redballError(400, ...details);
}

/** 404 naming what was not found. */
export function notFound(detail: string): HttpError {
  return redballError(404, detail);
}

/**
 * The plugin's responder: the kernel's redball envelope, with errors raised by the kernel
 * itself (unreadable bodies, 503 while stopping, 500) brought into the same shape.
 */
export function redballStyle(): Responder {
  const base = redballResponder();
  return {
    name: base.name,
    send: base.send,
    error(req: Request, res: Response, err: HttpError) {
      if (Array.isArray(err.data)) return base.error(req, res, err);
      const line = statusLine(err.status);
      const details = err.status >= 500 || err.message === line || err.message === http.STATUS_CODES[err.status] ? [] : [err.message];
      base.error(req, res, new HttpError(err.status, line, { code: err.code, headers: err.headers, data: [line, ...details] }));
    },
  };
}

/** Turns the kernel's validation issues into redball errors that name the parameters. */
export function validationFailure(issues: ValidationIssue[]): HttpError {
  const details = new Set<string>();
  for (const issue of issues) {
    if (issue.keyword === 'required' && issue.property) details.add(`Missing required parameter '${issue.property}'.`);
    else if (issue.location === 'body' && issue.path === '') details.add('The request body must be an object of parameters.');
    else {
      const name = issue.path.split('/').filter(Boolean).join('.') || issue.property || issue.location;
      const what = issue.message.replace(/^\S+\s+/, '');
      details.add(`Parameter '${name}' ${what}.`);
    }
  }
  return badRequest(...details);
}
