/**
 * The auth-strategy contract. A route names the strategies it needs; the dispatcher runs
 * them after body parsing and before validation, and renders a refusal in the route's
 * family style.
 */
import type { Request } from 'express';

/** Who made a request, as established by an auth strategy. */
export interface Principal {
  /** A stable id: a user id, a key's id, `admin`, … */
  id: string;
  /** A display name, when known. */
  displayName?: string;
  /** True for administrators (host identity). */
  admin?: boolean;
  /** Scopes granted (bearer tokens). */
  scopes?: string[];
  /** Which strategy or credential kind established it, e.g. `basic`, `apikey`. */
  kind?: string;
  /** Anything else the verifier wants to pass to handlers. */
  [key: string]: unknown;
}

/**
 * The host's answer to "who is this?": resolves a request to a principal (or null). The
 * standalone app checks HTTP Basic against its configured users; an embedding host plugs in
 * its own session or SSO.
 */
export type IdentityResolver = (req: Request) => Principal | null | undefined | Promise<Principal | null | undefined>;

/** What strategies may use besides the request. */
export interface AuthContext {
  /** The host's identity resolver, when the kernel was given one. */
  identity?: IdentityResolver;
}

/** An OpenAPI security scheme object (3.1). */
export interface SecuritySchemeObject {
  /** `http`, `apiKey`, … */
  type: string;
  /** `basic` or `bearer` for type `http`. */
  scheme?: string;
  /** Parameter name for type `apiKey`. */
  name?: string;
  /** `query` or `header` for type `apiKey`. */
  in?: string;
  /** Human description. */
  description?: string;
}

/** Establishes the principal of a request, or throws an HttpError in the family's terms. */
export interface AuthStrategy {
  /** A short name, used for the OpenAPI security scheme (`basic`, `apikey`, `bearer`, …). */
  readonly name: string;
  /** How OpenAPI describes it. */
  readonly securityScheme?: SecuritySchemeObject;
  /** Scopes the route requires (OpenAPI security requirement). */
  readonly scopes?: readonly string[];
  /**
   * True when the credentials may be in the body (a form field): the body is then parsed
   * before authentication. Otherwise authentication comes first, so an anonymous client
   * cannot make the server parse its body.
   */
  readonly needsBody?: boolean;
  /** Returns the principal, or throws an HttpError (401/403/…) to refuse. */
  authenticate(req: Request, ctx: AuthContext): Principal | Promise<Principal>;
}
