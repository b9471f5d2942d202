/**
 * The command center's PATCH body, checked as opsdroid's `Payload.from_dict` does, with
 * its exact error texts (which quote Python's types and reprs):
 *
 * - bad JSON: `Unable to decode json.`
 * - a missing key: `"Received payload is missing required key: 'config', please include all required keys ('module_type', 'module_name', 'config') in your payload."`
 * - an unsupported type: `The change type 'web' is not a supported type. Please provide one of the allowed types ('connectors', 'skills', 'databases', 'parsers').`
 * - a wrong type: `The field 'module_name' is of type '<class 'int'>', but should be of type '<class 'str'>'`
 */
import { jsonDepthExceeds, MAX_JSON_DEPTH } from '../../src/index.js';
import type { ModuleType } from './modules.js';

/** The module types a PATCH may change. */
export const PATCHABLE_TYPES: readonly ModuleType[] = ['connectors', 'skills', 'databases', 'parsers'];

/** A valid PATCH body. */
export interface PatchPayload {
  /** The section. */
  module_type: ModuleType;
  /** The module. */
  module_name: string;
  /** The keys to merge into its configuration. */
  config: Record<string, unknown>;
}

/** A PATCH body that does not pass; `reason` is opsdroid's text. */
export class PatchPayloadError extends Error {
  /** @param reason - the 400 reason */
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'PatchPayloadError';
  }
}

/** Python's name of a JSON value's type. */
export function pythonTypeName(value: unknown): string {
  if (value === null) return 'NoneType';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  if (typeof value === 'string') return 'str';
  if (Array.isArray(value)) return 'list';
  return 'dict';
}

/** Python's `repr` of a JSON value. */
export function pythonRepr(value: unknown): string {
  if (typeof value === 'string') {
    const quote = value.includes("'") && !value.includes('"') ? '"' : "'";
    const body = value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
    return `${quote}${quote === "'" ? body.replace(/'/g, "\\'") : body}${quote}`;
  }
  return pythonStr(value);
}

/** Python's `str` of a JSON value (what an f-string shows). */
export function pythonStr(value: unknown): string {
  if (value === null) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return `[${value.map(pythonRepr).join(', ')}]`;
  return `{${Object.entries(value as Record<string, unknown>).map(([k, v]) => `${pythonRepr(k)}: ${pythonRepr(v)}`).join(', ')}}`;
}

const REQUIRED = ['module_type', 'module_name', 'config'] as const;

/** Python's `key in payload` for a JSON value; throws the TypeError text for non-containers. */
function pythonContains(payload: unknown, key: string): boolean {
  if (typeof payload === 'string') return payload.includes(key);
  if (Array.isArray(payload)) return payload.some((v) => v === key);
  if (payload !== null && typeof payload === 'object') return Object.prototype.hasOwnProperty.call(payload, key);
  throw new PatchPayloadError(`argument of type '${pythonTypeName(payload)}' is not iterable`);
}

/** Parses and checks a PATCH body (the raw request text). Throws {@link PatchPayloadError}. */
export function parsePatchPayload(text: string): PatchPayload {
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch {
    throw new PatchPayloadError('Unable to decode json.');
  }
  // Python's json module gives up on deep nesting (RecursionError); so does the kernel, past
  // its limit, before any check recurses into the value.
  if (jsonDepthExceeds(payload, MAX_JSON_DEPTH)) throw new PatchPayloadError('Unable to decode json.');
  for (const key of REQUIRED) {
    if (!pythonContains(payload, key)) {
      // str(KeyError(message)) is the message's repr: in double quotes, since it holds single ones.
      throw new PatchPayloadError(
        `"Received payload is missing required key: '${key}', please include all required keys ('module_type', 'module_name', 'config') in your payload."`,
      );
    }
  }
  if (typeof payload === 'string') throw new PatchPayloadError("string indices must be integers, not 'str'");
  if (Array.isArray(payload)) throw new PatchPayloadError('list indices must be integers or slices, not str');
  const body = payload as Record<string, unknown>;
  const moduleType = body.module_type;
  if (typeof moduleType !== 'string' || !(PATCHABLE_TYPES as readonly string[]).includes(moduleType)) {
    throw new PatchPayloadError(
      `The change type '${pythonStr(moduleType)}' is not a supported type. Please provide one of the allowed types (${PATCHABLE_TYPES.map((t) => `'${t}'`).join(', ')}).`,
    );
  }
  const expected: Record<(typeof REQUIRED)[number], string> = { module_type: 'str', module_name: 'str', config: 'dict' };
  for (const key of REQUIRED) {
    const actual = pythonTypeName(body[key]);
    if (actual !== expected[key]) {
      throw new PatchPayloadError(`The field '${key}' is of type '<class '${actual}'>', but should be of type '<class '${expected[key]}'>'`);
    }
  }
  return { module_type: moduleType as ModuleType, module_name: body.module_name as string, config: body.config as Record<string, unknown> };
}
