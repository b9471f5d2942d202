/**
 * Modules as the command center shows them. opsdroid's four module sections — `connectors`,
 * `skills`, `databases`, `parsers` — are maps from a module's name to its configuration; a
 * loaded module's configuration also carries what opsdroid's loader adds (`name`, `module`,
 * `type`, `enabled`, `entrypoint`, `module_path`, `install_path`, `branch`). Sensitive keys
 * are removed before anything is shown.
 */
import { Type } from '../../src/index.js';

/** The four module sections, in the order the runtime starts them. */
export const MODULE_TYPES = ['databases', 'parsers', 'skills', 'connectors'] as const;

/** A module section. */
export type ModuleType = (typeof MODULE_TYPES)[number];

/** A module's configuration. */
export type ModuleConfig = Record<string, unknown>;

/** The `type` opsdroid's loader writes into each module's config. */
export const MODULE_TYPE_LABEL: Record<ModuleType, string> = { connectors: 'connector', skills: 'skill', databases: 'database', parsers: 'parsers' };

/** Top-level keys opsdroid never shows (`EXCLUDED_CONFIG_KEYS` in opsdroid's const.py). */
export const EXCLUDED_CONFIG_KEYS: readonly string[] = [
  'loader',
  'submodule_search_locations',
  'is_builtin',
  'password',
  'token',
  'appkey',
  'consumer_secret',
  'oauth_token_secret',
  'client-secret',
  'verify-token',
  'page-access-token',
  'webhook-token',
  'app-token',
];

/** Keys the loader computes; a user's (or a PATCH's) value for them is ignored. */
const COMPUTED_KEYS = new Set(['name', 'type', 'entrypoint', 'is_builtin', 'module_path', 'install_path']);

/** The branch opsdroid reports for modules. */
export const DEFAULT_MODULE_BRANCH = 'master';

/** The parsers this runtime has. */
export const BUILTIN_PARSERS = ['regex', 'crontab'] as const;

/** A parser's config keys. */
export const ParserConfigSchema = Type.Object({ enabled: Type.Optional(Type.Boolean()) }, { additionalProperties: true });

/** True unless the configuration says `enabled: false`. */
export function isEnabled(config: ModuleConfig): boolean {
  return config.enabled !== false;
}

/**
 * A module's configuration as opsdroid's loader builds it: `name` and `module` first, then
 * the user's keys, then `type`, `enabled`, `entrypoint`, `module_path`, `install_path` and
 * `branch` (`is_builtin` is never shown). Key order follows opsdroid's.
 */
export function moduleView(type: ModuleType, name: string, config: ModuleConfig, builtin: boolean): ModuleConfig {
  const label = MODULE_TYPE_LABEL[type];
  const view: ModuleConfig = { name, module: typeof config.module === 'string' ? config.module : '' };
  for (const [key, value] of Object.entries(config)) {
    if (!COMPUTED_KEYS.has(key)) setOwn(view, key, value);
  }
  view.type = label;
  if (view.enabled !== false) view.enabled = true;
  view.entrypoint = null;
  view.module_path = builtin ? `opsdroid.${label}.${name}` : `opsdroid_modules.${label}.${name}`;
  view.install_path = `opsdroid_modules/${label}/${name}`;
  if (!('branch' in view)) view.branch = DEFAULT_MODULE_BRANCH;
  return view;
}

/** A deep copy of `value` without any key in `excluded`, at every depth. */
export function scrub(value: unknown, excluded: ReadonlySet<string>): unknown {
  if (Array.isArray(value)) return value.map((v) => scrub(v, excluded));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (!excluded.has(key)) setOwn(out, key, scrub(v, excluded));
  }
  return out;
}

/** Sets an own property, even one named `__proto__` (which plain assignment would turn into a prototype change). */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/** Every string value under an excluded key, at any depth (to register them as secrets). */
export function secretsIn(value: unknown, excluded: ReadonlySet<string>, found: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => secretsIn(v, excluded, found));
  else if (value !== null && typeof value === 'object') {
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
      if (excluded.has(key) && typeof v === 'string') found.push(v);
      else secretsIn(v, excluded, found);
    }
  }
  return found;
}
