/**
 * Bot settings ("config" in redball's API): the value typing and the validation of one
 * setting or a whole settings document.
 *
 * Every setting has a `type` — `str`, `int`, `bool` or `list` — and its `val` is kept and
 * returned as that type: an `int` is a JSON number, a `bool` a JSON boolean, a `list` a JSON
 * array of strings (given as an array, or as redball's comma-separated text). `options` and
 * `subkeys` are lists; a `bool` setting without options gets `[true, false]`, as in redball.
 */
import { describe, parseBooleanWord } from './params.js';

/** The setting types redball knows. */
export const SETTING_TYPES = ['str', 'int', 'bool', 'list'] as const;

/** One of {@link SETTING_TYPES}. */
export type SettingType = (typeof SETTING_TYPES)[number];

/** The longest category, key or parent_key. */
export const MAX_SETTING_NAME = 200;

/**
 * Names a category or key cannot have: a bot receives its settings as an object keyed by
 * category and key (`settings.Category.KEY`), where these names would reach
 * `Object.prototype` (prototype pollution) or shadow what every object has.
 */
export const RESERVED_SETTING_NAMES: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

function reservedProblem(label: string, field: string, name: string): string {
  return `${label}: '${field}' must not be '${name}' (${[...RESERVED_SETTING_NAMES].join(', ')} are reserved).`;
}

/** A setting as stored (without ids). */
export interface SettingInput {
  /** The category (the group on redball's settings page). */
  category: string;
  /** The key, unique within the bot and category. */
  key: string;
  /** The value, typed by `type`. */
  val: unknown;
  /** Shown on the settings page. */
  description: string;
  /** The value's type. */
  type: SettingType;
  /** Allowed values (a dropdown in redball's UI). */
  options: unknown[];
  /** Keys of this setting's subkeys (same category). */
  subkeys: string[];
  /** The parent's key, on subkeys. */
  parent_key: string;
}

/** Raw fields of one setting, from a form or from an item of a settings document. */
export type RawSetting = Record<string, unknown>;

/** The result of checking one setting: the setting, or the problems found. */
export type Checked<T> =
  | {
      /** It is acceptable. */
      ok: true;
      /** The setting, normalized. */
      value: T;
    }
  | {
      /** It is not. */
      ok: false;
      /** What is wrong, one sentence each. */
      problems: string[];
    };

/**
 * Checks and normalizes one setting. `label` names it in messages (`Setting 'General/KEY'`).
 * List fields may be arrays or text (a JSON array, or comma-separated).
 */
export function checkSetting(raw: RawSetting, label: string): Checked<SettingInput> {
  const problems: string[] = [];
  const text = (name: string, required: boolean, max?: number): string | undefined => {
    const v = raw[name];
    if (v === undefined || v === null) {
      if (required) problems.push(`${label} is missing required field '${name}'.`);
      return undefined;
    }
    if (typeof v !== 'string') {
      problems.push(`${label}: '${name}' must be text (got ${describe(v)}).`);
      return undefined;
    }
    if (required && v.trim() === '') {
      problems.push(`${label}: '${name}' must not be empty.`);
      return undefined;
    }
    if (max !== undefined && v.length > max) {
      problems.push(`${label}: '${name}' must be at most ${max} characters.`);
      return undefined;
    }
    return v;
  };
  const name = (field: string, required: boolean): string | undefined => {
    const v = text(field, required, MAX_SETTING_NAME);
    if (v !== undefined && RESERVED_SETTING_NAMES.has(v)) {
      problems.push(reservedProblem(label, field, v));
      return undefined;
    }
    return v;
  };
  const category = name('category', true);
  const key = name('key', true);
  const description = text('description', false) ?? '';
  const parent_key = name('parent_key', false) ?? '';
  let type: SettingType = 'str';
  if (raw.type !== undefined && raw.type !== null && raw.type !== '') {
    if (typeof raw.type === 'string' && (SETTING_TYPES as readonly string[]).includes(raw.type)) type = raw.type as SettingType;
    else problems.push(`${label}: 'type' must be one of ${SETTING_TYPES.join(', ')} (got ${describe(raw.type)}).`);
  }
  let val: unknown;
  if (raw.val === undefined) problems.push(`${label} is missing required field 'val'.`);
  else {
    const typed = typedValue(raw.val, type);
    if (typed.ok) val = typed.value;
    else problems.push(`${label}: ${typed.problem}`);
  }
  const options = listField(raw.options, 'options', label, problems, false);
  const subkeys = listField(raw.subkeys, 'subkeys', label, problems, true) as string[];
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    value: { category: category!, key: key!, val, description, type, options: type === 'bool' && options.length === 0 ? [true, false] : options, subkeys, parent_key },
  };
}

