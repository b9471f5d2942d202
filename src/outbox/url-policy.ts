/**
 * The outbound URL policy: only http and https, and the *resolved* address must be global
 * unicast: never loopback, private, link-local, cloud metadata, documentation, NAT64, an
 * IPv4 address embedded in IPv6, or any other special-purpose range of IANA's registries,
 * unless the configuration allows its range. Checked at enqueue and again, on the address actually
 * connected to, at delivery time (so DNS rebinding cannot get around it).
 */
import dns from 'node:dns';
import net from 'node:net';
import ipaddr from 'ipaddr.js';
import { ErrorCodes, SwitchboardError } from '../errors.js';

/** CIDR lists that override the default policy. `deny` wins over `allow`. */
export interface UrlPolicyOptions {
  /** Ranges allowed even though they are special (e.g. `127.0.0.0/8` in tests). */
  allow?: string[];
  /** Ranges always refused. */
  deny?: string[];
}

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** A named special-purpose range, refused unless `webhooks.allow` covers the address. */
interface SpecialRange {
  /** What the range is, for the refusal message. */
  name: string;
  range: Range;
}

const special = (name: string, cidr: string): SpecialRange => ({ name, range: ipaddr.parseCIDR(cidr) as Range });

/**
 * IPv4 ranges refused by default: every entry of IANA's IPv4 Special-Purpose Address
 * Registry (whether or not it is marked globally reachable: none is a webhook receiver),
 * plus multicast.
 */
const SPECIAL_IPV4: readonly SpecialRange[] = [
  special('"this network"', '0.0.0.0/8'),
  special('private', '10.0.0.0/8'),
  special('shared address space (carrier-grade NAT)', '100.64.0.0/10'),
  special('loopback', '127.0.0.0/8'),
  special('link-local', '169.254.0.0/16'),
  special('private', '172.16.0.0/12'),
  special('IETF protocol assignments', '192.0.0.0/24'),
  special('documentation (TEST-NET-1)', '192.0.2.0/24'),
  special('AS112-v4', '192.31.196.0/24'),
  special('AMT', '192.52.193.0/24'),
  special('deprecated 6to4 relay anycast', '192.88.99.0/24'),
  special('private', '192.168.0.0/16'),
  special('direct delegation AS112 service', '192.175.48.0/24'),
  special('benchmarking', '198.18.0.0/15'),
  special('documentation (TEST-NET-2)', '198.51.100.0/24'),
  special('documentation (TEST-NET-3)', '203.0.113.0/24'),
  special('multicast', '224.0.0.0/4'),
  special('limited broadcast', '255.255.255.255/32'),
  special('reserved', '240.0.0.0/4'),
];

/** IPv6 global unicast (RFC 4291): an IPv6 address outside it is refused by default. */
const GLOBAL_UNICAST_IPV6 = ipaddr.parseCIDR('2000::/3') as Range;

/**
 * IPv6 ranges refused by default. Everything outside `2000::/3` is refused anyway (`::`,
 * `::1`, IPv4-compatible `::/96`, NAT64 `64:ff9b::/96` and `64:ff9b:1::/48`, discard
 * `100::/64`, SRv6 `5f00::/16`, unique-local `fc00::/7`, link-local `fe80::/10`, multicast
 * `ff00::/8`); these are the entries of IANA's IPv6 Special-Purpose Address Registry inside
 * it. (IPv4-mapped `::ffff:0:0/96` is checked as the IPv4 address it maps.)
 */
const SPECIAL_IPV6: readonly SpecialRange[] = [
  special('IETF protocol assignments (Teredo, ORCHID, benchmarking, …)', '2001::/23'),
  special('documentation', '2001:db8::/32'),
  special('6to4', '2002::/16'),
  special('direct delegation AS112 service', '2620:4f:8000::/48'),
  special('documentation', '3fff::/20'),
];

/** Names of the well-known IPv6 ranges outside global unicast, for the refusal message. */
const OUTSIDE_GLOBAL_IPV6: readonly SpecialRange[] = [
  special('unspecified', '::/128'),
  special('loopback', '::1/128'),
  special('IPv4-compatible (deprecated)', '::/96'),
  special('NAT64', '64:ff9b::/96'),
  special('NAT64 (local use)', '64:ff9b:1::/48'),
  special('discard-only', '100::/64'),
  special('SRv6 SIDs', '5f00::/16'),
  special('unique-local', 'fc00::/7'),
  special('link-local', 'fe80::/10'),
  special('multicast', 'ff00::/8'),
];

/** Why an address is special (refused unless allowed), or undefined for a global unicast address. */
function specialRange(addr: ipaddr.IPv4 | ipaddr.IPv6): string | undefined {
  if (addr.kind() === 'ipv4') return SPECIAL_IPV4.find((r) => inRanges(addr, [r.range]))?.name;
  const found = SPECIAL_IPV6.find((r) => inRanges(addr, [r.range]));
  if (found) return found.name;
  if (inRanges(addr, [GLOBAL_UNICAST_IPV6])) return undefined;
  return OUTSIDE_GLOBAL_IPV6.find((r) => inRanges(addr, [r.range]))?.name ?? 'not global unicast';
}

function parseCidrs(list: readonly string[] | undefined, what: string): Range[] {
  return (list ?? []).map((cidr) => {
    try {
      return cidr.includes('/') ? ipaddr.parseCIDR(cidr) : ([ipaddr.parse(cidr), ipaddr.parse(cidr).kind() === 'ipv4' ? 32 : 128] as Range);
    } catch {
      throw new SwitchboardError(ErrorCodes.INVALID_CONFIG, `webhooks.${what}: '${cidr}' is not a CIDR range`);
    }
  });
}

