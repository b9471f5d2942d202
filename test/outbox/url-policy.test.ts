/**
 * The outbound URL policy admits only global unicast destinations (issue 15, finding 4):
 * every range of IANA's IPv4 and IPv6 special-purpose address registries is refused, at its
 * first and last address and inside; IPv4-mapped and IPv4-compatible forms of private
 * addresses are refused; `webhooks.allow` and `deny` override; and on both databases a
 * refused URL enqueues nothing, and enqueueing asks no resolver.
 */
import dns from 'node:dns';
import t from 'tap';
import ipaddr from 'ipaddr.js';
import { definePlugin, ErrorCodes, UrlPolicy, type PluginContext } from '../../src/index.js';
import { databaseKinds, startTestKernel } from '../../src/testing/index.js';

/** [range, a word the refusal names it by]: IANA IPv4 special-purpose registry, plus multicast. */
const IPV4_SPECIAL: Array<[string, RegExp]> = [
  ['0.0.0.0/8', /this network/],
  ['10.0.0.0/8', /private/],
  ['100.64.0.0/10', /carrier-grade NAT/],
  ['127.0.0.0/8', /loopback/],
  ['169.254.0.0/16', /link-local/],
  ['172.16.0.0/12', /private/],
  ['192.0.0.0/24', /IETF protocol/],
  ['192.0.0.0/29', /IETF protocol/],
  ['192.0.0.8/32', /IETF protocol/],
  ['192.0.0.9/32', /IETF protocol/],
  ['192.0.0.10/32', /IETF protocol/],
  ['192.0.0.170/31', /IETF protocol/],
  ['192.0.2.0/24', /documentation/],
  ['192.31.196.0/24', /AS112/],
  ['192.52.193.0/24', /AMT/],
  ['192.88.99.0/24', /6to4/],
  ['192.168.0.0/16', /private/],
  ['192.175.48.0/24', /AS112/],
  ['198.18.0.0/15', /benchmarking/],
  ['198.51.100.0/24', /documentation/],
  ['203.0.113.0/24', /documentation/],
  ['224.0.0.0/4', /multicast/],
  ['240.0.0.0/4', /reserved|broadcast/],
  ['255.255.255.255/32', /broadcast/],
];

/** IANA IPv6 special-purpose registry (with 2001::/23's sub-ranges), multicast, and the rest outside 2000::/3. */
const IPV6_SPECIAL: Array<[string, RegExp]> = [
  ['::/128', /unspecified/],
  ['::1/128', /loopback/],
  ['::/96', /IPv4-compatible|unspecified|loopback/],
  ['64:ff9b::/96', /NAT64/],
  ['64:ff9b:1::/48', /NAT64/],
  ['100::/64', /discard/],
  ['2001::/23', /IETF protocol/],
  ['2001::/32', /IETF protocol/], // Teredo
  ['2001:1::1/128', /IETF protocol/],
  ['2001:1::2/128', /IETF protocol/],
  ['2001:1::3/128', /IETF protocol/],
  ['2001:2::/48', /IETF protocol/], // benchmarking
  ['2001:3::/32', /IETF protocol/], // AMT
  ['2001:4:112::/48', /IETF protocol/], // AS112-v6
  ['2001:10::/28', /IETF protocol/], // deprecated ORCHID
  ['2001:20::/28', /IETF protocol/], // ORCHIDv2
  ['2001:30::/28', /IETF protocol/], // drone remote ID
  ['2001:db8::/32', /documentation/],
  ['2002::/16', /6to4/],
  ['2620:4f:8000::/48', /AS112/],
  ['3fff::/20', /documentation/],
  ['5f00::/16', /SRv6/],
  ['fc00::/7', /unique-local/],
  ['fe80::/10', /link-local/],
  ['ff00::/8', /multicast/],
  ['4000::/3', /not global unicast|SRv6/],
  ['8000::/1', /not global unicast|unique-local|link-local|multicast/],
];

