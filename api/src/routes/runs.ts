import { createRoute } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import { ApprovalBodySchema, FINAL_STATUSES, RunLinesSchema, RunListQuerySchema, RunPageSchema, RunViewSchema, StartRunBodySchema } from '@drydock/core';
import { noteAudit } from '../audit.ts';
import type { ApiDeps } from '../context.ts';
import { access, errors, json, jsonBody, resourceRouter } from '../contract.ts';
import { cancelRun, decideRun, getRun, listRuns, logLinesAfter, startRun, toRunView } from '../run-service.ts';
import { logStreamFailure } from '../request-guards.ts';

const PAGE = 1_000;
const KEEPALIVE_MS = 15_000;

const RunParams = z.object({ id: z.string().meta({ description: 'The run id (a UUID; anything else is not found)' }) });

const list = createRoute({
  method: 'get',
  path: '/',
  tags: ['runs'],
  ...access('viewer', 'read'),
  summary: 'Run history: filters, sort, cursor pages',
  description: 'Keyset pages over `(sort column, id)`: a deep page costs as much as the first. The cursor is opaque; a cursor the API cannot read answers 400 `cursor is not one this API handed out`.',
  request: { query: RunListQuerySchema },
  responses: { 200: json(RunPageSchema, 'A page of runs'), ...errors(400) },
});

const start = createRoute({
  method: 'post',
  path: '/',
  tags: ['runs'],
  ...access('operator', 'run'),
  summary: 'Start a run of a script or an action on a host',
  description: 'Nothing is written until the request passes every check. The run records the exact version it was validated against, and the worker runs that version even if the catalog moves on.',
  request: { body: jsonBody(StartRunBodySchema) },
  responses: {
    201: json(RunViewSchema, 'Started: the run, `queued`, secrets masked in `params`'),
    ...errors(
      [400, 'The body, the parameters, or a host that cannot run the entry (`fields.hostId` says why)'],
      [404, 'No such script, version, action or host'],
    ),
  },
});

const read = createRoute({
  method: 'get',
  path: '/{id}',
  tags: ['runs'],
  ...access('viewer', 'read'),
  summary: 'One run',
  request: { params: RunParams },
  responses: { 200: json(RunViewSchema, 'The run'), ...errors(404) },
});

const cancel = createRoute({
  method: 'post',
  path: '/{id}/cancel',
  tags: ['runs'],
  ...access('operator', 'run'),
  summary: 'Cancel a run; its process tree is killed',
  description: 'Only requests the cancel: poll the run, or follow its log, until it says `cancelled`.',
  request: { params: RunParams },
  responses: {
    202: json(RunViewSchema, 'Cancellation requested: the run as it was before'),
    ...errors(404, [409, 'The run has already ended, or has no live workflow']),
  },
});

const decide = <Verb extends 'approve' | 'reject'>(verb: Verb, summary: string) =>
  createRoute({
    method: 'post',
    path: `/{id}/${verb}` as `/{id}/${Verb}`,
    tags: ['runs'],
    ...access('operator', 'run'),
    summary,
    description: 'Taken by an operator of the team other than the requester; the optional `comment` goes on the run and into the audit trail.',
    request: { params: RunParams, body: { content: { 'application/json': { schema: ApprovalBodySchema } }, required: false } },
    responses: {
      200: json(RunViewSchema, 'Decided: the run, `approval` saying who, when and why'),
      ...errors(
        400,
        [403, 'The caller requested the run, or is not an operator of the team'],
        404,
        [409, 'The run is not waiting for approval (decided already, expired, never protected), or belongs to a bulk execution'],
      ),
    },
  });
const approve = decide('approve', 'Approve a run waiting for approval: it goes on to its lock and its host');
const reject = decide('reject', 'Reject a run waiting for approval: it ends `rejected` without touching its host');

const lines = createRoute({
  method: 'get',
  path: '/{id}/lines',
  tags: ['runs'],
  ...access('viewer', 'read'),
  summary: 'Every log line so far',
  request: { params: RunParams },
  responses: { 200: json(RunLinesSchema, 'The lines, by `(attempt, seq)`'), ...errors(404) },
});

