import * as client from 'openid-client';
import { DrydockError, UnauthorizedError } from '@drydock/core';

/** Why a sign-in came back refused: each is a 401, and the user starts again from the sign-in page. */
export type OidcSignInFailure =
  /** The callback's state is not this browser's: a forged callback, or one from another tab or sign-in. */
  | 'state_mismatch'
  /** The provider refused the authorization code: already used (a replayed callback), expired, or issued to another client. */
  | 'code_rejected'
  /** The ID token answers another sign-in's nonce. */
  | 'nonce_mismatch'
  /** The response or the ID token comes from another provider than DRYDOCK_OIDC_ISSUER. */
  | 'issuer_mismatch'
  /** The ID token was issued to another client. */
  | 'audience_mismatch'
  /** The ID token has expired, or is not valid yet: the provider's clock or Drydock's is wrong. */
  | 'expired'
  /** The ID token's signature does not verify with the provider's keys. */
  | 'invalid_token'
  /** The provider ended the sign-in with an error (the user cancelled, or may not use Drydock). */
  | 'provider_refused';

export class OidcSignInError extends UnauthorizedError {
  readonly reason: OidcSignInFailure;
  constructor(reason: OidcSignInFailure, message: string) {
    super(message);
    this.reason = reason;
  }
}

export type OidcProviderFailure = 'unreachable' | 'invalid_response' | 'misconfigured';

/** The provider cannot be used right now, or Drydock's settings for it are wrong: nothing the user can fix by trying again at once. */
export class OidcProviderError extends DrydockError {
  readonly reason: OidcProviderFailure;
  constructor(reason: OidcProviderFailure, message: string) {
    super('oidc_provider', message);
    this.reason = reason;
  }
}

