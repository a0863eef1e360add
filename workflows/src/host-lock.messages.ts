import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { AcquireResult, HostLockState, LockGrant, LockLease, LockRequest, LockRevocation } from '@drydock/core/host-lock';
import type { hostLockWorkflow } from './host-lock.workflow.ts';
import { workflowRef } from './workflow-ref.ts';

export const hostLockWorkflowRef = workflowRef<typeof hostLockWorkflow>('hostLockWorkflow');

export const acquireUpdate = defineUpdate<AcquireResult, [LockRequest]>('acquire');
/** For workflow requesters, which cannot send updates: the grant comes back as lockGrantedSignal. */
export const acquireSignal = defineSignal<[LockRequest]>('acquireSignal');
/** Releases the lease if it holds the lock, withdraws it if it waits; a stale or unknown lease id changes nothing. */
export const releaseSignal = defineSignal<[{ leaseId: string; reason?: string }]>('release');
export const extendUpdate = defineUpdate<LockLease, [{ leaseId: string }]>('extend');
export const forceReleaseUpdate = defineUpdate<LockLease | null, [{ by: string; reason: string }]>('forceRelease');
export const lockStateQuery = defineQuery<Pick<HostLockState, 'holder' | 'queue'>>('lockState');
/** Sent by the lock to a requesting workflow. */
export const lockGrantedSignal = defineSignal<[LockGrant]>('lockGranted');
export const lockRevokedSignal = defineSignal<[LockRevocation]>('lockRevoked');
