/**
 * The responder contract: how a family writes its successes and its errors. The kernel
 * never writes a body itself; it always goes through the route's responder, so a
 * validation or auth failure looks like every other error of that family.
 */
import type { Request, Response } from 'express';
import type { HttpError } from './http-error.js';
import type { JsonSerializer } from './serializer.js';

/** Writes successful answers and errors in one family's wire style. */
export interface Responder {
  /** A short name for logs and OpenAPI (`json`, `text`, `ocs`, `redball`). */
  readonly name: string;
  /**
   * Writes a successful answer. `body` undefined means an empty body. `serialize`, when
   * given, is compiled from the route's declared response schema for this status (the whole
   * wire body, envelope included): a responder that writes JSON uses it instead of
   * `JSON.stringify`, so that no undeclared field leaves the server.
   */
  send(req: Request, res: Response, status: number, body: unknown, serialize?: JsonSerializer): void;
  /** Writes an error. Never includes a stack trace. */
  error(req: Request, res: Response, err: HttpError): void;
}

/** Sets the error's extra headers on the response. */
export function applyErrorHeaders(res: Response, err: HttpError): void {
  for (const [name, value] of Object.entries(err.headers)) res.setHeader(name, value);
}
