import { BlockList, isIP } from 'node:net';
import { embeddedIPv4 } from './embedded-ipv4.ts';

// Which webhook targets a caller may name in `notifyUrl`. Checked by the producer at enqueue (the URL
// as written) and again by packages/notifier at delivery, after DNS resolution. Pure: no I/O here.

export interface NotifyUrlPolicy {
  /** Allow loopback targets (127.0.0.0/8, ::1, localhost), over http too: local development and tests. */
  allowHttpLoopback?: boolean;
  /** Allow private-network targets (10/8, 172.16/12, 192.168/16, 169.254/16, 100.64/10, fc00::/7, fe80::/10). */
  allowPrivateNetworks?: boolean;
}

/** Longest notifyUrl accepted: Runflow's own callback URLs cap at 2048 characters. */
export const MAX_NOTIFY_URL_CHARS = 2048;

export type AddressClass = 'public' | 'loopback' | 'private' | 'reserved';

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

const PRIVATE = new BlockList();
PRIVATE.addSubnet('10.0.0.0', 8, 'ipv4');
PRIVATE.addSubnet('172.16.0.0', 12, 'ipv4');
PRIVATE.addSubnet('192.168.0.0', 16, 'ipv4');
PRIVATE.addSubnet('169.254.0.0', 16, 'ipv4'); // link-local, cloud metadata (169.254.169.254)
PRIVATE.addSubnet('100.64.0.0', 10, 'ipv4'); // carrier-grade NAT; some clouds' metadata services
PRIVATE.addSubnet('fc00::', 7, 'ipv6'); // unique local (AWS IPv6 metadata fd00:ec2::254)
PRIVATE.addSubnet('fe80::', 10, 'ipv6'); // link-local

// Never a webhook target: "this host" (0.0.0.0 reaches local services on Linux), multicast, broadcast.
const RESERVED = new BlockList();
RESERVED.addSubnet('0.0.0.0', 8, 'ipv4');
RESERVED.addSubnet('224.0.0.0', 4, 'ipv4');
RESERVED.addSubnet('240.0.0.0', 4, 'ipv4');
RESERVED.addAddress('::', 'ipv6');
RESERVED.addSubnet('ff00::', 8, 'ipv6');
// NAT64 for local use (RFC 8215): the IPv4 part's position depends on the operator's prefix length,
// so it cannot be judged; and Teredo (2001::/32), whose client address is obfuscated. Neither is a
// webhook receiver's address.
RESERVED.addSubnet('64:ff9b:1::', 48, 'ipv6');
RESERVED.addSubnet('2001::', 32, 'ipv6');

/**
 * The class of an IP address. An IPv6 address that embeds an IPv4 one (mapped `::ffff:`, compatible
 * `::a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) counts as that IPv4 address.
 */
export function classifyAddress(address: string): AddressClass {
  const embedded = embeddedIPv4(address);
  if (embedded) return classifyAddress(embedded);
  const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
  if (RESERVED.check(address, family)) return 'reserved';
  if (LOOPBACK.check(address, family)) return 'loopback';
  if (PRIVATE.check(address, family)) return 'private';
  return 'public';
}

/** Why a resolved address may not be called under `policy`, or undefined when it may. */
export function addressRejection(address: string, policy: NotifyUrlPolicy): string | undefined {
  const kind = classifyAddress(address);
  const embedded = embeddedIPv4(address);
  const named = embedded ? `${address} (IPv4 ${embedded})` : address;
  if (kind === 'reserved') return `${named} is an unspecified, multicast, broadcast or untranslatable address`;
  if (kind === 'loopback' && !policy.allowHttpLoopback) {
    return `${named} is a loopback address; allowed only when allowHttpLoopback is set (NOTIFY_ALLOW_HTTP_LOOPBACK=true)`;
  }
  if (kind === 'private' && !policy.allowPrivateNetworks) {
    return `${named} is on a private network; allowed only when allowPrivateNetworks is set (NOTIFY_ALLOW_PRIVATE_NETWORKS=true)`;
  }
  return undefined;
}

/** The host of a URL without IPv6 brackets or a trailing root dot. */
export function bareHost(url: URL): string {
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return host.endsWith('.') ? host.slice(0, -1) : host;
}

function isLocalhostName(host: string): boolean {
  const lower = host.toLowerCase();
  return lower === 'localhost' || lower.endsWith('.localhost');
}

/**
 * Why `value` may not be used as a notifyUrl, judged from the URL alone (no DNS), or undefined when
 * it may. Rules: https only, or http to a loopback target when allowHttpLoopback; IP literals on
 * loopback / private networks only when allowed; never unspecified / multicast addresses.
 */
export function notifyUrlRejection(value: unknown, policy: NotifyUrlPolicy): string | undefined {
  if (typeof value !== 'string') return 'must be a URL string';
  if (value.length > MAX_NOTIFY_URL_CHARS) return `must be at most ${MAX_NOTIFY_URL_CHARS} characters`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute URL such as https://hooks.example.com/runflow';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be an https:// URL';
  const host = bareHost(url);
  if (host === '') return 'must name a host';
  let rejection: string | undefined;
  let loopback = false;
  if (isIP(host) !== 0) {
    rejection = addressRejection(host, policy);
    loopback = classifyAddress(host) === 'loopback';
  } else if (isLocalhostName(host)) {
    loopback = true;
    if (!policy.allowHttpLoopback) rejection = addressRejection('127.0.0.1', policy)?.replace('127.0.0.1', host);
  }
  if (rejection) return rejection;
  if (url.protocol === 'http:' && !loopback) {
    return 'must be an https:// URL (http is accepted only for loopback targets, with allowHttpLoopback)';
  }
  return undefined;
}
