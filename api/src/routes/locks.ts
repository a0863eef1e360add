import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import {
  HostLockListSchema,
  HostLockViewSchema,
  LockAcquireBodySchema,
  LockAcquiredSchema,
  LockExtendedSchema,
  LockForceReleaseBodySchema,
  LockForceReleasedSchema,
  LockLeaseBodySchema,
  LockListQuerySchema,
  LockReleasedSchema,
} from '@drydock/core';
import { noteAudit } from '../audit.ts';
import type { ApiDeps } from '../context.ts';
import { access, errors, json, jsonBody, resourceRouter } from '../contract.ts';
import { acquireLock, extendLock, forceReleaseLock, getLock, listLocks, releaseLock } from '../lock-service.ts';

const LockParams = z.object({ hostId: z.string().meta({ description: 'The host whose lock it is' }) });
const notYours = [403, 'Not your lease: its holder is named, and an admin can force-release the lock'] as const;

const list = createRoute({
  method: 'get',
  path: '/',
  tags: ['locks'],
  ...access('viewer', 'read'),
  summary: "Hosts whose lock is held or waited for, with holder, expiry and queue (from the locks' mirror), filtered by host and type",
  request: { query: LockListQuerySchema },
  responses: { 200: json(HostLockListSchema, 'The locks, by host name'), ...errors(400) },
});

const read = createRoute({
  method: 'get',
  path: '/{hostId}',
  tags: ['locks'],
  ...access('viewer', 'read'),
  summary: "One host's lock as Temporal has it now: holder and queue in grant order",
  request: { params: LockParams },
  responses: { 200: json(HostLockViewSchema, 'The lock; `updatedAt` is `null`'), ...errors(404) },
});

const acquire = createRoute({
  method: 'post',
  path: '/{hostId}',
  tags: ['locks'],
  ...access('operator', 'run'),
  summary: "Take a host's lock, or queue for it; maintenance and emergency locks are for admins",
  description: 'A queued lease shows in the queue until it is granted; read the lock to see when `holder` becomes it.',
  request: { params: LockParams, body: jsonBody(LockAcquireBodySchema) },
  responses: {
    201: json(LockAcquiredSchema, 'Granted: the lease'),
    202: json(LockAcquiredSchema, 'Queued: the lease, its position and the holder'),
    ...errors(400, [403, 'A maintenance or emergency lock asked by someone who is not an admin'], 404, [409, 'Held by another and `wait` is false: the holder is named']),
  },
});

const extend = createRoute({
  method: 'post',
  path: '/{hostId}/extend',
  tags: ['locks'],
  ...access('operator', 'run'),
  summary: 'Extend your held lease by its TTL, up to its maximum number of extensions',
  request: { params: LockParams, body: jsonBody(LockLeaseBodySchema) },
  responses: {
    200: json(LockExtendedSchema, 'The lease with its new expiry'),
    ...errors(400, notYours, [404, 'No such lease (it may have expired or been released)'], [409, 'The lease is still waiting, or has no extension left']),
  },
});

const release = createRoute({
  method: 'post',
  path: '/{hostId}/release',
  tags: ['locks'],
  ...access('operator', 'run'),
  summary: 'Release your held lease, or withdraw your waiting one',
  request: { params: LockParams, body: jsonBody(LockLeaseBodySchema) },
  responses: { 200: json(LockReleasedSchema, 'Released'), ...errors(400, notYours, [404, 'No such lease (it may have expired or been released)']) },
});

const forceRelease = createRoute({
  method: 'post',
  path: '/{hostId}/force-release',
  tags: ['locks'],
  ...access('admin', 'manage'),
  summary: 'Take the lock away from its holder (admins only; audited with the reason); a holding run is stopped',
  request: { params: LockParams, body: jsonBody(LockForceReleaseBodySchema) },
  responses: {
    200: json(LockForceReleasedSchema, 'The lease taken away'),
    ...errors([400, 'No reason given'], [403, 'Not an admin'], 404, [409, 'Nobody holds the lock']),
  },
});

/** `/api/v1/locks`: hosts' locks, their holders and queues; taking, extending, releasing and force-releasing them. */
export function lockRoutes(deps: ApiDeps) {
  return resourceRouter()
    .openapi(list, async (c) => c.json({ locks: await listLocks(deps, c.get('user')!.team_id, c.req.valid('query')) }, 200))
    .openapi(read, async (c) => c.json(await getLock(deps, c.get('user')!.team_id, c.req.valid('param').hostId), 200))
    .openapi(acquire, async (c) => {
      const { hostId } = c.req.valid('param');
      const body = c.req.valid('json');
      noteAudit(c, { action: 'lock.acquire', resource: `host:${hostId}`, detail: { type: body.type, reason: body.reason, ttlSeconds: body.ttlSeconds, priority: body.priority } });
      const outcome = await acquireLock(deps, c.get('user')!, hostId, body);
      noteAudit(c, {
        action: 'lock.acquire',
        resource: `host:${hostId}`,
        detail: { type: body.type, reason: body.reason, ttlSeconds: body.ttlSeconds, priority: body.priority, leaseId: outcome.lease.leaseId, status: outcome.status },
      });
      return outcome.status === 'granted' ? c.json(outcome, 201) : c.json(outcome, 202);
    })
    .openapi(extend, async (c) => {
      const { hostId } = c.req.valid('param');
      const { leaseId } = c.req.valid('json');
      noteAudit(c, { action: 'lock.extend', resource: `host:${hostId}`, detail: { leaseId } });
      return c.json({ lease: await extendLock(deps, c.get('user')!, hostId, leaseId) }, 200);
    })
    .openapi(release, async (c) => {
      const { hostId } = c.req.valid('param');
      const { leaseId } = c.req.valid('json');
      noteAudit(c, { action: 'lock.release', resource: `host:${hostId}`, detail: { leaseId } });
      return c.json(await releaseLock(deps, c.get('user')!, hostId, leaseId), 200);
    })
    .openapi(forceRelease, async (c) => {
      const { hostId } = c.req.valid('param');
      const { reason } = c.req.valid('json');
      noteAudit(c, { action: 'lock.force-release', resource: `host:${hostId}`, detail: { reason } });
      const released = await forceReleaseLock(deps, c.get('user')!, hostId, reason);
      noteAudit(c, { action: 'lock.force-release', resource: `host:${hostId}`, detail: { reason, leaseId: released.leaseId, type: released.type, holder: released.holder.name } });
      return c.json({ released }, 200);
    });
}
