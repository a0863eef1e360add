import { Hono } from 'hono';
import { sql } from 'kysely';
import { UnauthorizedError, ValidationError } from '@drydock/core';
import { noteAudit } from '../audit.ts';
import type { ApiDeps, ApiEnv } from '../context.ts';
import { requestSync } from '../repository-service.ts';
import { deliveryId, pushEvent, verifiedProvider } from '../webhooks.ts';

/** Providers redeliver within hours; a week covers any retry and keeps the table small. */
const DELIVERY_RETENTION = sql`interval '7 days'`;

/** Push webhooks from GitHub, GitLab and Bitbucket: verified by the repository's secret, then one coalesced sync. */
export function webhookRoutes(deps: ApiDeps) {
  return new Hono<ApiEnv>().post('/:repositoryId', async (c) => {
    const id = c.req.param('repositoryId');
    noteAudit(c, { action: 'repository.webhook', resource: `repository:${id}` });
    const repo = await deps.db.selectFrom('script_repositories').selectAll().where('id', '=', id).executeTakeFirst();
    // Unknown repositories and bad signatures answer the same, so the endpoint reveals nothing.
    if (!repo?.webhook_secret_enc) throw new UnauthorizedError('webhook signature does not verify');
    const body = Buffer.from(await c.req.arrayBuffer());
    const header = (name: string) => c.req.header(name);
    const provider = verifiedProvider(repo, deps.secrets.open(repo.webhook_secret_enc), header, body);
    if (!provider) throw new UnauthorizedError('webhook signature does not verify');
    let payload: unknown;
    try {
      payload = JSON.parse(body.toString('utf8'));
    } catch {
      throw new ValidationError('webhook body is not JSON; configure the webhook with content type application/json');
    }
    const event = pushEvent(provider, header, payload);
    const delivery = deliveryId(provider, header);
    noteAudit(c, { action: 'repository.webhook', resource: `repository:${id}`, detail: { provider, event: event.kind, branches: event.branches, delivery: delivery ?? null } });

    // Claimed before acting, so two copies arriving together act once; released if acting fails, so the provider's retry still counts.
    if (delivery) {
      await deps.db.deleteFrom('webhook_deliveries').where('repository_id', '=', repo.id).where('received_at', '<', sql<Date>`now() - ${DELIVERY_RETENTION}`).execute();
      const claimed = await deps.db
        .insertInto('webhook_deliveries')
        .values({ repository_id: repo.id, delivery_id: delivery, provider })
        .onConflict((oc) => oc.columns(['repository_id', 'delivery_id']).doNothing())
        .returning('delivery_id')
        .executeTakeFirst();
      if (!claimed) return c.json({ sync: 'ignored', reason: `duplicate delivery ${delivery}: it was received before` }, 202);
    }
    try {
      if (!event.branches.includes(repo.branch)) {
        return c.json({ sync: 'ignored', reason: event.branches.length === 0 ? `${event.kind || 'this event'} is not a push to a branch` : `push to ${event.branches.join(', ')}, not ${repo.branch}` }, 202);
      }
      const workflowId = await requestSync(deps, repo, `${provider} push to ${repo.branch}`);
      return c.json({ sync: 'requested', workflowId }, 202);
    } catch (err) {
      if (delivery) await deps.db.deleteFrom('webhook_deliveries').where('repository_id', '=', repo.id).where('delivery_id', '=', delivery).execute().catch(() => {});
      throw err;
    }
  });
}
