/**
 * The hostile inputs of the route fuzzer, built from a route's declaration: a valid base
 * request (realistic path parameters and credentials), then variants of it with malformed
 * and truncated JSON, wrong types for every body and query field, huge strings and arrays,
 * unicode and NUL bytes, path traversal and SQL metacharacters in every path segment and
 * query value, wrong content types, duplicate parameters, deep nesting and prototype keys.
 *
 * Everything is deterministic: variants come from fixed lists, and where a route has more
 * than the per-route budget, a seeded generator picks which ones run.
 */
import type { SchemaLike } from './schema-sample.js';
import { propertiesOf, sample, wrongTypes } from './schema-sample.js';

/** A small seeded PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A stable 32-bit hash of a string (FNV-1a), to seed per route. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Strings that attack whatever a value ends up in: SQL, paths, markup, encodings. */
export const HOSTILE_STRINGS: readonly string[] = [
  "' OR '1'='1' --",
  '"; DROP TABLE users; --',
  '1; SELECT pg_sleep(5)--',
  '%',
  '_',
  '\\',
  '../../../../etc/passwd',
  '..\\..\\windows\\win.ini',
  'a\u0000b',
  '😀\u202e\u200b𝕏',
  '\ud800',
  '<script>alert(1)</script>',
  '${jndi:ldap://x}',
  '{{7*7}}',
  '-1',
  '99999999999999999999999',
  'NaN',
  'null',
  '__proto__',
  'constructor',
];

/** Path segments (already percent-encoded where needed): traversal, SQL, NUL, bad encodings. */
export const HOSTILE_SEGMENTS: readonly string[] = [
  '..',
  '%2e%2e',
  '..%2F..%2F..%2Fetc%2Fpasswd',
  '%2e%2e%5c%2e%2e%5cwin.ini',
  "'%20OR%20'1'%3D'1",
  '1%3B%20DROP%20TABLE%20x--',
  'a%00b',
  '%F0%9F%98%80',
  '%E0%A4%A',
  '%C0%AF',
  '%ED%A0%80',
  '%25',
  '-1',
  '99999999999999999999999',
  '__proto__',
  'x'.repeat(4096),
];

/** Query values (encoded), besides the encoded {@link HOSTILE_STRINGS}. */
export const HOSTILE_QUERY_VALUES: readonly string[] = ['%E0%A4%A', '%C0%AF', 'x'.repeat(8192), '', '%5B%5D', '1e400', '-0', '0x10'];

/** Content types a body may (wrongly) be declared as. */
export const HOSTILE_CONTENT_TYPES: ReadonlyArray<Record<string, string>> = [
  { 'content-type': 'text/plain' },
  { 'content-type': 'application/xml' },
  { 'content-type': 'multipart/form-data; boundary=----x' },
  { 'content-type': 'application/x-www-form-urlencoded' },
  { 'content-type': 'application/json; charset=utf-16' },
  { 'content-type': 'application/json; charset=bogus-8' },
  { 'content-type': 'application/octet-stream' },
  { 'content-type': 'application/json', 'content-encoding': 'gzip' },
  { 'content-type': 'application/json', 'content-encoding': 'x-unknown' },
  { 'content-type': ';;;==' },
];

/** Malformed and truncated JSON bodies. */
export const MALFORMED_JSON: readonly string[] = ['{', '{"a":', '[1,2', '{"value": tru}', '{"a":1}}', "{'a': 1}", '\u0000', '"unterminated', 'NaN', '{"a":1,}'];

/** How a request is encoded. */
export type BodyEncoding = 'json' | 'urlencoded' | 'text' | 'raw';

/** One request of the fuzzer. */
export interface FuzzInput {
  /** What kind of hostility (for reports and counts). */
  kind: string;
  /** A readable label. */
  label: string;
  /** The method. */
  method: string;
  /** The raw request target. */
  path: string;
  /** Headers. */
  headers: Record<string, string | string[]>;
  /** Body. */
  body?: string | Buffer;
}

