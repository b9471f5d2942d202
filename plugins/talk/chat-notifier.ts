/**
 * Wakes long-polling chat readers (`lookIntoFuture=1`) when a message is posted in their
 * conversation. It listens to the `talk.message` event, which the plugin emits with
 * `cluster: true`, so readers on other instances wake too once the event bridge forwards
 * it; without a bridge they still get the message by the end of their poll.
 */
import { inject, injectable } from 'tsyringe';
import { Tokens, type PluginContext } from '../../src/index.js';

/** A registered wait for one conversation. */
export interface ChatWait {
  /** Resolves on a new message in the conversation, on timeout, or on abort. */
  wait(timeoutMs: number, signal?: AbortSignal): Promise<void>;
  /** Unregisters (always call it). */
  cancel(): void;
}

/** Per-process registry of long-polling readers by conversation. */
@injectable()
export class ChatNotifier {
  private readonly waiting = new Map<number, Set<() => void>>();

  /** @param ctx - the plugin context (events, stop signal) */
  constructor(@inject(Tokens.Context) private readonly ctx: PluginContext) {}

  /** Subscribes to new-message events (once, at init). */
  listen(): void {
    this.ctx.events.on('talk.message', (e) => this.notify(e.roomId));
  }

  /** Wakes every reader of a conversation. */
  notify(roomId: number): void {
    const set = this.waiting.get(roomId);
    if (!set) return;
    this.waiting.delete(roomId);
    for (const wake of set) wake();
  }

  /** Registers interest in a conversation before reading it, so no message slips between. */
  prepare(roomId: number): ChatWait {
    let woken = false;
    let resolveWait: (() => void) | undefined;
    const wake = () => {
      woken = true;
      resolveWait?.();
    };
    let set = this.waiting.get(roomId);
    if (!set) this.waiting.set(roomId, (set = new Set()));
    set.add(wake);
    const cancel = () => {
      const s = this.waiting.get(roomId);
      s?.delete(wake);
      if (s && s.size === 0) this.waiting.delete(roomId);
    };
    return {
      cancel,
      wait: (timeoutMs, signal) =>
        new Promise<void>((resolve) => {
          if (woken || timeoutMs <= 0 || signal?.aborted || this.ctx.signal.aborted) return resolve();
          const done = () => {
            clearTimeout(timer);
            signal?.removeEventListener('abort', done);
            this.ctx.signal.removeEventListener('abort', done);
            resolve();
          };
          const timer = setTimeout(done, timeoutMs);
          resolveWait = done;
          signal?.addEventListener('abort', done, { once: true });
          this.ctx.signal.addEventListener('abort', done, { once: true });
        }),
    };
  }
}
