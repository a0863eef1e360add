import { HTTPException } from 'hono/http-exception';
import { ConflictError, databaseUnavailable, DrydockError, ForbiddenError, NotFoundError, UnauthorizedError, ValidationError } from '@drydock/core';
import { codecFromConfig } from '@drydock/temporal';
import { auditMiddleware } from './audit.ts';
import { authMiddleware } from './auth.ts';
import type { ApiDeps } from './context.ts';
import { resourceRouter } from './contract.ts';
import { serveDocument } from './openapi.ts';
import { apiSecurityHeaders, crossSiteGuard, hostGuard, inputGuard, requestIdMiddleware } from './request-guards.ts';
import { agentRegistrationRoutes, agentRoutes } from './routes/agents.ts';
import { agentArtifactRoutes, runArtifactRoutes } from './routes/artifacts.ts';
import { auditRoutes } from './routes/audit.ts';
import { kerberosRoutes } from './auth/kerberos-routes.ts';
import { kerberosFromConfig } from './auth/kerberos-sign-in.ts';
import { oidcRoutes } from './auth/oidc-routes.ts';
import { oidcFromConfig } from './auth/oidc-sign-in.ts';
import { bulkRoutes } from './routes/bulk.ts';
import { codecRoutes, temporalWebOrigins } from './routes/codec.ts';
import { approvalRoutes } from './routes/approvals.ts';
import { environmentRoutes } from './routes/environments.ts';
import { hostRoutes } from './routes/hosts.ts';
import { identityRoutes } from './routes/identity.ts';
import { teamRoutes } from './routes/teams.ts';
import { lockRoutes } from './routes/locks.ts';
import { runRoutes } from './routes/runs.ts';
import { bundleRoutes } from './routes/bundles.ts';
import { scheduleRoutes } from './routes/schedules.ts';
import { blackoutRoutes } from './routes/blackouts.ts';
import { notificationRoutes } from './routes/notifications.ts';
import { actionRoutes } from './routes/actions.ts';
import { credentialRoutes, repositoryRoutes } from './routes/repositories.ts';
import { scriptRoutes } from './routes/scripts.ts';
import { systemRoutes } from './routes/system.ts';
import { webhookRoutes } from './routes/webhooks.ts';

function statusOf(err: DrydockError): 400 | 401 | 403 | 404 | 409 | 500 {
  if (err instanceof ValidationError) return 400;
  if (err instanceof UnauthorizedError) return 401;
  if (err instanceof ForbiddenError) return 403;
  if (err instanceof NotFoundError) return 404;
  if (err instanceof ConflictError) return 409;
  return 500;
}

export function createApp(deps: ApiDeps) {
  const app = resourceRouter();
  app.onError((err, c) => {
    if (err instanceof DrydockError) {
      const fields = err instanceof ValidationError && Object.keys(err.fields).length > 0 ? { fields: err.fields } : {};
      return c.json({ error: { code: err.code, message: err.message, ...fields } }, statusOf(err));
    }
    if (err instanceof HTTPException) {
      // The route declares a JSON body; anything else is refused before it is read.
      const message = err.status === 415 ? 'send the body as JSON, with content-type: application/json' : err.message;
      return c.json({ error: { code: 'http', message } }, err.status);
    }
    const unavailable = databaseUnavailable(err);
    if (unavailable) {
      // An outage, not a bug: said once in the API's log; callers (agents included) retry on 503.
      deps.databaseOutage?.down(unavailable);
      return c.json({ error: { code: 'unavailable', message: 'the database does not answer; try again shortly' } }, 503);
    }
    const requestId = c.get('requestId');
    console.error(`request ${requestId}: ${c.req.method} ${new URL(c.req.url).pathname} failed:`, err);
    return c.json({ error: { code: 'internal', message: `internal error; the API log has the details under request ${requestId}`, requestId } }, 500);
  });
  app.notFound((c) => c.json({ error: { code: 'not_found', message: `no route ${c.req.method} ${c.req.path}` } }, 404));

  app.use(requestIdMiddleware());
  app.use(apiSecurityHeaders());
  app.use(hostGuard(deps.config));
  const temporalWeb = new Set(temporalWebOrigins(deps.config.temporalUiUrl));
  app.use(
    crossSiteGuard({
      general: { allowedOrigins: deps.config.allowedOrigins },
      codec: { allowedOrigins: deps.config.allowedOrigins, crossSiteOrigins: temporalWeb },
    }),
  );
  app.use(inputGuard());
  app.use(auditMiddleware(deps));
  app.use(authMiddleware(deps));

  // Chained, so AppType carries every route's inputs and answers for typed clients (hc<AppType>).
  const routes = app
    .route('/', systemRoutes(deps))
    .route('/api/v1', identityRoutes(deps))
    .route('/api/v1/teams', teamRoutes(deps))
    .route('/api/v1/scripts', scriptRoutes(deps))
    .route('/api/v1/actions', actionRoutes(deps))
    .route('/api/v1/repositories', repositoryRoutes(deps))
    .route('/api/v1/credentials', credentialRoutes(deps))
    .route('/api/v1/webhooks', webhookRoutes(deps))
    .route('/api/v1/environments', environmentRoutes(deps))
    .route('/api/v1/approvals', approvalRoutes(deps))
    .route('/api/v1/hosts', hostRoutes(deps))
    .route('/api/v1/locks', lockRoutes(deps))
    .route('/api/v1/runs', runRoutes(deps))
    .route('/api/v1/bulk', bulkRoutes(deps))
    .route('/api/v1/schedules', scheduleRoutes(deps))
    .route('/api/v1/blackouts', blackoutRoutes(deps))
    .route('/api/v1/notifications', notificationRoutes(deps))
    .route('/api/v1/runs', runArtifactRoutes(deps))
    .route('/api/v1/runs', bundleRoutes(deps))
    .route('/api/v1/agents', agentRegistrationRoutes(deps))
    .route('/api/v1/agent', agentRoutes(deps))
    .route('/api/v1/agent/runs', agentArtifactRoutes(deps))
    .route('/api/v1/audit', auditRoutes(deps));
  const codec = codecFromConfig(deps.config);
  if (codec) app.route('/api/v1/codec', codecRoutes(deps, codec));
  const oidc = oidcFromConfig(deps.config);
  if (oidc) app.route('/api/v1/auth/oidc', oidcRoutes(deps, oidc));
  app.route('/api/v1/auth', kerberosRoutes(deps, kerberosFromConfig(deps.config)));
  serveDocument(app);
  return routes;
}

export type AppType = ReturnType<typeof createApp>;
