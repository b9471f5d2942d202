/** Plain JSON answers, with a configurable error body. */
import type { Request, Response } from 'express';
import { applyErrorHeaders, type Responder } from '../responder.js';
import type { HttpError } from '../http-error.js';
import { RawJson } from '../raw-json.js';
import { writeAnswer, writeJson } from '../write.js';

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
    send(_req: Request, res: Response, status: number, body: unknown, serialize = JSON.stringify) {
      if (body === undefined) writeAnswer(res, status, undefined, undefined);
      else writeJson(res, status, body instanceof RawJson ? body.text : serialize(body));
    },
    error(_req: Request, res: Response, err: HttpError) {
      applyErrorHeaders(res, err);
      writeJson(res, err.status, JSON.stringify(errorBody(err)));
    },
  };
}
