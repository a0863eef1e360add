import { z } from 'zod';
import { LOCK_TYPES, MAX_LOCK_TTL_SECONDS } from './host-lock.ts';

// Browser-safe: request schemas of /api/v1/locks, shared by the API (zValidator) and the locks page.

const Reason = z.string().trim().min(1, { error: 'say why: the locks page and the audit log show it' }).max(500);
const LeaseId = z.string().min(1).max(200);

export const LockAcquireBodySchema = z.strictObject({
  /** maintenance and emergency locks are for admins. */
  type: z.enum(LOCK_TYPES).default('execution'),
  reason: Reason,
  ttlSeconds: z
    .number()
    .int()
    .min(10, { error: 'at least 10 seconds' })
    .max(MAX_LOCK_TTL_SECONDS, { error: `at most ${MAX_LOCK_TTL_SECONDS / 86_400} days` })
    .default(3600),
  priority: z.number().int().min(-100).max(100).default(0),
  /** false: take the lock only if it is free now (409 otherwise) instead of queueing for it. */
  wait: z.boolean().default(true),
});
export type LockAcquireBody = z.infer<typeof LockAcquireBodySchema>;

export const LockLeaseBodySchema = z.strictObject({ leaseId: LeaseId });

export const LockForceReleaseBodySchema = z.strictObject({ reason: Reason });

export const LockListQuerySchema = z.strictObject({
  host: z.string().optional(),
  /** A lock held, or waited for, with this type. */
  type: z.enum(LOCK_TYPES).optional(),
});
export type LockListQuery = z.infer<typeof LockListQuerySchema>;
