/**
 * The outbound URL policy: only http and https, and the *resolved* address must not be
 * loopback, private, link-local, cloud metadata or otherwise special, unless the
 * configuration allows its range. Checked at enqueue and again, on the address actually
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

/** The ipaddr.js range names that are refused unless allowed. Everything but public unicast. */
const SPECIAL_RANGES = new Set([
  'unspecified',
  'broadcast',
  'multicast',
  'linkLocal',
  'loopback',
  'carrierGradeNat',
  'private',
  'reserved',
  'uniqueLocal',
  'ipv4Mapped',
  'rfc6145',
  'rfc6052',
  '6to4',
  'teredo',
  'benchmarking',
  'amt',
  'as112',
  'as112v6',
  'deprecated',
  'orchid2',
  'droneRemoteIdProtocolEntityTags',
  'discard',
]);

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
  const parsed = ipaddr.parse(address.replace(/^\[|\]$/g, '').split('%')[0]);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) return (parsed as ipaddr.IPv6).toIPv4Address();
  return parsed;
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
    const range = addr.range();
    if (SPECIAL_RANGES.has(range)) return `address ${addr.toString()} is ${range} and not allowed (add its range to webhooks.allow to permit it)`;
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
   * Checks a URL fully: scheme, then every address its host resolves to. A host that does
   * not resolve now is accepted (it may resolve later; delivery checks again).
   */
  async check(url: string): Promise<URL> {
    const parsed = this.parse(url);
    const host = parsed.hostname.replace(/^\[|\]$/g, '');
    let addresses: string[];
    if (net.isIP(host)) addresses = [host];
    else {
      try {
        addresses = (await dns.promises.lookup(host, { all: true })).map((a) => a.address);
      } catch {
        return parsed;
      }
    }
    for (const address of addresses) {
      const why = this.refusal(address);
      if (why) throw new SwitchboardError(ErrorCodes.URL_NOT_ALLOWED, `URL ${parsed.origin} is not allowed: ${why}`);
    }
    return parsed;
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
