import type { RepositoryStatus, RepositorySyncView } from '../lib/api-views.ts';
import type { RunStatus } from '../lib/run-status.ts';

const TONES: Record<RunStatus, string> = {
  queued: 'bg-slate-100 text-slate-700 ring-slate-300',
  waiting_for_lock: 'bg-violet-50 text-violet-800 ring-violet-300',
  running: 'bg-blue-50 text-blue-700 ring-blue-300',
  succeeded: 'bg-emerald-50 text-emerald-700 ring-emerald-300',
  failed: 'bg-red-50 text-red-700 ring-red-300',
  cancelled: 'bg-zinc-100 text-zinc-600 ring-zinc-300',
  timed_out: 'bg-amber-50 text-amber-800 ring-amber-300',
  skipped: 'bg-stone-50 text-stone-500 ring-stone-300',
};

export function StatusBadge({ status, testId }: { status: RunStatus; testId?: string }) {
  return (
    <span
      data-testid={testId}
      title={
        status === 'waiting_for_lock'
          ? "Waits for its host's lock: the Locks page shows who holds it and who else waits"
          : status === 'skipped'
            ? 'Never started: its bulk execution stopped before this host (failure threshold)'
            : undefined
      }
      className={`inline-flex items-center gap-1.5 rounded px-1.5 py-0.5 font-mono text-xs font-medium ring-1 ring-inset ${TONES[status]}`}
    >
      {status === 'running' ? <span aria-hidden className="size-1.5 animate-pulse rounded-full bg-blue-500" /> : null}
      {status}
    </span>
  );
}

const REPOSITORY_TONES: Record<RepositoryStatus | RepositorySyncView['status'], string> = {
  new: 'bg-slate-100 text-slate-700 ring-slate-300',
  syncing: 'bg-blue-50 text-blue-700 ring-blue-300',
  running: 'bg-blue-50 text-blue-700 ring-blue-300',
  ok: 'bg-emerald-50 text-emerald-700 ring-emerald-300',
  failed: 'bg-red-50 text-red-700 ring-red-300',
};

/** A repository's state, or one sync's. */
export function SyncStatusBadge({ status, testId }: { status: RepositoryStatus | RepositorySyncView['status']; testId?: string }) {
  const moving = status === 'syncing' || status === 'running';
  return (
    <span
      data-testid={testId}
      data-status={status}
      className={`inline-flex items-center gap-1.5 rounded px-1.5 py-0.5 font-mono text-xs font-medium ring-1 ring-inset ${REPOSITORY_TONES[status]}`}
    >
      {moving ? <span aria-hidden className="size-1.5 animate-pulse rounded-full bg-blue-500" /> : null}
      {status}
    </span>
  );
}
