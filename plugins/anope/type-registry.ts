/**
 * The type registry: which object types exist, their fields, and which fields are
 * references (to one type or to any type) that either cascade or are nulled when their
 * target is deleted.
 *
 * The built-in types are registered when the plugin initializes; the host adds more through
 * the plugin config (`types`), other plugins through the registry they resolve with the
 * {@link AnopeTypes} token during their own `init`. The set is frozen when the schema is
 * synchronized (at start, or before the first CLI operation); registering later is an error.
 */

/** What happens to a referring object when the object it references is deleted. */
export type OnDelete = 'cascade' | 'null';

/** The target of a reference field: a type name, or `*` for an object of any type. */
export const ANY_TYPE = '*';

/** A field as given to {@link AnopeTypeRegistry.register}: a bare name, or a spec. */
export type FieldInput = string | FieldSpec;

/** A field of a type. */
export interface FieldSpec {
  /** The field name (`[a-z][a-z0-9_]*`, at most 40 characters, not `id`, `constructor` or `prototype`). */
  name: string;
  /** Makes the field a reference to objects of this type, or of any type with `*`. */
  ref?: string;
  /** For references: delete this object with its target (`cascade`) or clear the field (`null`, the default). */
  onDelete?: OnDelete;
  /** A name-like field: searches match exactly but case-insensitively, and an index exists from the start. */
  nocase?: boolean;
  /** Creates an index from the start (otherwise the first search on the field creates it). */
  indexed?: boolean;
}

/** A type as given to {@link AnopeTypeRegistry.register}. */
export interface TypeSpec {
  /** The type name (`[a-z][a-z0-9_]*`, at most 40 characters, not `types`, `constructor` or `prototype`). */
  name: string;
  /** Its fields, in the order objects are written. */
  fields: readonly FieldInput[];
}

/** A resolved field of a registered type. */
export interface AnopeField {
  /** The field name (also the column name). */
  readonly name: string;
  /** The reference target (a type name or `*`), when the field is a reference. */
  readonly ref?: string;
  /** For references: `cascade` or `null`. */
  readonly onDelete?: OnDelete;
  /** Case-insensitive exact search, indexed from the start. */
  readonly nocase: boolean;
  /** Indexed from the start (references always are). */
  readonly indexed: boolean;
}

/** A registered type. */
export interface AnopeType {
  /** The type name. */
  readonly name: string;
  /** Its fields in order. */
  readonly fields: readonly AnopeField[];
  /** Fields by name. */
  readonly byName: ReadonlyMap<string, AnopeField>;
  /** Who registered it (`builtin`, `config`, or a plugin id), for error messages. */
  readonly source: string;
}

/** The DI token under which the anope plugin provides its {@link AnopeTypeRegistry}. */
export const AnopeTypes = Symbol.for('switchboard.anope.types');

const NAME = /^[a-z][a-z0-9_]{0,39}$/;
const RESERVED = new Set(['types']);
/**
 * Names of properties every JavaScript object inherits: refused as type and field names, so
 * that no name a host or plugin registers can reach `Object.prototype` wherever a type's
 * objects are keyed by field name. (`__proto__` already fails {@link NAME}.)
 */
const PROTOTYPE_NAMES = new Set(['__proto__', 'constructor', 'prototype']);
/** Fields per type at most (every field is a column). */
export const MAX_FIELDS = 200;

/** Raised for an invalid registration; the message names the type and field. */
export class TypeRegistrationError extends Error {
  /** @param message - what is wrong */
  constructor(message: string) {
    super(message);
    this.name = 'TypeRegistrationError';
  }
}

function resolveField(typeName: string, input: FieldInput): AnopeField {
  const spec: FieldSpec = typeof input === 'string' ? { name: input } : input;
  if (!spec || typeof spec !== 'object' || typeof spec.name !== 'string') {
    throw new TypeRegistrationError(`anope type '${typeName}': every field needs a name`);
  }
  const where = `anope field '${typeName}.${spec.name}'`;
  if (!NAME.test(spec.name)) throw new TypeRegistrationError(`${where}: names use lower-case letters, digits and '_' (at most 40, starting with a letter)`);
  if (spec.name === 'id') throw new TypeRegistrationError(`${where}: 'id' is every object's own id and cannot be a field`);
  if (PROTOTYPE_NAMES.has(spec.name)) throw new TypeRegistrationError(`${where}: the name is reserved (every JavaScript object has a '${spec.name}' property)`);
  if (spec.ref !== undefined && spec.ref !== ANY_TYPE && !NAME.test(spec.ref)) {
    throw new TypeRegistrationError(`${where}: ref must be a type name or '*'`);
  }
  if (spec.onDelete !== undefined && spec.onDelete !== 'cascade' && spec.onDelete !== 'null') {
    throw new TypeRegistrationError(`${where}: onDelete must be 'cascade' or 'null'`);
  }
  if (spec.onDelete !== undefined && spec.ref === undefined) throw new TypeRegistrationError(`${where}: onDelete needs ref`);
  if (spec.ref !== undefined && spec.nocase) throw new TypeRegistrationError(`${where}: a reference cannot be nocase`);
  const isRef = spec.ref !== undefined;
  return {
    name: spec.name,
    ...(isRef ? { ref: spec.ref, onDelete: spec.onDelete ?? 'null' } : {}),
    nocase: spec.nocase === true,
    indexed: isRef || spec.nocase === true || spec.indexed === true,
  };
}

