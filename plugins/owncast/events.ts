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
    'owncast.chat.frame': {
      /** The frame, as sockets receive it. */
      frame: ChatFrame;
      /** The stored message it carries, if any. */
      messageId?: string;
      /** The instance that emitted it. */
      origin: string;
    };
    /** A chat message was stored (any source: websocket, integration, system). */
    'owncast.chat.message': ChatMessage;
    /** A broadcast started (reported by the host, through the API or the CLI). */
    'owncast.broadcast.started': {
      /** When it started. */
      at: Date;
      /** What the host reported about the stream. */
      broadcaster: Broadcaster;
    };
    /** The broadcast stopped. */
    'owncast.broadcast.stopped': {
      /** When it stopped. */
      at: Date;
      /** Who stopped it: the host, or an admin's disconnect. */
      reason: 'host' | 'admin';
    };
    /**
     * An admin asked to disconnect the inbound stream: the host should drop its publisher.
     * Emitted cluster-wide, so `at` is an ISO 8601 string (JSON-safe).
     */
    'owncast.broadcast.disconnect-requested': {
      /** When it was asked, ISO 8601. */
      at: string;
    };
    /**
     * Shared state changed in the database (emitted cluster-wide, also by the CLI): the other
     * instances re-read it at once instead of at their next periodic refresh.
     */
    'owncast.shared.changed': {
      /** Which state changed. */
      what: 'settings' | 'webhooks' | 'broadcast' | 'tokens';
      /** The instance (or CLI) that changed it. */
      origin: string;
    };
    /** An instance's chat presence changed (emitted cluster-wide): the others re-read the viewer counts. */
    'owncast.presence.changed': {
      /** The instance whose presence changed. */
      instanceId: string;
    };
  }
}

export {};
