/**
 * A route as the dispatcher serves it: everything a declaration leaves to the plugin's
 * defaults resolved, and everything that can be prepared before the first request compiled
 * once, at start (path matcher, validators, body parsers, response serializers).
 */
import type { Request } from 'express';
import { match, type MatchFunction } from 'path-to-regexp';
import { ErrorCodes, SwitchboardError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { AuthStrategy } from './auth/strategy.js';
import { bodyParsers, DEFAULT_BODY_LIMIT } from './body.js';
import type { HttpError, ValidationIssue } from './http-error.js';
import type { Responder } from './responder.js';
import { jsonResponder } from './responders/json.js';
import { responseContent, type AnyRouteDefinition, type BodyKind, type HttpMethod, type RequestHook, type RouteDefaults } from './route.js';
import { compileSerializer, type JsonSerializer } from './serializer.js';
import { compilePart, validationError, type PartValidator } from './validation.js';

/** A plugin's HTTP surface as collected during init. */
export interface PluginHttp {
  /** The plugin's id. */
  readonly id: string;
  /** The plugin's mount prefix ('' for native paths). */
  readonly prefix: string;
  /** The plugin's logger. */
  readonly logger: Logger;
  /** Defaults for every route. */
  defaults: RouteDefaults;
  /** Routes in declaration order. */
  readonly routes: AnyRouteDefinition[];
  /** Hooks run on every request matching one of its paths. */
  readonly hooks: RequestHook[];
  /** Prefixes (full paths) under which unmatched requests get the plugin's 404, and how to refuse them. */
  readonly notFound: Array<{
    /** The path prefix (lower case) under which unmatched requests are this plugin's. */
    prefix: string;
    /** The error such a request gets, when not the plugin's default 404. */
    refusal?: (req: Request) => HttpError;
  }>;
}

/** Counts and times the finished requests of one route (the kernel's metrics). */
export interface RequestObserver {
  /** Called once per request when its response closes. */
  observe(method: string, status: number, seconds: number): void;
}

/** A route with everything resolved and compiled. */
export interface CompiledRoute {
  readonly order: number;
  readonly plugin: PluginHttp;
  readonly methods: ReadonlySet<string>;
  readonly fullPath: string;
  readonly match: MatchFunction<Record<string, string | string[]>>;
  readonly responder: Responder;
  readonly auth: readonly AuthStrategy[];
  /** Whether a strategy reads the body, so the body is parsed before auth runs. */
  readonly authNeedsBody: boolean;
  readonly parsers: ReturnType<typeof bodyParsers>;
  readonly params?: PartValidator;
  readonly query?: PartValidator;
  readonly headers?: PartValidator;
  readonly body?: PartValidator;
  /** Serializers compiled from the declared JSON response schemas, by status. */
  readonly serializers: ReadonlyMap<number, JsonSerializer>;
  readonly onValidationError: (issues: ValidationIssue[], req: Request) => HttpError;
  readonly handler: AnyRouteDefinition['handler'];
  /** Counts and times the route's requests (when metrics are on). */
  readonly observer?: RequestObserver;
}

/** The responder used when a plugin sets none. */
export const DEFAULT_RESPONDER = jsonResponder();

/** Joins a mount prefix and a route path: ('/x', '/a') → '/x/a', ('', '/') → '/'. */
export function joinPath(prefix: string, path: string): string {
  const p = path.startsWith('/') ? path : `/${path}`;
  if (!prefix) return p;
  const base = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  return p === '/' ? base : `${base}${p}`;
}

/** One value or a list of them, as a list. */
export function asArray<T>(value: T | readonly T[] | undefined): readonly T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? (value as readonly T[]) : [value as T];
}

/**
 * The serializers of a route's declared responses: one per status whose body is JSON and
 * whose schema constrains some field (the others are written by `JSON.stringify`).
 */
export function responseSerializers(route: AnyRouteDefinition): Map<number, JsonSerializer> {
  const out = new Map<number, JsonSerializer>();
  for (const [status, spec] of Object.entries(route.responses ?? {})) {
    const content = responseContent(spec);
    if (!/json/i.test(content.contentType)) continue;
    const serialize = compileSerializer(content.schema);
    if (serialize) out.set(Number(status), serialize);
  }
  return out;
}

/** Compiles one route of a plugin; throws `SWB_ERR_INVALID_PLUGIN` on a path it cannot match. */
export function compileRoute(order: number, plugin: PluginHttp, route: AnyRouteDefinition, fullPath: string, methods: readonly HttpMethod[], observer?: RequestObserver): CompiledRoute {
  const defaults = plugin.defaults;
  let kinds = asArray<BodyKind>(route.accepts);
  if (kinds.length === 0 && route.body) kinds = ['json'];
  const limit = route.bodyLimit ?? defaults.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const auth = route.auth !== undefined ? asArray(route.auth) : asArray(defaults.auth);
  let matcher: MatchFunction<Record<string, string | string[]>>;
  try {
    matcher = match(fullPath, { decode: decodeURIComponentSafe, end: true, trailing: true, sensitive: false });
  } catch (err) {
    throw new SwitchboardError(ErrorCodes.INVALID_PLUGIN, `Plugin '${plugin.id}' declares an invalid path '${route.path}'`, { pluginId: plugin.id, cause: err });
  }
  return {
    order,
    plugin,
    methods: new Set(methods),
    fullPath,
    match: matcher,
    responder: route.responder ?? defaults.responder ?? DEFAULT_RESPONDER,
    auth,
    authNeedsBody: auth.some((strategy) => strategy.needsBody),
    parsers: bodyParsers(kinds, limit),
    params: route.params ? compilePart('params', route.params) : undefined,
    query: route.query ? compilePart('query', route.query) : undefined,
    headers: route.headers ? compilePart('headers', route.headers) : undefined,
    body: route.body ? compilePart('body', route.body) : undefined,
    serializers: responseSerializers(route),
    onValidationError: route.onValidationError ?? defaults.onValidationError ?? validationError,
    handler: route.handler,
    observer,
  };
}

function decodeURIComponentSafe(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
