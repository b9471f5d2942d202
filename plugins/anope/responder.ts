/**
 * The family's wire style: successful bodies are JSON (handlers hand over the JSON text
 * already written the way Anope writes it), empty successes have no body and no content
 * type, and every error is a plain string (`text/plain`), never JSON.
 */
import type { Request, Response } from 'express';
import { applyErrorHeaders, HttpErrorCodes, TEXT_CONTENT_TYPE, writeAnswer, writeJson, type HttpError, type Responder } from '../../src/index.js';
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
      // Anope's own layout (two-space indents) is kept: its handlers hand over written text.
      if (body === undefined || body === null) writeAnswer(res, status, undefined, undefined);
      else writeJson(res, status, typeof body === 'string' ? body : JSON.stringify(body, null, 2));
    },
    error(_req: Request, res: Response, err: HttpError) {
      applyErrorHeaders(res, err);
      const text = err.message === 'Not Found' ? (KERNEL_TEXT[err.code] ?? err.message) : err.message;
      writeAnswer(res, err.status, TEXT_CONTENT_TYPE, text);
    },
  };
}
