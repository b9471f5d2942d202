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
    }
    return strategy;
  }

  /** Declares a route. */
  add(route: AnyRoute): void {
    this.ctx.routes.add(route as never);
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
