/**
 * The dispatcher: one Express middleware that serves every plugin's routes.
 *
 * Routes are collected while plugins run `init` and compiled once at start (see
 * compiled-route.ts) into the route index (route-index.ts). A matched request runs the
 * plugin's hooks, auth, body parsing, validation (request-input.ts) and the handler, and its
 * result is written by the route's responder with the serializer of its declared response.
 * Requests for a plugin's routes get 503 while the kernel is starting or stopping;
 * unmatched requests fall through to the host app.
 */
import type { NextFunction, Request, Response } from 'express';
import { ErrorCodes, SwitchboardError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { AuthContext, Principal } from './auth/strategy.js';
import { parseBody } from './body.js';
import { asArray, compileRoute, DEFAULT_RESPONDER, joinPath, type CompiledRoute, type PluginHttp, type RequestObserver } from './compiled-route.js';
import { HttpError, HttpErrorCodes, isHttpError, Reply } from './http-error.js';
import type { Responder } from './responder.js';
import type { AnyRouteDefinition, HttpMethod, RouteRegistrar } from './route.js';
import { RefusalLog } from './refusal-log.js';
import { readInput } from './request-input.js';
import { isPromiseLike } from './maybe-promise.js';
import { RouteIndex } from './route-index.js';
import { contextWithSpan, endRequestSpan, startRequestSpan } from '../observability/request-span.js';

export { DEFAULT_RESPONDER, joinPath, type PluginHttp, type RequestObserver } from './compiled-route.js';

/** Options of the dispatcher (the kernel's one middleware that routes to every plugin). */
export interface DispatcherOptions {
  /** Gives each compiled route its observer (plugin id, route template); none when metrics are off. */
  observer?: (pluginId: string, route: string) => RequestObserver;
}

/** A route's identity for conflict checks: method + path with parameter names erased. */
function routeKey(method: string, fullPath: string): string {
  const normalized = fullPath.toLowerCase().replace(/:[A-Za-z0-9_$]+/g, ':').replace(/\*[A-Za-z0-9_$]+/g, '*').replace(/\/+$/, '');
  return `${method} ${normalized || '/'}`;
}

/** Is the kernel serving? Supplied by the kernel. */
export type GateState = () => boolean;

/** Collects plugin routes, compiles them, and serves requests. */
export class Dispatcher {
  private readonly plugins: PluginHttp[] = [];
  private index = new RouteIndex([]);
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
        http.routes.push(route as unknown as AnyRouteDefinition);
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
        compiled.push(compileRoute(order++, plugin, route, fullPath, methods, this.options.observer?.(plugin.id, fullPath)));
      }
    }
    this.index = new RouteIndex(compiled);
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
    const { found, pathMatch } = this.index.lookup(req.method.toUpperCase(), path);
    if (found) {
      this.serve(found.route, found.params, req, res);
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
      const allowed = this.index.allowedMethods(plugin, req.path);
      this.fail(responder, req, res, new HttpError(405, 'Method Not Allowed', { headers: { Allow: [...allowed].join(', ') } }));
    });
    if (passed) next();
  }

  private fail(responder: Responder, req: Request, res: Response, err: HttpError): void {
    if (res.headersSent) return;
    responder.error(req, res, err);
  }

  /**
   * Serves a matched route. Routes without a body run synchronously up to the handler while
   * their hooks and auth strategies answer at once, and a synchronous handler's answer is
   * written in the same tick: no promise is created on the hot path unless something in it
   * is asynchronous.
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
      keepQuery(req);
      // Hooks that answer synchronously (most do: headers, CORS) keep the request on the
      // synchronous path; the first one that returns a promise moves it to the async one.
      const hooks = route.plugin.hooks;
      for (let i = 0; i < hooks.length && !async; i++) {
        const waiting = hooks[i](req, res);
        if (isPromiseLike(waiting)) async = this.serveAsync(route, rawParams, req, res, waiting, i + 1);
        else if (res.headersSent || res.writableEnded) return;
      }
      if (!async && route.parsers.length > 0) async = this.serveAsync(route, rawParams, req, res, undefined, hooks.length);
      if (async) return;
      if (!this.isOpen()) return this.fail(route.responder, req, res, unavailable());
      // Strategies that answer at once (a key checked against keys in memory) keep the
      // request synchronous too; the first that returns a promise is waited for.
      const principal = route.auth.length > 0 ? this.authenticate(route, req, 0, undefined) : undefined;
      const result = isPromiseLike(principal)
        ? Promise.resolve(principal).then((p) => this.runHandler(route, rawParams, req, res, p))
        : this.runHandler(route, rawParams, req, res, principal);
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
      if (!route.authNeedsBody && route.auth.length > 0) principal = await this.authenticate(route, req, 0, undefined);
      if (route.parsers.length > 0) await parseBody(route.parsers, req, res);
      if (route.authNeedsBody) principal = await this.authenticate(route, req, 0, undefined);
      this.write(route, req, res, await this.runHandler(route, rawParams, req, res, principal));
    } catch (err) {
      this.handleError(plugin, responder, req, res, err);
    }
  }

  /** Validates the request's parts and calls the handler; throws the family's validation error. */
  private runHandler(route: CompiledRoute, rawParams: Record<string, string | string[]>, req: Request, res: Response, principal: Principal | undefined): unknown {
    const { params, query, body, headers } = readInput(route, rawParams, req);
    req.params = params as Record<string, string>;
    return route.handler({ params, query, body, headers, principal, req, res, log: route.plugin.logger } as never);
  }

  /** Writes a handler's result through the route's responder (unless the handler wrote itself). */
  private write(route: CompiledRoute, req: Request, res: Response, result: unknown): void {
    if (res.headersSent || res.writableEnded) return;
    try {
      if (result instanceof Reply) {
        for (const [name, value] of Object.entries(result.headers)) res.setHeader(name, value);
        route.responder.send(req, res, result.status, result.body, route.serializers.get(result.status));
      } else {
        const status = res.statusCode || 200;
        route.responder.send(req, res, status, result, route.serializers.get(status));
      }
    } catch (err) {
      this.handleError(route.plugin, route.responder, req, res, err);
    }
  }

  /**
   * Runs the route's strategies from the one at `from` (the first that accepts wins; `first`
   * is the first refusal so far). While the strategies answer at once, so does this: the
   * principal, or the refusal thrown; once one returns a promise, the rest run after it.
   * A refusal is logged, without credentials.
   */
  private authenticate(route: CompiledRoute, req: Request, from: number, first: unknown): Principal | Promise<Principal> {
    for (let i = from; i < route.auth.length; i++) {
      let answer: Principal | Promise<Principal>;
      try {
        answer = route.auth[i].authenticate(req, this.authContext);
      } catch (err) {
        first ??= err;
        continue;
      }
      if (isPromiseLike(answer)) return Promise.resolve(answer).catch((err: unknown) => this.authenticate(route, req, i + 1, first ?? err));
      return answer;
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

function unavailable(): HttpError {
  return new HttpError(503, 'Service Unavailable', { code: HttpErrorCodes.UNAVAILABLE, headers: { 'Retry-After': '1' } });
}

/**
 * Parses the request's query once and keeps it on the request. Express 5's `req.query` is a
 * getter that parses the query string again at every read, and a route reads it in its auth
 * strategy (redball's `apikey`), its validation and its handler.
 */
function keepQuery(req: Request): void {
  Object.defineProperty(req, 'query', { value: req.query, writable: true, enumerable: true, configurable: true });
}
