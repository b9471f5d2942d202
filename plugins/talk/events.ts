/** The talk plugin's events on the kernel's typed event bus. */

/** A chat message was posted (emitted after its transaction committed). */
export interface TalkMessageEvent {
  /** The conversation's token. */
  token: string;
  /** The conversation's id. */
  roomId: number;
  /** The new message's id. */
  messageId: number;
  /** `users`, `guests` or `bots`. */
  actorType: string;
  /** Who posted it. */
  actorId: string;
  /** The text. */
  message: string;
}

/** A bot was enabled in (or removed from) a conversation. */
export interface TalkBotConversationEvent {
  /** The bot. */
  botId: number;
  /** The conversation's token. */
  token: string;
}

declare module '../../src/index.js' {
  interface SwitchboardEvents {
    /** A chat message was posted in a conversation. */
    'talk.message': TalkMessageEvent;
    /** A bot was enabled in a conversation. */
    'talk.bot.enabled': TalkBotConversationEvent;
    /** A bot was disabled in (removed from) a conversation. */
    'talk.bot.disabled': TalkBotConversationEvent;
    /** Conversations, participants or bots changed: cached answers are stale (cluster-wide). */
    'talk.cache.invalidate': {
      /** When, ms since the epoch. */
      at: number;
    };
  }
}
