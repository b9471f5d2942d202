/**
 * Reading redball's parameters. redball takes them from the query string or a form body
 * (and Switchboard also from a JSON body), converts them, and names every missing or wrong
 * one in a 400.
 */
import { badRequest } from './envelope.js';

/** The largest id a row can have (PostgreSQL `integer`). */
export const MAX_ID = 2_147_483_647;

/**
 * Parameters of a request: the query string, overridden by the body's fields; never `apikey`.
 * A null-prototype object: the names are the client's, and a `__proto__` among them is just
 * a parameter nobody reads.
 */
export function mergedParams(query: unknown, body: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = Object.create(null);
  for (const source of [query, body]) {
    if (!source || typeof source !== 'object' || Array.isArray(source) || Buffer.isBuffer(source)) continue;
    for (const [k, v] of Object.entries(source as Record<string, unknown>)) {
      if (k !== 'apikey' && v !== undefined) out[k] = v;
    }
  }
  return out;
}

/** Parses an id from a path segment; undefined when it cannot be an id (the caller answers 404). */
export function pathId(raw: string): number | undefined {
  if (!/^\d{1,10}$/.test(raw)) return undefined;
  const n = Number(raw);
  return n >= 1 && n <= MAX_ID ? n : undefined;
}

/** Collects the problems of one request, then throws them all at once as one 400. */
export class ParamReader {
  /** Problems found so far. */
  readonly problems: string[] = [];

  /** @param params - the merged parameters */
  constructor(readonly params: Record<string, unknown>) {}

  /** True when the parameter was given (an empty string counts as given). */
  has(name: string): boolean {
    return this.params[name] !== undefined && this.params[name] !== null;
  }

  /** Fails with every problem found, if any. */
  done(): void {
    if (this.problems.length > 0) throw badRequest(...this.problems);
  }

  /** Reports every missing one of `names` in one sentence; empty text counts as missing unless listed in `emptyOk`. */
  requireAll(names: readonly string[], emptyOk: readonly string[] = []): void {
    const missing = names.filter((n) => !this.has(n) || (!emptyOk.includes(n) && typeof this.params[n] === 'string' && (this.params[n] as string).trim() === ''));
    if (missing.length === 1) this.problems.push(`Missing required parameter '${missing[0]}'.`);
    else if (missing.length > 1) this.problems.push(`Missing required parameters: ${missing.map((m) => `'${m}'`).join(', ')}.`);
  }

  /** A non-empty string (trimmed), at most `max` characters. */
  text(name: string, max: number, options: { trim?: boolean; allowEmpty?: boolean } = {}): string | undefined {
    if (!this.has(name)) return undefined;
    const raw = this.params[name];
    if (typeof raw !== 'string') {
      this.problems.push(`Parameter '${name}' must be a single text value.`);
      return undefined;
    }
    const value = options.trim === false ? raw : raw.trim();
    if (value === '' && !options.allowEmpty) {
      this.problems.push(`Parameter '${name}' must not be empty.`);
      return undefined;
    }
    if (value.length > max) {
      this.problems.push(`Parameter '${name}' must be at most ${max} characters.`);
      return undefined;
    }
    return value;
  }

  /** A positive integer id (a number or a string of digits). */
  id(name: string): number | undefined {
    if (!this.has(name)) return undefined;
    const raw = this.params[name];
    const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*\d{1,10}\s*$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isInteger(n) || n < 1 || n > MAX_ID) {
      this.problems.push(`Parameter '${name}' must be the integer id of an existing record (got ${describe(raw)}).`);
      return undefined;
    }
    return n;
  }

  /** A boolean word: True/False in any case, or a JSON boolean. */
  boolean(name: string): boolean | undefined {
    if (!this.has(name)) return undefined;
    const value = parseBooleanWord(this.params[name]);
    if (value === undefined) this.problems.push(`Parameter '${name}' must be True or False (got ${describe(this.params[name])}).`);
    return value;
  }
}

/** `true`/`false` in any case (or a boolean) → boolean; anything else → undefined. */
export function parseBooleanWord(raw: unknown): boolean | undefined {
  if (typeof raw === 'boolean') return raw;
  if (typeof raw !== 'string') return undefined;
  const word = raw.trim().toLowerCase();
  return word === 'true' ? true : word === 'false' ? false : undefined;
}

/** A short, safe rendering of a rejected value for an error message. */
export function describe(raw: unknown): string {
  if (typeof raw === 'string') return raw.length > 40 ? `'${raw.slice(0, 40)}…'` : `'${raw}'`;
  if (Array.isArray(raw)) return 'a list';
  if (raw === null) return 'null';
  if (typeof raw === 'object') return 'an object';
  return String(raw);
}
