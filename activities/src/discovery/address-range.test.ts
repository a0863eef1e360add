import { describe, expect, it } from 'vitest';
import { scanAddresses } from './address-range.ts';
import { DiscoveryRefusedError } from './discovery-error.ts';

const privateOnly = { maxAddresses: 4096, allowPublic: false };

function refusal(fn: () => unknown): { reason: string; message: string } {
  try {
    fn();
  } catch (err) {
    if (err instanceof DiscoveryRefusedError) return { reason: err.reason, message: err.message };
    throw err;
  }
  throw new Error('not refused');
}

describe('the addresses a scan covers', () => {
  it('takes CIDR blocks and addresses, leaves out network, broadcast and excluded addresses, and merges overlaps', () => {
    expect(scanAddresses({ include: ['10.1.2.0/29', '10.1.2.4/30', '10.1.2.20'], exclude: ['10.1.2.3', '10.1.2.5/32'] }, privateOnly)).toEqual([
      '10.1.2.1',
      '10.1.2.2',
      '10.1.2.4',
      '10.1.2.6',
      '10.1.2.20',
    ]);
    expect(scanAddresses({ include: ['192.168.7.8/31', '127.0.0.1/32'] }, privateOnly)).toEqual(['127.0.0.1', '192.168.7.8', '192.168.7.9']);
  });

  it('takes IPv6 addresses one by one, never ranges', () => {
    expect(scanAddresses({ include: ['::1', 'fd00::5', 'FD00::5/128'], exclude: ['fd00::5'] }, privateOnly)).toEqual(['::1']);
    expect(refusal(() => scanAddresses({ include: ['fd00::/64'] }, privateOnly))).toEqual({
      reason: 'bad_range',
      message: 'include "fd00::/64": IPv6 is scanned by single addresses only (a /64 alone holds 2^64): list the addresses',
    });
  });

  it('refuses a range larger than the cap before listing a single address', () => {
    expect(refusal(() => scanAddresses({ include: ['10.0.0.0/16'] }, privateOnly))).toEqual({
      reason: 'too_large',
      message: 'the ranges hold 65,534 addresses after the excludes; a scan covers at most 4,096 (DRYDOCK_DISCOVERY_MAX_ADDRESSES): scan smaller ranges, or exclude parts',
    });
    // A /0 is counted, not listed.
    expect(refusal(() => scanAddresses({ include: ['0.0.0.0/0'] }, { maxAddresses: 65_536, allowPublic: true })).reason).toBe('too_large');
    // Excludes bring a range under the cap.
    expect(scanAddresses({ include: ['10.0.0.0/16'], exclude: ['10.0.16.0/20', '10.0.32.0/19', '10.0.64.0/18', '10.0.128.0/17'] }, privateOnly)).toHaveLength(4095);
  });

  it('refuses public addresses unless the server allows them', () => {
    expect(refusal(() => scanAddresses({ include: ['10.0.0.0/30', '8.8.8.0/30'] }, privateOnly))).toEqual({
      reason: 'public',
      message: '8.8.8.1 and 1 more addresses are public: this server scans private and loopback addresses only; an administrator can allow public ones with DRYDOCK_DISCOVERY_ALLOW_PUBLIC=true',
    });
    expect(scanAddresses({ include: ['8.8.8.8', '2001:4860::8888'] }, { maxAddresses: 10, allowPublic: true })).toEqual(['8.8.8.8', '2001:4860::8888']);
  });

  it('never scans cloud metadata, multicast, reserved or unspecified addresses, whatever the setting', () => {
    const open = { maxAddresses: 65_536, allowPublic: true };
    expect(refusal(() => scanAddresses({ include: ['169.254.169.254'] }, open))).toEqual({
      reason: 'forbidden',
      message: '169.254.169.254 is a cloud metadata service address, which Drydock never scans: exclude it',
    });
    expect(refusal(() => scanAddresses({ include: ['224.0.0.0/28'] }, open)).message).toBe('224.0.0.1 and 13 more addresses are a multicast address, which Drydock never scans: exclude them');
    expect(refusal(() => scanAddresses({ include: ['192.0.2.10'] }, open)).reason).toBe('forbidden');
  });

  it('says what is wrong with an entry', () => {
    const message = (include: string[], exclude: string[] = []) => refusal(() => scanAddresses({ include, exclude }, privateOnly)).message;
    expect(message(['10.0.0.5/24'])).toBe('include "10.0.0.5/24": 10.0.0.5 is not where a /24 block starts: did you mean 10.0.0.0/24?');
    expect(message(['db.internal'])).toBe('include "db.internal": give an IPv4 address (10.0.0.5), an IPv4 CIDR block (10.0.0.0/24) or an IPv6 address; host names are not resolved');
    expect(message(['010.0.0.1'])).toMatch(/^include "010.0.0.1": give an IPv4 address/);
    expect(message(['10.0.0.0/33'])).toBe('include "10.0.0.0/33": the prefix length after "/" is a number from 0 to 32');
    expect(message(['10.0.0.1'], ['10.0.0.1'])).toBe('the excludes leave no address to scan');
    expect(message([])).toBe('give at least one address or CIDR block to scan');
  });
});
