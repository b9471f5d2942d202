/**
 * What is wrong with a configuration value, one line per problem, each naming the full key
 * and what it expects:
 *
 * ```
 * plugins.anope.auth.token: required, at least 16 characters (or auth: tokens | none | host | { middleware } | { strategy })
 * server.port: must be an integer from 0 to 65535 (got a string)
 * server.prot: unknown key (known: host, port)
 * ```
 *
 * A schema node may say what it expects in words with `errorMessage` (the ajv-errors
 * keyword), used instead of its keywords (a `pattern` reads badly).
 *
 * A union is explained by the variant the value was closest to (the one that knows most of
 * the value's keys, then the one with the fewest problems), followed by the alternatives.
 * Values themselves are never shown (a config holds secrets), only their kind.
 */
import type { TSchema } from 'typebox';
import { Value } from 'typebox/value';

/** A JSON-schema node as TypeBox writes it (only the keywords read here). */
interface Node {
  type?: string | string[];
  const?: unknown;
  enum?: unknown[];
  anyOf?: Node[];
  oneOf?: Node[];
  properties?: Record<string, Node>;
  required?: string[];
  patternProperties?: Record<string, Node>;
  additionalProperties?: boolean | Node;
  items?: Node;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  multipleOf?: number;
  /** What the value must be, in words, when the keywords alone would read badly (a pattern). */
  errorMessage?: string;
}

const SIMPLE_KEY = /^[A-Za-z_$][\w$-]*$/;

/** `at` + `.key` (or `["odd key"]` when the key is not a plain name). */
function child(at: string, key: string): string {
  if (!SIMPLE_KEY.test(key)) return `${at}[${JSON.stringify(key)}]`;
  return at ? `${at}.${key}` : key;
}

/** The last segment of a key path (`plugins.anope.auth` → `auth`, `types[0].fields[1]` → `fields[1]`). */
function lastSegment(at: string): string {
  return at.slice(at.lastIndexOf('.') + 1) || '(root)';
}

function types(node: Node): string[] {
  if (node.type === undefined) return [];
  return Array.isArray(node.type) ? node.type : [node.type];
}

/** The kind of a value, for `(got …)`; never the value itself. */
function kind(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'boolean') return 'a boolean';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a number';
  return `a ${typeof value}`;
}

