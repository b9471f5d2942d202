/**
 * The anope plugin's configuration schema (TypeBox, with defaults).
 *
 * ```yaml
 * plugins:
 *   anope:
 *     auth: { token: "a-long-random-secret" }   # or: none | tokens (default) | host
 *     optionalTypes: [nscert]
 *     types:
 *       - name: greeting
 *         fields: [text, { name: owner, ref: account, onDelete: cascade }]
 *       - name: account                          # add fields to an existing type
 *         extend: true
 *         fields: [greet]
 * ```
 */
import type { RequestHandler } from 'express';
import { Type, type AuthStrategy, type Static } from '../../src/index.js';
import type { AnopeAuth } from './auth.js';
import type { FieldInput } from './type-registry.js';

/** A field in the config: a bare name or a spec. */
export const FieldConfigSchema = Type.Union([
  Type.String({ description: 'A plain field.' }),
  Type.Object({
    name: Type.String({ description: 'Field name: lower-case letters, digits and `_`.' }),
    ref: Type.Optional(Type.String({ description: 'A reference to objects of this type, or `*` for any type.' })),
    onDelete: Type.Optional(Type.Union([Type.Literal('cascade'), Type.Literal('null')], { description: 'When the target is deleted: delete this object too, or clear the field (default).' })),
    nocase: Type.Optional(Type.Boolean({ description: 'A name: case-insensitive exact search, indexed from the start.' })),
    indexed: Type.Optional(Type.Boolean({ description: 'Index the field from the start.' })),
  }),
]);

/** A type in the config. */
export const TypeConfigSchema = Type.Object({
  name: Type.String({ description: 'Type name: lower-case letters, digits and `_`.' }),
  fields: Type.Array(FieldConfigSchema, { default: [] }),
  extend: Type.Optional(Type.Boolean({ description: 'Add these fields to an already registered type (e.g. `account`) instead of registering a new one.' })),
});

/** The auth policy in the config. */
export const AuthConfigSchema = Type.Union(
  [
    Type.Literal('tokens', { description: 'Default: Bearer tokens stored (hashed) in the database; `switchboard anope token create` makes one, the first start generates one.' }),
    Type.Literal('none', { description: 'Open to anyone who can reach the server (the original\'s behaviour): bind to a private address.' }),
    Type.Literal('host', { description: "The host's identity resolver (standalone: HTTP Basic users); administrators only." }),
    Type.Object({ token: Type.String({ minLength: 16, description: 'One fixed Bearer token (at least 16 characters).' }) }),
    Type.Object({ middleware: Type.Unsafe<RequestHandler>({ description: "The host's Express middleware (programmatic use only): next() accepts, answering refuses." }) }),
    Type.Object({ strategy: Type.Unsafe<AuthStrategy>({ description: 'A kernel auth strategy (programmatic use only).' }) }),
  ],
  { default: 'tokens' },
);

const ConfigObject = Type.Object({
  auth: AuthConfigSchema,
  types: Type.Array(TypeConfigSchema, { default: [], description: 'Types to register (or extend) besides the built-in ones.' }),
  optionalTypes: Type.Array(Type.Literal('nscert'), { default: [], description: 'Built-in module types to enable that the documentation\'s type list leaves out.' }),
  pageSize: Type.Integer({ minimum: 10, maximum: 10000, default: 1000, description: 'Objects per query and write when streaming a list.' }),
});

/** A type in the config's `types`. */
export interface TypeConfig {
  /** The type's name (lower-case letters, digits and `_`). */
  name: string;
  /** Its fields: names, or specs with `ref`, `onDelete`, `nocase`, `indexed`. */
  fields: FieldInput[];
  /** Add the fields to an already registered type (e.g. `account`) instead of registering one. */
  extend?: boolean;
}

/** The validated anope config (defaults applied). */
export interface AnopeConfig {
  /** Who may call the API (default `tokens`). */
  auth: AnopeAuth;
  /** Types to register, or to extend, besides the built-in ones. */
  types: TypeConfig[];
  /** Optional built-in types to enable (`nscert`). */
  optionalTypes: Array<'nscert'>;
  /** Objects per query and write when streaming a list (default 1000). */
  pageSize: number;
}

// The interface documents the config; this fails to compile if it drifts from the schema.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const configMatchesSchema: Same<Static<typeof ConfigObject>['pageSize'] | Static<typeof ConfigObject>['optionalTypes'], AnopeConfig['pageSize'] | AnopeConfig['optionalTypes']> = true;
const authMatchesSchema: Same<Static<typeof AuthConfigSchema>, AnopeAuth> = true;
const typesMatchSchema: Static<typeof TypeConfigSchema> extends TypeConfig ? true : false = true;
void [configMatchesSchema, authMatchesSchema, typesMatchSchema];

/** The anope plugin's config schema (TypeBox; its static type is {@link AnopeConfig}). */
export const AnopeConfigSchema = ConfigObject as unknown as ReturnType<typeof Type.Unsafe<AnopeConfig>>;
