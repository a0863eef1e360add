import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import type { ApiEnv } from './context.ts';
import { ACCESS_EXTENSION, CALLER, json } from './contract.ts';

// The OpenAPI document is generated from the routes' declarations; this module adds what is the API's as a
// whole (its guide, tags, security schemes) and serves the document and an interactive reference of it.

export const DOCUMENT_PATH = '/api/v1/openapi.json';
export const REFERENCE_PATH = '/api/v1/docs';

/** The document's sections, in reading order; each has its guide in reference/<name>.md. */
export const TAGS = [
  { name: 'system', title: 'System' },
  { name: 'identity', title: 'Sign-in, tokens and members' },
  { name: 'catalog', title: 'Catalog' },
  { name: 'actions', title: 'Actions' },
  { name: 'repositories', title: 'Repositories and credentials' },
  { name: 'webhooks', title: 'Webhooks' },
  { name: 'environments', title: 'Environments and approvals' },
  { name: 'hosts', title: 'Hosts' },
  { name: 'locks', title: 'Locks' },
  { name: 'bulk', title: 'Bulk executions' },
  { name: 'runs', title: 'Runs' },
  { name: 'schedules', title: 'Schedules' },
  { name: 'notifications', title: 'Notifications' },
  { name: 'artifacts', title: 'Artifacts' },
  { name: 'agents', title: 'Agents' },
  { name: 'codec', title: 'Codec' },
  { name: 'audit', title: 'Audit' },
] as const;

function guide(name: string): string {
  return readFileSync(new URL(`./reference/${name}.md`, import.meta.url), 'utf8').trim();
}

type Document = ReturnType<OpenAPIHono['getOpenAPI31Document']>;
const documents = new WeakMap<object, Document>();

const errorBody = { 'application/json': { schema: { $ref: '#/components/schemas/ErrorBody' } } };
/** What the one gate (auth.ts) and a route's `access()` answer on every user route; the routes declare the rest. */
const GATE_ANSWERS = {
  401: { description: 'No session and no API token, or one that is unknown, expired, revoked or signed out', content: errorBody },
  403: {
    description: "An agent token; a role below the route's `x-drydock-access` role in the caller's team; a token without its scope; a session call that changes something without its `x-csrf-token`",
    content: errorBody,
  },
};

/** The credentials a user route takes: the web UI's session cookie, or an API token. */
const USER_SECURITY: Record<string, string[]>[] = [{ sessionCookie: [] }, { apiToken: [] }];

function withGateAnswers(document: Document): Document {
  for (const item of Object.values(document.paths ?? {})) {
    for (const method of ['get', 'put', 'post', 'delete', 'patch'] as const) {
      const operation = item[method];
      // Routes that declare their own callers are not user routes.
      if (!operation || operation.security !== undefined) continue;
      operation.responses = { ...GATE_ANSWERS, ...operation.responses };
      const need = (operation as Record<string, unknown>)[ACCESS_EXTENSION] as { role: string; scope: string } | undefined;
      if (need) operation.description = [operation.description, `Needs: the **${need.role}** role in the current team; an API token also needs the **${need.scope}** scope.`].filter(Boolean).join('\n\n');
    }
  }
  return document;
}

/** The OpenAPI 3.1 document of everything declared on `app`, built once. */
export function openApiDocument(app: OpenAPIHono<ApiEnv>): Document {
  const cached = documents.get(app);
  if (cached) return cached;
  const document = withGateAnswers(app.getOpenAPI31Document({
    openapi: '3.1.0',
    info: { title: 'Drydock API', version: '1', description: guide('overview') },
    // Relative: the document is served by the API and, through its proxy, by the web server; calls go where it came from.
    servers: [{ url: '/' }],
    tags: TAGS.map((t) => ({ name: t.name, description: guide(t.name), 'x-displayName': t.title })),
    security: USER_SECURITY,
  }));
  documents.set(app, document);
  return document;
}

