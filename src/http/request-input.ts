/**
 * A handler's input: the request's path parameters, query, headers and body, each converted
 * and validated by the route's compiled validators, and refused (in the family's style) when
 * any part is invalid or carries a NUL character.
 */
import type { Request } from 'express';
import type { CompiledRoute } from './compiled-route.js';
import type { ValidationIssue } from './http-error.js';
import type { PartValidator } from './validation.js';

/** The validated parts of a request. */
export interface RequestInput {
  /** Path parameters. */
  params: unknown;
  /** Query parameters. */
  query: unknown;
  /** Headers. */
  headers: unknown;
  /** The parsed body. */
  body: unknown;
}

/** Validates the request's parts against the route's schemas; throws the route's validation error. */
export function readInput(route: CompiledRoute, rawParams: Record<string, string | string[]>, req: Request): RequestInput {
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
  return { params, query, headers, body };
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
