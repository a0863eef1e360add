import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { createMiddleware } from 'hono/factory';
import { initializeServer } from 'kerberos';
import { UnauthorizedError } from '@drydock/core';

export type SpnegoFailure =
  /** No `Authorization: Negotiate …` header: the client has to be asked for one. */
  | 'missing'
  /** The token is not Kerberos or SPNEGO at all. */
  | 'malformed'
  /** The client fell back to NTLM: it had no Kerberos ticket for Drydock's service principal. */
  | 'ntlm'
  /** A ticket for a service principal other than Drydock's. */
  | 'wrong_service'
  /** A token that was already presented once. */
  | 'replayed'
  | 'expired'
  | 'clock_skew'
  /** Anything else GSS-API refused; the message carries its words. */
  | 'rejected'
  /** A principal from a realm the allow-list does not name. */
  | 'realm_not_allowed'
  /** A principal that is not a person's: `HTTP/host`, `alice/admin`. */
  | 'not_a_user';

/** Kerberos sign-in failed; a 401 whose response asks for `WWW-Authenticate: Negotiate` again. */
export class SpnegoError extends UnauthorizedError {
  readonly reason: SpnegoFailure;
  constructor(reason: SpnegoFailure, message: string) {
    super(message);
    this.reason = reason;
  }
}

export interface SpnegoOptions {
  /** The keytab with the service principal's keys (DRYDOCK_KERBEROS_KEYTAB). */
  keytab: string;
  /** `HTTP@<host>`: only tickets for `HTTP/<host>` are accepted, whatever else the keytab holds. */
  service: string;
}

export interface NegotiateResult {
  /** The client principal, `alice@CORP.EXAMPLE.COM`. */
  principal: string;
  /** The token that proves Drydock to the client (mutual authentication): send it as `WWW-Authenticate: Negotiate <token>`. */
  responseToken?: string;
}

export interface SpnegoVerifier {
  readonly service: string;
  /** Checks an `Authorization` header; a SpnegoError says why it is refused. */
  verify(authorization: string | undefined): Promise<NegotiateResult>;
}

/** GSS-API's words for each failure, first match wins. MIT Kerberos phrases them so; Heimdal is close enough. */
const GSS_FAILURES: [RegExp, SpnegoFailure, (service: string) => string][] = [
  [/replay/i, 'replayed', () => 'this Negotiate token was already used once; a client sends a fresh one with every request'],
  [/does not match server principal|not found in keytab|wrong principal|no key table entry|cannot find key|key version number for principal in key table is incorrect/i, 'wrong_service', (s) =>
    `the ticket is not for Drydock's service principal ${s.replace('@', '/')} (or the keytab holds an older key for it): check the address the client used and the keytab`],
  [/ticket expired|expired/i, 'expired', () => 'the Kerberos ticket has expired: the client must get a new one (kinit, or sign in to Windows again)'],
  [/clock skew/i, 'clock_skew', () => "the client's clock and Drydock's differ by more than Kerberos allows (5 minutes): set both clocks right"],
  [/invalid token|defective token|malformed|asn\.?1|unknown mech|unsupported mech|no supported mech|token header/i, 'malformed', () =>
    'the Negotiate token is not a Kerberos or SPNEGO token'],
];

let keytabInUse: string | undefined;

/**
 * A verifier of `Negotiate` headers (RFC 4559) with the keys of `service` from `keytab`. GSS-API finds its keytab
 * through the process environment (KRB5_KTNAME), so one process serves one keytab. It checks at creation that
 * the keytab can be read and holds the service principal, so a wrong setting stops the API at start.
 */
