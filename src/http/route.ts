/**
 * How a plugin declares a route: method, path, TypeBox schemas for params, query, headers
 * and body, the responses (for OpenAPI), auth, and the handler. One declaration is the type,
 * the validator and the documentation.
 */
import type { Request, Response } from 'express';
import type { Static, TSchema } from 'typebox';
import type { Logger } from '../logger.js';
import type { AuthStrategy, Principal } from './auth/strategy.js';
import type { HttpError, ValidationIssue } from './http-error.js';
import type { Responder } from './responder.js';

/** HTTP methods a route can declare. */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS' | 'HEAD';

/**
 * Body encodings a route accepts. `json` and `urlencoded` parse only their media types;
 * `text` and `raw` take any body as a string or a Buffer.
 */
export type BodyKind = 'json' | 'urlencoded' | 'text' | 'raw';

/** A documented response: a schema, or a schema with a description and content type. */
export type ResponseSpec =
  | TSchema
  | {
      /** What this response means. */
      description?: string;
      /** The body's schema (none: an empty body). */
      schema?: TSchema;
      /** The body's media type, default `application/json`. */
      contentType?: string;
    };

const SCHEMA_KEYS = ['type', 'anyOf', 'oneOf', 'allOf', '$ref', 'const', 'enum', 'not', 'properties', 'items'];

/** A {@link ResponseSpec} in its long form: what it says about the body. */
export interface ResponseContent {
  /** What this response means, when said. */
  description?: string;
  /** The body's schema (none: an empty body, or one not described). */
  schema?: TSchema;
  /** The body's media type (`application/json` unless said otherwise). */
  contentType: string;
}

/** Reads a {@link ResponseSpec}, a bare schema or the `{ description, schema, contentType }` form. */
export function responseContent(spec: ResponseSpec): ResponseContent {
  const keys = Object.keys(spec);
  const long = !keys.some((k) => SCHEMA_KEYS.includes(k)) && keys.every((k) => k === 'description' || k === 'schema' || k === 'contentType');
  if (!long) return { schema: spec as TSchema, contentType: 'application/json' };
  const s = spec as { description?: string; schema?: TSchema; contentType?: string };
  return { description: s.description, schema: s.schema, contentType: s.contentType ?? 'application/json' };
}

/** The static type of a schema, or `Fallback` when there is no schema. */
export type StaticOr<T, Fallback> = T extends TSchema ? Static<T> : Fallback;

/** What a handler receives: validated input, the principal, and the raw request and response. */
export interface RouteContext<P = Record<string, string>, Q = Record<string, unknown>, B = unknown, H = Record<string, unknown>> {
  /** Path parameters, converted and validated. */
  params: P;
  /** Query parameters, converted and validated. */
  query: Q;
  /** The parsed body, validated when the route has a body schema. */
  body: B;
  /** Request headers, validated when the route has a headers schema. */
  headers: H;
  /** Who is calling, when the route has auth. */
  principal?: Principal;
  /** The Express request. */
  req: Request;
  /** The Express response (write to it directly for streaming; then return nothing). */
  res: Response;
  /** The plugin's logger. */
  log: Logger;
}

/**
 * A route declaration. The handler's return value is written by the responder with status
 * 200 (or the status set with `res.status()`); return a {@link Reply} for another status,
 * or write to `res` yourself and return `undefined`.
 */
export interface RouteDefinition<P extends TSchema | undefined = undefined, Q extends TSchema | undefined = undefined, B extends TSchema | undefined = undefined, H extends TSchema | undefined = undefined> {
  /** The method, or several methods sharing one handler. */
  method: HttpMethod | readonly HttpMethod[];
  /** Express-style path relative to the plugin's mount, e.g. `/rest/:type/:id`. */
  path: string;
  /** One-line summary (OpenAPI). */
  summary?: string;
  /** Longer description (OpenAPI). */
  description?: string;
  /** OpenAPI tags. */
  tags?: string[];
  /** Leave this route out of the OpenAPI document. */
  hidden?: boolean;
  /** Path parameter schema (an object schema). */
  params?: P;
  /** Query schema (an object schema; values are converted from strings). */
  query?: Q;
  /** Headers schema (an object schema with lower-case names). */
  headers?: H;
  /** Body schema. */
  body?: B;
  /** Body encodings accepted; default `json` when there is a body schema, none otherwise. */
  accepts?: BodyKind | readonly BodyKind[];
  /** Body size limit (bytes or `'100kb'`), default the plugin's (1 MB). */
  bodyLimit?: number | string;
  /** Documented responses by status. */
  responses?: Record<number, ResponseSpec>;
  /** Auth: one strategy, or several of which the first that accepts wins. */
  auth?: AuthStrategy | readonly AuthStrategy[];
  /** The responder for this route (default: the plugin's). */
  responder?: Responder;
  /** Turns validation issues into the family's error (default: the plugin's, else a 400). */
  onValidationError?: (issues: ValidationIssue[], req: Request) => HttpError;
  /** The handler. */
  handler(ctx: RouteContext<StaticOr<P, Record<string, string>>, StaticOr<Q, Record<string, unknown>>, StaticOr<B, unknown>, StaticOr<H, Record<string, unknown>>>): unknown;
}

/** A route declaration of any schema types, as the kernel stores it. */
export type AnyRouteDefinition = RouteDefinition<TSchema | undefined, TSchema | undefined, TSchema | undefined, TSchema | undefined>;

/** A hook a plugin runs on every request that matches one of its paths (any method), before anything else. */
export type RequestHook = (req: Request, res: Response) => void | Promise<void>;

/** Defaults a plugin sets once for all its routes. */
export interface RouteDefaults {
  /** The family's responder. */
  responder?: Responder;
  /** Auth applied to routes that declare none (use `auth: []` on a route to opt out). */
  auth?: AuthStrategy | readonly AuthStrategy[];
  /** Turns validation issues into the family's error. */
  onValidationError?: (issues: ValidationIssue[], req: Request) => HttpError;
  /** Answer 405 (in the family's style) when a path matches but the method does not. */
  methodNotAllowed?: boolean;
  /** Body size limit for every route (default 1 MB). */
  bodyLimit?: number | string;
}

/** What a plugin uses to declare its HTTP surface (`ctx.routes`). */
export interface RouteRegistrar {
  /** The mount prefix of this plugin ('' at native paths). */
  readonly prefix: string;
  /** Sets defaults for every route of this plugin. */
  defaults(defaults: RouteDefaults): void;
  /** Declares a route. */
  add<P extends TSchema | undefined = undefined, Q extends TSchema | undefined = undefined, B extends TSchema | undefined = undefined, H extends TSchema | undefined = undefined>(route: RouteDefinition<P, Q, B, H>): void;
  /** Runs `hook` on every request matching one of this plugin's paths (CORS, CSRF headers…). */
  onRequest(hook: RequestHook): void;
  /**
   * Answers unmatched paths under `prefix` (relative to the mount) in the family's style:
   * 404 `Not Found` by default, or the error `refusal` builds (redball answers 400).
   */
  notFoundUnder(prefix: string, refusal?: (req: Request) => HttpError): void;
}