/** First, last and a middle address of a CIDR range. */
function samples(cidr: string): string[] {
  const [addr, bits] = ipaddr.parseCIDR(cidr);
  const bytes = addr.toByteArray();
  const withHost = (fill: (i: number) => number) =>
    bytes.map((b, i) => {
      const hostBits = Math.max(0, Math.min(8, (i + 1) * 8 - bits));
      const mask = (1 << hostBits) - 1;
      return (b & ~mask & 0xff) | (fill(i) & mask);
    });
  const out = [withHost(() => 0), withHost(() => 0xff), withHost((i) => (i * 37 + 11) & 0xff)];
  return out.map((b) => ipaddr.fromByteArray(b).toString());
}

t.test('every IPv4 special-purpose range is refused, at its ends and inside', async (t) => {
  const policy = new UrlPolicy();
  for (const [cidr, name] of IPV4_SPECIAL) {
    for (const address of samples(cidr)) t.match(policy.refusal(address), name, `${address} (${cidr})`);
  }
});

t.test('every IPv6 special-purpose range, and everything outside 2000::/3, is refused', async (t) => {
  const policy = new UrlPolicy();
  for (const [cidr, name] of IPV6_SPECIAL) {
    for (const address of samples(cidr)) t.match(policy.refusal(address), name, `${address} (${cidr})`);
  }
});

t.test('IPv4 embedded in IPv6: mapped forms are checked as the IPv4 address, other forms refused', async (t) => {
  const policy = new UrlPolicy();
  for (const [address, why] of [
    ['::ffff:127.0.0.1', /127\.0\.0\.1 is loopback/],
    ['::ffff:7f00:1', /127\.0\.0\.1 is loopback/],
    ['::ffff:10.1.2.3', /private/],
    ['::ffff:169.254.169.254', /link-local/],
    ['::ffff:100.64.0.1', /carrier-grade NAT/],
    ['::ffff:0.0.0.0', /this network/],
    ['::127.0.0.1', /IPv4-compatible/],
    ['::10.0.0.1', /IPv4-compatible/],
    ['::8.8.8.8', /IPv4-compatible/],
    ['64:ff9b::127.0.0.1', /NAT64/],
    ['64:ff9b::8.8.8.8', /NAT64/],
    ['2002:7f00:1::1', /6to4/],
    ['2002:a00:1::1', /6to4/],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', /IETF protocol/],
    ['[::1]', /loopback/],
    ['fe80::1%eth0', /link-local/],
  ] as Array<[string, RegExp]>) {
    t.match(policy.refusal(address), why, address);
  }
  t.equal(policy.refusal('::ffff:8.8.8.8'), undefined, 'a mapped public IPv4 address is that address');
});

t.test('global unicast addresses, including the neighbours of special ranges, are allowed', async (t) => {
  const policy = new UrlPolicy();
  for (const address of [
    '8.8.8.8',
    '1.1.1.1',
    '93.184.215.14',
    '9.255.255.255',
    '11.0.0.0',
    '100.63.255.255',
    '100.128.0.0',
    '126.255.255.255',
    '128.0.0.0',
    '169.253.255.255',
    '172.15.255.255',
    '172.32.0.0',
    '192.0.1.1',
    '192.0.3.0',
    '192.88.98.255',
    '192.167.255.255',
    '192.169.0.0',
    '198.17.255.255',
    '198.20.0.0',
    '223.255.255.255',
    '2606:4700:4700::1111',
    '2a00:1450:4001::1',
    '2001:200::1',
    '2001:db7:ffff::1',
    '2001:db9::1',
    '2003::1',
    '2620:4f:7fff::1',
    '2620:4f:8001::1',
    '3ffe::1',
    '3fff:1000::1',
  ]) {
    t.equal(policy.refusal(address), undefined, address);
  }
});

