/**
 * Property names that reach `Object.prototype` when outside text (a config file, a request,
 * a database row) is used as a property name: `obj['__proto__'] = …` replaces the object's
 * prototype, and `obj['constructor']['prototype']` is `Object.prototype` itself.
 */

/** `__proto__`, `constructor` and `prototype`. */
export const UNSAFE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

function isPlainContainer(v: unknown): v is object {
  if (v === null || typeof v !== 'object') return false;
  if (Array.isArray(v)) return true;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * The dotted path of the first key named `__proto__`, `constructor` or `prototype` at any
 * depth of a JSON-like value (plain objects and arrays; class instances a host passes are
 * left alone), or undefined. Walks without recursion and visits each object once, so
 * neither deep nesting nor a cycle can stall it.
 */
export function unsafeKeyIn(value: unknown): string | undefined {
  const seen = new Set<object>();
  const stack: Array<[unknown, string]> = [[value, '']];
  while (stack.length > 0) {
    const [v, at] = stack.pop()!;
    if (!isPlainContainer(v) || seen.has(v)) continue;
    seen.add(v);
    const keys = Object.keys(v);
    for (const key of keys) if (UNSAFE_KEYS.has(key)) return at ? `${at}.${key}` : key;
    for (let i = keys.length - 1; i >= 0; i--) stack.push([(v as Record<string, unknown>)[keys[i]], at ? `${at}.${keys[i]}` : keys[i]]);
  }
  return undefined;
}
