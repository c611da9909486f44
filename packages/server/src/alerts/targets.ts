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
  return list.check(address, v === 6 ? 'ipv6' : 'ipv4');
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
