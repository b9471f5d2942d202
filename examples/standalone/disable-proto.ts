/**
 * Defence in depth against prototype pollution: what `node --disable-proto=delete` does,
 * applied by the standalone entry points (`npm start`'s bundle, the `switchboard` command)
 * before any other module loads.
 *
 * Without the `Object.prototype.__proto__` accessor, `obj['__proto__'] = value` (the usual
 * way outside text reaches `Object.prototype`) creates an ordinary own property instead of
 * replacing the object's prototype, and `obj['__proto__']` reads undefined instead of
 * `Object.prototype`. `Object.getPrototypeOf`/`setPrototypeOf` and the `{ __proto__: … }`
 * literal syntax are unaffected. This is a second line: every place where text from a client,
 * a config file or the database names a property already uses a `Map` or a null-prototype
 * object, or refuses the names `__proto__`, `constructor` and `prototype`.
 *
 * Importing this module has exactly that one effect, so it must be the entry module's first
 * import. (A host that embeds Switchboard decides for its own process; it can run Node with
 * `--disable-proto=delete`.)
 */
Reflect.deleteProperty(Object.prototype, '__proto__');

export {};
