/**
 * Values from TypeBox (JSON Schema) schemas: a valid sample, and values of every wrong
 * JSON type for a field — the raw material of the route fuzzer.
 */

/** A JSON schema as TypeBox builds it (only what the sampler reads). */
export interface SchemaLike {
  type?: string | string[];
  properties?: Record<string, SchemaLike>;
  required?: string[];
  items?: SchemaLike;
  anyOf?: SchemaLike[];
  oneOf?: SchemaLike[];
  allOf?: SchemaLike[];
  const?: unknown;
  enum?: unknown[];
  default?: unknown;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  exclusiveMinimum?: number;
  maximum?: number;
  minItems?: number;
  pattern?: string;
  format?: string;
  additionalProperties?: boolean | SchemaLike;
  patternProperties?: Record<string, SchemaLike>;
}

/** The JSON types a value can have. */
export type JsonKind = 'string' | 'integer' | 'number' | 'boolean' | 'null' | 'array' | 'object';

/** The JSON kinds a schema accepts (empty: anything). */
export function kindsOf(schema: SchemaLike | undefined): Set<JsonKind> {
  const out = new Set<JsonKind>();
  if (!schema) return out;
  const branches = schema.anyOf ?? schema.oneOf;
  if (branches) {
    for (const b of branches) for (const k of kindsOf(b)) out.add(k);
    return out;
  }
  if (schema.const !== undefined) {
    out.add(kindOfValue(schema.const));
    return out;
  }
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  for (const t of types) {
    out.add(t as JsonKind);
    if (t === 'number') out.add('integer');
  }
  return out;
}

/** The JSON kind of a value. */
export function kindOfValue(value: unknown): JsonKind {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value as JsonKind;
}

/** A string that fits a pattern we know, else one of the right length. */
function sampleString(schema: SchemaLike): string {
  if (schema.pattern) {
    // The patterns the families use: tokens, digits, URL schemes.
    if (/\[a-z0-9\]\{4,30\}/.test(schema.pattern)) return 'abcd1234';
    if (/\\d|\[0-9\]|\[1-9\]/.test(schema.pattern)) return '1';
    if (/https\?/.test(schema.pattern)) return 'https://example.org/';
  }
  if (schema.format === 'uri') return 'https://example.org/';
  const min = schema.minLength ?? 0;
  const base = 'sample';
  return base.length >= min ? base.slice(0, Math.min(base.length, schema.maxLength ?? base.length)) : base.padEnd(min, 'x');
}

/** A valid value for the schema (every property, first branch of unions). */
export function sample(schema: SchemaLike | undefined, depth = 0): unknown {
  if (!schema || depth > 8) return 'x';
  if (schema.default !== undefined) return structuredClone(schema.default);
  if (schema.const !== undefined) return schema.const;
  if (schema.enum) return schema.enum[0];
  const branches = schema.anyOf ?? schema.oneOf;
  if (branches && branches.length > 0) return sample(branches[0], depth + 1);
  if (schema.allOf && schema.allOf.length > 0) return sample(schema.allOf[0], depth + 1);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'string':
      return sampleString(schema);
    case 'integer':
    case 'number':
      return Math.max(schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + 1 : 1), 1);
    case 'boolean':
      return true;
    case 'null':
      return null;
    case 'array':
      return Array.from({ length: Math.max(schema.minItems ?? 0, 1) }, () => sample(schema.items, depth + 1));
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [key, prop] of Object.entries(schema.properties ?? {})) out[key] = sample(prop, depth + 1);
      return out;
    }
    default:
      return 'x';
  }
}

/** One value of each JSON kind. */
const ONE_OF_EACH: Record<JsonKind, unknown> = {
  string: 'not-the-right-type',
  integer: 12345,
  number: 1.5e308,
  boolean: true,
  null: null,
  array: [1, 'two', null],
  object: { nested: { deeper: 'x' } },
};

/** Values of kinds the schema does not accept (all kinds when it accepts only some). */
export function wrongTypes(schema: SchemaLike | undefined): unknown[] {
  const accepted = kindsOf(schema);
  if (accepted.size === 0) return [];
  const out: unknown[] = [];
  for (const [kind, value] of Object.entries(ONE_OF_EACH) as Array<[JsonKind, unknown]>) {
    if (accepted.has(kind)) continue;
    if (kind === 'number' && accepted.has('integer')) out.push(1.5); // a fraction where an integer belongs
    else out.push(value);
  }
  // Out-of-range numbers where numbers belong.
  if (accepted.has('integer') || accepted.has('number')) out.push(-1, 2 ** 63);
  return out;
}

/** The object properties of a schema (first object branch of a union), or none. */
export function propertiesOf(schema: SchemaLike | undefined): Record<string, SchemaLike> {
  if (!schema) return {};
  if (schema.properties) return schema.properties;
  for (const b of schema.anyOf ?? schema.oneOf ?? []) {
    const p = propertiesOf(b);
    if (Object.keys(p).length > 0) return p;
  }
  return {};
}
