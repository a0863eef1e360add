import { Hono } from 'hono';
import { UnauthorizedError, ValidationError } from '@drydock/core';
import { noteAudit } from '../audit.ts';
import type { ApiDeps, ApiEnv } from '../context.ts';
import { requestSync } from '../repository-service.ts';
import { pushEvent, verifiedProvider } from '../webhooks.ts';

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
    noteAudit(c, { action: 'repository.webhook', resource: `repository:${id}`, detail: { provider, event: event.kind, branches: event.branches } });
    if (!event.branches.includes(repo.branch)) {
      return c.json({ sync: 'ignored', reason: event.branches.length === 0 ? `${event.kind || 'this event'} is not a push to a branch` : `push to ${event.branches.join(', ')}, not ${repo.branch}` }, 202);
    }
    const workflowId = await requestSync(deps, repo, `${provider} push to ${repo.branch}`);
    return c.json({ sync: 'requested', workflowId }, 202);
  });
}
