/**
 * Database modules: where skills' memory lives. The `sqlite` database keeps it in the
 * shared Knex database (SQLite by default, PostgreSQL when the host uses it), in a
 * namespace named by its `table` option; the bot's {@link Memory} reads the first enabled
 * database that has a key and writes to all of them.
 */
import { Type, type Logger, type TSchema } from '../../src/index.js';
import type { MemoryStore } from './memory-store.js';
import type { SkillMemory } from './skill.js';

/** A running database module. */
export interface Database {
  /** Its name (the key in the `databases` section). */
  readonly name: string;
  /** Reads a key (undefined when absent). */
  get(key: string): Promise<unknown>;
  /** Writes a key. */
  put(key: string, value: unknown): Promise<void>;
  /** Removes a key. */
  delete(key: string): Promise<void>;
}

/** What a database module gets from the runtime. */
export interface DatabaseEnv {
  /** The shared database's key-value table. */
  readonly store: MemoryStore;
  /** A logger. */
  readonly logger: Logger;
}

/** A kind of database module the runtime can load by name. */
export interface DatabaseKind {
  /** The name under `databases:` that loads it. */
  readonly name: string;
  /** Whether it ships with the plugin. */
  readonly builtin: boolean;
  /** The TypeBox schema of its config keys. */
  readonly schema: TSchema;
  /** Builds the database from its configuration. */
  create(config: Readonly<Record<string, unknown>>, env: DatabaseEnv): Database;
}

/** The `sqlite` database's config keys. */
export const SqliteConfigSchema: TSchema = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean()),
    table: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'The memory namespace (default "opsdroid").' })),
    file: Type.Optional(Type.String({ description: 'Accepted for compatibility and ignored: memory lives in the shared database.' })),
  },
  { additionalProperties: true },
);

/** The `sqlite` database kind. */
export const sqliteDatabase: DatabaseKind = {
  name: 'sqlite',
  builtin: true,
  schema: SqliteConfigSchema,
  create(config, env) {
    const name = String(config.name ?? 'sqlite');
    const namespace = typeof config.table === 'string' ? config.table : 'opsdroid';
    if (typeof config.file === 'string') env.logger.info({ database: name }, "the sqlite database's 'file' option is ignored: memory is kept in the shared database");
    return {
      name,
      get: (key) => env.store.get(namespace, key),
      put: (key, value) => env.store.put(namespace, key, value),
      delete: (key) => env.store.delete(namespace, key),
    };
  },
};

/** The bot's memory over whichever databases are enabled now. */
export class Memory implements SkillMemory {
  /** @param databases - the enabled databases, in configuration order */
  constructor(private readonly databases: () => readonly Database[]) {}

  /** The first enabled database's value, else `fallback`. */
  async get<T = unknown>(key: string, fallback?: T): Promise<T | undefined> {
    for (const db of this.databases()) {
      const value = await db.get(key);
      if (value !== undefined && value !== null) return value as T;
    }
    return fallback;
  }

  /** Writes to every enabled database (none enabled: the value is not kept, as in opsdroid). */
  async put(key: string, value: unknown): Promise<void> {
    await Promise.all(this.databases().map((db) => db.put(key, value)));
  }

  /** Removes from every enabled database. */
  async delete(key: string): Promise<void> {
    await Promise.all(this.databases().map((db) => db.delete(key)));
  }
}