export async function createSpnegoVerifier(options: SpnegoOptions): Promise<SpnegoVerifier> {
  const keytab = `FILE:${options.keytab}`;
  try {
    await access(options.keytab, constants.R_OK);
  } catch (err) {
    throw new Error(`the keytab ${options.keytab} (DRYDOCK_KERBEROS_KEYTAB) cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  if (keytabInUse !== undefined && keytabInUse !== keytab) {
    throw new Error(`this process already verifies Kerberos tickets with ${keytabInUse.slice('FILE:'.length)}; one process serves one keytab`);
  }
  // Why process.env: MIT GSS-API reads the acceptor's keytab from KRB5_KTNAME, and the kerberos package exposes nothing else.
  const before = process.env.KRB5_KTNAME;
  process.env.KRB5_KTNAME = keytab;
  try {
    await initializeServer(options.service);
  } catch (err) {
    if (keytabInUse === undefined) {
      if (before === undefined) delete process.env.KRB5_KTNAME;
      else process.env.KRB5_KTNAME = before;
    }
    throw new Error(`the keytab ${options.keytab} cannot verify tickets for ${options.service.replace('@', '/')} (DRYDOCK_KERBEROS_SERVICE): ${(err as Error).message}`, {
      cause: err,
    });
  }
  keytabInUse = keytab;

  return {
    service: options.service,
    async verify(authorization) {
      const match = /^Negotiate\s+([A-Za-z0-9+/]+={0,2})\s*$/i.exec(authorization ?? '');
      if (!match) {
        if (/^Negotiate\b/i.test(authorization ?? '')) throw new SpnegoError('malformed', 'the Negotiate header carries no base64 token');
        throw new SpnegoError('missing', 'Kerberos sign-in needs an Authorization: Negotiate header; the client offered none');
      }
      const token = match[1]!;
      if (Buffer.from(token, 'base64').subarray(0, 8).equals(Buffer.from('NTLMSSP\0', 'latin1'))) {
        throw new SpnegoError(
          'ntlm',
          `the client sent NTLM, not Kerberos: it got no Kerberos ticket for ${options.service.replace('@', '/')}. ` +
            "Check that the browser treats Drydock's address as an intranet site and that the service principal is registered in the directory",
        );
      }
      const server = await initializeServer(options.service);
      try {
        await server.step(token);
      } catch (err) {
        const text = (err as Error).message;
        const known = GSS_FAILURES.find(([pattern]) => pattern.test(text));
        if (known) throw new SpnegoError(known[1], known[2](options.service));
        throw new SpnegoError('rejected', `Kerberos refused the Negotiate token: ${text}`);
      }
      if (!server.contextComplete || !server.username) {
        throw new SpnegoError('rejected', 'the negotiation needs another round trip, which Drydock does not offer: use Kerberos, not another SPNEGO mechanism');
      }
      return { principal: server.username, ...(server.response ? { responseToken: server.response } : {}) };
    },
  };
}

export interface KerberosUser {
  principal: string;
  /** The principal without its realm, in lower case: `alice` for `Alice@CORP.EXAMPLE.COM`. */
  username: string;
  realm: string;
}

/** The Drydock user name of a client principal from one of `realms` (upper case, as Kerberos writes them). */
export function userFromPrincipal(principal: string, realms: readonly string[]): KerberosUser {
  const at = principal.lastIndexOf('@');
  const name = at < 0 ? principal : principal.slice(0, at);
  const realm = at < 0 ? '' : principal.slice(at + 1);
  if (name === '' || realm === '' || /[\\@]/.test(name)) throw new SpnegoError('not_a_user', `${principal} is not a user principal of the form name@REALM`);
  if (name.includes('/')) throw new SpnegoError('not_a_user', `${principal} is a service or administrative principal, not a person's; sign in as name@${realm}`);
  if (!realms.includes(realm)) {
    throw new SpnegoError('realm_not_allowed', `users of the realm ${realm} may not sign in here; DRYDOCK_KERBEROS_REALMS allows ${realms.join(', ') || 'none'}`);
  }
  return { principal, username: name.toLowerCase(), realm };
}

export type NegotiateEnv = { Variables: { kerberosUser: KerberosUser } };

/**
 * Kerberos sign-in over HTTP (RFC 4559): without a valid `Negotiate` header the answer is 401 with
 * `WWW-Authenticate: Negotiate` and a JSON error that says why; with one, `kerberosUser` is set and the
 * response carries Drydock's mutual-authentication token.
 */
export function negotiateMiddleware(verifier: SpnegoVerifier, realms: readonly string[]) {
  return createMiddleware<NegotiateEnv>(async (c, next) => {
    let result: NegotiateResult;
    let user: KerberosUser;
    try {
      result = await verifier.verify(c.req.header('authorization'));
      user = userFromPrincipal(result.principal, realms);
    } catch (err) {
      if (!(err instanceof SpnegoError)) throw err;
      c.header('WWW-Authenticate', 'Negotiate');
      return c.json({ error: { code: err.code, reason: err.reason, message: err.message } }, 401);
    }
    c.set('kerberosUser', user);
    await next();
    if (result.responseToken) c.header('WWW-Authenticate', `Negotiate ${result.responseToken}`);
  });
}
