import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { BulkViewSchema, RunViewSchema } from '@drydock/core';
import { bulkWaitingForApproval } from '../bulk-service.ts';
import type { ApiDeps } from '../context.ts';
import { access, json, resourceRouter } from '../contract.ts';
import { runsWaitingForApproval, toRunView } from '../run-service.ts';

const ApprovalQueueSchema = z
  .object({
    runs: z.array(RunViewSchema).meta({ description: 'Single runs waiting for approval, oldest first' }),
    bulk: z.array(BulkViewSchema).meta({ description: 'Bulk executions waiting for approval, oldest first' }),
  })
  .meta({ id: 'ApprovalQueue' });

const list = createRoute({
  method: 'get',
  path: '/',
  tags: ['environments'],
  ...access('viewer', 'read'),
  summary: "What waits for approval in the caller's team: runs and bulk executions on hosts of protected environments",
  responses: { 200: json(ApprovalQueueSchema, 'Oldest first; at most 500 of each') },
});

export function approvalRoutes(deps: ApiDeps) {
  return resourceRouter().openapi(list, async (c) => {
    const teamId = c.get('user')!.team_id;
    const [runs, bulk] = await Promise.all([runsWaitingForApproval(deps, teamId), bulkWaitingForApproval(deps, teamId)]);
    return c.json({ runs: runs.map((r) => toRunView(r, deps)), bulk }, 200);
  });
}
