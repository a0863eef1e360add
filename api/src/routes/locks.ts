import { Hono } from 'hono';
import { LockAcquireBodySchema, LockForceReleaseBodySchema, LockLeaseBodySchema, LockListQuerySchema } from '@drydock/core';
import { noteAudit } from '../audit.ts';
import type { ApiDeps, ApiEnv } from '../context.ts';
import { acquireLock, extendLock, forceReleaseLock, getLock, listLocks, releaseLock } from '../lock-service.ts';
import { validate } from '../validation.ts';

/** `/api/v1/locks`: hosts' locks, their holders and queues; taking, extending, releasing and force-releasing them. */
export function lockRoutes(deps: ApiDeps) {
  return new Hono<ApiEnv>()
    .get('/', validate('query', LockListQuerySchema), async (c) => c.json({ locks: await listLocks(deps, c.get('user')!.team_id, c.req.valid('query')) }))
    .get('/:hostId', async (c) => c.json(await getLock(deps, c.get('user')!.team_id, c.req.param('hostId'))))
    .post('/:hostId', validate('json', LockAcquireBodySchema), async (c) => {
      const hostId = c.req.param('hostId');
      const body = c.req.valid('json');
      noteAudit(c, { action: 'lock.acquire', resource: `host:${hostId}`, detail: { type: body.type, reason: body.reason, ttlSeconds: body.ttlSeconds, priority: body.priority } });
      const outcome = await acquireLock(deps, c.get('user')!, hostId, body);
      noteAudit(c, { action: 'lock.acquire', resource: `host:${hostId}`, detail: { type: body.type, reason: body.reason, ttlSeconds: body.ttlSeconds, priority: body.priority, leaseId: outcome.lease.leaseId, status: outcome.status } });
      return c.json(outcome, outcome.status === 'granted' ? 201 : 202);
    })
    .post('/:hostId/extend', validate('json', LockLeaseBodySchema), async (c) => {
      const hostId = c.req.param('hostId');
      const { leaseId } = c.req.valid('json');
      noteAudit(c, { action: 'lock.extend', resource: `host:${hostId}`, detail: { leaseId } });
      return c.json({ lease: await extendLock(deps, c.get('user')!, hostId, leaseId) });
    })
    .post('/:hostId/release', validate('json', LockLeaseBodySchema), async (c) => {
      const hostId = c.req.param('hostId');
      const { leaseId } = c.req.valid('json');
      noteAudit(c, { action: 'lock.release', resource: `host:${hostId}`, detail: { leaseId } });
      return c.json(await releaseLock(deps, c.get('user')!, hostId, leaseId));
    })
    .post('/:hostId/force-release', validate('json', LockForceReleaseBodySchema), async (c) => {
      const hostId = c.req.param('hostId');
      const { reason } = c.req.valid('json');
      noteAudit(c, { action: 'lock.force-release', resource: `host:${hostId}`, detail: { reason } });
      const released = await forceReleaseLock(deps, c.get('user')!, hostId, reason);
      noteAudit(c, { action: 'lock.force-release', resource: `host:${hostId}`, detail: { reason, leaseId: released.leaseId, type: released.type, holder: released.holder.name } });
      return c.json({ released });
    });
}
