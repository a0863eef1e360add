import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { FINAL_STATUSES, RunListQuerySchema, StartRunBodySchema } from '@drydock/core';
import { noteAudit } from '../audit.ts';
import type { ApiDeps, ApiEnv } from '../context.ts';
import { cancelRun, getRun, listRuns, logLinesAfter, startRun, toRunView } from '../run-service.ts';
import { logStreamFailure } from '../request-guards.ts';
import { validate } from '../validation.ts';

const PAGE = 1_000;
const KEEPALIVE_MS = 15_000;

function parseEventId(raw: string | undefined): { attempt: number; seq: number } {
  const match = /^(\d+):(\d+)$/.exec(raw ?? '');
  return match ? { attempt: Number(match[1]), seq: Number(match[2]) } : { attempt: 0, seq: -1 };
}

export function runRoutes(deps: ApiDeps) {
  return new Hono<ApiEnv>()
    .get('/', validate('query', RunListQuerySchema), async (c) => {
      const result = await listRuns(deps, c.get('user')!.team_id, c.req.valid('query'));
      return c.json({ runs: result.runs.map((r) => toRunView(r, deps)), nextCursor: result.nextCursor, total: result.total });
    })
    .post('/', validate('json', StartRunBodySchema), async (c) => {
      const body = c.req.valid('json');
      noteAudit(c, { action: 'run.start', resource: body.actionId ? `action:${body.actionId}` : `script:${body.scriptId}`, detail: { hostId: body.hostId } });
      const run = await startRun(deps, c.get('user')!, body);
      noteAudit(c, { action: 'run.start', resource: `run:${run.id}`, detail: { scriptId: run.script_id, hostId: run.host_id } });
      return c.json(toRunView(run, deps), 201);
    })
    .get('/:id', async (c) => c.json(toRunView(await getRun(deps, c.get('user')!.team_id, c.req.param('id')), deps)))
    .post('/:id/cancel', async (c) => {
      noteAudit(c, { action: 'run.cancel', resource: `run:${c.req.param('id')}` });
      const run = await cancelRun(deps, c.get('user')!, c.req.param('id'));
      return c.json(toRunView(run, deps), 202);
    })
    .get('/:id/lines', async (c) => {
      const run = await getRun(deps, c.get('user')!.team_id, c.req.param('id'));
      const lines = [];
      let after = { attempt: 0, seq: -1 };
      for (;;) {
        const page = await logLinesAfter(deps, run.id, after, PAGE * 10);
        lines.push(...page);
        const last = page.at(-1);
        if (!last || page.length < PAGE * 10) break;
        after = last;
      }
      return c.json({ lines });
    })
    .get('/:id/log', async (c) => {
      const teamId = c.get('user')!.team_id;
      const first = await getRun(deps, teamId, c.req.param('id'));
      let cursor = parseEventId(c.req.header('last-event-id'));
      return streamSSE(c, async (stream) => {
        const sub = deps.logBus.subscribe(first.id);
        stream.onAbort(() => sub.close());
        let lastStatus = '';
        try {
          while (!stream.aborted) {
            // Read the run before the lines: once it is final, the lines read after it are all there are.
            const run = await getRun(deps, teamId, first.id);
            for (;;) {
              const lines = await logLinesAfter(deps, first.id, cursor, PAGE);
              for (const line of lines) {
                await stream.writeSSE({ event: 'log', id: `${line.attempt}:${line.seq}`, data: JSON.stringify(line) });
              }
              const last = lines.at(-1);
              if (last) cursor = last;
              if (lines.length < PAGE) break;
            }
            const view = toRunView(run, deps);
            if (FINAL_STATUSES.includes(run.status)) {
              await stream.writeSSE({ event: 'end', data: JSON.stringify(view) });
              return;
            }
            if (run.status !== lastStatus) {
              lastStatus = run.status;
              await stream.writeSSE({ event: 'status', data: JSON.stringify(view) });
            }
            if (!(await sub.next(KEEPALIVE_MS))) await stream.write(': keepalive\n\n');
          }
        } catch (err) {
          logStreamFailure(c, err);
        } finally {
          sub.close();
        }
      });
    });
}
