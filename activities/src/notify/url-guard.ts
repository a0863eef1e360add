import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import type { NotifyTargetPolicy } from '@drydock/core';

/** The kinds of address a notification is never, or only by the server setting, sent to. */
export type AddressClass = 'loopback' | 'private' | 'link-local' | 'cgnat' | 'metadata' | 'multicast' | 'unspecified' | 'reserved';

const DESCRIPTION: Record<AddressClass, string> = {
  loopback: 'a loopback address',
  private: 'a private network address',
  'link-local': 'a link-local address',
  cgnat: 'a carrier-grade NAT (shared) address',
  metadata: 'a cloud metadata service address',
  multicast: 'a multicast address',
  unspecified: 'an unspecified address',
  reserved: 'a reserved or documentation address',
};

/** A notification target refused because of where it points; `message` names the address and its class. */
export class TargetRefusedError extends Error {
  readonly addressClass: AddressClass | 'bad_url';
  readonly address?: string;
  constructor(addressClass: AddressClass | 'bad_url', message: string, address?: string) {
    super(message);
    this.name = 'TargetRefusedError';
    this.addressClass = addressClass;
    if (address !== undefined) this.address = address;
  }
}

function v4Number(address: string): number {
  return address.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}

function inV4(n: number, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  return Math.floor(n / size) === Math.floor(v4Number(base!) / size);
}

const V4_METADATA = ['169.254.169.254', '169.254.170.2', '169.254.170.23', '100.100.100.200', '192.0.0.192'];

function classifyV4(address: string): AddressClass | undefined {
  const n = v4Number(address);
  if (V4_METADATA.includes(address)) return 'metadata';
  if (inV4(n, '0.0.0.0/8')) return 'unspecified';
  if (inV4(n, '127.0.0.0/8')) return 'loopback';
  if (inV4(n, '10.0.0.0/8') || inV4(n, '172.16.0.0/12') || inV4(n, '192.168.0.0/16')) return 'private';
  if (inV4(n, '169.254.0.0/16')) return 'link-local';
  if (inV4(n, '100.64.0.0/10')) return 'cgnat';
  if (inV4(n, '224.0.0.0/4')) return 'multicast';
  const reserved = ['192.0.0.0/24', '192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24', '198.18.0.0/15', '240.0.0.0/4'];
  if (reserved.some((cidr) => inV4(n, cidr))) return 'reserved';
  return undefined;
}

/** The eight 16-bit groups of an IPv6 address (with a dotted IPv4 tail read as two groups). */
function v6Groups(address: string): number[] {
  let text = address.toLowerCase();
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const n = v4Number(dotted[1]!);
    text = `${text.slice(0, dotted.index)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const parse = (part: string | undefined) => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const left = parse(head);
  const right = parse(tail);
  return tail === undefined ? left : [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

function embeddedV4(high: number, low: number): string {
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
}

function classifyV6(address: string): AddressClass | undefined {
  const g = v6Groups(address);
  const zeroPrefix = (count: number) => g.slice(0, count).every((x) => x === 0);
  if (zeroPrefix(8)) return 'unspecified';
  if (zeroPrefix(7) && g[7] === 1) return 'loopback';
  // IPv4-mapped (::ffff:a.b.c.d) and the deprecated IPv4-compatible (::a.b.c.d) reach the IPv4 address.
  if (zeroPrefix(5) && g[5] === 0xffff) return classifyV4(embeddedV4(g[6]!, g[7]!));
  if (zeroPrefix(6)) return classifyV4(embeddedV4(g[6]!, g[7]!));
  // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) carry an IPv4 address that the gateway then reaches.
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return classifyV4(embeddedV4(g[6]!, g[7]!));
  if (g[0] === 0x64 && g[1] === 0xff9b && g[2] === 1) return 'private';
  if (g[0] === 0x2002) return classifyV4(embeddedV4(g[1]!, g[2]!));
  if (g[0] === 0xfd00 && g[1] === 0x0ec2 && g.slice(2, 7).every((x) => x === 0) && g[7] === 0x254) return 'metadata';
  if ((g[0]! & 0xfe00) === 0xfc00) return 'private';
  if ((g[0]! & 0xffc0) === 0xfe80) return 'link-local';
  if ((g[0]! & 0xffc0) === 0xfec0) return 'private';
  if ((g[0]! & 0xff00) === 0xff00) return 'multicast';
  // Documentation (2001:db8::/32), Teredo (2001::/32, whose IPv4 part is hidden) and discard (100::/64).
  if ((g[0] === 0x2001 && (g[1] === 0x0db8 || g[1] === 0)) || (g[0] === 0x100 && zeroPrefix(4))) return 'reserved';
  return undefined;
}

/** The class of an IP address that is not a public unicast one, or undefined for a public address. */
export function classifyAddress(address: string): AddressClass | undefined {
  const bare = address.replace(/^\[|\]$/g, '');
  const version = isIP(bare);
  if (version === 4) return classifyV4(bare);
  if (version === 6) return classifyV6(bare);
  throw new TargetRefusedError('bad_url', `"${address}" is not an IP address`);
}

function allowed(cls: AddressClass | undefined, policy: NotifyTargetPolicy): boolean {
  if (cls === undefined) return true;
  if (cls === 'loopback') return policy.loopback;
  if (cls === 'private' || cls === 'link-local' || cls === 'cgnat') return policy.privateNetworks;
  return false;
}

function refusal(host: string, address: string, cls: AddressClass): TargetRefusedError {
  const at = host === address ? address : `${host} (${address})`;
  const why =
    cls === 'loopback' || cls === 'private' || cls === 'link-local' || cls === 'cgnat'
      ? 'this server does not send notifications there; an administrator can allow it with DRYDOCK_NOTIFY_ALLOW_PRIVATE_TARGETS=true'
      : 'Drydock never sends notifications there';
  return new TargetRefusedError(cls, `${at} is ${DESCRIPTION[cls]}: ${why}`, address);
}

/** Throws a TargetRefusedError when `address` (of `host`) is one the policy forbids. */
export function checkAddress(host: string, address: string, policy: NotifyTargetPolicy): void {
  const cls = classifyAddress(address);
  if (!allowed(cls, policy)) throw refusal(host, address, cls!);
}

/** The scheme, host and first path segment of a URL, the rest hidden: webhook URLs carry their secret in the path or query. */
export function redactUrl(url: string | URL): string {
  try {
    const u = typeof url === 'string' ? new URL(url) : url;
    const first = u.pathname.split('/').filter(Boolean)[0];
    return `${u.protocol}//${u.host}/${first ? `${first}/…` : ''}`;
  } catch {
    return '(not a URL)';
  }
}

