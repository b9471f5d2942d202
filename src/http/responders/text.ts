/** Plain-text answers: bodies written as strings, errors as a line of text. */
import type { Request, Response } from 'express';
import { applyErrorHeaders, type Responder } from '../responder.js';
import type { HttpError } from '../http-error.js';

/** Options of {@link textResponder}. */
export interface TextResponderOptions {
  /** Builds the error text; default the error's message. */
  errorText?: (err: HttpError) => string;
  /** Content type of successful answers that are strings (default `text/plain; charset=utf-8`); objects are sent as JSON. */
  contentType?: string;
}

/**
 * Writes errors as `text/plain` strings (Anope, opsdroid). Successful string bodies are sent
 * as text; other values as JSON, since plain-text families still answer data in JSON.
 */
export function textResponder(options: TextResponderOptions = {}): Responder {
  const errorText = options.errorText ?? ((err: HttpError) => err.message);
  const contentType = options.contentType ?? 'text/plain; charset=utf-8';
  return {
    name: 'text',
    send(_req: Request, res: Response, status: number, body: unknown) {
      res.status(status);
      if (body === undefined) res.end();
      else if (typeof body === 'string' || Buffer.isBuffer(body)) res.type(contentType).send(body);
      else res.json(body);
    },
    error(_req: Request, res: Response, err: HttpError) {
      applyErrorHeaders(res, err);
      res.status(err.status).type('text/plain; charset=utf-8').send(errorText(err));
    },
  };
}