function literal(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whether a value has a JSON type the node accepts (constraints aside). */
function typeMatches(node: Node, value: unknown): boolean {
  if (node.const !== undefined) return typeof node.const === typeof value && (node.const === null) === (value === null);
  const ts = types(node);
  if (ts.length === 0) {
    if (node.anyOf ?? node.oneOf) return (node.anyOf ?? node.oneOf)!.some((v) => typeMatches(v, value));
    return true;
  }
  return ts.some((t) => {
    switch (t) {
      case 'string':
        return typeof value === 'string';
      case 'integer':
      case 'number':
        return typeof value === 'number';
      case 'boolean':
        return typeof value === 'boolean';
      case 'null':
        return value === null;
      case 'array':
        return Array.isArray(value);
      case 'object':
        return isObject(value);
      default:
        return false;
    }
  });
}

function range(node: Node, unit = ''): string | undefined {
  const min = node.minimum ?? (node.exclusiveMinimum !== undefined ? `more than ${node.exclusiveMinimum}` : undefined);
  const max = node.maximum ?? (node.exclusiveMaximum !== undefined ? `less than ${node.exclusiveMaximum}` : undefined);
  if (typeof min === 'number' && typeof max === 'number') return `from ${min} to ${max}${unit}`;
  const parts: string[] = [];
  if (min !== undefined) parts.push(typeof min === 'number' ? `at least ${min}${unit}` : min);
  if (max !== undefined) parts.push(typeof max === 'number' ? `at most ${max}${unit}` : max);
  return parts.length > 0 ? parts.join(' and ') : undefined;
}

/** What a schema node expects, as a phrase: `at least 16 characters`, `an integer from 0 to 65535`. */
function expects(node: Node): string {
  if (typeof node.errorMessage === 'string') return node.errorMessage;
  if (node.const !== undefined) return literal(node.const);
  if (node.enum) return `one of ${node.enum.map(literal).join(' | ')}`;
  const variants = node.anyOf ?? node.oneOf;
  if (variants) return `one of ${variants.map(short).join(' | ')}`;
  const ts = types(node);
  if (ts.length > 1) return ts.map((t) => expects({ ...node, type: t })).join(' or ');
  switch (ts[0]) {
    case 'string': {
      const parts: string[] = [];
      if (node.minLength !== undefined && node.minLength === node.maxLength) parts.push(`exactly ${node.minLength} characters`);
      else {
        if (node.minLength !== undefined && node.minLength > 1) parts.push(`at least ${node.minLength} characters`);
        if (node.maxLength !== undefined) parts.push(`at most ${node.maxLength} characters`);
      }
      if (node.format) parts.push(`a ${node.format}`);
      if (node.pattern) parts.push(`matching /${node.pattern}/`);
      if (parts.length === 0) return node.minLength === 1 ? 'a non-empty string' : 'a string';
      if (node.minLength === 1) parts.unshift('not empty');
      return parts.join(', ');
    }
    case 'integer':
    case 'number': {
      const r = range(node);
      const base = ts[0] === 'integer' ? 'an integer' : 'a number';
      const multiple = node.multipleOf !== undefined ? `, a multiple of ${node.multipleOf}` : '';
      return `${base}${r ? ` ${r}` : ''}${multiple}`;
    }
    case 'boolean':
      return 'true or false';
    case 'null':
      return 'null';
    case 'array': {
      const each = node.items ? ` of ${expects(node.items)}` : '';
      const count = range({ minimum: node.minItems, maximum: node.maxItems }, ' items');
      return `a list${each}${count ? ` (${count})` : ''}`;
    }
    case 'object':
      return 'an object';
    default:
      return 'any value';
  }
}

/** A variant of a union in a few characters: `tokens`, `{ token }`, `a string`. */
function short(node: Node): string {
  if (node.const !== undefined) return literal(node.const);
  if (types(node)[0] === 'object' && node.properties) {
    const keys = node.required && node.required.length > 0 ? node.required : Object.keys(node.properties);
    return `{ ${keys.join(', ')} }`;
  }
  return expects(node);
}

/** How many of an object's keys a variant knows (to pick the variant meant). */
function knownKeys(node: Node, value: unknown): number {
  if (!isObject(value) || !node.properties) return 0;
  return Object.keys(value).filter((k) => value[k] !== undefined && Object.hasOwn(node.properties!, k)).length;
}

function unionProblems(node: Node, variants: Node[], value: unknown, at: string): string[] {
  const candidates = variants.filter((v) => typeMatches(v, value));
  if (candidates.length === 0) {
    return [`${at || '(root)'}: must be one of ${variants.map(short).join(' | ')} (got ${kind(value)})`];
  }
  // A scalar against literal variants: no variant is closer than another.
  if (candidates.every((v) => v.const !== undefined || v.enum !== undefined)) {
    return [`${at || '(root)'}: must be one of ${variants.map(short).join(' | ')}`];
  }
  const scored = candidates.map((v, i) => ({ v, i, known: knownKeys(v, value), problems: problemsAt(v, value, at) }));
  scored.sort((a, b) => b.known - a.known || a.problems.length - b.problems.length || a.i - b.i);
  const best = scored[0];
  if (best.problems.length === 0) return fallback(node as TSchema, value, at);
  const others = variants.filter((v) => v !== best.v);
  if (others.length === 0) return best.problems;
  const suffix = ` (or ${lastSegment(at)}: ${others.map(short).join(' | ')})`;
  return best.problems.map((line) => `${line}${suffix}`);
}

function objectProblems(node: Node, value: Record<string, unknown>, at: string): string[] {
  const lines: string[] = [];
  const props = node.properties ?? {};
  const required = new Set(node.required ?? []);
  for (const [key, prop] of Object.entries(props)) {
    const v = Object.hasOwn(value, key) ? value[key] : undefined;
    if (v === undefined) {
      if (required.has(key)) lines.push(`${child(at, key)}: required, ${expects(prop)}`);
      continue;
    }
    lines.push(...problemsAt(prop, v, child(at, key)));
  }
  const patterns = Object.entries(node.patternProperties ?? {}).map(([re, s]) => [new RegExp(re, 'u'), s] as const);
  for (const key of Object.keys(value)) {
    if (Object.hasOwn(props, key)) continue;
    const matched = patterns.filter(([re]) => re.test(key));
    if (matched.length > 0) {
      for (const [, s] of matched) lines.push(...problemsAt(s, value[key], child(at, key)));
    } else if (node.additionalProperties === false) {
      const known = Object.keys(props);
      lines.push(`${child(at, key)}: unknown key${known.length > 0 ? ` (known: ${known.join(', ')})` : ''}`);
    } else if (isObject(node.additionalProperties)) {
      lines.push(...problemsAt(node.additionalProperties, value[key], child(at, key)));
    }
  }
  return lines;
}

/** The lines for one node and value (empty when the value is valid there). */
/** `Value.Check` as a plain boolean (its type guard would narrow `value` to `never` below). */
function valid(node: Node, value: unknown): boolean {
  return Value.Check(node as TSchema, value);
}

function problemsAt(node: Node, value: unknown, at: string): string[] {
  if (valid(node, value)) return [];
  const name = at || '(root)';
  const variants = node.anyOf ?? node.oneOf;
  if (variants) return unionProblems(node, variants, value, at);
  if (node.const !== undefined) return [`${name}: must be ${literal(node.const)}`];
  if (node.enum) return [`${name}: must be ${expects(node)}`];
  if (!typeMatches(node, value)) return [`${name}: must be ${expects(node)} (got ${kind(value)})`];
  if (Array.isArray(value)) {
    const lines: string[] = [];
    if ((node.minItems !== undefined && value.length < node.minItems) || (node.maxItems !== undefined && value.length > node.maxItems)) {
      lines.push(`${name}: must be ${expects(node)}`);
    }
    if (node.items) value.forEach((item, i) => lines.push(...problemsAt(node.items!, item, `${at}[${i}]`)));
    return lines.length > 0 ? lines : fallback(node as TSchema, value, at);
  }
  if (isObject(value)) {
    const lines = objectProblems(node, value, at);
    return lines.length > 0 ? lines : fallback(node as TSchema, value, at);
  }
  return [`${name}: must be ${expects(node)}`];
}

/** For a keyword this file does not explain: TypeBox's own message, at the right key. */
function fallback(schema: TSchema, value: unknown, at: string): string[] {
  for (const e of Value.Errors(schema, value)) {
    if (e.keyword === 'boolean' || e.keyword === 'anyOf' || e.keyword === 'oneOf') continue;
    const sub = e.instancePath
      .split('/')
      .slice(1)
      .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
      .reduce((acc, seg) => (/^\d+$/.test(seg) ? `${acc}[${seg}]` : child(acc, seg)), at);
    return [`${sub || '(root)'}: ${e.message}`];
  }
  return [`${at || '(root)'}: does not match its schema`];
}

/**
 * Every problem of `value` against `schema`, one line each (`<key>: <what it expects>`),
 * keys prefixed with `at` (e.g. `plugins.anope`). Empty when the value is valid. Duplicate
 * lines are dropped.
 */
export function configProblems(schema: TSchema, value: unknown, at = ''): string[] {
  return [...new Set(problemsAt(schema as Node, value, at))];
}
