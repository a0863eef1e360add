import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import {
  CreateScheduleBodySchema,
  ScheduleActionDoneSchema,
  ScheduleBackfillBodySchema,
  ScheduleFiringListSchema,
  ScheduleListSchema,
  SchedulePauseBodySchema,
  ScheduleUnpauseBodySchema,
  ScheduleViewSchema,
} from '@drydock/core';
import { noteAudit } from '../audit.ts';
import type { ApiDeps } from '../context.ts';
import { access, errors, json, jsonBody, resourceRouter } from '../contract.ts';
import {
  backfillSchedule,
  createSchedule,
  deleteSchedule,
  getSchedule,
  listFirings,
  listSchedules,
  pauseSchedule,
  triggerSchedule,
  unpauseSchedule,
} from '../schedule-service.ts';

const ScheduleParams = z.object({ id: z.string().meta({ description: 'The schedule id (UUIDv7)' }) });

const list = createRoute({
  method: 'get',
  path: '/',
  tags: ['schedules'],
  ...access('viewer', 'read'),
  summary: "The team's schedules by name, each with its last firing",
  responses: { 200: json(ScheduleListSchema, 'The schedules') },
});

const create = createRoute({
  method: 'post',
  path: '/',
  tags: ['schedules'],
  ...access('maintainer', 'manage'),
  summary: 'Schedule a script or an action template on a host (`hostId`), or as a bulk execution over a host selector (`selector`, `options`): a Temporal Schedule with the spec, its parameters checked as a manual run\'s are',
  request: { body: jsonBody(CreateScheduleBodySchema) },
  responses: {
    201: json(ScheduleViewSchema, 'The schedule with its next fire times'),
    ...errors([400, 'Invalid spec (cron, zone, dates, durations), parameters, a secret parameter given a value rather than a Vault reference, or a selector no host of which can run the entry'], [404, 'No such script, action or host'], [409, 'The name is taken']),
  },
});

const read = createRoute({
  method: 'get',
  path: '/{id}',
  tags: ['schedules'],
  ...access('viewer', 'read'),
  summary: 'One schedule with its state (paused, note) and next ten fire times, as Temporal has them now',
  request: { params: ScheduleParams },
  responses: { 200: json(ScheduleViewSchema, 'The schedule'), ...errors(404) },
});

const firings = createRoute({
  method: 'get',
  path: '/{id}/firings',
  tags: ['schedules'],
  ...access('viewer', 'read'),
  summary: "The schedule's past firings, newest first: the runs they started, and those skipped or failed with the reason",
  request: { params: ScheduleParams },
  responses: { 200: json(ScheduleFiringListSchema, 'The firings'), ...errors(404) },
});

const pause = createRoute({
  method: 'post',
  path: '/{id}/pause',
  tags: ['schedules'],
  ...access('maintainer', 'manage'),
  summary: 'Pause the schedule with a note saying why; nothing fires until it is unpaused',
  request: { params: ScheduleParams, body: jsonBody(SchedulePauseBodySchema) },
  responses: { 200: json(ScheduleViewSchema, 'The paused schedule'), ...errors([400, 'No note'], 404) },
});

const unpause = createRoute({
  method: 'post',
  path: '/{id}/unpause',
  tags: ['schedules'],
  ...access('maintainer', 'manage'),
  summary: 'Unpause the schedule, optionally with a note',
  request: { params: ScheduleParams, body: jsonBody(ScheduleUnpauseBodySchema) },
  responses: { 200: json(ScheduleViewSchema, 'The schedule'), ...errors(400, 404) },
});

const trigger = createRoute({
  method: 'post',
  path: '/{id}/trigger',
  tags: ['schedules'],
  ...access('operator', 'run'),
  summary: 'Fire once now, paused or not; the overlap policy still applies',
  request: { params: ScheduleParams },
  responses: { 202: json(ScheduleActionDoneSchema, 'Asked of Temporal: the firing shows in the firings list'), ...errors(404) },
});

const backfill = createRoute({
  method: 'post',
  path: '/{id}/backfill',
  tags: ['schedules'],
  ...access('maintainer', 'manage'),
  summary: 'Fire every time the spec names in a past range, now, under the schedule\'s overlap policy',
  request: { params: ScheduleParams, body: jsonBody(ScheduleBackfillBodySchema) },
  responses: { 202: json(ScheduleActionDoneSchema, 'Asked of Temporal: the firings show in the firings list'), ...errors([400, 'A range that ends before it starts'], 404) },
});

const remove = createRoute({
  method: 'delete',
  path: '/{id}',
  tags: ['schedules'],
  ...access('maintainer', 'manage'),
  summary: 'Delete the schedule and its Temporal Schedule; its runs stay',
  request: { params: ScheduleParams },
  responses: { 204: { description: 'Deleted' }, ...errors(404) },
});

/** `/api/v1/schedules`: recurring runs and bulk executions of scripts and action templates, each a Temporal Schedule `schedule/<id>`. */
export function scheduleRoutes(deps: ApiDeps) {
  return resourceRouter()
    .openapi(list, async (c) => c.json({ schedules: await listSchedules(deps, c.get('user')!.team_id) }, 200))
    .openapi(create, async (c) => {
      const body = c.req.valid('json');
      noteAudit(c, { action: 'schedule.create', detail: { name: body.name, scriptId: body.scriptId ?? body.actionId, hostId: body.hostId, selector: body.selector } });
      const view = await createSchedule(deps, c.get('user')!, body);
      noteAudit(c, { action: 'schedule.create', resource: `schedule:${view.id}`, detail: { name: body.name, scriptId: view.scriptId, target: view.target, hostId: view.hostId, selector: view.selector, timeZone: view.timeZone } });
      return c.json(view, 201);
    })
    .openapi(read, async (c) => c.json(await getSchedule(deps, c.get('user')!.team_id, c.req.valid('param').id), 200))
    .openapi(firings, async (c) => c.json({ firings: await listFirings(deps, c.get('user')!.team_id, c.req.valid('param').id) }, 200))
    .openapi(pause, async (c) => {
      const { id } = c.req.valid('param');
      const { note } = c.req.valid('json');
      noteAudit(c, { action: 'schedule.pause', resource: `schedule:${id}`, detail: { note } });
      return c.json(await pauseSchedule(deps, c.get('user')!.team_id, id, note), 200);
    })
    .openapi(unpause, async (c) => {
      const { id } = c.req.valid('param');
      const { note } = c.req.valid('json');
      noteAudit(c, { action: 'schedule.unpause', resource: `schedule:${id}`, detail: { note } });
      return c.json(await unpauseSchedule(deps, c.get('user')!.team_id, id, note), 200);
    })
    .openapi(trigger, async (c) => {
      const { id } = c.req.valid('param');
      noteAudit(c, { action: 'schedule.trigger', resource: `schedule:${id}` });
      await triggerSchedule(deps, c.get('user')!.team_id, id);
      return c.json({ scheduleId: id, done: 'triggered' }, 202);
    })
    .openapi(backfill, async (c) => {
      const { id } = c.req.valid('param');
      const range = c.req.valid('json');
      noteAudit(c, { action: 'schedule.backfill', resource: `schedule:${id}`, detail: range });
      await backfillSchedule(deps, c.get('user')!.team_id, id, range);
      return c.json({ scheduleId: id, done: 'backfill requested' }, 202);
    })
    .openapi(remove, async (c) => {
      const { id } = c.req.valid('param');
      noteAudit(c, { action: 'schedule.delete', resource: `schedule:${id}` });
      await deleteSchedule(deps, c.get('user')!.team_id, id);
      return c.body(null, 204);
    });
}
