/** Plain JSON answers, with a configurable error body. */
import type { Request, Response } from 'express';
import { applyErrorHeaders, type Responder } from '../responder.js';
import type { HttpError } from '../http-error.js';
import { RawJson } from '../raw-json.js';

/** Options of {@link jsonResponder}. */
export interface JsonResponderOptions {
  /** Builds the JSON error body; default `{ "error": message }`. */
  errorBody?: (err: HttpError) => unknown;
}

/** Writes `application/json` bodies; errors as `{ "error": message }` unless told otherwise. */
export function jsonResponder(options: JsonResponderOptions = {}): Responder {
  const errorBody = options.errorBody ?? ((err: HttpError) => ({ error: err.message }));
  return {
    name: 'json',
    send(_req: Request, res: Response, status: number, body: unknown) {
      res.status(status);
      if (body === undefined) res.end();
      else if (body instanceof RawJson) res.type('application/json').send(body.text);
      else res.json(body);
    },
    error(_req: Request, res: Response, err: HttpError) {
      applyErrorHeaders(res, err);
      res.status(err.status).json(errorBody(err));
    },
  };
}
