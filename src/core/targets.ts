import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { DomainError } from '../errors.js';

/**
 * Which endpoints Hookline may send to. A webhook service posts wherever its users point it,
 * so it refuses loopback, private, link-local, unique-local, multicast, unspecified, reserved
 * and cloud-metadata addresses (IPv4, IPv6 and IPv4-mapped IPv6), unless the operator allows
 * them with HOOKLINE_ALLOW_PRIVATE_TARGETS (`true`, or CIDRs and host names, comma-separated).
 */
export interface TargetPolicy {
  /**
   * Why a host (as written in a URL) may not be used, as the rest of a sentence about it
   * ("resolves to a loopback address, which ..."), or null. DNS is resolved for names.
   */
  checkHost(host: string): Promise<string | null>;
  /** The class of an address that may not be connected to ("a loopback address"), or null. */
  checkAddress(address: string, host?: string): string | null;
  /** A dns.lookup for sockets: resolves once, refuses forbidden addresses, connects to what it checked. */
  lookup: typeof dnsLookup;
}

const RESOLVED_FOR_MS = 30_000;
const LOOKUP_WAIT_MS = 2_000;

// ipaddr.js range names that are public unicast; every other range is refused.
const PUBLIC = new Set(['unicast']);

// Refusals name the class of an address, never the address: what an internal name resolves
// to is itself something an attacker probing the network wants to learn.
const CLASSES: Record<string, string> = {
  unspecified: 'an unspecified',
  broadcast: 'a broadcast',
  multicast: 'a multicast',
  linkLocal: 'a link-local',
  loopback: 'a loopback',
  carrierGradeNat: 'a carrier-grade NAT',
  private: 'a private',
  reserved: 'a reserved',
  as112: 'an AS112 (DNS sink)',
  amt: 'an AMT relay',
  uniqueLocal: 'a unique-local',
  ipv4Mapped: 'an IPv4-mapped',
  deprecatedSiteLocal: 'a site-local',
  discard: 'a discard-only',
  rfc6145: 'an IPv4-translated',
  rfc6052: 'a NAT64',
  '6to4': 'a 6to4',
  teredo: 'a Teredo',
  benchmarking: 'a benchmarking',
  as112v6: 'an AS112 (DNS sink)',
  deprecatedOrchid: 'an ORCHID',
  orchid2: 'an ORCHID',
  droneRemoteIdProtocolEntityTags: 'a drone remote ID',
  segmentRouting: 'a segment-routing',
};
// A range a later ipaddr.js adds is still refused, under a name that says why.
const classOf = (range: string) => `${CLASSES[range] ?? 'a special-purpose'} address`;

const REFUSED = 'which Hookline does not send to (HOOKLINE_ALLOW_PRIVATE_TARGETS allows it)';
/** One wording for every refusal: "<subject> resolves to a loopback address, which ...". */
const refusal = (resolved: boolean, what: string) => `${resolved ? 'resolves to' : 'is'} ${what}, ${REFUSED}`;