t.test('allow opens a special range, deny closes any; not an address is refused', async (t) => {
  const policy = new UrlPolicy({ allow: ['127.0.0.0/8', '::/96', '64:ff9b::/96'], deny: ['127.0.0.2', '8.8.8.0/24'] });
  t.equal(policy.refusal('127.0.0.1'), undefined);
  t.equal(policy.refusal('::ffff:127.0.0.1'), undefined, 'the mapped form follows the IPv4 allowance');
  t.equal(policy.refusal('::127.0.0.1'), undefined, 'IPv4-compatible allowed by its own range only');
  t.equal(policy.refusal('64:ff9b::a00:1'), undefined);
  t.match(policy.refusal('127.0.0.2'), /denied by configuration/);
  t.match(policy.refusal('8.8.8.8'), /denied by configuration/);
  t.match(policy.refusal('10.0.0.1'), /private/);
  t.match(policy.refusal('not-an-ip'), /not an IP address/);
  t.throws(() => new UrlPolicy({ allow: ['300.0.0.0/8'] }), { code: ErrorCodes.INVALID_CONFIG });
});

t.test('check(): URLs in every spelling of a special address are refused, and names that resolve to one', async (t) => {
  const policy = new UrlPolicy();
  for (const url of [
    'http://[::127.0.0.1]:9/',
    'http://[::ffff:127.0.0.1]/',
    'http://[::ffff:7f00:1]/',
    'http://[0:0:0:0:0:ffff:a00:1]/',
    'http://[64:ff9b::a9fe:a9fe]/',
    'http://2130706433/',
    'http://0x7f.1/',
    'http://017700000001/',
    'http://127.1/',
    'http://0/',
    'http://[::]/',
    'http://localhost:9/',
    'https://[fd00::1]/',
    'http://[2001:db8::1]/',
  ]) {
    const err = await policy.check(url).then(
      () => undefined,
      (e: { code?: string }) => e,
    );
    t.equal(err?.code, ErrorCodes.URL_NOT_ALLOWED, url);
  }
  t.equal((await policy.check('http://8.8.8.8/hook')).hostname, '8.8.8.8');
  t.equal((await policy.check('http://[2606:4700:4700::1111]/hook')).hostname, '[2606:4700:4700::1111]');
  // The delivery-time lookup (DNS rebinding) refuses too.
  const err = await new Promise<Error | null>((r) => policy.lookup()('localhost', {}, (e) => r(e)));
  t.equal((err as { code?: string } | null)?.code, ErrorCodes.URL_NOT_ALLOWED);
});

for (const kind of databaseKinds()) {
  t.test(`${kind}: a refused destination enqueues nothing`, async (t) => {
    const holder: { ctx?: PluginContext } = {};
    const plugin = definePlugin({
      id: 'policy-probe',
      version: '1',
      init(ctx) {
        holder.ctx = ctx;
      },
    });
    const sb = await startTestKernel({ database: kind, plugins: [plugin], outbox: { allow: [] } });
    t.teardown(sb.close);
    const ob = holder.ctx!.outbox;
    for (const url of ['http://[::127.0.0.1]:9/', 'http://[::ffff:127.0.0.1]:9/', 'http://[64:ff9b::7f00:1]:9/', 'http://192.0.0.9/', 'http://[3fff::1]/', 'http://[5f00::1]/']) {
      const err = (await ob.enqueue({ url, body: 'x' }).catch((e: unknown) => e)) as { code?: string };
      t.equal(err?.code, ErrorCodes.URL_NOT_ALLOWED, url);
    }
    t.match(await ob.stats(), { pending: 0, delivering: 0 }, 'nothing was written');

    // Enqueueing asks no resolver (it may run in the caller's transaction, which a silent
    // resolver would hold): a host name is checked when an attempt connects.
    const lookups = t.capture(dns.promises, 'lookup', () => new Promise<never>(() => undefined));
    const enqueued = await ob.enqueue({ url: 'http://hooks.example.invalid/x', body: 'x' });
    t.ok(enqueued.id, 'enqueued without a lookup');
    t.equal(lookups.args().length, 0);
    t.throws(() => new UrlPolicy({ allow: [] }).checkWithoutLookup('http://[::1]:9/'), { code: ErrorCodes.URL_NOT_ALLOWED }, 'an address host is still checked');
    t.throws(() => new UrlPolicy({ allow: [] }).checkWithoutLookup('ftp://hooks.example/'), { code: ErrorCodes.URL_NOT_ALLOWED }, 'and the scheme');
  });
}
