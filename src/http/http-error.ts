/**
 * Errors and explicit replies of route handlers. A handler throws an {@link HttpError} to
 * refuse a request; the route's responder renders it in the family's own style.
 */

/** Stable codes of the errors the HTTP layer itself raises. */
export const HttpErrorCodes = {
  /** Params, query, headers or body did not match the route's schema. */
  VALIDATION: 'SWB_ERR_VALIDATION',
  /** The body was not valid JSON. */
  BAD_JSON: 'SWB_ERR_BAD_JSON',
  /** The body (or its JSON nesting) exceeds the route's limit. */
  BODY_TOO_LARGE: 'SWB_ERR_BODY_TOO_LARGE',
  /** The body's encoding or charset is not supported. */
  UNSUPPORTED_MEDIA_TYPE: 'SWB_ERR_UNSUPPORTED_MEDIA_TYPE',
  /** No or wrong credentials. */
  UNAUTHORIZED: 'SWB_ERR_UNAUTHORIZED',
  /** Credentials are valid but not enough for this route. */
  FORBIDDEN: 'SWB_ERR_FORBIDDEN',
  /** No route of the plugin matches. */
  NOT_FOUND: 'SWB_ERR_NOT_FOUND',
  /** The path exists but not for this method. */
  METHOD_NOT_ALLOWED: 'SWB_ERR_METHOD_NOT_ALLOWED',
  /** The kernel is starting or stopping. */
  UNAVAILABLE: 'SWB_ERR_UNAVAILABLE',
  /** Too many password verifications are running; the request is refused at once (503). */
  AUTH_BUSY: 'SWB_ERR_AUTH_BUSY',
  /** Too many requests (e.g. repeated failed signatures). */
  TOO_MANY_REQUESTS: 'SWB_ERR_TOO_MANY_REQUESTS',
  /** The handler failed unexpectedly; details are only in the log. */
  INTERNAL: 'SWB_ERR_INTERNAL',
} as const;

/** One failed check of a validation error. */
export interface ValidationIssue {
  /** Which part of the request: `params`, `query`, `headers` or `body`. */
  location: 'params' | 'query' | 'headers' | 'body';
  /** JSON pointer inside that part, e.g. `/value` (empty for the part itself). */
  path: string;
  /** The property concerned (the missing one for `required`), when there is one. */
  property?: string;
  /** The JSON Schema keyword that failed (`type`, `required`, `additionalProperties`, …). */
  keyword: string;
  /** A short English sentence. */
  message: string;
}

/** Options of an {@link HttpError}. */
export interface HttpErrorOptions {
  /** A stable code (`SWB_ERR_…` for the kernel's, anything for a plugin's). */
  code?: string;
  /** Family-specific payload the responder may render (e.g. OCS `data`). */
  data?: unknown;
  /** Extra response headers (e.g. `WWW-Authenticate`, `Retry-After`). */
  headers?: Record<string, string>;
  /** The validation issues, for `SWB_ERR_VALIDATION`. */
  issues?: ValidationIssue[];
  /** The underlying error (logged, never sent). */
  cause?: unknown;
}

/** An error with an HTTP status that a responder renders in its family's style. */
export class HttpError extends Error {
  /** The HTTP status code. */
  readonly status: number;
  /** A stable code, e.g. `SWB_ERR_VALIDATION`. */
  readonly code: string;
  /** Family-specific payload for the responder. */
  readonly data?: unknown;
  /** Extra response headers. */
  readonly headers: Record<string, string>;
  /** Validation issues, when this is a validation error. */
  readonly issues: ValidationIssue[];

  /**
   * @param status - the HTTP status
   * @param message - the text the client sees (must not contain secrets)
   * @param options - code, data, headers, issues, cause
   */
  constructor(status: number, message: string, options: HttpErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HttpError';
    this.status = status;
    this.code = options.code ?? defaultCode(status);
    this.data = options.data;
    this.headers = options.headers ?? {};
    this.issues = options.issues ?? [];
  }
}

function defaultCode(status: number): string {
  switch (status) {
    case 401:
      return HttpErrorCodes.UNAUTHORIZED;
    case 403:
      return HttpErrorCodes.FORBIDDEN;
    case 404:
      return HttpErrorCodes.NOT_FOUND;
    case 405:
      return HttpErrorCodes.METHOD_NOT_ALLOWED;
    case 413:
      return HttpErrorCodes.BODY_TOO_LARGE;
    case 429:
      return HttpErrorCodes.TOO_MANY_REQUESTS;
    case 503:
      return HttpErrorCodes.UNAVAILABLE;
    default:
      return status >= 500 ? HttpErrorCodes.INTERNAL : `SWB_ERR_HTTP_${status}`;
  }
}

/** True when `err` is an {@link HttpError}. */
export function isHttpError(err: unknown): err is HttpError {
  return err instanceof HttpError;
}

/** An explicit reply: a status, a body for the responder, and headers. Return it from a handler. */
export class Reply {
  /**
   * @param status - the HTTP status
   * @param body - what the responder renders (undefined: an empty body)
   * @param headers - extra response headers
   */
  constructor(
    readonly status: number,
    readonly body?: unknown,
    readonly headers: Record<string, string> = {},
  ) {}
}

/** Shorthand for `new Reply(status, body, headers)`. */
export function reply(status: number, body?: unknown, headers?: Record<string, string>): Reply {
  return new Reply(status, body, headers);
}