function normalize(address: string): ipaddr.IPv4 | ipaddr.IPv6 {
  let text = address.replace(/^\[|\]$/g, '').split('%')[0];
  // The WHATWG URL parser writes IPv6 canonically: ipaddr.js would read `::127.0.0.1`
  // (IPv4-compatible, `::7f00:1`) as the IPv4-mapped `::ffff:127.0.0.1`.
  if (net.isIPv6(text)) text = new URL(`http://[${text}]/`).hostname.slice(1, -1);
  const parsed = ipaddr.parse(text);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) return (parsed as ipaddr.IPv6).toIPv4Address();
  return parsed;
}

/** The address a host stands for without DNS: itself when it is one, loopback for a `localhost` name (RFC 6761). */
function knownAddress(host: string): string | undefined {
  if (net.isIP(host)) return host;
  return host === 'localhost' || host.endsWith('.localhost') ? '127.0.0.1' : undefined;
}

/** A URL's host without the brackets of an IPv6 address. */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '');
}

function inRanges(addr: ipaddr.IPv4 | ipaddr.IPv6, ranges: Range[]): boolean {
  return ranges.some(([net, bits]) => net.kind() === addr.kind() && addr.match([net, bits] as never));
}

/** A compiled URL policy. */
export class UrlPolicy {
  private readonly allow: Range[];
  private readonly deny: Range[];

  /** @param options - allow and deny CIDR lists */
  constructor(options: UrlPolicyOptions = {}) {
    this.allow = parseCidrs(options.allow, 'allow');
    this.deny = parseCidrs(options.deny, 'deny');
  }

  /** Why an IP address is refused, or undefined when it is allowed. */
  refusal(address: string): string | undefined {
    let addr: ipaddr.IPv4 | ipaddr.IPv6;
    try {
      addr = normalize(address);
    } catch {
      return `'${address}' is not an IP address`;
    }
    if (inRanges(addr, this.deny)) return `address ${addr.toString()} is denied by configuration`;
    if (inRanges(addr, this.allow)) return undefined;
    const range = specialRange(addr);
    if (range) return `address ${addr.toString()} is ${range} and not allowed (add its range to webhooks.allow to permit it)`;
    return undefined;
  }

  /** Checks a URL's scheme and syntax; returns the parsed URL or throws `SWB_ERR_URL_NOT_ALLOWED`. */
  parse(url: string): URL {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new SwitchboardError(ErrorCodes.URL_NOT_ALLOWED, `'${url}' is not a valid URL`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new SwitchboardError(ErrorCodes.URL_NOT_ALLOWED, `Only http and https URLs are allowed (got ${parsed.protocol.replace(':', '')})`);
    }
    if (parsed.username || parsed.password) {
      throw new SwitchboardError(ErrorCodes.URL_NOT_ALLOWED, 'URLs with embedded credentials are not allowed');
    }
    return parsed;
  }

  /**
   * Checks a URL without asking DNS: its scheme and syntax, and its host when that is an IP
   * address or a `localhost` name (loopback by definition, RFC 6761). For enqueueing, which
   * runs in its caller's transaction: a slow or silent resolver there would hold the
   * transaction (on SQLite, every write of the process). A host name's addresses are checked
   * on the connection each attempt makes (see {@link UrlPolicy.lookup}). Returns the parsed
   * URL or throws `SWB_ERR_URL_NOT_ALLOWED`.
   */
  checkWithoutLookup(url: string): URL {
    const parsed = this.parse(url);
    const address = knownAddress(hostOf(parsed));
    if (address !== undefined) this.refuseIfDisallowed(parsed, address);
    return parsed;
  }

  /**
   * Checks a URL fully: what {@link UrlPolicy.checkWithoutLookup} checks, then every address
   * another host name resolves to. A host that does not resolve now is accepted (it may
   * resolve later; delivery checks again).
   */
  async check(url: string): Promise<URL> {
    const parsed = this.checkWithoutLookup(url);
    const host = hostOf(parsed);
    if (knownAddress(host) !== undefined) return parsed;
    let addresses: dns.LookupAddress[];
    try {
      addresses = await dns.promises.lookup(host, { all: true });
    } catch {
      return parsed;
    }
    for (const { address } of addresses) this.refuseIfDisallowed(parsed, address);
    return parsed;
  }

  private refuseIfDisallowed(parsed: URL, address: string): void {
    const why = this.refusal(address);
    if (why) throw new SwitchboardError(ErrorCodes.URL_NOT_ALLOWED, `URL ${parsed.origin} is not allowed: ${why}`);
  }

  /**
   * A `lookup` function for `http.request` that refuses disallowed addresses, so the check
   * applies to the address actually connected to.
   */
  lookup(): net.LookupFunction {
    return (hostname, options, callback) => {
      dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
        if (err) return (callback as (e: Error) => void)(err);
        const list = addresses as dns.LookupAddress[];
        for (const a of list) {
          const why = this.refusal(a.address);
          if (why) return (callback as (e: Error) => void)(new SwitchboardError(ErrorCodes.URL_NOT_ALLOWED, why));
        }
        if ((options as { all?: boolean }).all) (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, list);
        else (callback as (e: null, a: string, f: number) => void)(null, list[0].address, list[0].family);
      });
    };
  }
}