export function parseAllowList(value: string | undefined): {
  all: boolean;
  cidrs: [ipaddr.IPv4 | ipaddr.IPv6, number][];
  hosts: Set<string>;
} {
  const entries = (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const cidrs: [ipaddr.IPv4 | ipaddr.IPv6, number][] = [];
  const hosts = new Set<string>();
  let all = false;
  for (const entry of entries) {
    if (entry.toLowerCase() === 'true') all = true;
    else if (entry.includes('/')) cidrs.push(ipaddr.parseCIDR(entry));
    else if (ipaddr.isValid(entry)) {
      const ip = ipaddr.parse(entry);
      cidrs.push([ip, ip.kind() === 'ipv4' ? 32 : 128]);
    } else hosts.add(entry.toLowerCase());
  }
  return { all, cidrs, hosts };
}

/** Throws when the allow-list is malformed, so that a bad value stops the start. */
export function validateAllowList(value: string): string | null {
  try {
    parseAllowList(value);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

const stripBrackets = (host: string) =>
  host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;

export function createTargetPolicy(allow: string | undefined): TargetPolicy {
  const allowed = parseAllowList(allow);

  function checkAddress(address: string, host?: string): string | null {
    if (allowed.all) return null;
    if (host && allowed.hosts.has(host.toLowerCase())) return null;
    if (!ipaddr.isValid(address)) return 'something that is not an IP address';
    let ip = ipaddr.parse(address);
    // ::ffff:127.0.0.1 is 127.0.0.1; the deprecated IPv4-compatible ::127.0.0.1 is refused.
    if (ip.kind() === 'ipv6') {
      const v6 = ip as ipaddr.IPv6;
      const parts = v6.parts;
      if (v6.isIPv4MappedAddress()) ip = v6.toIPv4Address();
      else if (parts.slice(0, 6).every((p) => p === 0) && (parts[6] !== 0 || (parts[7] ?? 0) > 1)) {
        return 'an IPv4-compatible address';
      }
    }
    for (const [range, bits] of allowed.cidrs) {
      if (range.kind() === ip.kind() && ip.match(range, bits)) return null;
    }
    const kind = ip.range();
    if (PUBLIC.has(kind)) return null;
    return classOf(kind);
  }

  const lookup = ((hostname: string, options: unknown, callback: unknown) => {
    const cb = (typeof options === 'function' ? options : callback) as (
      err: NodeJS.ErrnoException | null,
      address: string | LookupAddress[],
      family?: number,
    ) => void;
    const opts = (typeof options === 'object' && options !== null ? options : {}) as {
      all?: boolean;
      family?: number;
    };
    dnsLookup(hostname, { all: true, family: opts.family ?? 0 }, (err, addresses) => {
      if (err) return cb(err, []);
      for (const a of addresses) {
        const problem = checkAddress(a.address, hostname);
        if (problem) {
          const refused = Object.assign(new Error(refusal(true, problem)), {
            code: 'TARGET_NOT_ALLOWED',
          });
          return cb(refused, []);
        }
      }
      if (opts.all) return cb(null, addresses);
      const first = addresses[0] as LookupAddress;
      return cb(null, first.address, first.family);
    });
  }) as typeof dnsLookup;

  // Saving 100 webhooks to one host asks DNS once; a save never waits long on DNS (the
  // send-time check, on the address the socket uses, is the one that cannot be bypassed).
  const resolved = new Map<string, { problem: string | null; until: number }>();
  async function resolveAndCheck(host: string): Promise<string | null> {
    const addresses = await new Promise<LookupAddress[] | null>((resolve) => {
      const timer = setTimeout(() => resolve(null), LOOKUP_WAIT_MS);
      dnsLookup(host, { all: true }, (err, list) => {
        clearTimeout(timer);
        resolve(err ? null : list);
      });
    });
    // A name that does not resolve now is checked again, by address, at each send.
    for (const a of addresses ?? []) {
      const problem = checkAddress(a.address, host);
      if (problem) return refusal(true, problem);
    }
    return null;
  }

  return {
    checkAddress,
    lookup,
    async checkHost(rawHost) {
      const host = stripBrackets(rawHost);
      if (isIP(host)) {
        const problem = checkAddress(host);
        // A literal is the user's own input, so it may be echoed.
        return problem && `${host} ${refusal(false, problem)}`;
      }
      if (allowed.all || allowed.hosts.has(host.toLowerCase())) return null;
      const key = host.toLowerCase();
      const cached = resolved.get(key);
      if (cached && cached.until > Date.now()) return cached.problem;
      const problem = await resolveAndCheck(host);
      resolved.set(key, { problem, until: Date.now() + RESOLVED_FOR_MS });
      if (resolved.size > 1000) resolved.delete(resolved.keys().next().value as string);
      return problem;
    },
  };
}

/** The check made when a webhook is saved: TARGET_NOT_ALLOWED on config.endpoint. */
export async function assertTargetAllowed(policy: TargetPolicy, endpoint: string): Promise<void> {
  const problem = await policy.checkHost(new URL(endpoint).hostname);
  if (problem)
    throw new DomainError('TARGET_NOT_ALLOWED', `config.endpoint's host ${problem}`, {
      field: 'config.endpoint',
    });
}