/** What the generator needs to know about one route and method. */
export interface RouteShape {
  /** The method. */
  method: string;
  /** Path segments: literal text or a parameter with its chosen (encoded) value. */
  segments: Array<{ literal: string } | { param: string; value: string }>;
  /** The query schema. */
  query?: SchemaLike;
  /** The body schema. */
  body?: SchemaLike;
  /** Accepted encodings (first is the natural one). */
  accepts: BodyEncoding[];
  /** Credentials and family headers of the base request. */
  headers: Record<string, string>;
  /** Query parameters of the base request (credentials, format) — name → value (raw). */
  baseQuery: Array<[string, string]>;
  /** A valid body of the base request, when the route takes one without a schema. */
  rawBody?: string;
  /** A realistic body value instead of the schema's sample. */
  baseValue?: unknown;
}

/** Percent-encodes a value; a lone surrogate (which `encodeURIComponent` refuses) becomes its WTF-8 bytes. */
export function encodeValue(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    let out = '';
    for (const ch of value) {
      const code = ch.charCodeAt(0);
      if (ch.length === 1 && code >= 0xd800 && code <= 0xdfff) out += [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)].map((b) => `%${b.toString(16).toUpperCase()}`).join('');
      else out += encodeURIComponent(ch);
    }
    return out;
  }
}

function encodeQuery(pairs: Array<[string, string]>): string {
  if (pairs.length === 0) return '';
  return `?${pairs.map(([k, v]) => `${encodeValue(k)}=${encodeValue(v)}`).join('&')}`;
}

function pathOf(shape: RouteShape, replace?: { index: number; value: string }): string {
  const parts = shape.segments.map((s, i) => (replace && replace.index === i ? replace.value : 'literal' in s ? s.literal : s.value));
  return `/${parts.join('/')}`;
}

/** Encodes a body value the way the route reads it. */
export function encodeBody(value: unknown, encoding: BodyEncoding): { body: string; contentType: string } {
  if (encoding === 'urlencoded') {
    const params = new URLSearchParams();
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) params.append(k, typeof v === 'string' ? v : JSON.stringify(v));
    }
    return { body: params.toString(), contentType: 'application/x-www-form-urlencoded' };
  }
  if (encoding === 'text' || encoding === 'raw') return { body: typeof value === 'string' ? value : JSON.stringify(value), contentType: 'text/plain' };
  return { body: JSON.stringify(value), contentType: 'application/json' };
}