export interface OidcSignInOptions {
  issuerUrl: string;
  clientId: string;
  /** Absent for a public client, which relies on PKCE alone. */
  clientSecret?: string;
  /** Where the provider sends the browser back; registered at the provider. */
  redirectUri: string;
  scopes: readonly string[];
  /** The claim that lists the user's groups, from the ID token or else from userinfo. */
  groupsClaim: string;
  /** How long one request to the provider may take. Default 10 s. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/**
 * What a sign-in must remember between `begin` and `finish`: the caller keeps it in a short-lived signed
 * (and HttpOnly) cookie and clears that cookie when the callback arrives, so each one is used once.
 */
export interface OidcChecks {
  state: string;
  nonce: string;
  codeVerifier: string;
}

export interface OidcIdentity {
  issuer: string;
  /** The provider's stable id of the user: with `issuer`, the key to link an account by. */
  subject: string;
  email?: string;
  emailVerified: boolean;
  name?: string;
  groups: string[];
}

export interface OidcSignIn {
  /** Where to send the browser, and the checks to keep until it comes back. */
  begin(): Promise<{ url: URL; checks: OidcChecks }>;
  /** The identity in the provider's answer at `callbackUrl`, once every check has passed. */
  finish(callbackUrl: string | URL, checks: OidcChecks): Promise<OidcIdentity>;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

type Inner = Error & { code?: string; cause?: unknown; error?: string; error_description?: string; status?: number };

function innermost(err: unknown): Inner {
  let e = err as Inner;
  while (e instanceof client.ClientError && e.cause instanceof Error) e = e.cause as Inner;
  return e;
}

function unreachable(err: unknown): string | undefined {
  const e = err as Inner;
  if (e instanceof client.ClientError && (e.code === 'OAUTH_TIMEOUT' || e.code === 'OAUTH_ABORT')) return 'no answer in time';
  if (e instanceof TypeError && e.message === 'fetch failed') {
    const cause = e.cause as { code?: string; message?: string } | undefined;
    return cause?.code === 'ECONNREFUSED' ? 'connection refused' : (cause?.code ?? cause?.message ?? e.message);
  }
  return undefined;
}

function claimOf(e: Inner): string | undefined {
  const cause = e.cause as { claim?: unknown } | undefined;
  return typeof cause?.claim === 'string' ? cause.claim : undefined;
}

/** An OAuth error from the token or userinfo endpoint: in the JSON body, or in a WWW-Authenticate challenge (a 401). */
function endpointError(e: Inner): { error: string; description?: string } | undefined {
  if (e instanceof client.ResponseBodyError) return { error: e.error ?? 'error', ...(e.error_description ? { description: e.error_description } : {}) };
  if (e instanceof client.WWWAuthenticateChallengeError) {
    const challenges = (e.cause ?? []) as { parameters?: { error?: string; error_description?: string } }[];
    const found = challenges.find((c) => c.parameters?.error)?.parameters;
    if (found?.error) return { error: found.error, ...(found.error_description ? { description: found.error_description } : {}) };
  }
  return undefined;
}

/** One place that turns openid-client's and oauth4webapi's errors into what the user and the operator can act on. */
function signInFailure(err: unknown, issuer: string, clientId: string): DrydockError {
  if (err instanceof DrydockError) return err;
  const down = unreachable(err);
  if (down) return new OidcProviderError('unreachable', `the OpenID provider ${issuer} is unreachable: ${down}`);
  const e = innermost(err);
  if (e instanceof client.AuthorizationResponseError) {
    return new OidcSignInError('provider_refused', `the OpenID provider ended the sign-in: ${e.error}${e.error_description ? ` (${e.error_description})` : ''}`);
  }
  const refused = endpointError(e);
  if (refused) {
    if (refused.error === 'invalid_grant') {
      return new OidcSignInError(
        'code_rejected',
        `the OpenID provider refused the authorization code (${refused.description ?? refused.error}): it was used already, has expired, or belongs to another client or sign-in; sign in again`,
      );
    }
    if (refused.error === 'invalid_client' || refused.error === 'unauthorized_client') {
      return new OidcProviderError('misconfigured', `the OpenID provider refused Drydock's client ${clientId} (${refused.error}): check DRYDOCK_OIDC_CLIENT_ID and DRYDOCK_OIDC_CLIENT_SECRET`);
    }
    return new OidcProviderError('invalid_response', `the OpenID provider answered ${refused.error}${refused.description ? ` (${refused.description})` : ''}`);
  }
  const claim = claimOf(e);
  const text = e.message ?? String(err);
  if (/"state"/.test(text)) return new OidcSignInError('state_mismatch', 'the sign-in callback does not belong to the sign-in this browser started (state mismatch); sign in again');
  if (/"iss"/.test(text) || claim === 'iss') {
    return new OidcSignInError('issuer_mismatch', `the sign-in answer comes from another provider than ${issuer}; sign in again`);
  }
  if (claim === 'nonce') return new OidcSignInError('nonce_mismatch', 'the ID token belongs to another sign-in (nonce mismatch); sign in again');
  if (claim === 'aud' || claim === 'azp') return new OidcSignInError('audience_mismatch', `the ID token was issued to another client than ${clientId}`);
  if (e.code === 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED') {
    return new OidcSignInError(
      'expired',
      claim === 'exp'
        ? "the ID token has expired: if this repeats, the provider's clock or Drydock's is wrong"
        : `the ID token is not valid yet (${claim ?? 'iat'}): the provider's clock or Drydock's is wrong`,
    );
  }
  if (/signature/i.test(text) || e.code === 'OAUTH_KEY_SELECTION_FAILED') {
    return new OidcSignInError('invalid_token', `the ID token's signature does not verify with the keys ${issuer} publishes`);
  }
  if (err instanceof client.ClientError && /issuer does not match/.test(err.message)) {
    return new OidcProviderError('misconfigured', `${issuer} describes itself as another issuer: set DRYDOCK_OIDC_ISSUER to the issuer exactly as the provider names it`);
  }
  if (e.code === 'OAUTH_RESPONSE_IS_NOT_CONFORM' || e.code === 'OAUTH_RESPONSE_IS_NOT_JSON') {
    return new OidcProviderError('invalid_response', `the OpenID provider ${issuer} answered in a way that is not OpenID Connect: ${err instanceof Error ? err.message : String(err)}`);
  }
  return new OidcProviderError('invalid_response', `the sign-in with ${issuer} failed: ${text}`);
}

function groupsFrom(value: unknown): string[] | undefined {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((g): g is string => typeof g === 'string');
  return undefined;
}

/**
 * OpenID Connect sign-in with the authorization code flow, PKCE (S256), state and nonce, through
 * `openid-client`. The provider is discovered from its issuer on first use (and again after a failure).
 */
export function createOidcSignIn(options: OidcSignInOptions): OidcSignIn {
  const issuer = new URL(options.issuerUrl);
  if (issuer.protocol !== 'https:' && !(issuer.protocol === 'http:' && LOOPBACK.has(issuer.hostname))) {
    throw new Error(`DRYDOCK_OIDC_ISSUER must be an https URL (plain http only on loopback, for tests): ${options.issuerUrl}`);
  }
  const redirectUri = new URL(options.redirectUri);
  const issuerText = options.issuerUrl;
  let discovered: Promise<client.Configuration> | undefined;

  const discover = (): Promise<client.Configuration> => {
    discovered ??= client
      .discovery(
        issuer,
        options.clientId,
        options.clientSecret ? { client_secret: options.clientSecret } : undefined,
        options.clientSecret ? client.ClientSecretBasic(options.clientSecret) : client.None(),
        {
          execute: issuer.protocol === 'http:' ? [client.allowInsecureRequests] : [],
          timeout: Math.ceil((options.timeoutMs ?? 10_000) / 1000),
          // Typed through openid-client's own fetch signature: the web's DOM typings of fetch differ from Node's.
          ...(options.fetch ? { [client.customFetch]: options.fetch as unknown as client.CustomFetch } : {}),
        },
      )
      .catch((err: unknown) => {
        discovered = undefined;
        throw signInFailure(err, issuerText, options.clientId);
      });
    return discovered;
  };

  return {
    async begin() {
      const config = await discover();
      const checks: OidcChecks = { state: client.randomState(), nonce: client.randomNonce(), codeVerifier: client.randomPKCECodeVerifier() };
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri.href,
        scope: options.scopes.join(' '),
        response_type: 'code',
        code_challenge: await client.calculatePKCECodeChallenge(checks.codeVerifier),
        code_challenge_method: 'S256',
        state: checks.state,
        nonce: checks.nonce,
      });
      return { url, checks };
    },

