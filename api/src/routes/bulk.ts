import { createRoute } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import {
  ApprovalBodySchema,
  BulkHostListSchema,
  type BulkHostView,
  BulkListQuerySchema,
  BulkListSchema,
  BulkPreviewBodySchema,
  BulkPreviewSchema,
  BulkViewSchema,
  FINAL_BULK_STATUSES,
  RerunFailedBodySchema,
  StartBulkBodySchema,
} from '@drydock/core';
import { noteAudit } from '../audit.ts';
import { bulkHosts, bulkView, cancelBulk, decideBulk, getBulk, listBulk, pauseBulk, previewBulk, rerunFailed, resumeBulk, startBulk } from '../bulk-service.ts';
import type { ApiDeps } from '../context.ts';
import { access, errors, json, jsonBody, resourceRouter } from '../contract.ts';
import { logStreamFailure } from '../request-guards.ts';

const KEEPALIVE_MS = 15_000;
/** Changes arriving within this window go out as one event: 500 hosts finishing together are one message, not 500. */
const COALESCE_MS = 100;

const BulkParams = z.object({ id: z.string().meta({ description: 'The bulk execution id' }) });
const ended = [409, 'The execution has already ended'] as const;

const list = createRoute({
  method: 'get',
  path: '/',
  tags: ['bulk'],
  ...access('viewer', 'read'),
  summary: 'Bulk executions, newest first, with counts per host state',
  request: { query: BulkListQuerySchema },
  responses: { 200: json(BulkListSchema, 'The executions'), ...errors(400) },
});

const preview = createRoute({
  method: 'post',
  path: '/preview',
  tags: ['bulk'],
  ...access('operator', 'run'),
  summary: 'The hosts an execution would run on, those left out and why, and its waves; nothing starts',
  request: { body: jsonBody(BulkPreviewBodySchema) },
  responses: { 200: json(BulkPreviewSchema, 'The preview'), ...errors(400, 404) },
});

const start = createRoute({
  method: 'post',
  path: '/',
  tags: ['bulk'],
  ...access('operator', 'run'),
  summary: 'Start a script or action on many hosts, named or selected by environment, group and tags',
  description: 'Each selected host is checked as a single run\'s host is; hosts that fail the checks are left out (see the preview). A start with no eligible host answers 400 `no selected host can run <entry>`.',
  request: { body: jsonBody(StartBulkBodySchema) },
  responses: { 201: json(BulkViewSchema, 'Started: the execution'), ...errors([400, 'The body, the parameters, or no eligible host'], 404) },
});

const read = createRoute({
  method: 'get',
  path: '/{id}',
  tags: ['bulk'],
  ...access('viewer', 'read'),
  summary: 'One execution: status, counts, elapsed, estimated time left',
  request: { params: BulkParams },
  responses: { 200: json(BulkViewSchema, 'The execution'), ...errors(404) },
});

const hosts = createRoute({
  method: 'get',
  path: '/{id}/hosts',
  tags: ['bulk'],
  ...access('viewer', 'read'),
  summary: "Every host's state, run and timing, in start order",
  request: { params: BulkParams },
  responses: { 200: json(BulkHostListSchema, 'The hosts'), ...errors(404) },
});

const events = createRoute({
  method: 'get',
  path: '/{id}/events',
  tags: ['bulk'],
  ...access('viewer', 'read'),
  summary: 'The live grid (server-sent events) until the execution ends',
  description:
    'Events: `snapshot` (`{ bulk, hosts }`, every host), then `hosts` with only the hosts that changed (changes within 100 ms travel together) or the execution itself changed, then `end` with the final `bulk`. A client that reconnects gets a new snapshot.',
  request: { params: BulkParams },
  responses: { 200: { description: 'An event stream', content: { 'text/event-stream': { schema: z.string() } } }, ...errors(404) },
});

const control = <Verb extends string>(verb: Verb, summary: string) =>
  createRoute({
    method: 'post',
    path: `/{id}/${verb}` as `/{id}/${Verb}`,
    tags: ['bulk'],
    ...access('operator', 'run'),
    summary,
    request: { params: BulkParams },
    responses: { 202: json(BulkViewSchema, 'Requested: the execution'), ...errors(404, ended) },
  });
const pause = control('pause', 'Start no more hosts until resumed; running hosts finish');
const resume = control('resume', 'Start hosts again');
const cancel = control('cancel', 'Cancel running hosts (their process trees are killed) and start no more');

const decide = <Verb extends 'approve' | 'reject'>(verb: Verb, summary: string) =>
  createRoute({
    method: 'post',
    path: `/{id}/${verb}` as `/{id}/${Verb}`,
    tags: ['bulk'],
    ...access('operator', 'run'),
    summary,
    description: 'One decision for the whole execution, taken by an operator of the team other than the requester; the optional `comment` goes on the execution and into the audit trail.',
    request: { params: BulkParams, body: { content: { 'application/json': { schema: ApprovalBodySchema } }, required: false } },
    responses: {
      200: json(BulkViewSchema, 'Decided: the execution, `approval` saying who, when and why'),
      ...errors(400, [403, 'The caller requested the execution, or is not an operator of the team'], 404, [409, 'The execution is not waiting for approval (decided already, expired, or never protected)']),
    },
  });
const approve = decide('approve', 'Approve an execution waiting for approval: its hosts start');
const reject = decide('reject', 'Reject an execution waiting for approval: no host starts, it ends `rejected`');

