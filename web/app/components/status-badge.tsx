import type { RepositorySyncView, RepositoryView } from '@drydock/core/api-schemas';
import type { BulkStatus } from '@drydock/core/bulk';
import type { RunStatus } from '../lib/run-status.ts';
import { StatusBadge, type StatusLook } from './ui/badge.tsx';

const RUN: Record<RunStatus, StatusLook> = {
  waiting_for_approval: { tone: 'orange', title: "Its host's environment is protected: another operator of the team must approve it" },
  queued: { tone: 'neutral' },
  waiting_for_lock: { tone: 'violet', title: "Waits for its host's lock: the Locks page shows who holds it and who else waits" },
  running: { tone: 'info', pulse: true },
  succeeded: { tone: 'success' },
  failed: { tone: 'danger' },
  cancelled: { tone: 'muted' },
  timed_out: { tone: 'warning' },
  skipped: { tone: 'stone', title: 'Never started: its bulk execution stopped before this host (failure threshold)' },
  rejected: { tone: 'danger', title: 'An approver rejected it; nothing ran' },
  expired: { tone: 'stone', title: 'Nobody approved it in time; nothing ran' },
};

export function RunStatusBadge({ status, testId }: { status: RunStatus; testId?: string }) {
  return <StatusBadge status={status} looks={RUN} testId={testId} />;
}

const SYNC: Record<RepositoryView['status'] | RepositorySyncView['status'], StatusLook> = {
  new: { tone: 'neutral' },
  syncing: { tone: 'info', pulse: true },
  running: { tone: 'info', pulse: true },
  ok: { tone: 'success' },
  failed: { tone: 'danger' },
};

/** A repository's state, or one sync's. */
export function SyncStatusBadge({ status, testId }: { status: RepositoryView['status'] | RepositorySyncView['status']; testId?: string }) {
  return <StatusBadge status={status} looks={SYNC} testId={testId} />;
}

const BULK: Record<BulkStatus, StatusLook> = {
  waiting_for_approval: { tone: 'orange', title: 'A host is in a protected environment: another operator of the team must approve the execution' },
  running: { tone: 'info', pulse: true },
  paused: { tone: 'warning', title: 'No new host starts until it is resumed; hosts already running finish' },
  stopping: { tone: 'orange', title: 'No new host starts; it ends once the hosts still running finish' },
  succeeded: { tone: 'success' },
  failed: { tone: 'danger' },
  cancelled: { tone: 'muted' },
  rejected: { tone: 'danger', title: 'An approver rejected it; no host ran' },
  expired: { tone: 'stone', title: 'Nobody approved it in time; no host ran' },
};

export function BulkStatusBadge({ status, testId }: { status: BulkStatus; testId?: string }) {
  return <StatusBadge status={status} looks={BULK} testId={testId} />;
}
