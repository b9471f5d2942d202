/** Turns a registry route into the fuzzer's {@link RouteShape}: realistic parameters, credentials, a base body. */
import type { AuthStrategy, BodyKind } from '../../../src/index.js';
import type { Credential, Family, ResolvedRoute } from './families.js';
import type { BodyEncoding, RouteShape } from './hostile.js';
import { propertiesOf, sample, type SchemaLike } from './schema-sample.js';

/** Path segments of a path-to-regexp v8 path: optional groups are taken, parameters named. */
export function segmentsOf(fullPath: string): Array<{ literal: string } | { param: string }> {
  const flat = fullPath.replace(/\{([^}]*)\}/g, '$1');
  return flat
    .split('/')
    .filter((s) => s !== '')
    .map((s) => (s.startsWith(':') || s.startsWith('*') ? { param: s.slice(1) } : { literal: s }));
}

function kinds(route: ResolvedRoute): BodyEncoding[] {
  const a = route.route.accepts;
  const list = (a === undefined ? [] : Array.isArray(a) ? a : [a]) as BodyKind[];
  if (list.length === 0 && route.route.body) return ['json'];
  return [...list];
}

/** The strategies of a route that check a credential (not, e.g., Talk's CSRF header rule). */
export function credentialStrategies(route: ResolvedRoute, family: Family | undefined): AuthStrategy[] {
  return route.auth.filter((s) => family?.isCredential?.(s) ?? true);
}

/** The valid credential of a route: its first credential strategy's, else the one its handler checks. */
export function validCredential(route: ResolvedRoute, family: Family | undefined): Credential {
  const strategies = credentialStrategies(route, family);
  if (strategies.length > 0) return family?.credential(strategies[0]) ?? {};
  return family?.handlerCredential?.(route) ?? {};
}

/**
 * The fuzzer's view of one route and method, with realistic values and (unless
 * `withCredential` is false) the family's valid credential.
 */
export function shapeOf(route: ResolvedRoute, family: Family | undefined, withCredential = true): RouteShape {
  const paramProps = propertiesOf(route.route.params as SchemaLike | undefined);
  const segments = segmentsOf(route.fullPath).map((s) => {
    if ('literal' in s) return s;
    const known = family?.params[s.param];
    const value = known ?? String(sample(paramProps[s.param]) ?? '1');
    return { param: s.param, value: encodeURIComponent(value) };
  });
  const headers: Record<string, string> = { ...family?.headers };
  const baseQuery: Array<[string, string]> = [...(family?.query ?? [])];
  const body = family?.body?.(route);
  if (withCredential) {
    const c = validCredential(route, family);
    Object.assign(headers, c.headers);
    baseQuery.push(...(c.query ?? []));
  }
  // Required query parameters get valid values.
  const query = route.route.query as SchemaLike | undefined;
  const required = new Set(query?.required ?? []);
  for (const [name, prop] of Object.entries(propertiesOf(query))) {
    if (required.has(name) && !baseQuery.some(([k]) => k === name)) baseQuery.push([name, String(sample(prop))]);
  }
  const accepts = kinds(route);
  const shape: RouteShape = { method: route.method, segments, query, body: route.route.body as SchemaLike | undefined, accepts, headers, baseQuery };
  if (body !== undefined) {
    if (shape.body) shape.baseValue = body.value;
    else shape.rawBody = typeof body.value === 'string' ? body.value : JSON.stringify(body.value);
  } else if (!shape.body && accepts.length > 0) shape.rawBody = '{}';
  return shape;
}
