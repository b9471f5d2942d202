/**
 * Requests and responses built with the Express app's own prototypes.
 *
 * Express gives every request and response its app's prototypes (`app.request` and
 * `app.response`, where `req.get`, `res.json` and the rest live) with
 * `Object.setPrototypeOf`, at the start of each request. V8 then gives each object a new
 * hidden class. The two shapes of every request and response make the property accesses
 * in Node's HTTP and stream code slower, and the garbage collector's minor collections
 * keep much of each request's garbage alive until a full collection.
 *
 * `http.createServer` can build its requests and responses from other classes (its
 * `IncomingMessage` and `ServerResponse` options). Built with the app's prototypes from the
 * start, they already have the prototype Express sets, and setting the same prototype again
 * changes nothing.
 */
import http from 'node:http';
import type { Express } from 'express';

/** Options of `http.createServer` (or `https.createServer`): the classes of requests and responses. */
export interface ExpressServerOptions {
  /** Builds each request with `app.request` as its prototype. */
  IncomingMessage: typeof http.IncomingMessage;
  /** Builds each response with `app.response` as its prototype. */
  ServerResponse: typeof http.ServerResponse;
}

/**
 * The `http.createServer` options that build each request and response with `app`'s own
 * prototypes, so that Express does not change them on every request (see this module).
 * Nothing else changes: the objects are Node's own, with the prototypes Express gives them.
 *
 * @param app - the Express app the server serves (a sub-app mounted on it keeps working:
 *   Express sets its prototypes while it runs, and those of `app` again after)
 * @example
 * ```ts
 * const server = http.createServer(expressServerOptions(app), app);
 * ```
 */
export function expressServerOptions(app: Express): ExpressServerOptions {
  // Function constructors, because a class's `prototype` cannot be replaced: `new Request`
  // makes an object with `app.request` as its prototype, and Node's own constructor (a
  // function, in every Node version this package supports) sets it up. `Reflect.construct`
  // with `new.target` would give the same objects, but V8 builds them on a slow path (a
  // bare Express route answered at less than half the rate).
  function Request(this: http.IncomingMessage, ...args: ConstructorParameters<typeof http.IncomingMessage>): void {
    http.IncomingMessage.apply(this, args);
  }
  Request.prototype = app.request;
  function Response(this: http.ServerResponse, ...args: ConstructorParameters<typeof http.ServerResponse>): void {
    http.ServerResponse.apply(this, args);
  }
  Response.prototype = app.response;
  return { IncomingMessage: Request as unknown as typeof http.IncomingMessage, ServerResponse: Response as unknown as typeof http.ServerResponse };
}
