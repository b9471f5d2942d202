/**
 * The talk plugin's programmatic API for the host application (and for plugins that
 * depend on `talk`): bot administration as the original's occ commands, and the
 * conversation model.
 *
 * ```ts
 * const talk = talkApi(kernel);
 * const bot = await talk.bots.install({ name: 'Echo', secret, url: 'https://bots.example/echo' });
 * const { room } = await talk.conversations.createRoom({ id: 'alice' }, { type: 2, name: 'Team' });
 * await talk.bots.setup(bot.id, [room.token]);
 * await talk.conversations.post(room, { type: 'users', id: 'alice', displayName: 'Alice' }, { message: 'hi' });
 * ```
 */
import type { Kernel } from '../../src/index.js';
import type { BotAdmin } from './bot-admin.js';
import type { ConversationService } from './conversations.js';

/** What the talk plugin offers a host. */
export interface TalkApi {
  /** Install, uninstall, list, change state, set up and remove bots. */
  readonly bots: BotAdmin;
  /** Conversations, participants, chat messages and reactions. */
  readonly conversations: ConversationService;
}

/** The DI token under which the talk plugin provides its {@link TalkApi} (kernel root container). */
export const TALK_API = Symbol.for('switchboard.talk.api');

/** The talk plugin's API from a started (or prepared) kernel. */
export function talkApi(kernel: Kernel): TalkApi {
  return kernel.container.resolve<TalkApi>(TALK_API);
}