/** Every hostile input for one route and method (before the per-route budget is applied). */
export function hostileInputs(shape: RouteShape): FuzzInput[] {
  const out: FuzzInput[] = [];
  const method = shape.method;
  const basePath = pathOf(shape);
  const baseQuery = shape.baseQuery;
  const takesBody = shape.accepts.length > 0 || shape.body !== undefined;
  const encoding: BodyEncoding = shape.accepts[0] ?? 'json';
  const baseValue = shape.baseValue !== undefined ? shape.baseValue : shape.body ? sample(shape.body) : undefined;
  const base = (() => {
    if (shape.body) return encodeBody(baseValue, encoding);
    if (shape.rawBody !== undefined) return { body: shape.rawBody, contentType: encoding === 'urlencoded' ? 'application/x-www-form-urlencoded' : encoding === 'json' ? 'application/json' : 'text/plain' };
    return undefined;
  })();
  const withBody = (kind: string, label: string, body: string | Buffer, contentType: Record<string, string>, path = basePath + encodeQuery(baseQuery)): FuzzInput => ({
    kind,
    label,
    method,
    path,
    headers: { ...shape.headers, ...contentType },
    body,
  });
  const push = (kind: string, label: string, path: string, extra: Partial<FuzzInput> = {}) =>
    out.push({ kind, label, method, path, headers: { ...shape.headers, ...(base ? { 'content-type': base.contentType } : {}), ...extra.headers }, body: extra.body ?? base?.body });

  // The base request itself.
  push('base', 'valid base request', basePath + encodeQuery(baseQuery));

  // Path segments: traversal, SQL, NUL, unicode and broken encodings in every segment.
  shape.segments.forEach((segment, index) => {
    const values = 'param' in segment ? HOSTILE_SEGMENTS : ['..', '%2e%2e%2f', "'%20OR%201%3D1--"];
    for (const value of values) push(classify('path', value), `segment ${index} = ${value.slice(0, 40)}`, pathOf(shape, { index, value }) + encodeQuery(baseQuery));
  });
  push('path', 'double slashes', basePath.replace(/\//g, '//') + encodeQuery(baseQuery));
  push('path', 'trailing traversal', `${basePath}/../../../../etc/passwd${encodeQuery(baseQuery)}`);

  // Query: every declared field gets hostile strings, its wrong types, duplicates; plus unknown keys.
  const queryProps = propertiesOf(shape.query);
  const queryNames = [...Object.keys(queryProps), ...baseQuery.map(([k]) => k)].filter((v, i, a) => a.indexOf(v) === i);
  for (const name of queryNames) {
    const others = baseQuery.filter(([k]) => k !== name);
    for (const value of HOSTILE_STRINGS) push(classify('query', value), `${name}=${JSON.stringify(value).slice(0, 40)}`, basePath + encodeQuery([...others, [name, value]]));
    for (const value of HOSTILE_QUERY_VALUES) push(classify('query', value), `${name}=(encoded) ${value.slice(0, 20)}`, basePath + encodeQuery(others) + `${others.length ? '&' : '?'}${encodeURIComponent(name)}=${value}`);
    for (const value of wrongTypes(queryProps[name])) push(classify('query-type', value), `${name} of wrong type ${JSON.stringify(value).slice(0, 30)}`, basePath + encodeQuery([...others, [name, typeof value === 'string' ? value : JSON.stringify(value)]]));
    const current = baseQuery.find(([k]) => k === name)?.[1] ?? 'x';
    push('duplicate', `${name} twice`, basePath + encodeQuery([...baseQuery.filter(([k]) => k !== name), [name, current], [name, 'second']]));
    push('duplicate', `${name}[] array syntax`, basePath + encodeQuery([...baseQuery.filter(([k]) => k !== name), [`${name}[]`, current], [`${name}[0]`, 'x']]));
  }
  push('query', 'unknown and prototype keys', basePath + encodeQuery([...baseQuery, ['__proto__', 'x'], ['constructor[prototype][admin]', 'true'], ['unknown', "' OR 1=1"]]));
  push('query', 'a thousand parameters', basePath + encodeQuery([...baseQuery, ...Array.from({ length: 1000 }, (_, i): [string, string] => [`p${i}`, 'x'])]));

  if (!takesBody && method === 'GET') {
    // A body where none belongs.
    out.push(withBody('malformed-json', 'malformed JSON on a GET', '{"a":', { 'content-type': 'application/json' }));
    out.push(withBody('huge', '1.5 MB body on a GET', Buffer.alloc(1536 * 1024, 0x61), { 'content-type': 'application/json' }));
    out.push(withBody('content-type', 'odd content type on a GET', '<x/>', { 'content-type': ';;;==' }));
  } else {
    // Malformed and truncated JSON.
    for (const text of MALFORMED_JSON) out.push(withBody('malformed-json', `malformed ${JSON.stringify(text)}`, text, { 'content-type': 'application/json' }));
    if (base) {
      const cut = base.body.slice(0, Math.max(1, Math.floor(base.body.length / 2)));
      out.push(withBody('malformed-json', 'truncated base body', cut, { 'content-type': base.contentType }));
    }
    // Wrong top-level types.
    for (const value of [[], 'a string', 42, null, true]) out.push(withBody('body-type', `body is ${JSON.stringify(value)}`, JSON.stringify(value), { 'content-type': 'application/json' }));
    // Wrong types, huge values, unicode and NUL for every body field.
    const props = propertiesOf(shape.body);
    for (const [name, prop] of Object.entries(props)) {
      const variants: Array<[string, string, unknown]> = [];
      for (const value of wrongTypes(prop)) variants.push([classify('body-type', value), `${name} of wrong type ${JSON.stringify(value).slice(0, 30)}`, value]);
      variants.push(['huge', `${name} = 200 kB string`, 'h'.repeat(200_000)]);
      variants.push(['huge', `${name} = 100 000-element array`, Array.from({ length: 100_000 }, () => 1)]);
      for (const value of ['a\u0000b', '😀\u202e𝕏', '\ud800', "' OR '1'='1' --", '../../etc/passwd']) variants.push([classify('unicode', value), `${name} = ${JSON.stringify(value)}`, value]);
      variants.push(['body-type', `${name} = nested object`, { $gt: '', __proto__: { admin: true } }]);
      for (const [kind, label, value] of variants) {
        const body = { ...(baseValue && typeof baseValue === 'object' && !Array.isArray(baseValue) ? baseValue : {}), [name]: value };
        const encoded = encodeBody(body, encoding);
        out.push(withBody(kind, label, encoded.body, { 'content-type': encoded.contentType }));
      }
    }
    // Unknown, duplicate and prototype keys.
    const baseObj = baseValue && typeof baseValue === 'object' && !Array.isArray(baseValue) ? (baseValue as Record<string, unknown>) : {};
    const firstKey = Object.keys(props)[0] ?? 'value';
    const dupJson = `{${[...Object.entries(baseObj).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`), `${JSON.stringify(firstKey)}:{"dup":["licate"]}`].join(',')}}`;
    out.push(withBody('duplicate', `duplicate JSON key ${firstKey}`, dupJson, { 'content-type': 'application/json' }));
    out.push(withBody('duplicate', 'duplicate form field', `${encodeURIComponent(firstKey)}=a&${encodeURIComponent(firstKey)}=b&${encodeURIComponent(firstKey)}[]=c`, { 'content-type': 'application/x-www-form-urlencoded' }));
    out.push(withBody('body-type', 'prototype keys', '{"__proto__":{"admin":true,"isAdmin":true},"constructor":{"prototype":{"polluted":1}}}', { 'content-type': 'application/json' }));
    out.push(withBody('body-type', 'unknown keys', JSON.stringify({ ...baseObj, unknownField: "'; DROP TABLE x; --", $where: '1' }), { 'content-type': 'application/json' }));
    // Deep nesting (past the kernel's JSON depth limit) and a body past the size limit.
    out.push(withBody('huge', 'JSON nested 5000 deep', `${'['.repeat(5000)}${']'.repeat(5000)}`, { 'content-type': 'application/json' }));
    out.push(withBody('huge', 'object nested 100 deep', `${'{"a":'.repeat(100)}1${'}'.repeat(100)}`, { 'content-type': 'application/json' }));
    out.push(withBody('huge', '1.5 MB body (past the default limit)', Buffer.alloc(1536 * 1024, 0x61), { 'content-type': base?.contentType ?? 'application/json' }));
    out.push(withBody('unicode', 'invalid UTF-8 bytes', Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0xff, 0xfe, 0x22, 0x7d]), { 'content-type': 'application/json' }));
    out.push(withBody('unicode', 'UTF-16 with BOM', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(base?.body ?? '{}', 'utf16le')]), { 'content-type': 'application/json' }));
    // Wrong content types on the base body.
    for (const headers of HOSTILE_CONTENT_TYPES) out.push(withBody('content-type', `content-type ${Object.values(headers).join(' + ')}`, base?.body ?? '{"value":"x"}', headers));
    out.push({ kind: 'content-type', label: 'no content-type', method, path: basePath + encodeQuery(baseQuery), headers: { ...shape.headers }, body: base?.body ?? '{"value":"x"}' });
  }
  return out;
}

/**
 * The kinds that always run in full, whatever the budget: NUL characters and numbers past
 * a column's range are what databases refuse with an error (PostgreSQL stores no NUL in
 * text and has 32-bit integer ids), so they find the bugs a 5xx shows.
 */
export const ALWAYS: ReadonlySet<string> = new Set(['base', 'nul', 'range']);

const NUL = /\u0000|%00/;
const RANGE = new Set(['-1', '99999999999999999999999', '1e400', String(2 ** 63)]);

/** The kind of a value: `nul` and `range` values are set apart from the generic kind. */
function classify(kind: string, value: unknown): string {
  if (typeof value === 'string' && NUL.test(value)) return 'nul';
  if ((typeof value === 'number' && (value < 0 || value > 2 ** 31)) || (typeof value === 'string' && RANGE.has(value))) return 'range';
  return kind;
}

/** Applies the per-route budget: every {@link ALWAYS} input and one of each other kind, the rest picked by a seeded generator. */
export function budget(inputs: FuzzInput[], max: number, seed: number): FuzzInput[] {
  if (inputs.length <= max) return inputs;
  const rand = prng(seed);
  const keep = new Set<number>();
  const seenKinds = new Set<string>();
  inputs.forEach((input, i) => {
    if (ALWAYS.has(input.kind) || !seenKinds.has(input.kind)) {
      seenKinds.add(input.kind);
      keep.add(i);
    }
  });
  const rest = inputs.map((_, i) => i).filter((i) => !keep.has(i));
  while (keep.size < max && rest.length > 0) keep.add(rest.splice(Math.floor(rand() * rest.length), 1)[0]);
  return inputs.filter((_, i) => keep.has(i));
}
