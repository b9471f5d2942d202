/**
 * What every route module shares: the plugin's services, the two auth strategies, and the
 * helpers that declare routes the Owncast way (a POST route answers its other methods with
 * `400 {"success": false, "message": "<METHOD> not supported"}`; a BasicResponse route
 * renders every error as a BasicResponse).
 */
import {
  HttpError,
  bearerToken,
  httpBasic,
  joinPath,
  safeEqual,
  Type,
  type AuthStrategy,
  type PluginContext,
  type RouteDefinition,
  type TSchema,
} from '../../../src/index.js';
import { ADMIN_REALM, ADMIN_USER } from '../constants.js';
import type { Owncast } from '../owncast.js';
import type { OwncastConfig } from '../plugin-config.js';
import { BasicResponseSchema } from '../schemas.js';
import { failed, normalizePath, PLAIN_TEXT_ERROR } from '../wire.js';

type AnyRoute = RouteDefinition<TSchema | undefined, TSchema | undefined, TSchema | undefined, TSchema | undefined>;

/** The methods a POST-only route answers with "not supported". */
const OTHER_METHODS = ['GET', 'PUT', 'PATCH', 'DELETE'] as const;

/** The route-declaring toolkit. */
export class RouteKit {
  /** Full paths (lower case) of the routes whose errors are BasicResponses. */
  readonly basicPaths = new Set<string>();
  /** Admin auth: HTTP Basic, `admin` and the current stream key. */
  readonly admin: AuthStrategy;
  private readonly scoped = new Map<string, AuthStrategy>();
  /** The 401 each strategy answers, for the OpenAPI document. */
  private readonly refusals = new Map<AuthStrategy, { description: string; contentType: string; schema: TSchema }>();

  /**
   * @param ctx - the plugin's context
   * @param owncast - the plugin's services
   */
  constructor(
    readonly ctx: PluginContext<OwncastConfig>,
    readonly owncast: Owncast,
  ) {
    const challenge = `Basic realm="${ADMIN_REALM}"`;
    this.admin = httpBasic({
      realm: ADMIN_REALM,
      verify: (user, password) => {
        // The key is read on every request, so a new key is the password from the next request.
        const key = owncast.settings.streamKey();
        const userOk = safeEqual(user, ADMIN_USER);
        const passwordOk = safeEqual(password, key);
        return userOk && passwordOk && key !== '' ? { id: 'admin', displayName: 'admin', admin: true, kind: 'admin' } : null;
      },
      fail: () => new HttpError(401, 'Unauthorized', { code: PLAIN_TEXT_ERROR, headers: { 'WWW-Authenticate': challenge } }),
    });
    this.refusals.set(this.admin, {
      description: 'Missing or wrong admin credentials (user `admin`, the stream key as password); with a `WWW-Authenticate: Basic` challenge.',
      contentType: 'text/plain',
      schema: Type.Literal('Unauthorized'),
    });
  }

  /** Integration auth: a Bearer access token holding `scope` (exact match). */
  integration(scope: string): AuthStrategy {
    let strategy = this.scoped.get(scope);
    if (!strategy) {
      strategy = bearerToken({
        scopes: [scope],
        verify: (token) => this.owncast.tokens.verify(token),
        fail: () => new HttpError(401, 'invalid access token', { code: PLAIN_TEXT_ERROR }),
      });
      this.scoped.set(scope, strategy);
      this.refusals.set(strategy, {
        description: `Missing or unknown access token, or one without the ${scope} scope.`,
        contentType: 'text/plain',
        schema: Type.Literal('invalid access token'),
      });
    }
    return strategy;
  }

  /**
   * Declares a route. A route with auth documents the 401 its strategy answers (plain text,
   * as Owncast) unless it declares its own.
   */
  add(route: AnyRoute): void {
    const strategies = route.auth === undefined ? [] : Array.isArray(route.auth) ? route.auth : [route.auth];
    const refusal = strategies.map((s) => this.refusals.get(s)).find((r) => r !== undefined);
    const responses = refusal && !route.responses?.[401] ? { ...route.responses, 401: refusal } : route.responses;
    this.ctx.routes.add({ ...route, responses } as never);
  }

  /**
   * Declares a POST route and its "<METHOD> not supported" siblings. With `basic`, every
   * error of the route is rendered as a BasicResponse.
   */
  post(route: Omit<AnyRoute, 'method'>, options: { basic?: boolean } = {}): void {
    if (options.basic) this.basicPaths.add(normalizePath(joinPath(this.ctx.routes.prefix, route.path)));
    this.add({ ...route, method: 'POST' } as AnyRoute);
    this.add({
      method: OTHER_METHODS,
      path: route.path,
      auth: route.auth,
      hidden: true,
      responses: { 400: { description: 'Only POST is supported.', schema: BasicResponseSchema } },
      handler: ({ req }) => failed(`${req.method.toUpperCase()} not supported`),
    });
  }
}
