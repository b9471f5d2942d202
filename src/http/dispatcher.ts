/**
 * The dispatcher: one Express middleware that serves every plugin's routes.
 *
 * Routes are collected while plugins run `init` and compiled once at start (path matchers,
 * validators, body parsers). A request is matched against an index keyed by its first path
 * segment, so the cost does not grow with the number of plugins. Requests for a plugin's
 * routes get 503 while the kernel is starting or stopping; unmatched requests fall through
 * to the host app.
 */
import type { NextFunction, Request, Response } from 'express';
import { match, type MatchFunction } from 'path-to-regexp';
import type { TSchema } from 'typebox';
import { ErrorCodes, SwitchboardError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { AuthContext, AuthStrategy, Principal } from './auth/strategy.js';
import { bodyParsers, DEFAULT_BODY_LIMIT, parseBody } from './body.js';
import { HttpError, HttpErrorCodes, isHttpError, Reply, type ValidationIssue } from './http-error.js';
import { jsonResponder } from './responders/json.js';
import type { Responder } from './responder.js';
import type { AnyRouteDefinition, BodyKind, HttpMethod, RequestHook, RouteDefaults, RouteRegistrar } from './route.js';
import { RefusalLog } from './refusal-log.js';
import { contextWithSpan, endRequestSpan, startRequestSpan } from '../observability/request-span.js';
import { compilePart, validationError, type PartValidator } from './validation.js';

type AnyRoute = AnyRouteDefinition;

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

/** A route with everything resolved and compiled. */
interface CompiledRoute {
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
  readonly onValidationError: (issues: ValidationIssue[], req: Request) => HttpError;
  readonly handler: AnyRoute['handler'];
  /** Counts and times the route's requests (when metrics are on). */
  readonly observer?: RequestObserver;
}

/** Counts and times the finished requests of one route (the kernel's metrics). */
export interface RequestObserver {
  /** Called once per request when its response closes. */
  observe(method: string, status: number, seconds: number): void;
}

/** Options of the dispatcher (the kernel's one middleware that routes to every plugin). */
export interface DispatcherOptions {
  /** Gives each compiled route its observer (plugin id, route template); none when metrics are off. */
  observer?: (pluginId: string, route: string) => RequestObserver;
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

/** The literal first segment of a route path, lower-cased, or null when it is dynamic. */
function firstSegment(path: string): string | null {
  const seg = path.split('/')[1] ?? '';
  return /[:*{}()]/.test(seg) ? null : seg.toLowerCase();
}

/** A route's identity for conflict checks: method + path with parameter names erased. */
function routeKey(method: string, fullPath: string): string {
  const normalized = fullPath.toLowerCase().replace(/:[A-Za-z0-9_$]+/g, ':').replace(/\*[A-Za-z0-9_$]+/g, '*').replace(/\/+$/, '');
  return `${method} ${normalized || '/'}`;
}

function asArray<T>(value: T | readonly T[] | undefined): readonly T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? (value as readonly T[]) : [value as T];
}

/** Is the kernel serving? Supplied by the kernel. */
export type GateState = () => boolean;

/** Collects plugin routes, compiles them, and serves requests. */
export class Dispatcher {
  private readonly plugins: PluginHttp[] = [];
  private byFirstSegment = new Map<string, CompiledRoute[]>();
  private dynamic: CompiledRoute[] = [];
  private compiled: CompiledRoute[] = [];
  private inFlight = 0;
  private readonly refusals = new RefusalLog();
  private idleWaiters: Array<() => void> = [];

  /**
   * @param isOpen - true while the kernel is running; requests to plugin routes get 503 otherwise
   * @param authContext - what auth strategies may use (the host identity resolver)
   * @param options - see {@link DispatcherOptions}
   */
  constructor(
    private readonly isOpen: GateState,
    private readonly authContext: AuthContext,
    private readonly options: DispatcherOptions = {},
  ) {}

  /** Creates the registrar a plugin uses during init. */
  registrar(id: string, prefix: string, logger: Logger): RouteRegistrar {
    const http: PluginHttp = { id, prefix, logger, defaults: {}, routes: [], hooks: [], notFound: [] };
    this.plugins.push(http);
    return {
      prefix,
      defaults: (defaults) => {
        http.defaults = { ...http.defaults, ...defaults };
      },
      add: (route) => {
        http.routes.push(route as unknown as AnyRoute);
      },
      onRequest: (hook) => {
        http.hooks.push(hook);
      },
      notFoundUnder: (under, refusal) => {
        http.notFound.push({ prefix: joinPath(prefix, under).toLowerCase(), refusal });
      },
    };
  }

  /** Every plugin's HTTP surface (for OpenAPI and the route fuzzer). */
  surfaces(): readonly PluginHttp[] {
    return this.plugins;
  }

  /**
   * Compiles every route: matchers, validators and parsers. Throws
   * `SWB_ERR_ROUTE_CONFLICT` when two routes claim the same method and path.
   */
  compile(): void {
    const seen = new Map<string, string>();
    const compiled: CompiledRoute[] = [];
    let order = 0;
    for (const plugin of this.plugins) {
      for (const route of plugin.routes) {
        const fullPath = joinPath(plugin.prefix, route.path);
        const methods = asArray(route.method).map((m) => m.toUpperCase() as HttpMethod);
        for (const method of methods) {
          const key = routeKey(method, fullPath);
          const owner = seen.get(key);
          if (owner !== undefined) {
            throw new SwitchboardError(
              ErrorCodes.ROUTE_CONFLICT,
              `Route ${method} ${fullPath} of plugin '${plugin.id}' conflicts with the same route of plugin '${owner}'`,
              { pluginId: plugin.id },
            );
          }
          seen.set(key, plugin.id);
        }
        compiled.push(this.compileRoute(order++, plugin, route, fullPath, methods));
      }
    }
    this.compiled = compiled;
    this.byFirstSegment = new Map();
    this.dynamic = [];
    for (const route of compiled) {
      const seg = firstSegment(route.fullPath);
      if (seg === null) this.dynamic.push(route);
      else {
        const list = this.byFirstSegment.get(seg) ?? [];
        list.push(route);
        this.byFirstSegment.set(seg, list);
      }
    }
  }

  private compileRoute(order: number, plugin: PluginHttp, route: AnyRoute, fullPath: string, methods: HttpMethod[]): CompiledRoute {
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
      onValidationError: route.onValidationError ?? defaults.onValidationError ?? validationError,
      handler: route.handler,
      observer: this.options.observer?.(plugin.id, fullPath),
    };
  }

  /** The number of requests being handled now. */
  get activeRequests(): number {
    return this.inFlight;
  }

  /** Resolves when no request is being handled, or after `timeoutMs`. */
  drain(timeoutMs: number): Promise<boolean> {
    if (this.inFlight === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      timer.unref();
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /** The Express middleware. */
  readonly handle = (req: Request, res: Response, next: NextFunction): void => {
    const path = req.path;
    const method = req.method.toUpperCase();
    const seg = (path.split('/', 2)[1] ?? '').toLowerCase();
    const indexed = this.byFirstSegment.get(seg);
    let pathMatch: CompiledRoute | undefined;
    let found: CompiledRoute | undefined;
    let params: Record<string, string | string[]> | undefined;
    const candidates = indexed && this.dynamic.length > 0 ? mergeByOrder(indexed, this.dynamic) : (indexed ?? this.dynamic);
    for (const route of candidates) {
      const m = route.match(path);
      if (!m) continue;
      pathMatch ??= route;
      if (route.methods.has(method) || (method === 'HEAD' && route.methods.has('GET'))) {
        found = route;
        params = m.params;
        break;
      }
    }
    // A GET route answers HEAD only when no route declares HEAD itself.
    if (found && method === 'HEAD' && !found.methods.has('HEAD')) {
      for (const route of candidates) {
        if (route.methods.has('HEAD') && route.match(path)) {
          found = route;
          break;
        }
      }
    }
    if (found) {
      void this.serve(found, params ?? {}, req, res);
      return;
    }
    if (pathMatch) {
      void this.serveUnmatchedMethod(pathMatch, req, res, next);
      return;
    }
    const owner = this.ownerOfUnmatched(path);
    if (owner) {
      const { plugin, refusal } = owner;
      const err = !this.isOpen() ? unavailable() : refusal ? refusal(req) : new HttpError(404, 'Not Found', { code: HttpErrorCodes.NOT_FOUND });
      void this.runHooksThen(plugin, req, res, () => this.fail(plugin.defaults.responder ?? DEFAULT_RESPONDER, req, res, err));
      return;
    }
    next();
  };

  /** The plugin that owns an unmatched path: by a notFound prefix, or (while closed) by its mount prefix. */
  private ownerOfUnmatched(path: string): { plugin: PluginHttp; refusal?: (req: Request) => HttpError } | undefined {
    const lower = path.toLowerCase();
    const under = (prefix: string) => lower === prefix || lower.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`);
    for (const plugin of this.plugins) {
      const entry = plugin.notFound.find((n) => under(n.prefix));
      if (entry) return { plugin, refusal: entry.refusal };
    }
    if (!this.isOpen()) {
      for (const plugin of this.plugins) {
        if (plugin.prefix && under(plugin.prefix.toLowerCase())) return { plugin };
      }
    }
    return undefined;
  }

  private async runHooksThen(plugin: PluginHttp, req: Request, res: Response, then: () => void | Promise<void>): Promise<void> {
    try {
      for (const hook of plugin.hooks) {
        await hook(req, res);
        if (res.headersSent || res.writableEnded) return;
      }
      await then();
    } catch (err) {
      this.handleError(plugin, plugin.defaults.responder ?? DEFAULT_RESPONDER, req, res, err);
    }
  }

  private async serveUnmatchedMethod(route: CompiledRoute, req: Request, res: Response, next: NextFunction): Promise<void> {
    const plugin = route.plugin;
    const responder = plugin.defaults.responder ?? DEFAULT_RESPONDER;
    if (!this.isOpen()) return this.runHooksThen(plugin, req, res, () => this.fail(responder, req, res, unavailable()));
    let passed = false;
    await this.runHooksThen(plugin, req, res, () => {
      if (!plugin.defaults.methodNotAllowed) {
        passed = true;
        return;
      }
      const allowed = new Set<string>();
      for (const r of this.compiled) {
        if (r.plugin === plugin && r.match(req.path)) for (const m of r.methods) allowed.add(m);
      }
      this.fail(responder, req, res, new HttpError(405, 'Method Not Allowed', { headers: { Allow: [...allowed].join(', ') } }));
    });
    if (passed) next();
  }

  private fail(responder: Responder, req: Request, res: Response, err: HttpError): void {
    if (res.headersSent) return;
    responder.error(req, res, err);
  }

  /**
   * Serves a matched route. Routes without hooks, body or auth run synchronously up to the
   * handler, and a synchronous handler's answer is written in the same tick: no promise is
   * created on the hot path unless something in it is asynchronous.
   */
  private serve(route: CompiledRoute, rawParams: Record<string, string | string[]>, req: Request, res: Response): void {
    // A request is in flight until its handler has finished AND its response has closed
    // ('close' follows 'finish' and also fires when the client goes away): a handler still
    // running for a client that left keeps the kernel from closing the database under it.
    this.inFlight++;
    let pending = 2;
    const settle = () => {
      if (--pending === 0) this.requestDone();
    };
    const started = performance.now();
    const span = startRequestSpan(route.plugin.id, req.method, route.fullPath);
    // 'close' is emitted once, after the answer was written or the client went away.
    res.on('close', () => {
      route.observer?.observe(req.method, res.statusCode, (performance.now() - started) / 1000);
      endRequestSpan(span, res.statusCode);
      settle();
    });
    // A recording span (a host registered an OpenTelemetry SDK) is the active one while the
    // route runs, so the plugin's own spans nest under it.
    if (span.isRecording()) contextWithSpan(span, () => this.serveMatched(route, rawParams, req, res, settle));
    else this.serveMatched(route, rawParams, req, res, settle);
  }

  /** {@link Dispatcher.serve}'s work once the request is counted in flight. */
  private serveMatched(route: CompiledRoute, rawParams: Record<string, string | string[]>, req: Request, res: Response, settle: () => void): void {
    let async: Promise<void> | undefined;
    try {
      // Hooks that answer synchronously (most do: headers, CORS) keep the request on the
      // synchronous path; the first one that returns a promise moves it to the async one.
      const hooks = route.plugin.hooks;
      for (let i = 0; i < hooks.length && !async; i++) {
        const waiting = hooks[i](req, res);
        if (isPromiseLike(waiting)) async = this.serveAsync(route, rawParams, req, res, waiting, i + 1);
        else if (res.headersSent || res.writableEnded) return;
      }
      if (!async && (route.parsers.length > 0 || route.auth.length > 0)) async = this.serveAsync(route, rawParams, req, res, undefined, hooks.length);
      if (async) return;
      if (!this.isOpen()) return this.fail(route.responder, req, res, unavailable());
      const result = this.runHandler(route, rawParams, req, res, undefined);
      if (isPromiseLike(result)) {
        async = Promise.resolve(result).then(
          (value) => this.write(route, req, res, value),
          (err: unknown) => this.handleError(route.plugin, route.responder, req, res, err),
        );
      } else this.write(route, req, res, result);
    } catch (err) {
      this.handleError(route.plugin, route.responder, req, res, err);
    } finally {
      if (async) void async.finally(settle);
      else settle();
    }
  }

  private readonly requestDone = (): void => {
    this.inFlight--;
    if (this.inFlight === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  };

  private async serveAsync(route: CompiledRoute, rawParams: Record<string, string | string[]>, req: Request, res: Response, pendingHook: PromiseLike<void> | undefined, nextHook: number): Promise<void> {
    const { plugin, responder } = route;
    try {
      if (pendingHook) await pendingHook;
      for (let i = nextHook; i < plugin.hooks.length; i++) {
        if (res.headersSent || res.writableEnded) return;
        await plugin.hooks[i](req, res);
      }
      if (res.headersSent || res.writableEnded) return;
      if (!this.isOpen()) return this.fail(responder, req, res, unavailable());
      let principal: Principal | undefined;
      if (!route.authNeedsBody && route.auth.length > 0) principal = await this.authenticate(route, req);
      if (route.parsers.length > 0) await parseBody(route.parsers, req, res);
      if (route.authNeedsBody) principal = await this.authenticate(route, req);
      this.write(route, req, res, await this.runHandler(route, rawParams, req, res, principal));
    } catch (err) {
      this.handleError(plugin, responder, req, res, err);
    }
  }

  /** Validates the request's parts and calls the handler; throws the family's validation error. */
  private runHandler(route: CompiledRoute, rawParams: Record<string, string | string[]>, req: Request, res: Response, principal: Principal | undefined): unknown {
    const issues: ValidationIssue[] = [];
    const params = validatePart(route.params, rawParams, true, issues);
    const query = validatePart(route.query, req.query, true, issues);
    const headers = validatePart(route.headers, req.headers, true, issues);
    // Form and text bodies arrive as strings and are converted; JSON keeps its types.
    const body = route.body ? validatePart(route.body, req.body, !/json/i.test(req.headers['content-type'] ?? ''), issues) : req.body;
    // NUL characters are refused in parameters and parsed (JSON, form) bodies: PostgreSQL cannot
    // store them in text, and no family's contract needs them. (A raw NUL cannot reach the path
    // or query: Node refuses it.) Text and raw bodies are the plugin's to read (a signed
    // payload, a value it checks itself).
    if (req.url.includes('%00')) {
      nulIssue('params', rawParams, issues);
      nulIssue('query', req.query, issues);
    }
    if (req.body !== null && typeof req.body === 'object' && !Buffer.isBuffer(req.body)) nulIssue('body', req.body, issues);
    if (issues.length > 0) throw route.onValidationError(issues, req);
    req.params = params as Record<string, string>;
    return route.handler({ params, query, body, headers, principal, req, res, log: route.plugin.logger } as never);
  }

  /** Writes a handler's result through the route's responder (unless the handler wrote itself). */
  private write(route: CompiledRoute, req: Request, res: Response, result: unknown): void {
    if (res.headersSent || res.writableEnded) return;
    try {
      if (result instanceof Reply) {
        for (const [name, value] of Object.entries(result.headers)) res.setHeader(name, value);
        route.responder.send(req, res, result.status, result.body);
      } else {
        route.responder.send(req, res, res.statusCode || 200, result);
      }
    } catch (err) {
      this.handleError(route.plugin, route.responder, req, res, err);
    }
  }

  /** Runs the route's strategies (the first that accepts wins); a refusal is logged, without credentials. */
  private async authenticate(route: CompiledRoute, req: Request): Promise<Principal> {
    let first: unknown;
    for (const strategy of route.auth) {
      try {
        return await strategy.authenticate(req, this.authContext);
      } catch (err) {
        first ??= err;
      }
    }
    this.refusals.note(route.plugin.logger, req, first, route.plugin.id);
    throw first;
  }

  private handleError(plugin: PluginHttp, responder: Responder, req: Request, res: Response, err: unknown): void {
    if (isHttpError(err)) {
      if (err.status >= 500) plugin.logger.error({ err: err.cause ?? err, method: req.method, path: req.path }, err.message);
      if (!res.headersSent) this.renderError(plugin, responder, req, res, err);
      else res.destroy();
      return;
    }
    // An unexpected error: its message and stack go to the log only; the client gets the
    // family's fixed 500.
    plugin.logger.error({ err, method: req.method, path: req.path }, 'request failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    this.renderError(plugin, responder, req, res, new HttpError(500, 'Internal Server Error', { code: HttpErrorCodes.INTERNAL }));
  }

  /** Renders an error through the responder; if the responder itself fails, a bare 500 without its text. */
  private renderError(plugin: PluginHttp, responder: Responder, req: Request, res: Response, err: HttpError): void {
    try {
      responder.error(req, res, err);
    } catch (failure) {
      plugin.logger.error({ err: failure, method: req.method, path: req.path }, 'the error responder failed');
      if (res.headersSent) res.destroy();
      else res.status(500).type('text/plain; charset=utf-8').end('Internal Server Error');
    }
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === 'function';
}

function unavailable(): HttpError {
  return new HttpError(503, 'Service Unavailable', { code: HttpErrorCodes.UNAVAILABLE, headers: { 'Retry-After': '1' } });
}

function decodeURIComponentSafe(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function validatePart(validator: PartValidator | undefined, value: unknown, convert: boolean, issues: ValidationIssue[]): unknown {
  if (!validator) return value;
  const result = validator.validate(value === undefined ? {} : value, convert);
  if (result.ok) return result.value;
  issues.push(...result.issues);
  return undefined;
}

/** Adds an issue when a string (or key) anywhere in `value` contains a NUL character. */
function nulIssue(location: ValidationIssue['location'], value: unknown, issues: ValidationIssue[]): void {
  const path = nulPath(value);
  if (path !== undefined) issues.push({ location, path, keyword: 'nul', message: `${location}${path} must not contain NUL characters` });
}

/** The JSON pointer of the first string or key containing NUL, or undefined. */
function nulPath(value: unknown): string | undefined {
  const stack: Array<[unknown, string]> = [[value, '']];
  while (stack.length > 0) {
    const [v, path] = stack.pop()!;
    if (typeof v === 'string') {
      if (v.includes('\0')) return path;
    } else if (v !== null && typeof v === 'object') {
      if (Array.isArray(v)) for (let i = 0; i < v.length; i++) stack.push([v[i], `${path}/${i}`]);
      else
        for (const key of Object.keys(v)) {
          const at = `${path}/${key.replace(/~/g, '~0').replace(/\//g, '~1').replace(/\0/g, '\\u0000')}`;
          if (key.includes('\0')) return at;
          stack.push([(v as Record<string, unknown>)[key], at]);
        }
    }
  }
  return undefined;
}

function mergeByOrder(a: CompiledRoute[], b: CompiledRoute[]): CompiledRoute[] {
  const out: CompiledRoute[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i].order < b[j].order)) out.push(a[i++]);
    else out.push(b[j++]);
  }
  return out;
}
