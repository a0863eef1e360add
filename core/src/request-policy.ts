import { randomUUID } from 'node:crypto';
import { hostNameOf, isLoopbackHost } from './config.ts';

/** The methods that change something; each one passes the cross-site check. */
export const STATE_CHANGING_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Routes a browser's cookies cannot open: webhooks prove themselves by a signature over the body, agents by a
 * bearer token (or the registration secret). The origin rule guards ambient credentials, which they do not use.
 */
const ORIGIN_RULE_EXEMPT = [/^\/api\/v1\/webhooks\//, /^\/api\/v1\/agent\//, /^\/api\/v1\/agents\/register$/];

/** The header that names a request in answers and log lines, the same on the web server and the API behind it. */
export const REQUEST_ID_HEADER = 'x-request-id';
/** A caller's own id (the web server's, a load balancer's) is kept when it is plain enough to log as it is. */
const CALLER_REQUEST_ID = /^[\w.:-]{1,128}$/;

/** The id this request goes by: the caller's when it sent a plain one, otherwise a new one. */
export function requestIdFrom(given: string | undefined): string {
  return given !== undefined && CALLER_REQUEST_ID.test(given) ? given : randomUUID();
}

/** Why a request for this `Host` is refused (a DNS rebinding attempt, or a name nobody configured), or null to serve it. */
export function hostRefusal(allowedHosts: ReadonlySet<string>, host: string | undefined): string | null {
  const name = host === undefined ? undefined : hostNameOf(host);
  if (name !== undefined && (allowedHosts.has(name) || isLoopbackHost(name))) return null;
  const shown = host === undefined ? 'no Host header' : `the host name ${JSON.stringify(host.slice(0, 200))}`;
  return `this Drydock does not answer for ${shown}; if people or agents reach it under that name, set DRYDOCK_PUBLIC_URL to that address or add the name to DRYDOCK_ALLOWED_HOSTS`;
}

export interface RequestSource {
  method: string;
  path: string;
  /** The `Origin` header, if any. */
  origin: string | undefined;
  /** The `Sec-Fetch-Site` header, if any. */
  fetchSite: string | undefined;
}

export interface OriginRule {
  allowedOrigins: ReadonlySet<string>;
  /** Origins of another site that may still call (Temporal Web on the codec routes); every other cross-site request is refused. */
  crossSiteOrigins?: ReadonlySet<string>;
}

/**
 * Why a state-changing request looks sent by another site's page, or null to let it through. A browser marks
 * what it sends (`Sec-Fetch-Site`, `Origin`); a request with neither comes from a program (curl, an agent, CI),
 * which carries no ambient credentials a forged request could borrow.
 */
export function crossSiteRefusal(source: RequestSource, rule: OriginRule): string | null {
  if (!STATE_CHANGING_METHODS.has(source.method.toUpperCase())) return null;
  if (ORIGIN_RULE_EXEMPT.some((r) => r.test(source.path))) return null;
  const { origin, fetchSite } = source;
  const crossSiteAllowed = origin !== undefined && (rule.crossSiteOrigins?.has(origin) ?? false);
  // Escaped, as the path is decoded: a %0A in it must not start a new line in the log.
  const what = `${source.method.toUpperCase()} ${JSON.stringify(source.path.slice(0, 200)).slice(1, -1)}`;
  const settings = 'if people use Drydock at that address, set DRYDOCK_PUBLIC_URL to it or add its host name to DRYDOCK_ALLOWED_HOSTS';
  if (fetchSite !== undefined && fetchSite !== 'same-origin' && fetchSite !== 'none') {
    if (fetchSite === 'cross-site' && !crossSiteAllowed) return `${what} refused: a page of another site sent it (Sec-Fetch-Site: cross-site)`;
    if (fetchSite !== 'cross-site' && fetchSite !== 'same-site') return `${what} refused: Sec-Fetch-Site ${JSON.stringify(fetchSite.slice(0, 50))} is not one a browser sends`;
    if (origin === undefined) return `${what} refused: a page of another origin sent it (Sec-Fetch-Site: ${fetchSite}) without an Origin to check`;
  }
  if (origin !== undefined && !rule.allowedOrigins.has(origin) && !crossSiteAllowed) {
    return `${what} refused: it comes from a page at ${JSON.stringify(origin.slice(0, 200))}, which is not a Drydock origin; ${settings}`;
  }
  return null;
}

/** What makes a text unusable as data (PostgreSQL text cannot hold a NUL; a lone surrogate is no character at all), or null. */
export function unsafeTextProblem(text: string): string | null {
  if (text.includes('\0')) return 'contains a NUL character (\\u0000 or %00); remove it';
  if (!text.isWellFormed()) return 'contains a lone UTF-16 surrogate (half of a character); send valid Unicode';
  return null;
}

export interface UnsafeField {
  /** The field as the API's 400s name fields: dotted, array indexes as numbers (`params.hosts.2`). */
  field: string;
  problem: string;
}

/**
 * The first string (key or value) of a parsed JSON document that is not usable text, or a nesting deeper than
 * `maxDepth`. Iterative, so a hostile document cannot exhaust the stack.
 */
export function findUnsafeJson(document: unknown, maxDepth: number): UnsafeField | null {
  const stack: { value: unknown; path: string[] }[] = [{ value: document, path: [] }];
  const name = (path: string[]) => (path.length === 0 ? '_' : path.join('.'));
  while (stack.length > 0) {
    const { value, path } = stack.pop()!;
    if (typeof value === 'string') {
      const problem = unsafeTextProblem(value);
      if (problem) return { field: name(path), problem };
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (path.length >= maxDepth) return { field: name(path), problem: `is nested deeper than ${maxDepth} levels` };
    for (const [key, child] of Object.entries(value)) {
      const problem = unsafeTextProblem(key);
      if (problem) return { field: name([...path, JSON.stringify(key)]), problem: `has a key that ${problem}` };
      stack.push({ value: child, path: [...path, key] });
    }
  }
  return null;
}
