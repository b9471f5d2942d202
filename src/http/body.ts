/**
 * Body parsing per route, with size limits (413) and a JSON nesting limit, on Express's own
 * parsers (body-parser).
 */
import express, { type Request, type Response } from 'express';
import { HttpError, HttpErrorCodes } from './http-error.js';
import type { BodyKind } from './route.js';

/** The default body limit: 1 MB. */
export const DEFAULT_BODY_LIMIT = '1mb';
/** The deepest JSON nesting accepted. */
export const MAX_JSON_DEPTH = 64;

type Parser = (req: Request, res: Response, next: (err?: unknown) => void) => void;

/** Builds Express's parser of one body kind with a size limit. */
function buildParser(kind: BodyKind, limit: number | string): Parser {
  switch (kind) {
    case 'json':
      return express.json({ limit, strict: true }) as Parser;
    case 'urlencoded':
      return express.urlencoded({ limit, extended: false, parameterLimit: 1000 }) as Parser;
    case 'text':
      return express.text({ limit, type: () => true }) as Parser;
    case 'raw':
      return express.raw({ limit, type: () => true }) as Parser;
  }
}

/** Parsers by kind and limit: they hold no state, so routes with the same settings share one. */
const parsers = new Map<string, Parser>();

/**
 * The parser of one body kind with a size limit, shared by the routes with the same settings.
 * Express's parser is built on the first body it parses: building it loads body-parser's
 * readers and the character-set tables (about a tenth of the standalone server's start).
 */
function parserFor(kind: BodyKind, limit: number | string): Parser {
  const key = `${kind} ${limit}`;
  let parser = parsers.get(key);
  if (!parser) {
    let built: Parser | undefined;
    parser = (req, res, next) => (built ??= buildParser(kind, limit))(req, res, next);
    parsers.set(key, parser);
  }
  return parser;
}

/** The parsers for a route's accepted kinds (built at start, shared between routes with the same settings). */
export function bodyParsers(kinds: readonly BodyKind[], limit: number | string): Parser[] {
  return kinds.map((kind) => parserFor(kind, limit));
}

/** Depth of a parsed JSON value, stopping as soon as it exceeds `max`. */
export function jsonDepthExceeds(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v as object)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}

function run(parser: Parser, req: Request, res: Response): Promise<void> {
  return new Promise((resolve, reject) => parser(req, res, (err) => (err ? reject(err) : resolve())));
}

/** Maps body-parser's errors to kernel HttpErrors. */
function toHttpError(err: unknown): HttpError {
  const e = err as { type?: string; status?: number; message?: string };
  switch (e?.type) {
    case 'entity.too.large':
      return new HttpError(413, 'Request body too large', { code: HttpErrorCodes.BODY_TOO_LARGE });
    case 'entity.parse.failed':
      return new HttpError(400, 'Request body is not valid JSON', { code: HttpErrorCodes.BAD_JSON });
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return new HttpError(415, 'Unsupported body encoding', { code: HttpErrorCodes.UNSUPPORTED_MEDIA_TYPE });
    case 'parameters.too.many':
      return new HttpError(413, 'Too many form parameters', { code: HttpErrorCodes.BODY_TOO_LARGE });
    default:
      return new HttpError(e?.status && e.status < 500 ? e.status : 400, 'Request body could not be read', { code: HttpErrorCodes.BAD_JSON, cause: err });
  }
}

/** Parses the body with the route's parsers; throws an HttpError on failure. */
export async function parseBody(parsers: readonly Parser[], req: Request, res: Response): Promise<void> {
  try {
    for (const parser of parsers) {
      await run(parser, req, res);
      if (req.body !== undefined) break;
    }
  } catch (err) {
    throw toHttpError(err);
  }
  if (req.body !== null && typeof req.body === 'object' && !Buffer.isBuffer(req.body) && jsonDepthExceeds(req.body, MAX_JSON_DEPTH)) {
    throw new HttpError(400, `Request body nests deeper than ${MAX_JSON_DEPTH} levels`, { code: HttpErrorCodes.BAD_JSON });
  }
}
