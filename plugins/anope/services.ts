/** The plugin's own services, as its CLI and start hook find them in its container. */
import type { AnopeObjectStore } from './object-store.js';
import type { SchemaSync } from './schema-sync.js';
import type { AnopeTokenStore } from './token-store.js';
import type { AnopeTypeRegistry } from './type-registry.js';

/** The plugin's own services, registered in its container. */
export interface AnopeServices {
  /** The type registry. */
  registry: AnopeTypeRegistry;
  /** The object store. */
  store: AnopeObjectStore;
  /** The stored API tokens. */
  tokens: AnopeTokenStore;
  /** The schema synchronization. */
  schema: SchemaSync;
}

/** The DI token of {@link AnopeServices} in the plugin's own container. */
export const AnopeServicesToken = Symbol.for('switchboard.anope.services');
