/**
 * opsdroid's tokens with spaces, on SQLite and PostgreSQL: the webhook token is everything
 * after `Bearer ` (the guide's `webhook-token: "a long random token"` works), the command
 * center's is the whole header value, and a token no HTTP header can carry is refused at
 * start with one config line naming the key.
 */
import t from 'tap';
import http from 'node:http';
import { bearerTokenOf } from '../../../plugins/opsdroid/header-token.js';
import { createOpsdroidPlugin, defineSkill, matchWebhook } from '../../../plugins/opsdroid/index.js';
import { createTestDatabase, databaseKinds, startTestKernel } from '../../../src/testing/index.js';

const WEBHOOK_TOKEN = 'a long random token';
const CC_TOKEN = 'another long random token';
const EXPECTS = 'must be printable ASCII without leading or trailing spaces (what an HTTP header can carry)';

const hook = defineSkill({ name: 'ops', matchers: [matchWebhook('ping', () => undefined)] });
const plugin = createOpsdroidPlugin({ skills: [hook] });

/** A POST with an exact Authorization header (fetch would trim or refuse some of these). */
function post(url: string, authorization: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: authorization === undefined ? {} : { authorization } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end();
  });
}

t.test('bearerTokenOf: everything after "Bearer ", spaces included', async (t) => {
  t.equal(bearerTokenOf(`Bearer ${WEBHOOK_TOKEN}`), WEBHOOK_TOKEN);
  t.equal(bearerTokenOf('Bearer  two spaces'), ' two spaces');
  t.equal(bearerTokenOf('Bearer '), '');
  for (const other of [undefined, '', 'Bearer', `bearer ${WEBHOOK_TOKEN}`, `Token ${WEBHOOK_TOKEN}`, WEBHOOK_TOKEN]) t.equal(bearerTokenOf(other), undefined, String(other));
});

for (const kind of databaseKinds()) {
  t.test(`tokens with spaces work as the guide writes them (${kind})`, async (t) => {
    const sb = await startTestKernel({
      database: kind,
      plugins: [{ plugin, config: { web: { 'webhook-token': WEBHOOK_TOKEN, 'command-center': { enabled: true, token: CC_TOKEN } }, skills: { ops: {} } } }],
    });
    t.teardown(sb.close);
    const url = `${sb.url}/skill/ops/ping`;
    t.equal(await post(url, `Bearer ${WEBHOOK_TOKEN}`), 200, 'Bearer + the token with its spaces');
    for (const wrong of [undefined, WEBHOOK_TOKEN, `bearer ${WEBHOOK_TOKEN}`, `Bearer  ${WEBHOOK_TOKEN}`, 'Bearer a  long random token', `Bearer ${WEBHOOK_TOKEN} x`, 'Bearer a long random', 'Bearer a']) {
      t.equal(await post(url, wrong), 403, `refused: ${String(wrong)}`);
    }
    const center = await sb.fetch('/skills', { headers: { authorization: CC_TOKEN } });
    t.equal(center.status, 200, 'the command center token with spaces');
    t.equal((await sb.fetch('/skills', { headers: { authorization: `Bearer ${CC_TOKEN}` } })).status, 403);
  });

  t.test(`a token no header can carry is refused at start, naming the key (${kind})`, async (t) => {
    const db = await createTestDatabase(kind);
    t.teardown(() => db.drop());
    // Odd strings, not words: the log scan would find a word like "trailing" in the messages.
    for (const bad of [' q7x-lead', 'q7x-trail ', 'q7x\ttab', 'q7x\nnl', 'q7x\u0001ctl', 'q7x-café', '']) {
      await t.rejects(
        startTestKernel({ database: db.url, plugins: [{ plugin, config: { web: { 'webhook-token': bad } } }] }),
        { code: 'SWB_ERR_INVALID_CONFIG', message: `plugins.opsdroid.web.webhook-token: ${EXPECTS}` },
        `webhook-token ${JSON.stringify(bad)}`,
      );
      await t.rejects(
        startTestKernel({ database: db.url, plugins: [{ plugin, config: { web: { 'command-center': { enabled: true, token: bad } } } }] }),
        { code: 'SWB_ERR_INVALID_CONFIG', message: `plugins.opsdroid.web.command-center.token: ${EXPECTS}` },
        `command-center token ${JSON.stringify(bad)}`,
      );
    }
    await t.rejects(
      startTestKernel({ database: db.url, plugins: [{ plugin, config: { connectors: { websocket: { token: 'q7x-socket ' } } } }] }),
      { code: 'SWB_ERR_PLUGIN_START', message: `Plugin 'opsdroid' startup failed: Invalid config for connectors 'websocket': token: ${EXPECTS}, or empty for none` },
      'the websocket connector token too',
    );
  });
}
