/**
 * Request validation with TypeBox: each validator is compiled once, on its first request;
 * strings from the path, query, headers and forms are converted to the schema's types.
 */
import { Compile, type Validator } from 'typebox/compile';
import type { TSchema } from 'typebox';
import { Value } from 'typebox/value';
import { HttpError, HttpErrorCodes, type ValidationIssue } from './http-error.js';

type Location = ValidationIssue['location'];

/** A compiled validator for one part of a request. */
export interface PartValidator {
  /** Converts (when asked), applies defaults, checks; returns the value or the issues. */
  validate(value: unknown, convert: boolean): PartValidation;
}

/** The result of validating one request part. */
export type PartValidation =
  | {
      /** The part is valid. */
      ok: true;
      /** The converted value, defaults applied. */
      value: unknown;
    }
  | {
      /** The part is invalid. */
      ok: false;
      /** What is wrong with it. */
      issues: ValidationIssue[];
    };

function hasDefaults(schema: unknown): boolean {
  if (schema === null || typeof schema !== 'object') return false;
  if ('default' in (schema as object)) return true;
  return Object.values(schema as object).some((v) => typeof v === 'object' && hasDefaults(v));
}

function issuesOf(validator: Validator, location: Location, value: unknown): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  for (const e of validator.Errors(value)) {
    // anyOf/oneOf branches each report; keep the summary line, not every branch.
    if (e.keyword === 'const' && /anyOf|oneOf/.test(e.schemaPath)) continue;
    if (e.keyword === 'boolean' && e.message === 'schema is false') continue;
    const params = e.params as { requiredProperties?: string[]; additionalProperties?: string[] };
    if (e.keyword === 'required' && params.requiredProperties) {
      for (const property of params.requiredProperties) {
        issues.push({ location, path: e.instancePath, property, keyword: 'required', message: `${location}${e.instancePath} is missing required property '${property}'` });
      }
    } else if (e.keyword === 'additionalProperties' && params.additionalProperties) {
      for (const property of params.additionalProperties) {
        issues.push({ location, path: e.instancePath, property, keyword: 'additionalProperties', message: `${location}${e.instancePath} has unknown property '${property}'` });
      }
    } else {
      const property = e.instancePath.split('/').filter(Boolean).pop();
      issues.push({ location, path: e.instancePath, property, keyword: e.keyword, message: `${location}${e.instancePath} ${e.message}` });
    }
  }
  if (issues.length === 0) issues.push({ location, path: '', keyword: 'schema', message: `${location} is invalid` });
  return issues;
}

type Primitive = 'string' | 'integer' | 'number' | 'boolean';

/**
 * For the common case — a flat object of strings, numbers, integers and booleans, as path
 * and query schemas are — a conversion plan that turns the string values into their types
 * without walking the schema on every request. Returns undefined for anything else.
 */
function flatPlan(schema: TSchema): Array<[string, Primitive]> | undefined {
  const s = schema as { type?: unknown; properties?: Record<string, { type?: unknown }> };
  if (s.type !== 'object' || !s.properties) return undefined;
  const plan: Array<[string, Primitive]> = [];
  for (const [key, prop] of Object.entries(s.properties)) {
    if (prop.type !== 'string' && prop.type !== 'integer' && prop.type !== 'number' && prop.type !== 'boolean') return undefined;
    if (prop.type !== 'string') plan.push([key, prop.type]);
  }
  return plan;
}

const NUMERIC = /^-?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;

/** Applies a flat plan to a copy of `value`; values it cannot convert are left for TypeBox. */
function convertFlat(value: unknown, plan: Array<[string, Primitive]>): unknown {
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const [key, type] of plan) {
    const v = out[key];
    if (typeof v !== 'string') continue;
    if (type === 'boolean') {
      if (v === 'true') out[key] = true;
      else if (v === 'false') out[key] = false;
    } else if (NUMERIC.test(v)) out[key] = Number(v);
  }
  return out;
}

/**
 * Validators by schema object: routes often share one schema (a path parameter, a form used as
 * query and body), and it is compiled once. Keyed by identity, never by content — a schema
 * can hold functions (refinements) that two equal-looking schemas do not share.
 */
const compiled = new WeakMap<TSchema, { validator: Validator; defaults: boolean; plan: ReturnType<typeof flatPlan> }>();

/** The compiled validator of a schema, shared by every part that uses the schema. */
function compiledFor(schema: TSchema): { validator: Validator; defaults: boolean; plan: ReturnType<typeof flatPlan> } {
  let entry = compiled.get(schema);
  if (!entry) {
    entry = { validator: Compile(schema), defaults: hasDefaults(schema), plan: flatPlan(schema) };
    compiled.set(schema, entry);
  }
  return entry;
}

/**
 * The validator of one request part. It is compiled on the part's first request, not when
 * the kernel starts: compiling every route's validators took a fifth of the standalone
 * server's start (issue 17), and most servers use few of their routes.
 */
export function compilePart(location: Location, schema: TSchema): PartValidator {
  let entry: ReturnType<typeof compiledFor> | undefined;
  return {
    validate(value, convert) {
      const { validator, defaults, plan } = (entry ??= compiledFor(schema));
      if (validator.Check(value) && !defaults) return { ok: true, value };
      if (convert && plan && !defaults) {
        const fast = convertFlat(value, plan);
        if (validator.Check(fast)) return { ok: true, value: fast };
      }
      // Converting and defaulting write into the value (nested parts too): a deep copy, so the
      // request keeps its own.
      let candidate = (convert || defaults) && value !== null && typeof value === 'object' ? Value.Clone(value) : value;
      if (convert) candidate = validator.Convert(candidate);
      if (defaults) candidate = validator.Default(candidate);
      if (validator.Check(candidate)) return { ok: true, value: candidate };
      return { ok: false, issues: issuesOf(validator, location, candidate) };
    },
  };
}

/** The default rendering of validation issues: a 400 listing them. */
export function validationError(issues: ValidationIssue[]): HttpError {
  return new HttpError(400, issues.map((i) => i.message).join('; '), { code: HttpErrorCodes.VALIDATION, issues });
}
