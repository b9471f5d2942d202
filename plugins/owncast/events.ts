/**
 * The events the owncast plugin emits on the kernel's bus. A host subscribes with
 * `kernel.events.on('owncast.broadcast.disconnect-requested', …)` to kick the publisher
 * from its media server when an admin asks for it.
 */
import type { Broadcaster } from './broadcasts.js';
import type { ChatFrame, ChatMessage } from './chat/types.js';

declare module '../../src/index.js' {
  interface SwitchboardEvents {
    /** A frame for every chat websocket (emitted cluster-wide; each instance sends it to its own sockets). */
    'owncast.chat.frame': { frame: ChatFrame; messageId?: string; origin: string };
    /** A chat message was stored (any source: websocket, integration, system). */
    'owncast.chat.message': ChatMessage;
    /** A broadcast started (reported by the host, through the API or the CLI). */
    'owncast.broadcast.started': { at: Date; broadcaster: Broadcaster };
    /** The broadcast stopped. */
    'owncast.broadcast.stopped': { at: Date; reason: 'host' | 'admin' };
    /**
     * An admin asked to disconnect the inbound stream: the host should drop its publisher.
     * Emitted cluster-wide, so `at` is an ISO 8601 string (JSON-safe).
     */
    'owncast.broadcast.disconnect-requested': { at: string };
    /**
     * Shared state changed in the database (emitted cluster-wide, also by the CLI): the other
     * instances re-read it at once instead of at their next periodic refresh.
     */
    'owncast.shared.changed': { what: 'settings' | 'webhooks' | 'broadcast' | 'tokens'; origin: string };
    /** An instance's chat presence changed (emitted cluster-wide): the others re-read the viewer counts. */
    'owncast.presence.changed': { instanceId: string };
  }
}

export {};
