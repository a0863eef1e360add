import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import {
  type Config,
  crossSiteRefusal,
  findUnsafeJson,
  ForbiddenError,
  hostRefusal,
  type OriginRule,
  REQUEST_ID_HEADER,
  requestIdFrom,
  unsafeTextProblem,
  ValidationError,
} from '@drydock/core';
import type { ApiEnv } from './context.ts';

/** A JSON content type, as Hono's validator reads one: application/json or application/<x>+json, with parameters. */
const JSON_TYPE = /^application\/([a-z-.]+\+)?json(;\s*[a-zA-Z0-9-]+=([^;]+))*$/;

/** Deep enough for any body the API takes; a deeper one is refused before anything recurses over it. */
export const MAX_JSON_DEPTH = 64;
/** Bodies that are a file's bytes, not fields: an artifact upload streams into the blob store unread. */
const RAW_BODY_ROUTES = [/^\/api\/v1\/agent\/runs\/[^/]+\/artifacts$/];
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Every response names its request, so a user's report and the log line of a failure meet. */
export function requestIdMiddleware() {
  return createMiddleware<ApiEnv>(async (c, next) => {
    const id = requestIdFrom(c.req.header(REQUEST_ID_HEADER));
    c.set('requestId', id);
    await next();
    c.header(REQUEST_ID_HEADER, id);
  });
}

/** An event stream that fails after its 200 went out: logged once under the request id, and the stream ends (the browser reconnects). */
export function logStreamFailure(c: Context<ApiEnv>, err: unknown): void {
  console.error(`request ${c.get('requestId')}: ${c.req.method} ${new URL(c.req.url).pathname} failed mid-stream:`, err);
}

/** What applies to JSON and event streams: never sniffed, framed, cached or sent on as a referrer. */
export function apiSecurityHeaders() {
  return createMiddleware<ApiEnv>(async (c, next) => {
    await next();
    const has = (name: string) => c.res.headers.has(name);
    const json = JSON_TYPE.test(c.res.headers.get('content-type') ?? '');
    c.header('x-content-type-options', 'nosniff');
    c.header('referrer-policy', 'no-referrer');
    // An artifact download sets its own (sandbox): keep the stricter one a route chose.
    if (!has('content-security-policy')) c.header('content-security-policy', "default-src 'none'; frame-ancestors 'none'");
    if (json && !has('cache-control')) c.header('cache-control', 'no-store');
  });
}

/** DNS rebinding: a page whose name now points at this machine reaches the API with its own name in `Host`. */
export function hostGuard(config: Pick<Config, 'allowedHosts'>) {
  return createMiddleware<ApiEnv>(async (c, next) => {
    const refusal = hostRefusal(config.allowedHosts, c.req.header('host') ?? new URL(c.req.url).host);
    if (!refusal) return next();
    console.warn(`request ${c.get('requestId')}: 421 ${c.req.method} ${new URL(c.req.url).pathname}: ${refusal}`);
    return c.json({ error: { code: 'misdirected', message: refusal } }, 421);
  });
}

/**
 * A page of another site must not start, cancel, revoke or sync anything with the browser's credentials.
 * Once sessions exist, their CSRF token is checked here too, for the same requests.
 */
export function crossSiteGuard(rules: { general: OriginRule; codec: OriginRule }) {
  return createMiddleware<ApiEnv>(async (c, next) => {
    const path = c.req.path;
    const refusal = crossSiteRefusal(
      { method: c.req.method, path, origin: c.req.header('origin'), fetchSite: c.req.header('sec-fetch-site') },
      path.startsWith('/api/v1/codec/') ? rules.codec : rules.general,
    );
    if (refusal) {
      console.warn(`request ${c.get('requestId')}: 403 ${refusal}`);
      throw new ForbiddenError(refusal);
    }
    return next();
  });
}

function refuse(where: string, field: string, problem: string): never {
  throw new ValidationError(`${where} ${problem}`, { [field]: [problem] });
}

function decoded(raw: string, plus: boolean): string | undefined {
  try {
    return decodeURIComponent(plus ? raw.replaceAll('+', ' ') : raw);
  } catch {
    return undefined;
  }
}

/**
 * Text no route can use: NUL characters and lone surrogates in the path, the query, the headers and JSON bodies
 * (at any depth), and percent-encoding that is not UTF-8. Refused here, once, with the field named, before any
 * route hands it to PostgreSQL, which would fail the request with a 500.
 */
export function inputGuard() {
  return createMiddleware<ApiEnv>(async (c, next) => {
    const url = new URL(c.req.url);
    for (const segment of url.pathname.split('/')) {
      const text = decoded(segment, false);
      if (text === undefined) refuse('the path', 'path', `segment ${JSON.stringify(segment.slice(0, 100))} is not percent-encoded UTF-8`);
      const problem = unsafeTextProblem(text);
      if (problem) refuse('the path', 'path', problem);
    }
    for (const pair of url.search.slice(1).split('&')) {
      if (pair === '') continue;
      const [rawName = '', ...rest] = pair.split('=');
      const name = decoded(rawName, true);
      if (name === undefined) refuse('the query', 'query', `parameter name ${JSON.stringify(rawName.slice(0, 100))} is not percent-encoded UTF-8`);
      const nameProblem = unsafeTextProblem(name);
      if (nameProblem) refuse('the query', JSON.stringify(name.slice(0, 100)), `parameter name ${nameProblem}`);
      const value = decoded(rest.join('='), true);
      if (value === undefined) refuse(`query parameter ${name}`, name, 'is not percent-encoded UTF-8');
      const problem = unsafeTextProblem(value);
      if (problem) refuse(`query parameter ${name}`, name, problem);
    }
    for (const [name, value] of c.req.raw.headers) {
      const problem = unsafeTextProblem(value);
      if (problem) refuse(`header ${name}`, `header.${name}`, problem);
    }
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD' && c.req.raw.body && !RAW_BODY_ROUTES.some((r) => r.test(c.req.path))) {
      // Read once; Hono keeps the bytes for the route (a webhook checks its signature over exactly these).
      const bytes = await c.req.arrayBuffer();
      let text: string | undefined;
      try {
        text = strictUtf8.decode(bytes);
      } catch {
        if (JSON_TYPE.test(c.req.header('content-type') ?? '')) refuse('the body', 'body', 'is not valid UTF-8');
      }
      // Any body that is JSON, whatever its declared type: a webhook reads its body as JSON regardless.
      let document: unknown;
      try {
        document = text === undefined ? undefined : JSON.parse(text);
      } catch {
        // Not JSON at all: the route answers that, in its own words.
      }
      const unsafe = document === undefined ? null : findUnsafeJson(document, MAX_JSON_DEPTH);
      if (unsafe) refuse(`body field ${unsafe.field}`, unsafe.field, unsafe.problem);
    }
    return next();
  });
}
