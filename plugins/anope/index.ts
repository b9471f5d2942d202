/**
 * The `anope` plugin: Anope's RESTful object API — typed objects with global ids, string
 * fields and `type:id` references that cascade or are nulled by the database's own foreign
 * keys — wire-compatible with the original's `/rest` routes.
 *
 * ```ts
 * import { anopePlugin, AnopeTypes, type AnopeTypeRegistry } from 'switchboard/plugins/anope';
 * const kernel = new Kernel({ app, database, plugins: [{ plugin: anopePlugin, config: { auth: { token: process.env.ANOPE_TOKEN } } }] });
 * // another plugin (dependsOn: ['anope']) adds a type in its init:
 * ctx.container.resolve<AnopeTypeRegistry>(AnopeTypes).register({ name: 'note', fields: [{ name: 'owner', ref: 'account', onDelete: 'cascade' }, 'text'] });
 * ```
 *
 * @module switchboard/plugins/anope
 */
import { definePlugin, type PluginContext } from '../../src/index.js';
import { authStrategies, type AnopeAuth } from './auth.js';
import { BUILTIN_TYPES, OPTIONAL_TYPES } from './builtin-types.js';
import { registerCli } from './cli.js';
import { AnopeConfigSchema, type AnopeConfig } from './config.js';
import { init as initMigration } from './migrations/001_init.js';
import { ObjectCounts, registerObjectMetrics } from './object-metrics.js';
import { AnopeObjects, AnopeObjectStore } from './object-store.js';
import { registerRoutes } from './routes.js';
import { createRowReader } from './row-reader.js';
import { SchemaSync } from './schema-sync.js';
import { AnopeNames } from './sql.js';
import { AnopeServicesToken, type AnopeServices } from './services.js';
import { AnopeTokenStore } from './token-store.js';
import { AnopeTypeRegistry, AnopeTypes, type FieldInput } from './type-registry.js';

export { AnopeConfigSchema, type AnopeConfig, type TypeConfig } from './config.js';
export { AnopeTypeRegistry, AnopeTypes, ANY_TYPE, MAX_FIELDS, TypeRegistrationError } from './type-registry.js';
export type { AnopeField, AnopeType, FieldInput, FieldSpec, OnDelete, TypeSpec } from './type-registry.js';
export { AnopeObjectStore, AnopeObjects, PAGE_SIZE, parseId, type ObjectInput, type RefFilter, type RefsLookup } from './object-store.js';
export { createRowReader, type RowReader } from './row-reader.js';
export { ObjectCounts, registerObjectMetrics, OBJECT_COUNT_CACHE_MS } from './object-metrics.js';
export { IdBatcher, MAX_BATCH, type BatchQuery, type RowWithId } from './id-batcher.js';
export { AnopeTokenStore, TOKEN_CACHE_MS, type TokenInfo, type CreatedToken } from './token-store.js';
export { BUILTIN_TYPES, OPTIONAL_TYPES } from './builtin-types.js';
export { SchemaSync, SchemaConflictError } from './schema-sync.js';
export { AnopeError, AnopeErrorCodes, AnopeMessages } from './errors.js';
export { anopeResponder } from './responder.js';
export { middlewareStrategy, unauthorized, type AnopeAuth, type FixedTokenAuth, type MiddlewareAuth, type StrategyAuth } from './auth.js';
export { renderObject, type WireObject } from './json-writer.js';
export { AnopeNames } from './sql.js';
export { AnopeServicesToken, type AnopeServices } from './services.js';
export type { AnopeEvents } from './events.js';

/** Builds the registry: built-in types, enabled optional types, then the config's types. */
function buildRegistry(config: AnopeConfig): AnopeTypeRegistry {
  const registry = new AnopeTypeRegistry();
  for (const spec of BUILTIN_TYPES) registry.register(spec, 'builtin');
  for (const name of config.optionalTypes) {
    const spec = OPTIONAL_TYPES.find((t) => t.name === name);
    if (spec && !registry.get(name)) registry.register(spec, 'builtin');
  }
  for (const spec of config.types) {
    const fields = spec.fields as FieldInput[];
    if (spec.extend) registry.extend(spec.name, fields, 'config');
    else registry.register({ name: spec.name, fields }, 'config');
  }
  return registry;
}

/** Shows a generated token once, on the process's stderr (never through the logger, whose lines are kept and may be served). */
function announceToken(ctx: PluginContext<AnopeConfig>, token: string): void {
  const url = `http://<server>${ctx.routes.prefix}/rest/types`;
  process.stderr.write(
    [
      '',
      'anope: generated an API token for the REST API (shown only this once):',
      '',
      `    ${token}`,
      '',
      `  try:    curl -H 'Authorization: Bearer ${token}' ${url}`,
      '  manage: switchboard anope token create | list | revoke <id>',
      '  or set plugins.anope.auth in the config (a fixed token, host, or none).',
      '',
      '',
    ].join('\n'),
  );
}

/** The anope plugin descriptor. */
export const anopePlugin = definePlugin({
  id: 'anope',
  version: '0.1.0',
  description: "Anope's REST object API: typed objects, global ids, references and cascades",
  config: AnopeConfigSchema,
  migrations: [initMigration],
  init(ctx) {
    const config = ctx.config;
    const names = new AnopeNames(ctx.tablePrefix);
    const registry = buildRegistry(config);
    const schema = new SchemaSync(ctx.db, ctx.dialect, names, registry, ctx.logger);
    const reader = createRowReader(ctx.db, ctx.dialect);
    ctx.onStop(() => reader.close());
    const store = new AnopeObjectStore(ctx.db, ctx.dialect, names, registry, schema, reader, ctx.events);
    const tokens = new AnopeTokenStore(ctx.db, names, ctx.events);
    const auth = config.auth as AnopeAuth;
    if (typeof auth === 'object' && 'token' in auth) ctx.secrets.add(auth.token);
    ctx.provide(AnopeTypes, registry);
    ctx.provide(AnopeObjects, store);
    ctx.container.registerInstance<AnopeServices>(AnopeServicesToken, { registry, store, tokens, schema });
    registerRoutes(ctx as PluginContext<unknown>, store, authStrategies(auth, tokens), config.pageSize);
    registerObjectMetrics(ctx as PluginContext<unknown>, registry, new ObjectCounts(ctx.db, names));
  },
  async start(ctx) {
    const { store, tokens } = ctx.container.resolve<AnopeServices>(AnopeServicesToken);
    // Every plugin's init has run: the types are complete, the tables can be made.
    await store.ready();
    if (ctx.config.auth !== 'tokens') return;
    tokens.listen();
    ctx.onStop(() => tokens.close());
    const generated = await tokens.generateFirst();
    if (generated) {
      ctx.secrets.add(generated);
      announceToken(ctx, generated);
    } else if ((await tokens.list()).length === 0) {
      ctx.logger.warn('anope: no API token exists, so every /rest request is refused; create one with `switchboard anope token create`');
    }
  },
  cli: registerCli,
});

export default anopePlugin;
