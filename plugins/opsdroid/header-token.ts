/**
 * Tokens that travel in the `Authorization` header: the webhook token (`Bearer <token>`), the
 * command center's token and the websocket connector's (the whole header value).
 *
 * A token is whatever the header carries after its scheme, spaces included, so the guide's
 * `webhook-token: "a long random token"` works as written (opsdroid splits the header on
 * spaces and so can never match such a token). A token an HTTP header cannot carry intact
 * (a control character, a non-ASCII letter, which clients send as UTF-8 bytes that servers
 * read as Latin-1, or leading or trailing whitespace, which HTTP strips) is refused at start.
 */
import { Type } from '../../src/index.js';

/** Printable ASCII, spaces only inside: what a header value carries unchanged. */
const HEADER_TOKEN_PATTERN = '^[!-~](?:[ -~]*[!-~])?$';

/** What {@link headerTokenSchema} expects, as the config error says it. */
const EXPECTS = 'printable ASCII without leading or trailing spaces (what an HTTP header can carry)';

/**
 * The schema of a token sent in the `Authorization` header; with `emptyMeansNone`, an empty
 * string is accepted too (the websocket connector reads it as "no token").
 */
export function headerTokenSchema(description: string, options: { emptyMeansNone?: boolean } = {}) {
  if (options.emptyMeansNone) {
    return Type.String({ pattern: `^(?:${HEADER_TOKEN_PATTERN.slice(1, -1)})?$`, errorMessage: `${EXPECTS}, or empty for none`, description });
  }
  return Type.String({ minLength: 1, pattern: HEADER_TOKEN_PATTERN, errorMessage: EXPECTS, description });
}

/**
 * The token of an `Authorization: Bearer <token>` header: everything after `Bearer `, spaces
 * included; undefined for any other header (the scheme is matched exactly, as opsdroid does).
 */
export function bearerTokenOf(header: string | undefined): string | undefined {
  if (typeof header !== 'string' || !header.startsWith('Bearer ')) return undefined;
  return header.slice(7);
}
