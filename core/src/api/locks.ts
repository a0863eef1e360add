import { z } from 'zod';
import { orNull } from './nullable.ts';
import { LOCK_TYPES } from '../host-lock.ts';

// The locks resource: /api/v1/locks. Its request bodies are in host-lock-schemas.ts, beside the lock's rules.

const IsoTime = z.iso.datetime({ offset: true });

export const LockHolderSchema = z.object({
  kind: z.enum(['run', 'bulk', 'user']).meta({ description: '`run` (`id` is the run), `bulk` (a bulk execution) or `user` (taken through this API)' }),
  id: z.string(),
  name: z.string().meta({ description: 'What the locks page shows: a script and its initiator, or a person\'s email' }),
});

export const LockLeaseViewSchema = z
  .object({
    leaseId: z.string(),
    type: z.enum(LOCK_TYPES),
    priority: z.number().int(),
    reason: z.string(),
    holder: LockHolderSchema,
    ttlSeconds: z.number().int().meta({ description: 'Each extension adds this much' }),
    requestedAt: IsoTime,
    acquiredAt: IsoTime.nullable(),
    expiresAt: IsoTime.nullable().meta({ description: 'When the lease ends if nobody releases it: the lock frees itself then, even with the holder gone' }),
    extensions: z.number().int().meta({ description: 'Extensions taken' }),
    maxExtensions: z.number().int().meta({ description: 'Extensions allowed' }),
    position: z.number().int().nullable().meta({ description: '1 for the next waiter; `null` for the holder' }),
  })
  .meta({ id: 'LockLeaseView', description: 'One lease: the holder of a lock, or a waiter for it.' });
export type LockLeaseView = z.infer<typeof LockLeaseViewSchema>;

export const HostLockViewSchema = z
  .object({
    hostId: z.string(),
    hostName: z.string(),
    holder: orNull(LockLeaseViewSchema).meta({ description: 'The lease that holds the lock, or `null`' }),
    queue: z.array(LockLeaseViewSchema).meta({ description: 'Waiting leases in the order they will be granted' }),
    updatedAt: IsoTime.nullable().meta({ description: "From the list: when the lock last changed; `null` from `GET /locks/{hostId}`, which asks Temporal directly" }),
  })
  .meta({ id: 'HostLockView', description: "One host's lock: its holder and its queue." });
/** A host's lock as the locks page and the API show it; `hostName` is added by the API from the hosts table. */
export type HostLockView = Omit<z.infer<typeof HostLockViewSchema>, 'hostName'>;
export type HostLockListItem = z.infer<typeof HostLockViewSchema>;

export const HostLockListSchema = z.object({ locks: z.array(HostLockViewSchema).meta({ description: 'Hosts whose lock is held or waited for, by name' }) }).meta({ id: 'HostLockList' });

export const LockAcquiredSchema = z
  .discriminatedUnion('status', [
    z.object({ status: z.literal('granted'), lease: LockLeaseViewSchema }),
    z.object({
      status: z.literal('queued'),
      lease: LockLeaseViewSchema,
      position: z.number().int().meta({ description: 'Place in the queue; 1 is next' }),
      holder: orNull(LockLeaseViewSchema),
    }),
  ])
  .meta({ id: 'LockAcquired', description: 'Granted at once (201), or queued behind the holder (202).' });
export type LockAcquired = z.infer<typeof LockAcquiredSchema>;

export const LockExtendedSchema = z.object({ lease: LockLeaseViewSchema }).meta({ id: 'LockExtended' });
export const LockReleasedSchema = z
  .object({ released: LockLeaseViewSchema, wasHolder: z.boolean().meta({ description: '`false`: a waiting lease was withdrawn' }) })
  .meta({ id: 'LockReleased' });
export const LockForceReleasedSchema = z.object({ released: LockLeaseViewSchema.meta({ description: 'The lease taken away' }) }).meta({ id: 'LockForceReleased' });
