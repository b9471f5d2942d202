/**
 * Plugin configuration: validated against the plugin's TypeBox schema at start, with
 * defaults applied and unknown keys rejected, so a typo is an error, not a silent no-op.
 */
import type { TSchema } from 'typebox';
import { Value } from 'typebox/value';
import { configProblems } from './config-problems.js';
import { ErrorCodes, SwitchboardError } from './errors.js';
import { unsafeKeyIn } from './unsafe-keys.js';

/**
 * A copy of `schema` in which every object schema that says nothing about additional
 * properties forbids them. The copy is a TypeBox clone, so it keeps the type's hidden
 * markers that defaults and conversion rely on.
 */
export function closeObjects<T extends TSchema>(schema: T): T {
  const copy = Value.Clone(schema);
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (node === null || typeof node !== 'object') return;
    const s = node as Record<string, unknown>;
    if (s.type === 'object' && s.properties && s.additionalProperties === undefined && s.patternProperties === undefined) {
      s.additionalProperties = false;
    }
    for (const [key, value] of Object.entries(s)) {
      if (key === 'default' || key === 'examples' || key === 'const' || key === 'enum') continue;
      if (key === 'properties' && value && typeof value === 'object') Object.values(value).forEach(visit);
      else visit(value);
    }
  };
  visit(copy);
  return copy;
}

/**
 * Validates a configuration value against a schema: applies defaults, rejects unknown keys,
 * wrong types, and the keys `__proto__`, `constructor` and `prototype` at any depth. Throws
 * `SWB_ERR_INVALID_CONFIG` whose message is one line per problem, each naming the full key
 * (prefixed with `at`, e.g. `plugins.anope`) and what it expects (see {@link configProblems}).
 */
export function validateConfig<T>(at: string, schema: TSchema, raw: unknown, pluginId?: string): T {
  const unsafe = unsafeKeyIn(raw);
  if (unsafe !== undefined) throw new SwitchboardError(ErrorCodes.INVALID_CONFIG, `${at ? `${at}.` : ''}${unsafe}: not allowed (every JavaScript object inherits a property of that name)`, { pluginId });
  const closed = closeObjects(schema);
  const value = Value.Default(closed, Value.Clone(raw ?? {}));
  // Checked once, so interpreted: compiling a validator costs more than it would save.
  if (Value.Check(closed, value)) return value as T;
  throw new SwitchboardError(ErrorCodes.INVALID_CONFIG, configProblems(closed, value, at).join('\n'), { pluginId });
}

/**
 * Validates a plugin's raw config with {@link validateConfig}; the keys are named as the
 * standalone server's config file spells them (`plugins.<id>.<key>`). A plugin without a
 * config schema accepts no configuration.
 */
export function validatePluginConfig<T>(pluginId: string, schema: TSchema | undefined, raw: unknown): T {
  if (!schema) {
    if (raw !== undefined && !(typeof raw === 'object' && raw !== null && Object.keys(raw).length === 0)) {
      throw new SwitchboardError(ErrorCodes.INVALID_CONFIG, `plugins.${pluginId}: takes no configuration`, { pluginId });
    }
    return {} as T;
  }
  return validateConfig<T>(`plugins.${pluginId}`, schema, raw, pluginId);
}
