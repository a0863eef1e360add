import { openBytes, sealBytes } from './aes-gcm.ts';
import { ValidationError } from './errors.ts';

/**
 * AES-256-GCM for secrets at rest (credentials, webhook secrets). The stored form names its key id, so the
 * master key can be rotated: add the new key, keep the old one until every value is re-encrypted.
 */
export class SecretBox {
  private readonly keys: Map<string, Buffer>;
  private readonly currentKeyId: string;

  constructor(keys: Record<string, Buffer>, currentKeyId: string) {
    this.keys = new Map(Object.entries(keys));
    this.currentKeyId = currentKeyId;
    const current = this.keys.get(currentKeyId);
    if (current !== undefined && current.length !== 32) throw new Error(`master key ${currentKeyId} must be 32 bytes`);
  }

  get canSeal(): boolean {
    return this.keys.has(this.currentKeyId);
  }

  seal(plain: string): string {
    if (!this.canSeal) throw new ValidationError('Drydock has no master key (DRYDOCK_MASTER_KEY), so it cannot store secrets; set one and restart');
    return `v1:${this.currentKeyId}:${sealBytes(this.keys.get(this.currentKeyId)!, Buffer.from(plain, 'utf8')).toString('base64')}`;
  }

  open(sealed: string): string {
    const [version, keyId, data] = sealed.split(':');
    if (version !== 'v1' || !keyId || !data) throw new Error('not a sealed secret');
    const key = this.keys.get(keyId);
    if (!key) throw new Error(`no master key with id ${keyId}`);
    return openBytes(key, Buffer.from(data, 'base64')).toString('utf8');
  }
}

export function secretBoxFromConfig(config: { DRYDOCK_MASTER_KEY?: string | undefined; DRYDOCK_MASTER_KEY_ID: string }): SecretBox {
  const keys: Record<string, Buffer> = config.DRYDOCK_MASTER_KEY ? { [config.DRYDOCK_MASTER_KEY_ID]: Buffer.from(config.DRYDOCK_MASTER_KEY, 'base64') } : {};
  return new SecretBox(keys, config.DRYDOCK_MASTER_KEY_ID);
}
