/**
 * Talk: `GET /ocs/v2.php/apps/spreed/api/v1/bot/{token}` as a moderator (HTTP Basic against
 * the standalone server's configured users, `OCS-APIRequest: true`, JSON), with 10 bots
 * installed and 3 enabled in the conversation, on the standalone server over SQLite,
 * against the bare Express route of the same run. Targets (issue 17): ≥ 0.8 of Express,
 * p99 ≤ 4 × p50.
 *
 * The database is seeded beforehand through an in-process kernel on the same file, with the
 * plugin's programmatic API (a conversation owned by the moderator, bots installed and set
 * up).
 */
import { Kernel } from '../../../src/index.js';
import { talkApi, talkPlugin } from '../../../plugins/talk/index.js';
import { allPlugins, atLeast, atMost, type Figure, type Scenario } from '../harness.js';

const MODERATOR = { id: 'moderator', password: 'bench-moderator-password', displayName: 'Bench Moderator' };
const BOTS = 10;
const ENABLED = 3;

async function seed(url: string): Promise<string> {
  const kernel = new Kernel({ database: url, logger: { level: 'warn', destination: process.stderr }, plugins: [{ plugin: talkPlugin }] });
  await kernel.prepare('cli');
  try {
    const talk = talkApi(kernel);
    const { room } = await talk.conversations.createRoom({ id: MODERATOR.id, displayName: MODERATOR.displayName }, { type: 2, name: 'Benchmark' });
    for (const user of ['u1', 'u2', 'u3']) await talk.conversations.addParticipant(room, { id: user });
    for (let i = 1; i <= BOTS; i++) {
      const bot = await talk.bots.install({
        name: `bench-bot-${i}`,
        secret: `bench-bot-secret-${i}-`.padEnd(64, 'x'),
        // Response-only bots: the seed enqueues no webhooks, so nothing runs in the background.
        url: `responseonly://bench-bot-${i}`,
        description: `Benchmark bot number ${i}`,
        noSetup: i === BOTS,
      });
      if (i <= ENABLED) await talk.bots.setup(bot.id, [room.token]);
    }
    return room.token;
  } finally {
    await kernel.stop();
  }
}

/** The talk scenario (export name for `scenarios/index.ts`: `talkScenario`). */
export const talkScenario: Scenario = {
  name: 'talk',
  async run(ctx) {
    const dir = ctx.scratch('talk');
    const url = `sqlite:${dir}/db.sqlite`;
    ctx.log(`talk: seeding a conversation with ${BOTS} bots (${ENABLED} enabled)`);
    const token = await seed(url);
    const server = await ctx.startServer('standalone', {
      database: { url },
      users: [{ id: MODERATOR.id, password: MODERATOR.password, displayName: MODERATOR.displayName }],
      plugins: allPlugins({}),
    });
    const figures: Figure[] = [];
    try {
      const target = `${server.url}/ocs/v2.php/apps/spreed/api/v1/bot/${token}`;
      const headers = {
        Authorization: `Basic ${Buffer.from(`${MODERATOR.id}:${MODERATOR.password}`).toString('base64')}`,
        'OCS-APIRequest': 'true',
        Accept: 'application/json',
      };
      const check = (await (await fetch(target, { headers })).json()) as { ocs: { data: Array<{ state: number }> } };
      const enabled = check.ocs.data.filter((b) => b.state === 1).length;
      if (check.ocs.data.length !== BOTS - 1 || enabled !== ENABLED) throw new Error(`expected ${BOTS - 1} bots (${ENABLED} enabled), got ${JSON.stringify(check)}`);
      const name = `GET …/api/v1/bot/{token} as a moderator (${BOTS - 1} bots listed)`;
      const r = await ctx.versusExpress({ url: target, headers });
      if (r.failures > 0) throw new Error(`${name}: ${r.failures} failed requests`);
      const ratio = r.ratio;
      figures.push({ scenario: 'talk', name, value: r.rps, unit: 'req/s', ratio, p50: r.p50, p99: r.p99, ...atLeast(ratio, 0.8) });
      const spread = r.p99 / Math.max(r.p50, 1);
      figures.push({ scenario: 'talk', name: `${name}: p99 / p50`, value: spread, unit: 'x', ...atMost(spread, 4) });
    } finally {
      await server.stop();
    }
    return figures;
  },
};
