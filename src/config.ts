/**
 * Plugin configuration: validated against the plugin's TypeBox schema at start, with
 * defaults applied and unknown keys rejected, so a typo is an error, not a silent no-op.
 */
import type { TSchema } from 'typebox';
import { Value } from 'typebox/value';
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
 * wrong types, and the keys `__proto__`, `constructor` and `prototype` at any depth. Throws `SWB_ERR_INVALID_CONFIG` whose message starts with
 * `Invalid config for <label>:` and names every offending key.
 */
export function validateConfig<T>(label: string, schema: TSchema, raw: unknown, pluginId?: string): T {
  const unsafe = unsafeKeyIn(raw);
  if (unsafe !== undefined) throw new SwitchboardError(ErrorCodes.INVALID_CONFIG, `Invalid config for ${label}: key '${unsafe}' is not allowed (every JavaScript object inherits a property of that name)`, { pluginId });
  const closed = closeObjects(schema);
  const value = Value.Default(closed, Value.Clone(raw ?? {}));
  // Checked once, so interpreted: compiling a validator costs more than it would save.
  if (Value.Check(closed, value)) return value as T;
  const problems: string[] = [];
  for (const e of Value.Errors(closed, value)) {
    if (e.keyword === 'boolean' || e.keyword === 'anyOf' || e.keyword === 'oneOf') continue;
    const params = e.params as { requiredProperties?: string[]; additionalProperties?: string[] };
    const at = e.instancePath.replace(/^\//, '').replace(/\//g, '.');
    if (params.additionalProperties) {
      for (const key of params.additionalProperties) problems.push(`unknown key '${at ? `${at}.` : ''}${key}'`);
    } else if (params.requiredProperties) {
      for (const key of params.requiredProperties) problems.push(`missing key '${at ? `${at}.` : ''}${key}'`);
    } else problems.push(`key '${at || '(root)'}' ${e.message}`);
  }
  if (problems.length === 0) problems.push('it does not match its schema');
  throw new SwitchboardError(ErrorCodes.INVALID_CONFIG, `Invalid config for ${label}: ${[...new Set(problems)].join('; ')}`, { pluginId });
}

/**
 * Validates a plugin's raw config with {@link validateConfig}; the error names the plugin.
 * A plugin without a config schema accepts no configuration.
 */
export function validatePluginConfig<T>(pluginId: string, schema: TSchema | undefined, raw: unknown): T {
  if (!schema) {
    if (raw !== undefined && !(typeof raw === 'object' && raw !== null && Object.keys(raw).length === 0)) {
      throw new SwitchboardError(ErrorCodes.INVALID_CONFIG, `Invalid config for plugin '${pluginId}': it takes no configuration`, { pluginId });
    }
    return {} as T;
  }
  return validateConfig<T>(`plugin '${pluginId}'`, schema, raw, pluginId);
}