const rerun = createRoute({
  method: 'post',
  path: '/{id}/rerun-failed',
  tags: ['bulk'],
  ...access('operator', 'run'),
  summary: 'A new execution on the hosts that failed or timed out, with the same options and parameters (secrets given again)',
  request: { params: BulkParams, body: jsonBody(RerunFailedBodySchema) },
  responses: { 201: json(BulkViewSchema, 'The new execution; `rerunOf` names this one'), ...errors(400, 404, [409, 'No host failed']) },
});

const signature = (h: BulkHostView) => `${h.state}|${h.exitCode}|${h.startedAt}|${h.finishedAt}`;

export function bulkRoutes(deps: ApiDeps) {
  return resourceRouter()
    .openapi(list, async (c) => c.json({ executions: await listBulk(deps, c.get('user')!.team_id, c.req.valid('query').limit) }, 200))
    .openapi(preview, async (c) => c.json(await previewBulk(deps, c.get('user')!, c.req.valid('json')), 200))
    .openapi(start, async (c) => {
      const body = c.req.valid('json');
      noteAudit(c, { action: 'bulk.start', resource: body.actionId ? `action:${body.actionId}` : `script:${body.scriptId}`, detail: { selector: body.selector, options: body.options } });
      const row = await startBulk(deps, c.get('user')!, body);
      noteAudit(c, { action: 'bulk.start', resource: `bulk:${row.id}`, detail: { scriptId: row.script_id, total: row.total } });
      return c.json(await bulkView(deps, row), 201);
    })
    .openapi(read, async (c) => c.json(await bulkView(deps, await getBulk(deps, c.get('user')!.team_id, c.req.valid('param').id)), 200))
    .openapi(hosts, async (c) => {
      const row = await getBulk(deps, c.get('user')!.team_id, c.req.valid('param').id);
      return c.json({ hosts: await bulkHosts(deps, row.id) }, 200);
    })
    .openapi(pause, async (c) => {
      const { id } = c.req.valid('param');
      noteAudit(c, { action: 'bulk.pause', resource: `bulk:${id}` });
      return c.json(await bulkView(deps, await pauseBulk(deps, c.get('user')!.team_id, id)), 202);
    })
    .openapi(resume, async (c) => {
      const { id } = c.req.valid('param');
      noteAudit(c, { action: 'bulk.resume', resource: `bulk:${id}` });
      return c.json(await bulkView(deps, await resumeBulk(deps, c.get('user')!.team_id, id)), 202);
    })
    .openapi(cancel, async (c) => {
      const { id } = c.req.valid('param');
      noteAudit(c, { action: 'bulk.cancel', resource: `bulk:${id}` });
      return c.json(await bulkView(deps, await cancelBulk(deps, c.get('user')!.team_id, id)), 202);
    })
    .openapi(approve, async (c) => {
      const { id } = c.req.valid('param');
      const comment = c.req.valid('json')?.comment ?? null;
      noteAudit(c, { action: 'bulk.approve', resource: `bulk:${id}`, detail: { comment } });
      return c.json(await bulkView(deps, await decideBulk(deps, c.get('user'), id, 'approved', comment)), 200);
    })
    .openapi(reject, async (c) => {
      const { id } = c.req.valid('param');
      const comment = c.req.valid('json')?.comment ?? null;
      noteAudit(c, { action: 'bulk.reject', resource: `bulk:${id}`, detail: { comment } });
      return c.json(await bulkView(deps, await decideBulk(deps, c.get('user'), id, 'rejected', comment)), 200);
    })
    .openapi(rerun, async (c) => {
      const { id } = c.req.valid('param');
      noteAudit(c, { action: 'bulk.rerun-failed', resource: `bulk:${id}` });
      const row = await rerunFailed(deps, c.get('user')!, id, c.req.valid('json').params);
      return c.json(await bulkView(deps, row), 201);
    })
    .openapi(events, async (c) => {
      const teamId = c.get('user')!.team_id;
      const first = await getBulk(deps, teamId, c.req.valid('param').id);
      return streamSSE(c, async (stream) => {
        const sub = deps.logBus.subscribe(first.id);
        stream.onAbort(() => sub.close());
        const sent = new Map<string, string>();
        let lastBulk = '';
        try {
          let event: 'snapshot' | 'hosts' = 'snapshot';
          while (!stream.aborted) {
            const row = await getBulk(deps, teamId, first.id);
            const all = await bulkHosts(deps, first.id);
            const changed = all.filter((h) => sent.get(h.hostId) !== signature(h));
            for (const h of changed) sent.set(h.hostId, signature(h));
            const bulk = await bulkView(deps, row);
            // A pause, a resume or a new wave changes the execution without any host changing: it is news too.
            const bulkNow = `${row.status}|${row.current_wave}|${row.stop_reason}`;
            if (event === 'snapshot' || changed.length > 0 || bulkNow !== lastBulk) await stream.writeSSE({ event, data: JSON.stringify({ bulk, hosts: changed }) });
            lastBulk = bulkNow;
            event = 'hosts';
            if (FINAL_BULK_STATUSES.includes(row.status)) {
              await stream.writeSSE({ event: 'end', data: JSON.stringify({ bulk }) });
              return;
            }
            if (!(await sub.next(KEEPALIVE_MS))) {
              await stream.write(': keepalive\n\n');
              continue;
            }
            await stream.sleep(COALESCE_MS);
          }
        } catch (err) {
          logStreamFailure(c, err);
        } finally {
          sub.close();
        }
      });
    });
}
