import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface LocalSecrets {
  registrationSecret: string;
  codecKey: string;
  masterKey: string;
  /** The embedded PostgreSQL's superuser (`drydock`): the launcher alone uses it, to set the database up. */
  postgresPassword: string;
  /** The role Drydock's processes connect as (`drydock_app`): owner of the drydock database, not a superuser. */
  postgresAppPassword: string;
}

/** Made once on the first `npm start` and kept (mode 600) so restarts keep agents registered and histories readable. */
export async function loadOrCreateLocalSecrets(file: string): Promise<LocalSecrets> {
  let stored: Partial<LocalSecrets> = {};
  try {
    stored = JSON.parse(await readFile(file, 'utf8')) as Partial<LocalSecrets>;
  } catch {
    // first start
  }
  // Keys added by later versions are generated once; existing ones are never replaced.
  const secrets: LocalSecrets = {
    registrationSecret: stored.registrationSecret ?? randomBytes(24).toString('base64url'),
    codecKey: stored.codecKey ?? randomBytes(32).toString('base64'),
    masterKey: stored.masterKey ?? randomBytes(32).toString('base64'),
    postgresPassword: stored.postgresPassword ?? randomBytes(24).toString('base64url'),
    postgresAppPassword: stored.postgresAppPassword ?? randomBytes(24).toString('base64url'),
  };
  if (JSON.stringify(secrets) !== JSON.stringify(stored)) {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, JSON.stringify(secrets), { mode: 0o600 });
  }
  return secrets;
}
