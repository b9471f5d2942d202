/**
 * The pollution fuzzer's requests for one route, built from its declaration (the route
 * registry's schemas, through {@link RouteShape}): the names `__proto__`, `constructor` and
 * `prototype` in every path parameter, every query value and as query keys, in every string
 * field of every body variant the schema allows (nested ones included, alone and with every
 * other string field set to `polluted`), and as JSON object keys at every depth (added, and
 * in place of the first key, so a map keyed by client text gets them as keys).
 *
 * Everything else in a request is the valid base request, with valid credentials, so the
 * names reach the handlers rather than a validation or auth refusal.
 */
import type { BodyEncoding, FuzzInput, RouteShape } from '../fixtures-a/hostile.js';
import { encodeValue } from '../fixtures-a/hostile.js';
import { propertiesOf, sample, type SchemaLike } from '../fixtures-a/schema-sample.js';

/** The three names. */
export const PROTO_NAMES = ['__proto__', 'constructor', 'prototype'] as const;

/** The value other string fields get, so that a write such as `Object.prototype[key] = val` shows as `({}).polluted`. */
export const POLLUTED = 'polluted';

type Path = Array<string | number>;

function encodeQuery(pairs: ReadonlyArray<readonly [string, string]>): string {
  return pairs.length === 0 ? '' : `?${pairs.map(([k, v]) => `${encodeValue(k)}=${encodeValue(v)}`).join('&')}`;
}

function pathOf(shape: RouteShape, replace?: { index: number; value: string }): string {
  return `/${shape.segments.map((s, i) => (replace && replace.index === i ? replace.value : 'literal' in s ? s.literal : s.value)).join('/')}`;
}

/**
 * A valid value for a schema, like {@link sample}, that also fills maps (records) with one
 * entry; with `requiredOnly`, objects get only their required properties (a handler's own
 * checks often refuse the schema sampler's values for optional fields, such as a setting's
 * `type: "sample"`).
 */
export function sampleFull(schema: SchemaLike | undefined, depth = 0, requiredOnly = false): unknown {
  if (!schema || depth > 8) return sample(schema);
  if (schema.default !== undefined || schema.const !== undefined || schema.enum) return sample(schema);
  const branches = schema.anyOf ?? schema.oneOf;
  if (branches && branches.length > 0) return sampleFull(branches[0], depth + 1, requiredOnly);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  if (type === 'array') return Array.from({ length: Math.max(schema.minItems ?? 0, 1) }, () => sampleFull(schema.items, depth + 1, requiredOnly));
  if (type === 'object') {
    const out: Record<string, unknown> = {};
    const required = new Set(schema.required ?? []);
    for (const [key, prop] of Object.entries(schema.properties ?? {})) if (!requiredOnly || required.has(key)) out[key] = sampleFull(prop, depth + 1, requiredOnly);
    const valueSchema = Object.values(schema.patternProperties ?? {})[0] ?? (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
    if (Object.keys(out).length === 0 && valueSchema) out.Sample = sampleFull(valueSchema, depth + 1, requiredOnly);
    return out;
  }
  return sample(schema, depth);
}

/** Every body a route's schema describes: one per branch of a top-level union, else one. */
function bodyBases(shape: RouteShape): unknown[] {
  const out: unknown[] = [];
  if (shape.baseValue !== undefined) out.push(shape.baseValue);
  if (shape.body) {
    const branches = shape.body.anyOf ?? shape.body.oneOf ?? [shape.body];
    for (const b of branches) out.push(sampleFull(b), sampleFull(b, 0, true));
  }
  if (shape.rawBody !== undefined) {
    try {
      out.push(JSON.parse(shape.rawBody));
    } catch {
      out.push(shape.rawBody);
    }
  }
  const seen = new Set<string>();
  return out.filter((v) => {
    const key = JSON.stringify(v);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Paths to every string leaf and every object node of a value. */
function walk(value: unknown, path: Path = [], found: { strings: Path[]; objects: Path[] } = { strings: [], objects: [] }) {
  if (typeof value === 'string') found.strings.push(path);
  else if (Array.isArray(value)) value.forEach((v, i) => walk(v, [...path, i], found));
  else if (value !== null && typeof value === 'object') {
    found.objects.push(path);
    for (const [k, v] of Object.entries(value)) walk(v, [...path, k], found);
  }
  return found;
}

/** A copy of `value` with the node at `path` replaced by what `change` makes of it. */
function edit(value: unknown, path: Path, change: (node: unknown) => unknown): unknown {
  if (path.length === 0) return change(value);
  const [head, ...rest] = path;
  if (Array.isArray(value)) return value.map((v, i) => (i === head ? edit(v, rest, change) : v));
  // Object.fromEntries defines own properties, so a key `__proto__` stays a key (and JSON.stringify writes it).
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, k === head ? edit(v, rest, change) : v]));
}

function nodeAt(value: unknown, path: Path): unknown {
  let node = value;
  for (const step of path) node = (node as Record<string | number, unknown>)[step];
  return node;
}

function entriesOf(node: unknown): Array<[string, unknown]> {
  return Object.entries(node as Record<string, unknown>);
}

/** The body variants of one base value, each with a label. */
function bodyVariants(base: unknown): Array<[string, string, unknown]> {
  if (typeof base === 'string') return PROTO_NAMES.map((n) => ['body-text', `body = ${n}`, n]);
  const out: Array<[string, string, unknown]> = [];
  const { strings, objects } = walk(base);
  for (const name of PROTO_NAMES) {
    for (const leaf of strings) {
      const at = leaf.join('.') || '(body)';
      out.push(['body-value', `${at} = ${name}`, edit(base, leaf, () => name)]);
      if (strings.length > 1) {
        let v = base;
        for (const other of strings) v = edit(v, other, () => (other === leaf ? name : POLLUTED));
        out.push(['body-value-fill', `${at} = ${name}, other strings = ${POLLUTED}`, v]);
      }
    }
    for (const node of objects) {
      const at = node.join('.') || '(body)';
      out.push(['body-key-added', `${at} gets key ${name}`, edit(base, node, (n) => Object.fromEntries([...entriesOf(n), [name, { [POLLUTED]: 'yes' }]]))]);
      // A map keyed by client text (a record) has one sampled entry: its key becomes the name.
      // (Renaming a fixed property only makes an unknown key, which "gets key" covers.)
      const [first] = entriesOf(nodeAt(base, node));
      if (first) out.push(['body-key-renamed', `${at}: key ${first[0]} renamed ${name}`, edit(base, node, (n) => Object.fromEntries(entriesOf(n).map(([k, v]) => [k === first[0] ? name : k, v])))]);
    }
  }
  return out;
}

function isFlat(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && Object.values(value).every((v) => v === null || typeof v !== 'object');
}

function encode(value: unknown, encoding: BodyEncoding): { body: string; contentType: string } | undefined {
  if (encoding === 'urlencoded') {
    if (!isFlat(value)) return undefined;
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(value)) params.append(k, String(v));
    return { body: params.toString(), contentType: 'application/x-www-form-urlencoded' };
  }
  if (encoding === 'text' || encoding === 'raw') return { body: typeof value === 'string' ? value : JSON.stringify(value), contentType: 'text/plain' };
  return { body: JSON.stringify(value), contentType: 'application/json' };
}