/** Converts a value to a setting type, or says why it cannot be. */
export function typedValue(raw: unknown, type: SettingType): { ok: true; value: unknown } | { ok: false; problem: string } {
  switch (type) {
    case 'int': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : NaN;
      if (!Number.isSafeInteger(n)) return { ok: false, problem: `'val' must be an integer for type int (got ${describe(raw)}).` };
      return { ok: true, value: n };
    }
    case 'bool': {
      const b = parseBooleanWord(raw);
      if (b === undefined) return { ok: false, problem: `'val' must be true or false for type bool (got ${describe(raw)}).` };
      return { ok: true, value: b };
    }
    case 'list': {
      const list = parseList(raw, false);
      if (!list) return { ok: false, problem: `'val' must be a list, or comma-separated text, for type list (got ${describe(raw)}).` };
      return { ok: true, value: list.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))) };
    }
    default:
      if (raw !== null && typeof raw === 'object') return { ok: false, problem: `'val' must be a single value for type str (got ${describe(raw)}); use type list for lists.` };
      return { ok: true, value: raw };
  }
}

/**
 * Reads a list: an array, a JSON array in text, or comma-separated text (empty text is an
 * empty list). Returns undefined when it is none of these.
 */
export function parseList(raw: unknown, jsonTextOnly: boolean): unknown[] | undefined {
  if (Array.isArray(raw)) return raw;
  if (typeof raw !== 'string') return undefined;
  const s = raw.trim();
  if (s === '') return [];
  if (s.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(s);
      if (Array.isArray(parsed)) return parsed;
    } catch {
      /* not JSON: fall through */
    }
    if (jsonTextOnly) return undefined;
  }
  return s.split(',').map((x) => x.trim()).filter((x) => x !== '');
}

function listField(raw: unknown, name: string, label: string, problems: string[], stringsOnly: boolean): unknown[] {
  if (raw === undefined || raw === null || raw === '') return [];
  const list = parseList(raw, false);
  if (!list) {
    problems.push(`${label}: '${name}' must be a list (got ${describe(raw)}).`);
    return [];
  }
  if (list.some((x) => x !== null && typeof x === 'object')) {
    problems.push(`${label}: '${name}' must be a list of single values.`);
    return [];
  }
  if (stringsOnly && list.some((x) => typeof x !== 'string')) {
    problems.push(`${label}: '${name}' must be a list of keys (text).`);
    return [];
  }
  const reserved = stringsOnly ? list.find((x) => RESERVED_SETTING_NAMES.has(x as string)) : undefined;
  if (reserved !== undefined) {
    problems.push(reservedProblem(label, name, reserved as string));
    return [];
  }
  return list;
}

/**
 * Checks a settings document — `{"<Category>": [{key, val, …}, …], …}` — and returns every
 * setting, or every problem found (nothing is written unless all are fine). Items may carry
 * the `id` and `botId` of an exported document; they are ignored.
 */
export function checkSettingsDocument(doc: unknown): Checked<SettingInput[]> {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    return { ok: false, problems: ['The settings document must be a JSON object of categories, each a list of settings: {"<Category>": [{"key": …, "val": …}]}.'] };
  }
  const entries = Object.entries(doc as Record<string, unknown>);
  if (entries.length === 0) return { ok: false, problems: ['The settings document has no categories.'] };
  const problems: string[] = [];
  const settings: SettingInput[] = [];
  const seen = new Set<string>();
  for (const [category, items] of entries) {
    if (!Array.isArray(items)) {
      problems.push(`Category '${category}' must be a list of settings (got ${describe(items)}).`);
      continue;
    }
    items.forEach((item, index) => {
      const label = `Setting ${index + 1} of category '${category}'`;
      if (item === null || typeof item !== 'object' || Array.isArray(item)) {
        problems.push(`${label} must be an object with at least key and val.`);
        return;
      }
      const checked = checkSetting({ ...(item as RawSetting), category }, label);
      if (!checked.ok) {
        problems.push(...checked.problems);
        return;
      }
      const id = `${category}\u0000${checked.value.key}`;
      if (seen.has(id)) {
        problems.push(`${label}: key '${checked.value.key}' appears twice in category '${category}'.`);
        return;
      }
      seen.add(id);
      settings.push(checked.value);
    });
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value: settings };
}

/** The system settings every new bot gets (redball's Logging pair for the console). */
export function defaultSystemSettings(): SettingInput[] {
  return [
    { category: 'Logging', key: 'LOG_TO_CONSOLE', description: 'Log to Console', type: 'bool', val: true, options: [true, false], subkeys: ['CONSOLE_LOG_LEVEL'], parent_key: '' },
    { category: 'Logging', key: 'CONSOLE_LOG_LEVEL', description: 'Console Log Level', type: 'str', val: 'INFO', options: ['DEBUG', 'INFO', 'WARNING', 'ERROR'], subkeys: [], parent_key: 'LOG_TO_CONSOLE' },
  ];
}
