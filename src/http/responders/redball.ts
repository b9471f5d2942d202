/**
 * redball's response envelope, on every answer, errors included:
 * `{"meta": {"api_version": 1, "timestamp": <float seconds>}, "errors": "", "response": ""}`.
 * `errors` becomes a list of strings and `response` the data when there is any.
 */
import type { Request, Response } from 'express';
import { applyErrorHeaders, type Responder } from '../responder.js';
import type { HttpError } from '../http-error.js';
import { RawJson } from '../raw-json.js';
import type { JsonSerializer } from '../serializer.js';
import { writeJson } from '../write.js';

/** A redball envelope. */
export interface RedballEnvelope {
  /** API version and the time the answer was generated. */
  meta: {
    /** Always 1. */
    api_version: number;
    /** When the answer was generated, in seconds since the epoch (with a fraction). */
    timestamp: number;
  };
  /** `""` or a list of error strings. */
  errors: string | string[];
  /** `""` or the data. */
  response: unknown;
}

/** Builds an envelope around `response` and `errors`. */
export function redballEnvelope(response: unknown, errors: string[] = []): RedballEnvelope {
  return {
    meta: { api_version: 1, timestamp: Date.now() / 1000 },
    errors: errors.length > 0 ? errors : '',
    response: response === undefined || response === null ? '' : response,
  };
}

/**
 * A body that carries errors beside its data (redball's failed start/stop answer 200 with
 * `errors` and `{"result": false}`). Return it from a handler.
 */
export class RedballAnswer {
  /**
   * @param response - the data
   * @param errors - the error strings
   */
  constructor(
    readonly response: unknown,
    readonly errors: string[] = [],
  ) {}
}

/** The redball responder: errors render as `errors: [message]` (or the error's `data` list). */
export function redballResponder(): Responder {
  return {
    name: 'redball',
    send(_req: Request, res: Response, status: number, body: unknown, serialize: JsonSerializer = JSON.stringify) {
      if (body instanceof RawJson) {
        // A pre-serialized response: only the envelope around it is written per request
        // (the timestamp is a finite number, which JSON writes as JavaScript does). The
        // envelope is ASCII, so its bytes are its characters, and the body's were counted
        // once: the answer is one string, which Node writes with the headers in one write
        // (joining Buffers instead cost an 18 kB copy and two allocations per list).
        const head = `{"meta":{"api_version":1,"timestamp":${Date.now() / 1000}},"errors":"","response":`;
        writeJson(res, status, `${head}${body.text}}`, head.length + body.byteLength + 1);
        return;
      }
      const envelope = body instanceof RedballAnswer ? redballEnvelope(body.response, body.errors) : redballEnvelope(body);
      writeJson(res, status, serialize(envelope));
    },
    error(_req: Request, res: Response, err: HttpError) {
      applyErrorHeaders(res, err);
      const errors = Array.isArray(err.data) ? err.data.map(String) : [err.message];
      writeJson(res, err.status, JSON.stringify(redballEnvelope(undefined, errors)));
    },
  };
}
