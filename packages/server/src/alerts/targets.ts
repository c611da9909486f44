import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { badRequest } from '../platform/errors.js';

/**
 * Which addresses webhook and Slack deliveries may connect to. Link-local and cloud metadata
 * addresses are always denied (unless removed from the list); loopback and private ranges stay
 * allowed by default because self-hosted receivers often live beside Beacon.
 */
export interface TargetPolicy {
  /** CIDRs that may never be contacted. */
  deny: string[];
  allowLoopback: boolean;
  allowPrivate: boolean;
}

export const defaultDenyList = [
  '169.254.0.0/16', // IPv4 link-local, incl. AWS/GCP/Azure metadata 169.254.169.254
  'fe80::/10', // IPv6 link-local
  'fd00:ec2::254/128', // AWS metadata over IPv6
  '100.100.100.200/32', // Alibaba Cloud metadata
  '0.0.0.0/8',
  '::/128',
];
const loopback = ['127.0.0.0/8', '::1/128'];
const privateRanges = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', 'fc00::/7'];

export const defaultTargetPolicy: TargetPolicy = {
  deny: defaultDenyList,
  allowLoopback: true,
  allowPrivate: true,
};

export class TargetDeniedError extends Error {
  readonly code = 'EBEACONDENIED';
  constructor(address: string) {
    super(`target address ${address} is not allowed`);
    this.name = 'TargetDeniedError';
  }
}

export function buildBlockList(policy: TargetPolicy): BlockList {
  const list = new BlockList();
  const cidrs = [...policy.deny];
  if (!policy.allowLoopback) cidrs.push(...loopback);
  if (!policy.allowPrivate) cidrs.push(...privateRanges);
  for (const cidr of cidrs) {
    const [net, bits] = cidr.split('/');
    const type = isIP(net ?? '') === 6 ? 'ipv6' : 'ipv4';
    if (!net || isIP(net) === 0) throw new Error(`invalid CIDR in webhook deny list: ${cidr}`);
    list.addSubnet(net, Number(bits ?? (type === 'ipv6' ? 128 : 32)), type);
  }
  return list;
}

export function addressDenied(list: BlockList, address: string): boolean {
  const v = isIP(address);
  if (v === 0) return true;
  if (v === 4) return list.check(address, 'ipv4');
  if (list.check(address, 'ipv6')) return true;
  // BlockList matches IPv4-mapped (::ffff:a.b.c.d) against IPv4 rules itself, but not the other
  // forms that carry an IPv4 address: IPv4-compatible (::a.b.c.d) and NAT64 (64:ff9b::a.b.c.d).
  const v4 = embeddedIpv4(address);
  return v4 !== undefined && list.check(v4, 'ipv4');
}

/** The IPv4 address inside an IPv4-compatible (::/96) or NAT64 well-known-prefix (64:ff9b::/96) IPv6 address. */
export function embeddedIpv4(address: string): string | undefined {
  const h = expandIpv6(address);
  if (!h) return undefined;
  // ::/96 minus :: and ::1 (the unspecified and loopback addresses, not IPv4 ones).
  const compatible = h.slice(0, 6).every((x) => x === 0) && h[6] !== 0;
  const nat64 = h[0] === 0x64 && h[1] === 0xff9b && h.slice(2, 6).every((x) => x === 0);
  if (!compatible && !nat64) return undefined;
  return [h[6]! >> 8, h[6]! & 0xff, h[7]! >> 8, h[7]! & 0xff].join('.');
}

/** The eight 16-bit groups of an IPv6 address (dotted IPv4 tail allowed); undefined when not IPv6. */
function expandIpv6(address: string): number[] | undefined {
  if (isIP(address) !== 6) return undefined;
  let a = address.replace(/%.*$/, '');
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(a);
  if (dotted) {
    const [b0, b1, b2, b3] = dotted.slice(1).map(Number) as [number, number, number, number];
    a = `${a.slice(0, dotted.index)}${((b0 << 8) | b1).toString(16)}:${((b2 << 8) | b3).toString(16)}`;
  }
  const [head, tail] = a.split('::') as [string, string | undefined];
  const parse = (s: string) => (s === '' ? [] : s.split(':').map((x) => Number.parseInt(x, 16)));
  const hs = parse(head);
  const ts = tail === undefined ? [] : parse(tail);
  const fill = tail === undefined ? [] : new Array<number>(8 - hs.length - ts.length).fill(0);
  const groups = [...hs, ...fill, ...ts];
  return groups.length === 8 ? groups : undefined;
}

/** Strip the brackets of an IPv6 URL host. */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

/**
 * Check what can be checked without DNS: scheme, and literal IP hosts. Names are checked at
 * connect time by `guardedLookup`, which also defeats DNS rebinding (the checked address is the
 * one connected to).
 */
export function validateTargetUrl(raw: string, list: BlockList): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw badRequest('target URL is not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw badRequest('target URL must be http or https');
  const host = hostOf(url);
  if (isIP(host) && addressDenied(list, host)) throw badRequest(`target address ${host} is not allowed`);
  return url;
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/** A `lookup` for net/tls.connect that refuses denied addresses. */
export function guardedLookup(list: BlockList) {
  return (hostname: string, options: { all?: boolean; family?: number | string }, cb: LookupCallback) => {
    dnsLookup(hostname, { ...(options as object), all: true }, (err, addresses) => {
      if (err) return cb(err, []);
      const bad = addresses.find((a) => addressDenied(list, a.address));
      if (bad) return cb(new TargetDeniedError(bad.address) as unknown as NodeJS.ErrnoException, []);
      if (addresses.length === 0)
        return cb(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), []);
      if (options.all) return cb(null, addresses);
      return cb(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}
