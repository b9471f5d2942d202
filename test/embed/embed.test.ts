import t from 'tap';
import { createEmbeddedApp } from '../../examples/embed/app.js';
import { createTestDatabase, databaseKinds } from '../../src/testing/index.js';

const sessions = {
  'alice-session-token': { id: 'alice', name: 'Alice', isAdmin: true },
  'bob-session-token': { id: 'bob', name: 'Bob', isAdmin: false },
};
const apiKey = 'embed-test-redball-key-0123456789';

for (const kind of databaseKinds()) {
  t.test(`${kind}: an existing app mounts talk and redball under /integrations`, async (t) => {
    const db = await createTestDatabase(kind);
    t.teardown(db.drop);
    const embedded = createEmbeddedApp({ database: db.url, sessions, redballApiKeys: [apiKey] });
    const url = await embedded.listen();
    t.teardown(embedded.close);
    const as = (token?: string) => ({ ...(token ? { authorization: `Bearer ${token}` } : {}), 'OCS-APIRequest': 'true', accept: 'application/json' });

    // The host's own routes and auth middleware are untouched.
    t.equal((await fetch(`${url}/api/me`)).status, 401);
    t.same(await (await fetch(`${url}/api/me`, { headers: as('alice-session-token') })).json(), { id: 'alice', name: 'Alice' });

    // Talk, with the host's users: alice creates a conversation and is its owner.
    const created = await fetch(`${url}/integrations/ocs/v2.php/apps/spreed/api/v4/room`, {
      method: 'POST',
      headers: { ...as('alice-session-token'), 'content-type': 'application/json' },
      body: JSON.stringify({ roomType: 2, roomName: 'Team' }),
    });
    t.equal(created.status, 201);
    const room = ((await created.json()) as { ocs: { data: { token: string; name: string } } }).ocs.data;
    t.equal(room.name, 'Team');
    t.equal((await fetch(`${url}/integrations/ocs/v2.php/apps/spreed/api/v1/bot/admin`, { headers: as('alice-session-token') })).status, 200, 'host admins are Talk admins');
    t.equal((await fetch(`${url}/integrations/ocs/v2.php/apps/spreed/api/v1/bot/admin`, { headers: as('bob-session-token') })).status, 403);
    t.equal((await fetch(`${url}/integrations/ocs/v2.php/apps/spreed/api/v1/bot/admin`, { headers: as() })).status, 401);

    // redball, with its own API keys.
    const types = await fetch(`${url}/integrations/api/v1/bottypes?apikey=${apiKey}`);
    t.equal(types.status, 200);
    t.match(await types.json(), { meta: { api_version: 1 }, response: { botTypes: [{ moduleName: String }] } });
    t.equal((await fetch(`${url}/integrations/api/v1/bottypes`)).status, 401);

    // Native paths are not served; unknown paths reach the host's own 404.
    const native = await fetch(`${url}/api/v1/bottypes?apikey=${apiKey}`);
    t.equal(native.status, 404);
    t.same(await native.json(), { error: 'no such page in this app' });

    const doc = embedded.kernel.openapi();
    t.ok(doc.paths['/integrations/api/v1/bots'], 'OpenAPI shows the mounted paths');
    t.notOk(doc.paths['/api/v1/bots']);
  });
}
