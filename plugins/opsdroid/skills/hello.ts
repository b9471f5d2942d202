/** `hello`: greets people who say hi and says goodbye to those who leave (opsdroid's skill-hello). */
import { defineSkill, matchRegex } from '../skill.js';

function pick<T>(choices: readonly T[]): T {
  return choices[Math.floor(Math.random() * choices.length)];
}

function addressed(greeting: string, user: string | null): string {
  return user ? `${greeting} ${user}` : greeting;
}

/** The greetings the hello skill answers with. */
export const GREETINGS = ['Hi', 'Hello', 'Hey'] as const;
/** The farewells the hello skill answers with. */
export const FAREWELLS = ['Bye', 'See you', 'Au revoir'] as const;

/** The `hello` skill. */
export const helloSkill = defineSkill({
  name: 'hello',
  description: 'Answers greetings and farewells.',
  matchers: [
    matchRegex(String.raw`\b(hi|hello|hey|hallo)\b`, (_bot, _config, message) => message.respond(addressed(pick(GREETINGS), message.user)), {
      caseSensitive: false,
    }),
    matchRegex(String.raw`bye( bye)?|see y(a|ou)|au revoir|gtg|I(')?m off`, (_bot, _config, message) => message.respond(addressed(pick(FAREWELLS), message.user)), {
      caseSensitive: false,
    }),
  ],
});
