import { sql } from 'kysely';
import { type Config, ForbiddenError, type KerberosSettings } from '@drydock/core';
import type { ApiDeps } from '../context.ts';
import { createSpnegoVerifier, type KerberosUser, type SpnegoVerifier } from './spnego.ts';

export interface KerberosSignIn {
  settings: KerberosSettings;
  /** Settles once, at start: the keytab is read and checked then, not at the first sign-in. */
  verifier: Promise<SpnegoVerifier>;
}

/** Kerberos sign-in when DRYDOCK_KERBEROS_KEYTAB is set; a keytab that cannot serve is said in the API's log at start. */
export function kerberosFromConfig(config: Config): KerberosSignIn | undefined {
  const settings = config.kerberos;
  if (!settings) return undefined;
  const verifier = createSpnegoVerifier({ keytab: settings.keytab, service: settings.service });
  // Said once at start; the sign-in route then answers 503 with the same words until the setting is fixed and the API restarted.
  verifier.catch((err: unknown) => console.error(`Kerberos sign-in cannot start: ${(err as Error).message}`));
  return { settings, verifier };
}

export type KerberosRefusal = 'no_user' | 'ambiguous' | 'disabled';

/** A proved principal Drydock will not sign in: a 403, audited with the reason. */
export class KerberosUserRefused extends ForbiddenError {
  readonly reason: KerberosRefusal;
  constructor(reason: KerberosRefusal, message: string) {
    super(message);
    this.reason = reason;
  }
}

/** The issuer under which a realm's principals are linked to users (external_identities), next to OpenID providers' issuers. */
export const kerberosIssuer = (realm: string) => `kerberos:${realm}`;

/** The mail addresses a principal may match: `name@<realm in lower case>`, and `name@<DRYDOCK_KERBEROS_EMAIL_DOMAIN>` when set. */
export function candidateEmails(user: KerberosUser, settings: KerberosSettings): string[] {
  const domains = [user.realm.toLowerCase(), ...(settings.emailDomain ? [settings.emailDomain] : [])];
  return [...new Set(domains.map((d) => `${user.username}@${d}`))];
}

/**
 * The Drydock user of a Kerberos principal (decision 025). First a link made before (external_identities, issuer
 * `kerberos:<REALM>`, subject the lower-case name); else the one user whose email is a candidate address, which
 * is then linked. Nobody is created: a principal without a user is refused with what an admin has to do.
 */
export async function userOfPrincipal(deps: ApiDeps, user: KerberosUser, settings: KerberosSettings): Promise<{ id: string; email: string; linked: boolean }> {
  const issuer = kerberosIssuer(user.realm);
  return deps.db.transaction().execute(async (tx) => {
    const link = await tx.selectFrom('external_identities').select('user_id').where('issuer', '=', issuer).where('subject', '=', user.username).executeTakeFirst();
    let found = link ? await tx.selectFrom('users').select(['id', 'email', 'disabled']).where('id', '=', link.user_id).executeTakeFirst() : undefined;
    let linked = false;
    if (!found) {
      const emails = candidateEmails(user, settings);
      const matches = await tx.selectFrom('users').select(['id', 'email', 'disabled']).where(sql<string>`lower(email)`, 'in', emails).execute();
      if (matches.length === 0) {
        throw new KerberosUserRefused(
          'no_user',
          `no Drydock user matches the Kerberos principal ${user.principal}: an admin creates a user with the email ${emails.join(' or ')}` +
            (settings.emailDomain ? '' : ' (or sets DRYDOCK_KERBEROS_EMAIL_DOMAIN when mail addresses use another domain than the realm)'),
        );
      }
      if (matches.length > 1) {
        throw new KerberosUserRefused('ambiguous', `the Kerberos principal ${user.principal} matches more than one Drydock user (${matches.map((m) => m.email).join(', ')}); an admin gives only one of them such an email`);
      }
      found = matches[0]!;
      await tx.insertInto('external_identities').values({ issuer, subject: user.username, user_id: found.id }).execute();
      linked = true;
    } else {
      await tx.updateTable('external_identities').set({ last_sign_in_at: new Date() }).where('issuer', '=', issuer).where('subject', '=', user.username).execute();
    }
    if (found.disabled) throw new KerberosUserRefused('disabled', 'this user is disabled; an admin of the team can enable them');
    return { id: found.id, email: found.email, linked };
  });
}