const SECURITY_SCHEMES = {
  sessionCookie: {
    type: 'apiKey',
    in: 'cookie',
    name: 'drydock_session',
    description: 'The session of a signed-in user (`POST /api/v1/auth/sign-in`). A call that changes something also sends the session\'s CSRF token as `x-csrf-token`.',
  },
  apiToken: {
    type: 'http',
    scheme: 'bearer',
    description: 'An API token (`ddp_…`) from `POST /api/v1/tokens`, or a service account\'s: `Authorization: Bearer $DRYDOCK_TOKEN`.',
  },
  agentToken: {
    type: 'http',
    scheme: 'bearer',
    description: 'An agent token (`dda_…`) from registration or rotation; accepted on `/api/v1/agent/` routes only.',
  },
  githubSignature: {
    type: 'apiKey',
    in: 'header',
    name: 'X-Hub-Signature-256',
    description: "GitHub: `sha256=<hex HMAC-SHA256 of the body, keyed with the repository's webhook secret>`.",
  },
  gitlabToken: { type: 'apiKey', in: 'header', name: 'X-Gitlab-Token', description: "GitLab: the repository's webhook secret itself." },
  bitbucketSignature: {
    type: 'apiKey',
    in: 'header',
    name: 'X-Hub-Signature',
    description: 'Bitbucket Cloud and Data Center: `sha256=<hex HMAC-SHA256 of the body>`.',
  },
} as const;

const swaggerDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
/** Served from this origin only: the reference works offline and under a strict Content-Security-Policy. */
const REFERENCE_ASSETS: Record<string, { file: string; type: string }> = {
  'swagger-ui.css': { file: join(swaggerDir, 'swagger-ui.css'), type: 'text/css; charset=utf-8' },
  'swagger-ui-bundle.js': { file: join(swaggerDir, 'swagger-ui-bundle.js'), type: 'text/javascript; charset=utf-8' },
};
/** The page's start-up, served as a file: the page allows no inline script. No validator badge: nothing leaves this origin. */
const REFERENCE_SCRIPT = `const root = document.getElementById('reference');
window.SwaggerUIBundle({ url: root.dataset.document, domNode: root, deepLinking: true, validatorUrl: null });
`;
const REFERENCE_CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const referencePage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Drydock API reference</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${REFERENCE_PATH}/swagger-ui.css">
</head>
<body>
<div id="reference" data-document="${DOCUMENT_PATH}"></div>
<script src="${REFERENCE_PATH}/swagger-ui-bundle.js"></script>
<script src="${REFERENCE_PATH}/reference.js"></script>
</body>
</html>
`;

const documentRoute = createRoute({
  method: 'get',
  path: DOCUMENT_PATH,
  tags: ['system'],
  summary: 'This document: OpenAPI 3.1, generated from the routes',
  security: CALLER.anyone,
  responses: { 200: json(z.record(z.string(), z.unknown()), 'The OpenAPI document') },
});

const referenceRoute = createRoute({
  method: 'get',
  path: REFERENCE_PATH,
  tags: ['system'],
  summary: 'An interactive reference of this document, to read and try the routes in a browser',
  security: CALLER.anyone,
  responses: { 200: { description: 'The reference page', content: { 'text/html': { schema: z.string() } } } },
});

/** Declares the security schemes, serves the document and its reference page; call after every route is mounted. */
export function serveDocument(app: OpenAPIHono<ApiEnv>) {
  for (const [name, scheme] of Object.entries(SECURITY_SCHEMES)) app.openAPIRegistry.registerComponent('securitySchemes', name, scheme);
  app.openapi(documentRoute, (c) => c.json(openApiDocument(app) as unknown as Record<string, unknown>, 200));
  app.openapi(referenceRoute, (c) => c.html(referencePage, 200, { 'content-security-policy': REFERENCE_CSP }));
  const loaded = new Map<string, Buffer>();
  app.get(`${REFERENCE_PATH}/reference.js`, (c) => c.body(REFERENCE_SCRIPT, 200, { 'content-type': 'text/javascript; charset=utf-8' }));
  app.get(`${REFERENCE_PATH}/:asset`, (c) => {
    const name = c.req.param('asset');
    const asset = REFERENCE_ASSETS[name];
    if (!asset) return c.notFound();
    const bytes = loaded.get(name) ?? readFileSync(asset.file);
    loaded.set(name, bytes);
    return c.body(new Uint8Array(bytes), 200, { 'content-type': asset.type, 'cache-control': 'public, max-age=3600' });
  });
}
