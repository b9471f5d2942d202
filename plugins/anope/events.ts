/**
 * The anope plugin's events, on the kernel's typed bus. They are emitted on the instance
 * that made the change, after it is committed. A delete's cascades are done by the
 * database, so `anope.object.deleted` names the object that was asked for; the objects that
 * went with it are not listed.
 */
import type { EventBus } from '../../src/index.js';

declare module '../../src/index.js' {
  interface SwitchboardEvents {
    /** An object was created. */
    'anope.object.created': {
      /** Its type. */
      type: string;
      /** Its new id. */
      id: string;
    };
    /** A field of an object was set (or cleared). */
    'anope.object.updated': {
      /** Its type. */
      type: string;
      /** Its id. */
      id: string;
      /** The field. */
      field: string;
    };
    /** An object was deleted (with whatever cascaded from it). */
    'anope.object.deleted': {
      /** Its type. */
      type: string;
      /** Its id. */
      id: string;
    };
  }
}

/** Where the store reports its changes. */
export type AnopeEvents = Pick<EventBus, 'emit'>;
