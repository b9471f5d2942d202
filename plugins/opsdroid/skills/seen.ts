/**
 * `seen`: remembers when each user last spoke, in the bot's memory (the enabled databases),
 * and answers "when did you last see NAME?" (opsdroid's skill-seen).
 */
import { defineSkill, matchAlways, matchRegex } from '../skill.js';

/** The memory key under which a user's last message time is kept. */
export function seenKey(user: string): string {
  return `seen:${user}`;
}

const UNITS: Array<[Intl.RelativeTimeFormatUnit, number]> = [
  ['year', 365 * 86400],
  ['month', 30 * 86400],
  ['week', 7 * 86400],
  ['day', 86400],
  ['hour', 3600],
  ['minute', 60],
];
/**
 * Made on first use: the first `Intl.RelativeTimeFormat` of a process loads ICU's data for it,
 * about 30 ms, which made at module load every server start paid (the bundle loads every skill).
 */
let relative: Intl.RelativeTimeFormat | undefined;

/** "5 minutes ago": the largest whole unit, like the `ago` package opsdroid's skill uses. */
export function humanAgo(then: Date, now: Date): string {
  relative ??= new Intl.RelativeTimeFormat('en', { numeric: 'always' });
  const seconds = Math.max(0, Math.round((now.getTime() - then.getTime()) / 1000));
  for (const [unit, size] of UNITS) {
    if (seconds >= size) return relative.format(-Math.floor(seconds / size), unit);
  }
  return relative.format(-seconds, 'second');
}

/** The `seen` skill. */
export const seenSkill = defineSkill({
  name: 'seen',
  description: 'Remembers when people last spoke.',
  matchers: [
    // The name is at most 200 characters: unbounded (opsdroid's `.+?`), each occurrence of
    // the phrase in a long text made the search scan to the line's end again, quadratic in
    // the text's length (docs/compat/opsdroid.md).
    matchRegex(String.raw`when did you last see (?P<name>.{1,200}?)\??$`, async (bot, _config, message) => {
      const match = message.regex as RegExpExecArray;
      const name = (match.groups?.name ?? '').trim();
      const at = await bot.memory.get<string>(seenKey(name));
      if (!at) await message.respond(`I've never seen ${name} before`);
      else await message.respond(`I last saw ${name} ${humanAgo(new Date(at), bot.now())}`);
    }, { caseSensitive: false, matchingCondition: 'search' }),
    matchAlways(async (bot, _config, message) => {
      if (message.user) await bot.memory.put(seenKey(message.user), message.created.toISOString());
    }),
  ],
});
