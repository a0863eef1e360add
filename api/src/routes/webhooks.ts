import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { UnauthorizedError, ValidationError, WebhookAnswerSchema } from '@drydock/core';
import { noteAudit } from '../audit.ts';
import type { ApiDeps } from '../context.ts';
import { CALLER, errors, json, resourceRouter } from '../contract.ts';
import { claimWebhookDelivery, releaseWebhookDelivery, requestSync, webhookRepository } from '../repository-service.ts';
import { deliveryId, pushEvent, verifiedProvider } from '../webhooks.ts';

const push = createRoute({
  method: 'post',
  path: '/{repositoryId}',
  tags: ['webhooks'],
  summary: 'A push webhook from GitHub, GitLab or Bitbucket; a verified push to the repository\'s branch requests a sync',
  security: CALLER.gitProvider,
  request: {
    params: z.object({ repositoryId: z.string().meta({ description: 'The repository id, as in its `webhookUrl`' }) }),
    body: { required: true, content: { 'application/json': { schema: { type: 'object', description: "The provider's push event, byte for byte as signed" } } } },
  },
  responses: {
    202: json(WebhookAnswerSchema, 'A verified delivery: a sync requested, or the event ignored and why'),
    ...errors(
      [400, 'A verified body that is not JSON'],
      [401, 'An unknown repository, one without a webhook secret, a missing or wrong signature or token, or a missing event header: all answer the same'],
    ),
  },
});

/** Push webhooks from GitHub, GitLab and Bitbucket: verified by the repository's secret, then one coalesced sync. */
export function webhookRoutes(deps: ApiDeps) {
  return resourceRouter().openapi(push, async (c) => {
    const id = c.req.valid('param').repositoryId;
    noteAudit(c, { action: 'repository.webhook', resource: `repository:${id}` });
    const repo = await webhookRepository(deps, id);
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
    if (delivery && !(await claimWebhookDelivery(deps, repo.id, delivery, provider))) {
      return c.json({ sync: 'ignored' as const, reason: `duplicate delivery ${delivery}: it was received before` }, 202);
    }
    try {
      if (!event.branches.includes(repo.branch)) {
        return c.json({ sync: 'ignored' as const, reason: event.branches.length === 0 ? `${event.kind || 'this event'} is not a push to a branch` : `push to ${event.branches.join(', ')}, not ${repo.branch}` }, 202);
      }
      const workflowId = await requestSync(deps, repo, `${provider} push to ${repo.branch}`);
      return c.json({ sync: 'requested' as const, workflowId }, 202);
    } catch (err) {
      if (delivery) await releaseWebhookDelivery(deps, repo.id, delivery).catch(() => {});
      throw err;
    }
  });
}
