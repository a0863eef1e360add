import { describe, expect, it } from 'vitest';
import { formatVaultReference, isVaultReference, VaultReferenceSchema } from './vault-reference.ts';

function problem(text: string): string {
  const parsed = VaultReferenceSchema.safeParse(text);
  if (parsed.success) throw new Error(`${text} parsed as ${JSON.stringify(parsed.data)}`);
  return parsed.error.issues.map((i) => i.message).join('; ');
}

describe('VaultReferenceSchema', () => {
  it('splits a reference into mount, path and key', () => {
    expect(VaultReferenceSchema.parse('vault:secret/app/db#password')).toEqual({ mount: 'secret', path: 'app/db', key: 'password' });
    expect(VaultReferenceSchema.parse('vault:kv/payments/stripe-api@eu#api_key')).toEqual({ mount: 'kv', path: 'payments/stripe-api@eu', key: 'api_key' });
  });

  it('takes a fixed version', () => {
    expect(VaultReferenceSchema.parse('vault:secret/app/db?version=3#password')).toEqual({ mount: 'secret', path: 'app/db', key: 'password', version: 3 });
  });

  it('keeps everything after the first # as the key, and ignores surrounding blanks', () => {
    expect(VaultReferenceSchema.parse('  vault:secret/app#a#b\n')).toEqual({ mount: 'secret', path: 'app', key: 'a#b' });
  });

  it('says how to write a reference that is not one', () => {
    expect(problem('secret/app/db#password')).toBe('not a Vault reference: a Vault reference starts with "vault:", like vault:secret/app/db#password');
    expect(problem('vault:secret/app/db')).toMatch(/name the key after "#"/);
    expect(problem('vault:secret/app/db#')).toMatch(/the key after "#" is empty/);
    expect(problem('vault:secret#password')).toMatch(/give the mount and the secret's path as <mount>\/<path>/);
    expect(problem('vault:secret//db#password')).toMatch(/without empty segments/);
    expect(problem('vault:/secret/db#password')).toMatch(/without empty segments/);
    expect(problem('vault:secret/db/#password')).toMatch(/without empty segments/);
    expect(problem('vault:secret/app db#password')).toBe('not a Vault reference: "app db" may hold only letters, digits and . _ - @ = + ~');
    expect(problem('vault:secret/app?v=2#password')).toMatch(/only version=<n> may follow/);
    expect(problem('vault:secret/app?version=0#password')).toMatch(/only version=<n> may follow/);
  });

  it('refuses paths that would climb out of the mount to another Vault endpoint', () => {
    expect(problem('vault:secret/../../sys/seal#x')).toBe('not a Vault reference: ".." cannot be a segment of a Vault path');
    expect(problem('vault:secret/./db#x')).toMatch(/"\." cannot be a segment/);
    expect(problem('vault:secret/app%2F..#x')).toMatch(/may hold only/);
  });
});

describe('formatVaultReference', () => {
  it('writes back what it parsed', () => {
    for (const text of ['vault:secret/app/db#password', 'vault:kv/a?version=12#k']) {
      expect(formatVaultReference(VaultReferenceSchema.parse(text))).toBe(text);
    }
  });
});

describe('isVaultReference', () => {
  it('tells a reference from a plain value', () => {
    expect(isVaultReference('vault:secret/app#k')).toBe(true);
    expect(isVaultReference('hunter2')).toBe(false);
  });
});
