/**
 * `dance`: dances when asked to in chat, and at a party: `POST /skill/dance/party` makes the
 * bot dance on every open conversation of its default connector.
 */
import { defineSkill, matchRegex, matchWebhook } from '../skill.js';

/** The moves, one message each. */
export const DANCE_MOVES = [':D|-<', ':D/-<', ':D\\-<', ':D>-<'] as const;

/** The `dance` skill. */
export const danceSkill = defineSkill({
  name: 'dance',
  description: 'Dances on request, or for everyone on a webhook.',
  matchers: [
    matchRegex(String.raw`\bdance\b`, async (_bot, _config, message) => {
      for (const move of DANCE_MOVES) await message.respond(move);
    }, { caseSensitive: false, matchingCondition: 'search' }),
    matchWebhook('party', async (bot) => {
      for (const move of DANCE_MOVES) await bot.send(move);
    }),
  ],
});
