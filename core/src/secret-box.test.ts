import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ValidationError } from './errors.ts';
import { SecretBox, secretBoxFromConfig } from './secret-box.ts';

describe('SecretBox', () => {
  const key = randomBytes(32);

  it('seals a secret so that only the master key opens it, naming the key id', () => {
    const box = new SecretBox({ m1: key }, 'm1');
    const sealed = box.seal('ghp_topsecret');
    expect(sealed).toMatch(/^v1:m1:[A-Za-z0-9+/=]+$/);
    expect(sealed).not.toContain('topsecret');
    expect(box.open(sealed)).toBe('ghp_topsecret');
    expect(box.seal('ghp_topsecret')).not.toBe(sealed);
  });

  it('refuses a changed value, an unknown key id, and sealing without a master key', () => {
    const box = new SecretBox({ m1: key }, 'm1');
    const sealed = box.seal('value');
    const tampered = sealed.slice(0, -4) + (sealed.endsWith('AAA=') ? 'BBB=' : 'AAA=');
    expect(() => box.open(tampered)).toThrow();
    expect(() => new SecretBox({ m2: randomBytes(32) }, 'm2').open(sealed)).toThrow('no master key with id m1');
    expect(() => secretBoxFromConfig({ DRYDOCK_MASTER_KEY_ID: 'm1' }).seal('x')).toThrow(ValidationError);
  });

  it('opens values sealed under an earlier key after rotation', () => {
    const old = new SecretBox({ m1: key }, 'm1').seal('kept');
    const rotated = new SecretBox({ m1: key, m2: randomBytes(32) }, 'm2');
    expect(rotated.open(old)).toBe('kept');
    expect(rotated.seal('new')).toMatch(/^v1:m2:/);
  });
});
