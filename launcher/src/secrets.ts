import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface LocalSecrets {
  registrationSecret: string;
  codecKey: string;
}

/** Made once on the first `npm start` and kept (mode 600) so restarts keep agents registered and histories readable. */
export async function loadOrCreateLocalSecrets(file: string): Promise<LocalSecrets> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as LocalSecrets;
  } catch {
    const secrets = { registrationSecret: randomBytes(24).toString('base64url'), codecKey: randomBytes(32).toString('base64') };
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, JSON.stringify(secrets), { mode: 0o600 });
    return secrets;
  }
}