    async finish(callbackUrl, checks) {
      if (![checks?.state, checks?.nonce, checks?.codeVerifier].every((v) => typeof v === 'string' && v.length > 0)) {
        throw new OidcSignInError('state_mismatch', 'no sign-in was started in this browser (or it expired); sign in again');
      }
      const config = await discover();
      // Only the provider's parameters are taken from the callback: the address it reached Drydock at may be a proxy's.
      const current = new URL(redirectUri);
      current.search = new URL(callbackUrl, redirectUri).search;
      try {
        const tokens = await client.authorizationCodeGrant(config, current, {
          pkceCodeVerifier: checks.codeVerifier,
          expectedState: checks.state,
          expectedNonce: checks.nonce,
          idTokenExpected: true,
        });
        const idToken = tokens.claims()!;
        let claims: Record<string, unknown> = { ...idToken };
        const missing = ['email', 'name', options.groupsClaim].some((c) => claims[c] === undefined);
        if (missing && tokens.access_token && config.serverMetadata().userinfo_endpoint) {
          // Scope claims arrive from userinfo unless the provider puts them in the ID token (OIDC Core 5.4).
          const userinfo = await client.fetchUserInfo(config, tokens.access_token, idToken.sub);
          claims = { ...userinfo, ...claims };
        }
        return {
          issuer: idToken.iss,
          subject: idToken.sub,
          ...(typeof claims.email === 'string' ? { email: claims.email } : {}),
          emailVerified: claims.email_verified === true,
          ...(typeof claims.name === 'string' ? { name: claims.name } : {}),
          groups: groupsFrom(claims[options.groupsClaim]) ?? [],
        };
      } catch (err) {
        throw signInFailure(err, issuerText, options.clientId);
      }
    },
  };
}
