/**
 * `switchboard talk bot:*` as the original's occ commands: every install validation rule
 * with its message and exit code, list (plain, JSON, verbose; never a secret), state,
 * setup, remove and uninstall.
 */
import t from 'tap';
import crypto from 'node:crypto';
import { databaseKinds, startTestKernel } from '../../../src/testing/index.js';
import { talkPlugin, talkApi } from '../../../plugins/talk/index.js';
import { cliRunner } from './cli-runner.js';
import { identity, secretOf } from './helpers.js';

const sha1 = (s: string) => crypto.createHash('sha1').update(s).digest('hex');

for (const kind of databaseKinds()) {
  t.test(kind, async (t) => {
    const sb = await startTestKernel({ database: kind, identity, plugins: [talkPlugin] });
    t.teardown(sb.close);
    const cli = cliRunner(sb.databaseUrl!);
    t.teardown(cli.cleanup);
    const api = talkApi(sb.kernel);
    const { room } = await api.conversations.createRoom({ id: 'alice' }, { type: 2, name: 'Ops' });
    const secret = secretOf('cli-bot-one');
    const url = 'https://bots.example.net/one';
    let id = 0;

    await t.test('install: success prints "Bot installed" and the ID', async (t) => {
      const run = await cli.run('talk', 'bot:install', 'One', secret, url, 'The first bot', '-f', 'webhook', '--feature', 'reaction');
      t.same(run.err, []);
      t.equal(run.code, 0);
      t.equal(run.out.length, 2);
      t.equal(run.out[0], 'Bot installed');
      id = Number(/^ID: (\d+)$/.exec(run.out[1])![1]);
      const bot = await api.bots.get(id);
      t.match(bot, { name: 'One', url, url_hash: sha1(url), description: 'The first bot', state: 1, features: 9 });
    });

    await t.test('install: every validation rule, its message and exit code; nothing is stored', async (t) => {
      const cases: Array<[string[], number, string]> = [
        [['', secretOf('a'), 'https://a.example/x'], 1, 'The provided name is too short or too long (min. 1 char, max. 64 chars)'],
        [['n'.repeat(65), secretOf('b'), 'https://b.example/x'], 1, 'The provided name is too short or too long (min. 1 char, max. 64 chars)'],
        [['é'.repeat(33), secretOf('c'), 'https://c.example/x'], 1, 'The provided name is too short or too long (min. 1 char, max. 64 chars)'],
        [['Short', 's'.repeat(39), 'https://d.example/x'], 1, 'The provided secret is too short (min. 40 chars, max. 128 chars)'],
        [['Long', 's'.repeat(129), 'https://e.example/x'], 1, 'The provided secret is too short (min. 40 chars, max. 128 chars)'],
        [['Ftp', secretOf('f'), 'ftp://f.example/x'], 1, 'The provided URL is not a valid URL'],
        [['NoScheme', secretOf('g'), 'g.example/x'], 1, 'The provided URL is not a valid URL'],
        [['TooLong', secretOf('h'), `https://h.example/${'x'.repeat(4000)}`], 1, 'The provided URL is not a valid URL'],
        [['Broken', secretOf('i'), 'http://'], 1, 'The provided URL is not a valid URL'],
        [['App', secretOf('j'), 'nextcloudapp://myapp'], 1, 'Nextcloud app bots (nextcloudapp://) are not supported: this server has no Nextcloud apps'],
        [['Desc', secretOf('k'), 'https://k.example/x', 'd'.repeat(4001)], 1, 'The provided description is too long (max. 4000 chars)'],
        [['SameUrl', secretOf('l'), url], 2, 'Bot with the same URL is already registered'],
        [['SameSecret', secret, 'https://m.example/x'], 3, 'Bot with the same secret is already registered'],
        [['Feat', secretOf('n'), 'https://n.example/x', '-f', 'webhok'], 1, 'Unknown feature: webhok (known: webhook, response, event, reaction, none)'],
      ];
      for (const [args, code, message] of cases) {
        const run = await cli.run('talk', 'bot:install', ...args);
        t.equal(run.code, code, `${message} → exit ${code}`);
        t.same(run.err, [message]);
        t.same(run.out, []);
        t.ok([...run.out, ...run.err].every((l) => !l.includes(args[1]) || args[1].length < 40 || args[1] === ''), 'no secret printed');
      }
      t.equal((await api.bots.list()).length, 1, 'no bot was stored');
      const edge = await cli.run('talk', 'bot:install', 'n'.repeat(64), 's'.repeat(128), `https://edge.example/${'x'.repeat(4000 - 'https://edge.example/'.length)}`, 'd'.repeat(4000));
      t.equal(edge.code, 0, 'the maximum lengths are accepted');
      const responseOnly = await cli.run('talk', 'bot:install', 'Poster', secretOf('poster'), 'responseonly://poster', '-f', 'webhook', '-f', 'response');
      t.equal(responseOnly.code, 0);
      const posterId = Number(responseOnly.out[1].slice(4));
      t.equal((await api.bots.get(posterId))!.features, 2, 'response-only bots never receive webhooks');
      const stateOfPoster = await cli.run('talk', 'bot:state', String(posterId), '1', '-f', 'webhook');
      t.equal(stateOfPoster.code, 1);
      t.same(stateOfPoster.err, ['Feature flags of response-only bots cannot be changed']);
      t.equal((await cli.run('talk', 'bot:uninstall', String(posterId))).code, 0);
      t.equal((await cli.run('talk', 'bot:uninstall', '--url', `https://edge.example/${'x'.repeat(4000 - 'https://edge.example/'.length)}`)).code, 0);
    });

    await t.test('list: plain table, JSON, verbose; never a secret', async (t) => {
      const plain = await cli.run('talk', 'bot:list');
      t.equal(plain.code, 0);
      t.same(plain.out, [
        '+----+------+---------------+-------------+-------+-------------------+',
        '| id | name | description   | error_count | state | features          |',
        '+----+------+---------------+-------------+-------+-------------------+',
        `| ${String(id).padEnd(2)} | One  | The first bot | 0           | 1     | webhook, reaction |`,
        '+----+------+---------------+-------------+-------+-------------------+',
      ]);
      const json = await cli.run('talk', 'bot:list', '--output=json', '-v');
      t.same(JSON.parse(json.out[0]), [
        { id, name: 'One', description: 'The first bot', url, url_hash: sha1(url), error_count: 0, last_error_date: 0, last_error_message: '', state: 1, features: 'webhook, reaction' },
      ]);
      t.notOk(json.out.join('\n').includes(secret), 'verbose listings leave the secret out');
      t.same(JSON.parse((await cli.run('talk', 'bot:list', room.token, '--output=json')).out[0]), [], 'not set up in the conversation yet');
      t.equal((await cli.run('talk', 'bot:list', '--output=yaml')).code, 1);
    });

    await t.test('state: valid states, features, unknown bot', async (t) => {
      const set = await cli.run('talk', 'bot:state', String(id), '2', '-f', 'webhook', '-f', 'response');
      t.equal(set.code, 0);
      t.same(set.out, ['Bot state set to 2 with features: webhook, response']);
      t.match(await api.bots.get(id), { state: 2, features: 3 });
      t.same((await cli.run('talk', 'bot:state', String(id), '1')).out, ['Bot state set to 1']);
      const invalid = await cli.run('talk', 'bot:state', String(id), '3');
      t.equal(invalid.code, 1);
      t.same(invalid.err, ['Provided state is invalid']);
      t.same((await cli.run('talk', 'bot:state', String(id), 'on')).err, ['Provided state is invalid']);
      const unknown = await cli.run('talk', 'bot:state', '424242', '1');
      t.equal(unknown.code, 1);
      t.same(unknown.err, ['Bot could not be found by id: 424242']);
    });

    await t.test('setup and remove: exit codes 1, 2, 3 as the original', async (t) => {
      const ok = await cli.run('talk', 'bot:setup', String(id), room.token);
      t.equal(ok.code, 0);
      t.same(ok.out, [`Successfully set up for conversation ${room.token}`]);
      const twice = await cli.run('talk', 'bot:setup', String(id), room.token, 'zzzz0000');
      t.equal(twice.code, 2, 'the last failure decides the code');
      t.same(twice.err, [`Bot is already set up for the conversation ${room.token}`, 'Conversation could not be found by token: zzzz0000']);
      const already = await cli.run('talk', 'bot:setup', String(id), room.token);
      t.equal(already.code, 3);
      const noBot = await cli.run('talk', 'bot:setup', '999', room.token);
      t.equal(noBot.code, 1);
      t.same(noBot.err, ['Bot could not be found by id: 999']);
      t.same(JSON.parse((await cli.run('talk', 'bot:list', room.token, '--output=json')).out[0]).map((b: any) => b.id), [id]);
      const removed = await cli.run('talk', 'bot:remove', String(id), room.token);
      t.equal(removed.code, 0);
      t.same(removed.out, ['Remove bot from given conversations']);
      t.same(JSON.parse((await cli.run('talk', 'bot:list', room.token, '--output=json')).out[0]), []);
    });

    await t.test('uninstall: by id, by URL, not found', async (t) => {
      const missing = await cli.run('talk', 'bot:uninstall', '999');
      t.equal(missing.code, 1);
      t.same(missing.err, ['Bot not found']);
      t.equal((await cli.run('talk', 'bot:uninstall')).code, 1, 'neither id nor URL');
      const gone = await cli.run('talk', 'bot:uninstall', String(id));
      t.equal(gone.code, 0);
      t.same(gone.out, ['Bot uninstalled']);
      t.same(await api.bots.list(), []);
      // The same URL and secret can be installed again once uninstalled.
      t.equal((await cli.run('talk', 'bot:install', 'Again', secret, url)).code, 0);
      t.equal((await cli.run('talk', 'bot:uninstall', '--url', url)).code, 0);
    });
  });
}
