/** The skills bundled with the plugin, as opsdroid's example configuration lists them. */
import type { Skill } from '../skill.js';
import { danceSkill } from './dance.js';
import { helloSkill } from './hello.js';
import { loudnoisesSkill } from './loudnoises.js';
import { seenSkill } from './seen.js';

export { danceSkill, DANCE_MOVES } from './dance.js';
export { helloSkill, GREETINGS, FAREWELLS } from './hello.js';
export { loudnoisesSkill, LOUD_NOISES } from './loudnoises.js';
export { seenSkill, seenKey, humanAgo } from './seen.js';

/** `dance`, `hello`, `loudnoises` and `seen`. */
export const bundledSkills: readonly Skill[] = [danceSkill, helloSkill, loudnoisesSkill, seenSkill];
