/**
 * Response serializers compiled from a route's declared response schemas, once, at start.
 *
 * A compiled serializer writes the same text as `JSON.stringify` (same key order, the value's
 * own) except that object properties the schema does not declare are left out: no undeclared
 * field (a password hash a store row carried, an internal flag) leaves the server through a
 * route that declares its answer. Where a schema says nothing about a value's fields (no
 * schema, `Unknown`, an object with `additionalProperties`, a `Record`, an intersection, a
 * reference, a union whose members cannot be told apart by the value's JSON kind) that part
 * is written by `JSON.stringify` unchanged, so a loose schema never drops what clients need.
 *
 * The serializers are closures built from the schema (no generated code, no `eval`).
 */
import type { TSchema } from 'typebox';

/** Writes one JSON body (the whole wire body, envelope included). */
export type JsonSerializer = (value: unknown) => string;

/** Writes one value in a property or array slot; undefined when JSON has nothing for it (a function). */
type Slot = (value: unknown) => string | undefined;

/** A part of the schema that constrains nothing about fields: written by JSON.stringify. */
const LOOSE = Symbol('loose');

type Compiled = Slot | typeof LOOSE;

const stringify: Slot = (value) => JSON.stringify(value);

/**
 * Compiles the serializer of a response schema, or returns undefined when the schema
 * constrains no field anywhere (then `JSON.stringify` is as strict and faster).
 */
export function compileSerializer(schema: TSchema | undefined): JsonSerializer | undefined {
  if (schema === undefined) return undefined;
  const compiled = compile(schema as Schema, 0);
  if (compiled === LOOSE) return undefined;
  return (value) => (value === undefined ? '' : (compiled(value) ?? ''));
}

/** The JSON Schema keywords read here. */
interface Schema {
  type?: unknown;
  properties?: Record<string, Schema>;
  additionalProperties?: unknown;
  patternProperties?: unknown;
  items?: unknown;
  prefixItems?: unknown;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: unknown;
  $ref?: unknown;
  const?: unknown;
}

/** Deeper than any real answer's schema; a recursive schema built by hand stops here, loose. */
const MAX_DEPTH = 32;

function compile(schema: Schema, depth: number): Compiled {
  if (schema === null || typeof schema !== 'object' || depth > MAX_DEPTH) return LOOSE;
  if (schema.$ref !== undefined || schema.allOf !== undefined) return LOOSE;
  const union = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(union)) return compileUnion(union, depth);
  if (schema.type === 'object') return compileObject(schema, depth);
  if (schema.type === 'array') return compileArray(schema, depth);
  return LOOSE;
}

/** An object with declared properties and no others allowed: undeclared keys are left out. */
function compileObject(schema: Schema, depth: number): Compiled {
  const declared = schema.properties;
  const extra = schema.additionalProperties;
  if (declared === null || typeof declared !== 'object' || (extra !== undefined && extra !== false) || schema.patternProperties !== undefined) return LOOSE;
  // A Map, not an object keyed by the schema's names: a property `__proto__` is a key like any other.
  const props = new Map<string, { key: string; write: Slot }>();
  for (const [name, sub] of Object.entries(declared)) {
    const compiled = compile(sub, depth + 1);
    props.set(name, { key: `${JSON.stringify(name)}:`, write: compiled === LOOSE ? stringify : compiled });
  }
  return (input) => {
    const value = prepared(input);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return JSON.stringify(value);
    let out = '{';
    for (const name of Object.keys(value)) {
      const prop = props.get(name);
      if (prop === undefined) continue;
      const field = (value as Record<string, unknown>)[name];
      if (field === undefined) continue;
      const text = prop.write(field);
      if (text === undefined) continue;
      out += out.length === 1 ? prop.key + text : `,${prop.key}${text}`;
    }
    return `${out}}`;
  };
}

/** An array of one item schema; an item JSON cannot write (a function) is `null`, as in JSON.stringify. */
function compileArray(schema: Schema, depth: number): Compiled {
  if (schema.prefixItems !== undefined || schema.items === null || typeof schema.items !== 'object' || Array.isArray(schema.items)) return LOOSE;
  const item = compile(schema.items as Schema, depth + 1);
  if (item === LOOSE) return LOOSE;
  return (input) => {
    const value = prepared(input);
    if (!Array.isArray(value)) return JSON.stringify(value);
    if (value.length === 0) return '[]';
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      const element = value[i] as unknown;
      const text = element === undefined ? undefined : item(element);
      out += (i === 0 ? '' : ',') + (text ?? 'null');
    }
    return `${out}]`;
  };
}

/** The JSON kind of the values a union member accepts. */
type Kind = 'object' | 'array' | 'other';

function kindsOf(schema: Schema): readonly Kind[] | undefined {
  if (schema === null || typeof schema !== 'object') return undefined;
  if (schema.type === 'object') return ['object'];
  if (schema.type === 'array') return ['array'];
  if (typeof schema.type === 'string') return ['other'];
  if (schema.const !== undefined) return schema.const !== null && typeof schema.const === 'object' ? undefined : ['other'];
  return undefined;
}

/**
 * A union is written by the member that accepts the value's JSON kind (object, array, other)
 * when exactly one member does (`Union([Object, Literal('')])`, `Union([Null, Array])`);
 * where two members accept the same kind, or a member accepts anything, that kind is loose.
 */
function compileUnion(members: Schema[], depth: number): Compiled {
  const byKind = new Map<Kind, Schema[]>();
  for (const member of members) {
    const kinds = kindsOf(member);
    if (kinds === undefined) return LOOSE;
    for (const kind of kinds) byKind.set(kind, [...(byKind.get(kind) ?? []), member]);
  }
  const pick = (kind: Kind): Compiled => {
    const list = byKind.get(kind);
    return list?.length === 1 ? compile(list[0], depth + 1) : LOOSE;
  };
  const object = pick('object');
  const array = pick('array');
  if (object === LOOSE && array === LOOSE) return LOOSE;
  return (input) => {
    const value = prepared(input);
    if (value === null || typeof value !== 'object') return JSON.stringify(value);
    const write = Array.isArray(value) ? array : object;
    return write === LOOSE ? JSON.stringify(value) : write(value);
  };
}

/** What JSON.stringify writes for a value with `toJSON` (a Date): the method's result. */
function prepared(value: unknown): unknown {
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') return (value as { toJSON(): unknown }).toJSON();
  return value;
}