function buildType(name: string, fields: readonly AnopeField[], source: string): AnopeType {
  return { name, fields, byName: new Map(fields.map((f) => [f.name, f])), source };
}

/**
 * The registry of object types. Types are listed by `/rest/types` in registration order
 * (the built-in types first, in the order the Anope documentation lists them).
 */
export class AnopeTypeRegistry {
  private readonly types = new Map<string, AnopeType>();
  private frozenReason?: string;

  /** True once the schema has been synchronized; registering is then refused. */
  get frozen(): boolean {
    return this.frozenReason !== undefined;
  }

  /**
   * Registers a type. Reference targets may name types registered later; they are checked
   * when the registry is frozen.
   *
   * @param spec - the type's name and fields
   * @param source - who registers it (shown in errors), default `host`
   * @throws TypeRegistrationError for an invalid or duplicate type, or after the registry is frozen
   */
  register(spec: TypeSpec, source = 'host'): AnopeType {
    this.assertOpen();
    if (!spec || typeof spec !== 'object' || typeof spec.name !== 'string' || !NAME.test(spec.name)) {
      throw new TypeRegistrationError(`anope type '${String(spec?.name)}': names use lower-case letters, digits and '_' (at most 40, starting with a letter)`);
    }
    if (RESERVED.has(spec.name)) throw new TypeRegistrationError(`anope type '${spec.name}': the name is reserved (GET /rest/types lists the types)`);
    if (PROTOTYPE_NAMES.has(spec.name)) throw new TypeRegistrationError(`anope type '${spec.name}': the name is reserved (every JavaScript object has a '${spec.name}' property)`);
    const existing = this.types.get(spec.name);
    if (existing) throw new TypeRegistrationError(`anope type '${spec.name}' is already registered (by ${existing.source}); use extend() to add fields`);
    if (!Array.isArray(spec.fields)) throw new TypeRegistrationError(`anope type '${spec.name}': fields must be a list`);
    const fields = this.checkFields(spec.name, [], spec.fields);
    const type = buildType(spec.name, fields, source);
    this.types.set(spec.name, type);
    return type;
  }

  /**
   * Adds fields to a registered type, as Anope modules add settings to accounts and
   * channels. Existing objects have no value for the new fields.
   *
   * @throws TypeRegistrationError for an unknown type, a duplicate field, or after the registry is frozen
   */
  extend(typeName: string, fields: readonly FieldInput[], source = 'host'): AnopeType {
    this.assertOpen();
    const existing = this.types.get(typeName);
    if (!existing) throw new TypeRegistrationError(`anope type '${typeName}' is not registered, so ${source} cannot extend it`);
    const added = this.checkFields(typeName, existing.fields, fields);
    const type = buildType(typeName, [...existing.fields, ...added], existing.source);
    this.types.set(typeName, type);
    return type;
  }

  /** The type of that name, if registered. */
  get(name: string): AnopeType | undefined {
    return this.types.get(name);
  }

  /** Every registered type, in registration order. */
  list(): AnopeType[] {
    return [...this.types.values()];
  }

  /** Every type name, in registration order. */
  names(): string[] {
    return [...this.types.keys()];
  }

  /**
   * Checks every reference target and refuses later registrations. Called by the schema
   * synchronization; `reason` says what froze it.
   *
   * @throws TypeRegistrationError when a reference names an unregistered type
   */
  freeze(reason: string): void {
    if (this.frozenReason) return;
    for (const type of this.types.values()) {
      for (const field of type.fields) {
        if (field.ref && field.ref !== ANY_TYPE && !this.types.has(field.ref)) {
          throw new TypeRegistrationError(`anope field '${type.name}.${field.name}' references type '${field.ref}', which is not registered`);
        }
      }
    }
    this.frozenReason = reason;
  }

  private checkFields(typeName: string, existing: readonly AnopeField[], inputs: readonly FieldInput[]): AnopeField[] {
    const names = new Set(existing.map((f) => f.name));
    const out: AnopeField[] = [];
    for (const input of inputs) {
      const field = resolveField(typeName, input);
      if (names.has(field.name)) throw new TypeRegistrationError(`anope field '${typeName}.${field.name}' is declared twice`);
      names.add(field.name);
      out.push(field);
    }
    if (names.size > MAX_FIELDS) throw new TypeRegistrationError(`anope type '${typeName}' has more than ${MAX_FIELDS} fields`);
    return out;
  }

  private assertOpen(): void {
    if (this.frozenReason) {
      throw new TypeRegistrationError(
        `anope types must be registered before the schema is synchronized (${this.frozenReason}); register them in the init hook of a plugin that depends on 'anope', or in the plugin config 'types'`,
      );
    }
  }
}
