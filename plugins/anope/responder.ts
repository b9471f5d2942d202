/**
 * The family's wire style: successful bodies are JSON (handlers hand over the JSON text
 * already written the way Anope writes it), empty successes have no body and no content
 * type, and every error is a plain string (`text/plain`), never JSON.
 */
import type { Request, Response } from 'express';
import { applyErrorHeaders, HttpErrorCodes, type HttpError, type Responder } from '../../src/index.js';
import { AnopeMessages } from './errors.js';

/** Kernel messages reworded to the family's capitalization. */
const KERNEL_TEXT: Record<string, string> = {
  [HttpErrorCodes.NOT_FOUND]: AnopeMessages.notFound,
};

/** The anope responder. */
export function anopeResponder(): Responder {
  return {
    name: 'anope',
    send(_req: Request, res: Response, status: number, body: unknown) {
      res.status(status);
      if (body === undefined || body === null) {
        if (status !== 204 && status !== 304) res.setHeader('Content-Length', '0');
        res.end();
      } else if (typeof body === 'string') res.type('application/json').send(body);
      else res.type('application/json').send(JSON.stringify(body, null, 2));
    },
    error(_req: Request, res: Response, err: HttpError) {
      applyErrorHeaders(res, err);
      const text = err.message === 'Not Found' ? (KERNEL_TEXT[err.code] ?? err.message) : err.message;
      res.status(err.status).type('text/plain; charset=utf-8').send(text);
    },
  };
}
