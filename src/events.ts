/**
 * The kernel's typed event bus, on eventemitter3.
 *
 * Event names and payloads are declared by augmenting {@link SwitchboardEvents}:
 *
 * ```ts
 * declare module 'switchboard' {
 *   interface SwitchboardEvents { 'chat.message': { id: string; body: string } }
 * }
 * ```
 *
 * A listener that throws (or whose promise rejects) is logged and never breaks the emitter
 * or the other listeners.
 */
import { EventEmitter } from 'eventemitter3';
import type { Logger } from './logger.js';
import type { AttemptOutcome } from './outbox/outbox.js';

/**
 * The map of event name → payload. Plugins add their own events by declaration merging; the
 * kernel's own events are listed here.
 */
export interface SwitchboardEvents {
  /** The kernel finished starting. */
  'kernel.started': {
    /** When it finished starting. */
    at: Date;
  };
  /** The kernel began stopping. */
  'kernel.stopping': {
    /** When it began stopping. */
    at: Date;
  };
  /** An outbound delivery was attempted (every attempt, successful or not). */
  'outbox.attempt': AttemptOutcome;
  /**
   * The cluster event bridge lost its connection and is back: cluster events sent by other
   * instances meanwhile were missed, so per-process caches should be dropped (local only).
   */
  'cluster.resync': {
    /** When the bridge was listening again. */
    at: Date;
  };
}

/** A name of {@link SwitchboardEvents}. */
export type EventName = keyof SwitchboardEvents & string;

/** A listener for event `K`. */
export type EventListener<K extends EventName> = (payload: SwitchboardEvents[K]) => void | Promise<void>;

/**
 * Forwards events marked cluster-wide to the other instances (see the PostgreSQL bridge).
 * The bus calls it for every emit with `{ cluster: true }`.
 */
export interface EventForwarder {
  /** Sends the event to the other instances. */
  forward(name: string, payload: unknown): void;
}

/** Options of {@link EventBus.emit}. */
export interface EmitOptions {
  /** Also deliver the event to listeners on every other instance sharing the database. */
  cluster?: boolean;
}

/** The typed, failure-isolating event bus. */
export class EventBus {
  private readonly emitter = new EventEmitter();
  private readonly wrapped = new Map<Function, Map<string, (payload: unknown) => void>>();
  private forwarder?: EventForwarder;

  /** @param logger - where listener failures are logged */
  constructor(private readonly logger: Logger) {}

  /** Subscribes to an event; returns a function that unsubscribes. */
  on<K extends EventName>(name: K, listener: EventListener<K>): () => void {
    const safe = (payload: unknown): void => {
      try {
        const result = listener(payload as SwitchboardEvents[K]);
        if (result && typeof (result as Promise<void>).catch === 'function') {
          (result as Promise<void>).catch((err: unknown) => this.logFailure(name, err));
        }
      } catch (err) {
        this.logFailure(name, err);
      }
    };
    let byName = this.wrapped.get(listener);
    if (!byName) this.wrapped.set(listener, (byName = new Map()));
    byName.set(name, safe);
    this.emitter.on(name, safe);
    return () => this.off(name, listener);
  }

  /** Unsubscribes a listener added with {@link EventBus.on}. */
  off<K extends EventName>(name: K, listener: EventListener<K>): void {
    const safe = this.wrapped.get(listener)?.get(name);
    if (!safe) return;
    this.emitter.off(name, safe);
    this.wrapped.get(listener)?.delete(name);
  }

  /**
   * Emits an event to the listeners of this process, and with `{ cluster: true }` to those of
   * the other instances too (when a forwarder is installed). Returns whether any local
   * listener was called.
   */
  emit<K extends EventName>(name: K, payload: SwitchboardEvents[K], options: EmitOptions = {}): boolean {
    if (options.cluster && this.forwarder) this.forwarder.forward(name, payload);
    return this.emitter.emit(name, payload);
  }

  /** Delivers an event that arrived from another instance to this process's listeners only. */
  emitLocal(name: string, payload: unknown): boolean {
    return this.emitter.emit(name, payload);
  }

  /** Installs the forwarder for cluster-wide events (one per bus). */
  setForwarder(forwarder: EventForwarder | undefined): void {
    this.forwarder = forwarder;
  }

  /** How many listeners an event has. */
  listenerCount(name: EventName): number {
    return this.emitter.listenerCount(name);
  }

  /** Removes every listener (the kernel calls this when it stops). */
  clear(): void {
    this.emitter.removeAllListeners();
    this.wrapped.clear();
  }

  private logFailure(name: string, err: unknown): void {
    this.logger.error({ err, event: name }, `listener for event '${name}' failed`);
  }
}
