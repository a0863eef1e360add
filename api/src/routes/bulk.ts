import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import { BulkOptionsSchema, BulkSelectorSchema, FINAL_BULK_STATUSES, type BulkHostView, StartBulkBodySchema } from '@drydock/core';
import { noteAudit } from '../audit.ts';
import { bulkHosts, bulkView, cancelBulk, getBulk, listBulk, pauseBulk, previewBulk, rerunFailed, resumeBulk, startBulk } from '../bulk-service.ts';
import type { ApiDeps, ApiEnv } from '../context.ts';
import { logStreamFailure } from '../request-guards.ts';
import { validate } from '../validation.ts';

const KEEPALIVE_MS = 15_000;
/** Changes arriving within this window go out as one event: 500 hosts finishing together are one message, not 500. */
const COALESCE_MS = 100;

export const BulkPreviewBodySchema = z
  .strictObject({
    scriptId: z.string().min(1).optional(),
    actionId: z.string().min(1).optional(),
    version: z.string().regex(/^[0-9a-f]{4,64}$/, { error: 'version is a commit SHA or a prefix of one' }).optional(),
    selector: BulkSelectorSchema,
    options: BulkOptionsSchema.prefault({}),
  })
  .refine((b) => (b.scriptId === undefined) !== (b.actionId === undefined), { error: 'give scriptId or actionId, not both', path: ['scriptId'] });

export const BulkListQuerySchema = z.strictObject({ limit: z.coerce.number().int().min(1).max(200).default(50) });
export const RerunFailedBodySchema = z.strictObject({ params: z.record(z.string(), z.unknown()).default({}) });

const signature = (h: BulkHostView) => `${h.state}|${h.exitCode}|${h.startedAt}|${h.finishedAt}`;

export function bulkRoutes(deps: ApiDeps) {
  return new Hono<ApiEnv>()
    .get('/', validate('query', BulkListQuerySchema), async (c) => c.json({ executions: await listBulk(deps, c.get('user')!.team_id, c.req.valid('query').limit) }))
    .post('/preview', validate('json', BulkPreviewBodySchema), async (c) => c.json(await previewBulk(deps, c.get('user')!, c.req.valid('json'))))
    .post('/', validate('json', StartBulkBodySchema), async (c) => {
      const body = c.req.valid('json');
      noteAudit(c, { action: 'bulk.start', resource: body.actionId ? `action:${body.actionId}` : `script:${body.scriptId}`, detail: { selector: body.selector, options: body.options } });
      const row = await startBulk(deps, c.get('user')!, body);
      noteAudit(c, { action: 'bulk.start', resource: `bulk:${row.id}`, detail: { scriptId: row.script_id, total: row.total } });
      return c.json(await bulkView(deps, row), 201);
    })
    .get('/:id', async (c) => c.json(await bulkView(deps, await getBulk(deps, c.get('user')!.team_id, c.req.param('id')))))
    .get('/:id/hosts', async (c) => {
      const row = await getBulk(deps, c.get('user')!.team_id, c.req.param('id'));
      return c.json({ hosts: await bulkHosts(deps, row.id) });
    })
    .post('/:id/pause', async (c) => {
      noteAudit(c, { action: 'bulk.pause', resource: `bulk:${c.req.param('id')}` });
      return c.json(await bulkView(deps, await pauseBulk(deps, c.get('user')!.team_id, c.req.param('id'))), 202);
    })
    .post('/:id/resume', async (c) => {
      noteAudit(c, { action: 'bulk.resume', resource: `bulk:${c.req.param('id')}` });
      return c.json(await bulkView(deps, await resumeBulk(deps, c.get('user')!.team_id, c.req.param('id'))), 202);
    })
    .post('/:id/cancel', async (c) => {
      noteAudit(c, { action: 'bulk.cancel', resource: `bulk:${c.req.param('id')}` });
      return c.json(await bulkView(deps, await cancelBulk(deps, c.get('user')!.team_id, c.req.param('id'))), 202);
    })
    .post('/:id/rerun-failed', validate('json', RerunFailedBodySchema), async (c) => {
      noteAudit(c, { action: 'bulk.rerun-failed', resource: `bulk:${c.req.param('id')}` });
      const row = await rerunFailed(deps, c.get('user')!, c.req.param('id'), c.req.valid('json').params);
      return c.json(await bulkView(deps, row), 201);
    })
    .get('/:id/events', async (c) => {
      const teamId = c.get('user')!.team_id;
      const first = await getBulk(deps, teamId, c.req.param('id'));
      return streamSSE(c, async (stream) => {
        const sub = deps.logBus.subscribe(first.id);
        stream.onAbort(() => sub.close());
        const sent = new Map<string, string>();
        let lastBulk = '';
        try {
          let event: 'snapshot' | 'hosts' = 'snapshot';
          while (!stream.aborted) {
            const row = await getBulk(deps, teamId, first.id);
            const hosts = await bulkHosts(deps, first.id);
            const changed = hosts.filter((h) => sent.get(h.hostId) !== signature(h));
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