/**
 * The URL a notification may be posted to: http or https, no credentials in it, and a literal IP address
 * (in any spelling the URL parser normalises: decimal, octal, hex, IPv4-mapped) checked against the policy.
 * Host names are checked where they resolve, by `guardedLookup`.
 */
export function parseTargetUrl(text: string, policy: NotifyTargetPolicy): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TargetRefusedError('bad_url', 'the URL is not valid: give an absolute http or https URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TargetRefusedError('bad_url', `${url.protocol} URLs are not supported: give an http or https URL`);
  if (url.username || url.password) throw new TargetRefusedError('bad_url', 'the URL carries a user name or password: put credentials in the channel\'s settings, not in its URL');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) checkAddress(host, host, policy);
  return url;
}

export type LookupFunction = typeof dnsLookup;
type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for http.request and net.connect that checks every address a name resolves to at connect
 * time, so a name that resolved to a public address when the channel was saved and to a private one now
 * (DNS rebinding) is refused. Any forbidden address among the answers refuses the whole name.
 */
export function guardedLookup(policy: NotifyTargetPolicy, lookup: LookupFunction = dnsLookup): LookupFunction {
  const guarded = (hostname: string, options: unknown, callback?: unknown) => {
    const cb = (typeof options === 'function' ? options : callback) as LookupCallback;
    const opts = (typeof options === 'object' && options !== null ? options : typeof options === 'number' ? { family: options } : {}) as { all?: boolean; family?: number };
    lookup(hostname, { ...opts, all: true }, (err, addresses) => {
      if (err) return cb(err, []);
      const list = addresses as LookupAddress[];
      try {
        if (list.length === 0) throw new TargetRefusedError('bad_url', `${hostname} resolves to no address`);
        for (const a of list) checkAddress(hostname, a.address, policy);
      } catch (refused) {
        return cb(refused as NodeJS.ErrnoException, []);
      }
      if (opts.all) cb(null, list);
      else cb(null, list[0]!.address, list[0]!.family);
    });
  };
  return guarded as unknown as LookupFunction;
}

/**
 * The save-time check of a notification URL: its form, and every address its host resolves to now.
 * The same check runs again at every connection (`guardedLookup`). A name that does not resolve here is
 * saved all the same: the workers send, and their DNS (a split horizon, a proxy's network, a resolver that is
 * down for a minute) is not the API's; a delivery to a name that never resolves fails at send time, in the log.
 */
export async function checkTargetUrl(text: string, policy: NotifyTargetPolicy, lookup: LookupFunction = dnsLookup): Promise<URL> {
  const url = parseTargetUrl(text, policy);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) return url;
  await new Promise<void>((resolve, reject) => {
    guardedLookup(policy, lookup)(host, { all: true }, (err) => {
      if (!err) return resolve();
      if (err instanceof TargetRefusedError) return reject(err);
      resolve();
    });
  });
  return url;
}
