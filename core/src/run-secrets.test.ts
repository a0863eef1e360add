import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ValidationError } from './errors.ts';
import { ManifestSchema, type Parameter, validateParams } from './manifest.ts';
import { sealRunSecrets } from './run-secrets.ts';
import { SecretBox } from './secret-box.ts';

const box = new SecretBox({ m1: randomBytes(32) }, 'm1');
const parameters: Parameter[] = [
  { name: 'message', type: 'string', required: false },
  { name: 'token', type: 'secret', required: false },
  { name: 'db_password', type: 'secret', required: false, default: 'vault:secret/app/db#password' },
];
const expires = new Date('2030-01-01T00:00:00Z');

describe('sealRunSecrets', () => {
  it('takes secret values out of the params: a value sealed, a vault: reference kept as the reference, each behind a reference', () => {
    const checked = validateParams(parameters, { message: 'hi', token: 'tok-123' });
    expect(checked.ok).toBe(true);
    if (!checked.ok) return;
    const sealed = sealRunSecrets(box, parameters, checked.values, { teamId: 't', runId: '00000000-0000-4000-8000-000000000001' }, expires);
    expect(sealed.params).toEqual({ message: 'hi' });
    expect(Object.keys(sealed.secretRefs).sort()).toEqual(['db_password', 'token']);
    const token = sealed.rows.find((r) => r.name === 'token')!;
    expect(token).toMatchObject({ id: sealed.secretRefs.token!.secretRef, run_id: '00000000-0000-4000-8000-000000000001', bulk_id: null, vault_ref: null, expires_at: expires });
    expect(box.open(token.value_enc!)).toBe('tok-123');
    expect(JSON.stringify(sealed.rows)).not.toContain('tok-123');
    expect(sealed.rows.find((r) => r.name === 'db_password')).toMatchObject({ value_enc: null, vault_ref: 'vault:secret/app/db#password' });
  });

  it('refuses a malformed vault: reference by the parameter, before anything is written', () => {
    const run = () => sealRunSecrets(box, parameters, { token: 'vault:secret/app' }, { teamId: 't', bulkId: '00000000-0000-4000-8000-000000000002' }, expires);
    expect(run).toThrow(ValidationError);
    try {
      run();
    } catch (err) {
      expect((err as ValidationError).fields.token?.[0]).toContain('name the key after "#"');
    }
  });

  it('without a master key, says to set one', () => {
    expect(() => sealRunSecrets(new SecretBox({}, 'm1'), parameters, { token: 'x' }, { teamId: 't', runId: 'r' }, expires)).toThrow(/DRYDOCK_MASTER_KEY/);
  });
});

describe("a secret parameter's default", () => {
  const manifest = (extra: string) => ({ id: 'm', name: 'M', script: 's.sh', interpreter: 'bash', parameters: [{ name: 'token', type: 'secret', default: extra }] });
  it('may be a Vault reference', () => {
    expect(ManifestSchema.safeParse(manifest('vault:secret/app/db#password')).success).toBe(true);
  });
  it('may not be a value, which would sit in clear in the repository', () => {
    const result = ManifestSchema.safeParse(manifest('hunter2'));
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toContain("a secret parameter's default can only be a Vault reference");
  });
});
