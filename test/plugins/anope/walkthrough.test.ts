/**
 * The spec's walk-through, with curl exactly as the spec shows it (only the host differs),
 * against the standalone server with the anope plugin opened explicitly (`auth: none`). The
 * spec's text has its whitespace folded, so bodies are compared folded; the POST body (the
 * bare id) and the empty bodies are compared byte for byte.
 */
import t, { type Test } from 'tap';
import { databaseKinds } from '../../../src/testing/index.js';
import { AnopeObjects, type AnopeObjectStore } from '../../../plugins/anope/index.js';
import { advanceIdsTo, fold } from './fixtures/helpers.js';
import { curl, startStandaloneAnope } from './fixtures/standalone.js';

const TYPES =
  '{ "types": [ "botinfo", "xline", "oper", "badword", "channel", "level", "mlockmode", "accesschanaccess", "akick", "entrymsg", "flagschanaccess", "logsetting", "modelock", "csmiscdata", "cssuspendinfo", "xopchanaccess", "vhost", "hostrequest", "memoinfo", "memo", "memoignore", "nick", "account", "mode", "nsaccess", "autojoin", "nsmiscdata", "nssuspendinfo", "forbid", "ignore", "operinfo", "newsitem", "exception", "stats" ] }';
const PASS1 = 'sha256:55ad6396a287df38967de578cbf92788faea8c94cd7d0e4f55eb45257921d75b:3df6978927389fb71a560a232572e5871bd072752eca27f159dc1fdc2462411c';
const PASS2 = 'sha256:4cbb6ec03a8e7401342ee8832f5e4bd2abeb8fc7a007e66e2ac02e0c14f694f0:041167d04d70381e4218781e06b2b57b08165a987aced63f0a8ca8d25ac8ee51';
const ADAM = `{ "display": "Adam", "pass": "${PASS1}", "email": "adam@sigterm.info", "id": "10" }`;
const LIST = `{ "account": [ ${ADAM}, { "display": "Adam2", "pass": "${PASS2}", "email": "adam@anope.org", "id": "95" } ] }`;
const NSACCESS = '{ "account": "account:10", "mask": "Adam@*.gvd.168.192.IP", "id": "13" }';
const REFS = '{ "account": [ { "account": "account:10", "mask": "Adam@*.gvd.168.192.IP", "id": "13" }, { "account": "account:10", "mask": "adam@anope.org", "id": "126" } ] }';

/** Splits `curl -D -` output into the status line, headers and body. */
function parseDump(out: string): { status: string; headers: Map<string, string>; body: string } {
  const end = out.indexOf('\r\n\r\n');
  const [status, ...lines] = out.slice(0, end).split('\r\n');
  const headers = new Map(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  return { status, headers, body: out.slice(end + 4) };
}

/** The documentation's data: Adam (10), his access entry (13), Adam2 (95); the next id is 126. */
async function seed(t: Test, store: AnopeObjectStore): Promise<void> {
  await advanceIdsTo(store, 10);
  t.equal(await store.create('account', { display: 'Adam', pass: PASS1, email: 'adam@sigterm.info' }), '10');
  await advanceIdsTo(store, 13);
  t.equal(await store.create('nsaccess', { account: 'account:10', mask: 'Adam@*.gvd.168.192.IP' }), '13');
  await advanceIdsTo(store, 95);
  t.equal(await store.create('account', { display: 'Adam2', pass: PASS2, email: 'adam@anope.org' }), '95');
  await advanceIdsTo(store, 126);
}

for (const kind of databaseKinds()) {
  t.test(kind, async (t) => {
    const server = await startStandaloneAnope(kind, { auth: 'none' });
    t.teardown(server.close);
    const host = server.url.replace('http://', '');
    const store = server.kernel.container.resolve<AnopeObjectStore>(AnopeObjects);
    await seed(t, store);

    t.test('GET /rest/types lists the documented types in the documented order', async (t) => {
      t.equal(fold(await curl([`${host}/rest/types`])), TYPES);
    });

    t.test('GET /rest/account lists every account', async (t) => {
      t.equal(fold(await curl([`${host}/rest/account`])), LIST);
    });

    t.test('GET /rest/account/display/Adam finds the account (names match case-insensitively)', async (t) => {
      t.equal(fold(await curl([`${host}/rest/account/display/Adam`])), ADAM);
      t.equal(fold(await curl([`${host}/rest/account/display/aDAM`])), ADAM);
    });

    t.test('GET /rest/account/10 reads the account; /rest/nsaccess/13 shows a reference as type:id', async (t) => {
      t.equal(fold(await curl([`${host}/rest/account/10`])), ADAM);
      t.equal(fold(await curl([`${host}/rest/nsaccess/13`])), NSACCESS);
    });

    t.test("PUT with curl -d sets the field to the raw body (form content type and all)", async (t) => {
      const res = parseDump(await curl(['-D', '-', '-X', 'PUT', `${host}/rest/account/10/email`, '-d', 'adam@anope.org']));
      t.equal(res.status, 'HTTP/1.1 200 OK');
      t.equal(res.headers.get('content-length'), '0');
      t.equal(res.headers.has('content-type'), false, 'an empty body carries no content type');
      t.equal(res.body, '');
      t.equal(fold(await curl([`${host}/rest/account/10`])), ADAM.replace('adam@sigterm.info', 'adam@anope.org'));
    });

    t.test('POST creates an object: 201 with the bare new id', async (t) => {
      const res = parseDump(await curl(['-D', '-', '-X', 'POST', `${host}/rest/account`, '-d', '{"display": "Adam3", "email": "Adam@anope.org"}']));
      t.equal(res.status, 'HTTP/1.1 201 Created');
      t.match(res.headers.get('content-type'), /^application\/json/);
      t.equal(res.headers.get('content-length'), '3');
      t.equal(res.body, '126');
      t.equal(fold(await curl([`${host}/rest/account/126`])), '{ "display": "Adam3", "email": "Adam@anope.org", "id": "126" }');
    });

    t.test('DELETE removes the object', async (t) => {
      const res = parseDump(await curl(['-D', '-', '-X', 'DELETE', `${host}/rest/account/126`]));
      t.equal(res.status, 'HTTP/1.1 200 OK');
      t.equal(res.headers.get('content-length'), '0');
      t.equal(res.body, '');
      const gone = parseDump(await curl(['-D', '-', `${host}/rest/account/126`]));
      t.equal(gone.status, 'HTTP/1.1 404 Not Found');
      t.match(gone.headers.get('content-type'), /^text\/plain/);
      t.equal(gone.body, 'Not found');
    });
  });

  // The refs example needs an access entry with id 126, which the walk-through gave to an
  // account: ids are global, so it runs on a database of its own.
  t.test(`${kind}: GET /rest/account/10?refs=nsaccess`, async (t) => {
    const server = await startStandaloneAnope(kind, { auth: 'none' });
    t.teardown(server.close);
    const store = server.kernel.container.resolve<AnopeObjectStore>(AnopeObjects);
    await seed(t, store);
    t.equal(await store.create('nsaccess', { account: 'account:10', mask: 'adam@anope.org' }), '126');
    t.equal(fold(await curl([`${server.url.replace('http://', '')}/rest/account/10?refs=nsaccess`])), REFS);
  });
}
