/** Plain-text answers: bodies written as strings, errors as a line of text. */
import type { Request, Response } from 'express';
import { applyErrorHeaders, type Responder } from '../responder.js';
import type { HttpError } from '../http-error.js';
import { TEXT_CONTENT_TYPE, writeAnswer, writeJson } from '../write.js';

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
  const contentType = options.contentType ?? TEXT_CONTENT_TYPE;
  // Express's res.send added `charset=utf-8` to a string body's type that names none; so does this.
  const textType = /;\s*charset=/i.test(contentType) ? contentType : `${contentType}; charset=utf-8`;
  return {
    name: 'text',
    send(_req: Request, res: Response, status: number, body: unknown, serialize = JSON.stringify) {
      if (body === undefined) writeAnswer(res, status, undefined, undefined);
      else if (typeof body === 'string') writeAnswer(res, status, textType, body);
      else if (Buffer.isBuffer(body)) writeAnswer(res, status, contentType, body);
      else writeJson(res, status, serialize(body));
    },
    error(_req: Request, res: Response, err: HttpError) {
      applyErrorHeaders(res, err);
      writeAnswer(res, err.status, TEXT_CONTENT_TYPE, errorText(err));
    },
  };
}
