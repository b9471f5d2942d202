/**
 * What prototype pollution changes in a process: the own properties of `Object.prototype`
 * (and of `Object`, which `obj.constructor[key] = …` reaches), whether a fresh object has a
 * `polluted` property, and whether the `__proto__` accessor exists (it does not under
 * `--disable-proto=delete`). The same function runs in the test process (the in-process
 * server) and, as `probe.mjs`, inside the standalone child.
 */

/** A snapshot of the prototype state of one process. */
export interface PrototypeState {
  /** Own property names of `Object.prototype`, sorted. */
  objectPrototype: string[];
  /** Own property names of `Object`, sorted. */
  objectStatics: string[];
  /** `typeof ({}).polluted`. */
  polluted: string;
  /** True while `Object.prototype.__proto__` exists. */
  protoAccessor: boolean;
}

/** The state of this process. */
export function prototypeState(): PrototypeState {
  return {
    objectPrototype: Object.getOwnPropertyNames(Object.prototype).sort(),
    objectStatics: Object.getOwnPropertyNames(Object).sort(),
    polluted: typeof ({} as Record<string, unknown>).polluted,
    protoAccessor: Object.getOwnPropertyDescriptor(Object.prototype, '__proto__') !== undefined,
  };
}

/** What changed between two states (empty when nothing did). */
export function prototypeChanges(before: PrototypeState, after: PrototypeState): string[] {
  const out: string[] = [];
  const added = (a: string[], b: string[]) => b.filter((n) => !a.includes(n));
  const removed = (a: string[], b: string[]) => a.filter((n) => !b.includes(n));
  for (const n of added(before.objectPrototype, after.objectPrototype)) out.push(`Object.prototype.${n} appeared`);
  for (const n of removed(before.objectPrototype, after.objectPrototype)) out.push(`Object.prototype.${n} disappeared`);
  for (const n of added(before.objectStatics, after.objectStatics)) out.push(`Object.${n} appeared`);
  for (const n of removed(before.objectStatics, after.objectStatics)) out.push(`Object.${n} disappeared`);
  if (after.polluted !== 'undefined') out.push(`({}).polluted is a ${after.polluted}`);
  if (before.protoAccessor !== after.protoAccessor) out.push(`the __proto__ accessor ${after.protoAccessor ? 'came back' : 'went away'}`);
  return out;
}

/**
 * Removes what pollution added to this process (so one finding does not hide the next);
 * returns the names removed.
 */
export function undoPollution(before: PrototypeState): string[] {
  const now = prototypeState();
  const removed: string[] = [];
  for (const n of now.objectPrototype.filter((x) => !before.objectPrototype.includes(x))) {
    Reflect.deleteProperty(Object.prototype, n);
    removed.push(`Object.prototype.${n}`);
  }
  for (const n of now.objectStatics.filter((x) => !before.objectStatics.includes(x))) {
    Reflect.deleteProperty(Object, n);
    removed.push(`Object.${n}`);
  }
  return removed;
}
