/** `loudnoises`: when someone shouts (a message of capitals only), the bot shouts back. */
import { defineSkill, matchRegex } from '../skill.js';

/** What the bot shouts. */
export const LOUD_NOISES = 'LOUD NOISES!';

/** The `loudnoises` skill. */
export const loudnoisesSkill = defineSkill({
  name: 'loudnoises',
  description: 'Shouts back at shouting.',
  matchers: [
    // At least four capital letters and no lower-case letter anywhere.
    matchRegex(String.raw`(?=(?:[^A-Za-z]*[A-Z]){4})[^a-z]+`, (_bot, _config, message) => message.respond(LOUD_NOISES), {
      matchingCondition: 'fullmatch',
    }),
  ],
});