const log = createRoute({
  method: 'get',
  path: '/{id}/log',
  tags: ['runs'],
  ...access('viewer', 'read'),
  summary: 'The live log (server-sent events) until the run ends',
  description: [
    'Events: `log` (id `<attempt>:<seq>`, data a `LogLineView`) for each line after the cursor; `status` (data a `RunView`) when the stream opens on a run that has not ended and at each change of status; `end` (data the final `RunView`), after which the server closes the stream.',
    'Without a change for 15 s the server sends the comment `: keepalive`. A run that has ended gets its lines and `end` at once.',
  ].join('\n\n'),
  request: {
    params: RunParams,
    headers: z.object({
      'last-event-id': z
        .string()
        .optional()
        .meta({ description: 'Resume after this line, `<attempt>:<seq>`; a browser\'s EventSource sends it when it reconnects. Any other form starts from the first line' }),
    }),
  },
  responses: { 200: { description: 'An event stream', content: { 'text/event-stream': { schema: z.string() } } }, ...errors(404) },
});

function parseEventId(raw: string | undefined): { attempt: number; seq: number } {
  const match = /^(\d+):(\d+)$/.exec(raw ?? '');
  return match ? { attempt: Number(match[1]), seq: Number(match[2]) } : { attempt: 0, seq: -1 };
}

export function runRoutes(deps: ApiDeps) {
  return resourceRouter()
    .openapi(list, async (c) => {
      const result = await listRuns(deps, c.get('user')!.team_id, c.req.valid('query'));
      return c.json({ runs: result.runs.map((r) => toRunView(r, deps)), nextCursor: result.nextCursor, total: result.total }, 200);
    })
    .openapi(start, async (c) => {
      const body = c.req.valid('json');
      noteAudit(c, { action: 'run.start', resource: body.actionId ? `action:${body.actionId}` : `script:${body.scriptId}`, detail: { hostId: body.hostId } });
      let overridden: string | undefined;
      const run = await startRun(deps, c.get('user')!, body, (name) => (overridden = name));
      noteAudit(c, { action: 'run.start', resource: `run:${run.id}`, detail: { scriptId: run.script_id, hostId: run.host_id, ...(overridden ? { blackoutOverridden: overridden } : {}) } });
      return c.json(toRunView(run, deps), 201);
    })
    .openapi(read, async (c) => c.json(toRunView(await getRun(deps, c.get('user')!.team_id, c.req.valid('param').id), deps), 200))
    .openapi(cancel, async (c) => {
      const { id } = c.req.valid('param');
      noteAudit(c, { action: 'run.cancel', resource: `run:${id}` });
      const run = await cancelRun(deps, c.get('user')!, id);
      return c.json(toRunView(run, deps), 202);
    })
    .openapi(approve, async (c) => {
      const { id } = c.req.valid('param');
      const comment = c.req.valid('json')?.comment ?? null;
      noteAudit(c, { action: 'run.approve', resource: `run:${id}`, detail: { comment } });
      return c.json(toRunView(await decideRun(deps, c.get('user'), id, 'approved', comment), deps), 200);
    })
    .openapi(reject, async (c) => {
      const { id } = c.req.valid('param');
      const comment = c.req.valid('json')?.comment ?? null;
      noteAudit(c, { action: 'run.reject', resource: `run:${id}`, detail: { comment } });
      return c.json(toRunView(await decideRun(deps, c.get('user'), id, 'rejected', comment), deps), 200);
    })
    .openapi(lines, async (c) => {
      const run = await getRun(deps, c.get('user')!.team_id, c.req.valid('param').id);
      const all = [];
      let after = { attempt: 0, seq: -1 };
      for (;;) {
        const page = await logLinesAfter(deps, run.id, after, PAGE * 10);
        all.push(...page);
        const last = page.at(-1);
        if (!last || page.length < PAGE * 10) break;
        after = last;
      }
      return c.json({ lines: all }, 200);
    })
    .openapi(log, async (c) => {
      const teamId = c.get('user')!.team_id;
      const first = await getRun(deps, teamId, c.req.valid('param').id);
      let cursor = parseEventId(c.req.valid('header')['last-event-id']);
      return streamSSE(c, async (stream) => {
        const sub = deps.logBus.subscribe(first.id);
        stream.onAbort(() => sub.close());
        let lastStatus = '';
        try {
          while (!stream.aborted) {
            // Read the run before the lines: once it is final, the lines read after it are all there are.
            const run = await getRun(deps, teamId, first.id);
            for (;;) {
              const page = await logLinesAfter(deps, first.id, cursor, PAGE);
              for (const line of page) {
                await stream.writeSSE({ event: 'log', id: `${line.attempt}:${line.seq}`, data: JSON.stringify(line) });
              }
              const last = page.at(-1);
              if (last) cursor = last;
              if (page.length < PAGE) break;
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
