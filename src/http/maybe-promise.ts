/**
 * Values that may or may not be promises. Work that can answer at once (a key checked
 * against keys in memory, a list served from a cache) answers with the value itself, so
 * that the request it serves stays synchronous; only work that has to wait returns a promise.
 */

/** A value, or a promise of it. */
export type MaybePromise<T> = T | PromiseLike<T>;

/** True when `value` is a promise (anything with a `then` method). */
export function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === 'function';
}

/**
 * `next(value)`: at once when `value` is not a promise (what `next` throws is thrown), else
 * once it resolves (a promise of the result; a rejection passes through).
 */
export function andThen<T, R>(value: MaybePromise<T>, next: (value: T) => R | Promise<R>): R | Promise<R> {
  return isPromiseLike(value) ? Promise.resolve(value).then(next) : next(value);
}