/** The valid base request of a route (for reading back what the fuzz stored). */
export function baseInput(shape: RouteShape): FuzzInput {
  const bases = bodyBases(shape);
  const encoding: BodyEncoding = shape.accepts[0] ?? 'json';
  const body = bases.length > 0 ? (shape.rawBody !== undefined && shape.baseValue === undefined && !shape.body ? { body: shape.rawBody, contentType: encoding === 'json' ? 'application/json' : 'text/plain' } : encode(bases[0], encoding)) : undefined;
  return { kind: 'base', label: 'base', method: shape.method, path: pathOf(shape) + encodeQuery(shape.baseQuery), headers: { ...shape.headers, ...(body ? { 'content-type': body.contentType } : {}) }, ...(body ? { body: body.body } : {}) };
}

/** Every pollution request for one route and method, without duplicates. */
export function pollutionInputs(shape: RouteShape): FuzzInput[] {
  const out: FuzzInput[] = [];
  const seen = new Set<string>();
  const method = shape.method;
  const base = baseInput(shape);
  const push = (kind: string, label: string, path: string, body?: { body: string; contentType: string }) => {
    const input: FuzzInput = body
      ? { kind, label, method, path, headers: { ...shape.headers, 'content-type': body.contentType }, body: body.body }
      : { kind, label, method, path, headers: base.headers, ...(base.body !== undefined ? { body: base.body } : {}) };
    const key = `${input.path}\u0000${input.headers['content-type'] ?? ''}\u0000${String(input.body ?? '')}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push(input);
  };
  const basePath = pathOf(shape);
  const baseQuery = shape.baseQuery;

  // Path parameters.
  shape.segments.forEach((segment, index) => {
    if ('param' in segment) for (const name of PROTO_NAMES) push('path', `${segment.param} = ${name}`, pathOf(shape, { index, value: name }) + encodeQuery(baseQuery));
  });

  // Query values and keys.
  const declared = Object.entries(propertiesOf(shape.query));
  const queryNames = [...new Set([...declared.map(([k]) => k), ...baseQuery.map(([k]) => k)])];
  for (const name of PROTO_NAMES) {
    for (const q of queryNames) {
      const others = baseQuery.filter(([k]) => k !== q);
      push('query', `${q}=${name}`, basePath + encodeQuery([...others, [q, name]]));
      const fill = declared.filter(([k, s]) => k !== q && !baseQuery.some(([b]) => b === k) && (s.type === 'string' || s.type === undefined)).map(([k]): [string, string] => [k, POLLUTED]);
      if (fill.length > 0) push('query', `${q}=${name}, other string fields = ${POLLUTED}`, basePath + encodeQuery([...others, ...fill, [q, name]]));
    }
  }
  // The names as query keys, all in one request (the kernel's query objects have no prototype).
  push('query-key', 'query keys', basePath + encodeQuery([...baseQuery, ...PROTO_NAMES.flatMap((name): Array<[string, string]> => [[name, POLLUTED], [`${name}[${POLLUTED}]`, 'yes']])]));

  // Bodies.
  const takesBody = shape.accepts.length > 0 || shape.body !== undefined;
  if (takesBody) {
    const encodings: BodyEncoding[] = shape.accepts.length > 0 ? [...new Set(shape.accepts)] : ['json'];
    const query = basePath + encodeQuery(baseQuery);
    for (const value of bodyBases(shape)) {
      for (const [kind, label, variant] of bodyVariants(value)) {
        for (const encoding of encodings) {
          const body = encode(variant, encoding);
          if (body) push(kind, `${encoding}: ${label}`, query, body);
        }
      }
    }
  }
  return out;
}
