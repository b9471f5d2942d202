/**
 * The connector contract: a connector brings messages in (handing each to the runtime with
 * `env.receive`) and delivers the bot's messages out. A connector is built from its
 * configuration, started when enabled, and stopped when disabled or reloaded.
 */
import type { Logger, TSchema } from '../../../src/index.js';
import type { Clock } from '../clock.js';
import type { MessageInput } from '../events.js';
import type { SocketRequestStore } from '../socket-request-store.js';

/** A message on its way out through a connector. */
export interface Delivery {
  /** The text. */
  text: string;
  /** Where (connector-specific); null: every open conversation. */
  target: string | null;
  /** To whom, when known. */
  user: string | null;
}

/** What a connector gets from the runtime. */
export interface ConnectorEnv {
  /** Hands an incoming message to the runtime (parsing, skills, responses). */
  receive(input: MessageInput): Promise<void>;
  /** The runtime's clock. */
  readonly clock: Clock;
  /** A logger for the connector. */
  readonly logger: Logger;
  /** Pending websocket socket requests, shared by instances. */
  readonly sockets: SocketRequestStore;
}

/** A running connector. */
export interface Connector {
  /** Its name (the key in the `connectors` section). */
  readonly name: string;
  /** Connects (starts taking messages). */
  start(): Promise<void>;
  /** Disconnects (closes its conversations, refuses new ones). */
  stop(): Promise<void>;
  /** Delivers a message. */
  send(delivery: Delivery): Promise<void>;
}

/** A kind of connector the runtime can load by name. */
export interface ConnectorKind {
  /** The name under `connectors:` that loads it. */
  readonly name: string;
  /** Whether it ships with the plugin (reported as `opsdroid.connector.<name>`). */
  readonly builtin: boolean;
  /** The TypeBox schema of its config keys (checked at start and on PATCH). */
  readonly schema: TSchema;
  /** Builds a connector from its configuration. */
  create(config: Readonly<Record<string, unknown>>, env: ConnectorEnv): Connector;
}
