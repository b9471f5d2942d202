/**
 * opsdroid's CORS never lets a browser send credentials cross-origin: `*` (from `allow-all`
 * or an `origins` entry) is answered as `*`, never as the caller's origin; only a listed
 * origin is echoed (with `Vary: Origin`); `Access-Control-Allow-Credentials` is never sent.
 */
import t from 'tap';
import { databaseKinds, startTestKernel } from '../../../src/testing/index.js';
import { opsdroidPlugin } from '../../../plugins/opsdroid/index.js';

const CASES: Array<{ name: string; cors: Record<string, unknown>; expect: Record<string, string | null> }> = [
  { name: 'allow-all', cors: { 'allow-all': true }, expect: { 'https://evil.example': '*' } },
  { name: "origins ['*']", cors: { 'allow-all': false, origins: ['*'] }, expect: { 'https://evil.example': '*', 'null': '*' } },
  { name: 'a listed origin', cors: { 'allow-all': false, origins: ['https://dash.example'] }, expect: { 'https://dash.example': 'https://dash.example', 'https://evil.example': null } },
];

for (const kind of databaseKinds()) {
  for (const c of CASES) {
    t.test(`${kind}: ${c.name}`, async (t) => {
      const sb = await startTestKernel({ database: kind, plugins: [{ plugin: opsdroidPlugin, config: { web: { cors: c.cors, 'command-center': { enabled: true, token: 'cc-token-for-cors-test-1' } } } }] });
      t.teardown(sb.close);
      for (const [origin, allowed] of Object.entries(c.expect)) {
        for (const init of [
          { headers: { origin } },
          { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'PATCH', 'access-control-request-headers': 'authorization' } },
          { headers: { origin, authorization: 'cc-token-for-cors-test-1' } },
        ] as RequestInit[]) {
          const res = await sb.fetch('/connectors', init);
          await res.text();
          t.equal(res.headers.get('access-control-allow-origin'), allowed, `${init.method ?? 'GET'} from ${origin}`);
          t.equal(res.headers.get('access-control-allow-credentials'), null, 'credentials are never allowed');
          if (allowed !== null && allowed !== '*') t.match(res.headers.get('vary'), /Origin/);
        }
      }
    });
  }
}
