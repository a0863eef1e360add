import { isIP } from 'node:net';
import { type AddressClass, classifyAddress } from '../notify/url-guard.ts';
import { DiscoveryRefusedError } from './discovery-error.ts';

/** What a scan may cover: the server's settings DRYDOCK_DISCOVERY_MAX_ADDRESSES and DRYDOCK_DISCOVERY_ALLOW_PUBLIC. */
export interface DiscoveryPolicy {
  maxAddresses: number;
  allowPublic: boolean;
}

/** IPv4 ranges to scan and to leave out; IPv6 only as single addresses. */
export interface ScanRanges {
  include: readonly string[];
  exclude?: readonly string[];
}

type Interval = [number, number];

const ALWAYS_REFUSED: Partial<Record<AddressClass, string>> = {
  metadata: 'a cloud metadata service address',
  multicast: 'a multicast address',
  unspecified: 'an unspecified address',
  reserved: 'a reserved or documentation address',
};

/** Four decimal octets, no leading zeros (010 would be octal to some tools and decimal to others). */
function parseV4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const part of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part) || Number(part) > 255) return undefined;
    n = n * 256 + Number(part);
  }
  return n;
}

export function v4Text(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

type Entry = { v4: Interval; hosts: Interval } | { v6: string };

/**
 * One entry of a range list: an IPv4 address, an IPv4 CIDR block, or an IPv6 address (a /128 at most). A block's
 * network and broadcast addresses are not hosts and are left out (blocks of /31 and /32 keep both).
 */
function parseEntry(text: string, list: 'include' | 'exclude'): Entry {
  const entry = text.trim();
  const slash = entry.indexOf('/');
  const address = slash === -1 ? entry : entry.slice(0, slash);
  const prefixText = slash === -1 ? undefined : entry.slice(slash + 1);
  const bad = (why: string) => new DiscoveryRefusedError('bad_range', `${list} "${text}": ${why}`);
  if (isIP(address) === 6) {
    if (prefixText !== undefined && prefixText !== '128') throw bad('IPv6 is scanned by single addresses only (a /64 alone holds 2^64): list the addresses');
    return { v6: address.toLowerCase() };
  }
  const start = parseV4(address);
  if (start === undefined) throw bad('give an IPv4 address (10.0.0.5), an IPv4 CIDR block (10.0.0.0/24) or an IPv6 address; host names are not resolved');
  if (prefixText === undefined) return { v4: [start, start], hosts: [start, start] };
  if (!/^([0-9]|[12][0-9]|3[0-2])$/.test(prefixText)) throw bad('the prefix length after "/" is a number from 0 to 32');
  const size = 2 ** (32 - Number(prefixText));
  if (start % size !== 0) {
    const network = start - (start % size);
    throw bad(`${address} is not where a /${prefixText} block starts: did you mean ${v4Text(network)}/${prefixText}?`);
  }
  const end = start + size - 1;
  return { v4: [start, end], hosts: size >= 4 ? [start + 1, end - 1] : [start, end] };
}

/** Sorted, overlapping and touching intervals joined. */
function merge(intervals: Interval[]): Interval[] {
  const sorted = [...intervals].sort((a, b) => a[0] - b[0]);
  const out: Interval[] = [];
  for (const [s, e] of sorted) {
    const last = out.at(-1);
    if (last && s <= last[1] + 1) last[1] = Math.max(last[1], e);
    else out.push([s, e]);
  }
  return out;
}

function subtract(intervals: Interval[], cut: Interval[]): Interval[] {
  let current = intervals;
  for (const [cs, ce] of merge(cut)) {
    const next: Interval[] = [];
    for (const [s, e] of current) {
      if (ce < s || cs > e) next.push([s, e]);
      else {
        if (s < cs) next.push([s, cs - 1]);
        if (e > ce) next.push([ce + 1, e]);
      }
    }
    current = next;
  }
  return current;
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}

/**
 * The addresses a scan covers, in order, after the checks that refuse it: a malformed entry, more addresses than
 * the cap (counted without listing them, so a /0 costs nothing), and any address that is public while the policy
 * forbids it, or that Drydock never scans (cloud metadata, multicast, unspecified, reserved).
 */
export function scanAddresses(ranges: ScanRanges, policy: DiscoveryPolicy): string[] {
  if (ranges.include.length === 0) throw new DiscoveryRefusedError('bad_range', 'give at least one address or CIDR block to scan');
  const includes = ranges.include.map((t) => parseEntry(t, 'include'));
  const excludes = (ranges.exclude ?? []).map((t) => parseEntry(t, 'exclude'));
  const v4 = subtract(
    merge(includes.flatMap((e) => ('hosts' in e ? [e.hosts] : []))),
    excludes.flatMap((e) => ('v4' in e ? [e.v4] : [])),
  );
  const excludedV6 = new Set(excludes.flatMap((e) => ('v6' in e ? [e.v6] : [])));
  const v6 = [...new Set(includes.flatMap((e) => ('v6' in e ? [e.v6] : [])))].filter((a) => !excludedV6.has(a));
  const total = v4.reduce((sum, [s, e]) => sum + (e - s + 1), 0) + v6.length;
  if (total > policy.maxAddresses) {
    throw new DiscoveryRefusedError(
      'too_large',
      `the ranges hold ${count(total)} addresses after the excludes; a scan covers at most ${count(policy.maxAddresses)} (DRYDOCK_DISCOVERY_MAX_ADDRESSES): scan smaller ranges, or exclude parts`,
    );
  }
  if (total === 0) throw new DiscoveryRefusedError('bad_range', 'the excludes leave no address to scan');
  const addresses: string[] = [];
  for (const [s, e] of v4) for (let n = s; n <= e; n++) addresses.push(v4Text(n));
  addresses.push(...v6);
  const refused = new Map<string, string[]>();
  for (const address of addresses) {
    const cls = classifyAddress(address);
    const why = cls === undefined ? (policy.allowPublic ? undefined : 'public') : ALWAYS_REFUSED[cls];
    if (why !== undefined) refused.set(why, [...(refused.get(why) ?? []), address]);
  }
  const publicOnes = refused.get('public');
  if (publicOnes) {
    throw new DiscoveryRefusedError(
      'public',
      `${describeSome(publicOnes)} public: this server scans private and loopback addresses only; an administrator can allow public ones with DRYDOCK_DISCOVERY_ALLOW_PUBLIC=true`,
    );
  }
  for (const [why, list] of refused) throw new DiscoveryRefusedError('forbidden', `${describeSome(list)} ${why}, which Drydock never scans: exclude ${list.length === 1 ? 'it' : 'them'}`);
  return addresses;
}

function describeSome(list: readonly string[]): string {
  return list.length === 1 ? `${list[0]} is` : `${list[0]} and ${count(list.length - 1)} more addresses are`;
}
