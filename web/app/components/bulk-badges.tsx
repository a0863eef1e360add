import type { BulkHostState, BulkStatus } from '../lib/api-views.ts';

const STATUS_TONES: Record<BulkStatus, string> = {
  running: 'bg-blue-50 text-blue-700 ring-blue-300',
  paused: 'bg-amber-50 text-amber-800 ring-amber-300',
  stopping: 'bg-orange-50 text-orange-800 ring-orange-300',
  succeeded: 'bg-emerald-50 text-emerald-700 ring-emerald-300',
  failed: 'bg-red-50 text-red-700 ring-red-300',
  cancelled: 'bg-zinc-100 text-zinc-600 ring-zinc-300',
};

const STATUS_TITLES: Partial<Record<BulkStatus, string>> = {
  paused: 'No new host starts until it is resumed; hosts already running finish',
  stopping: 'No new host starts; it ends once the hosts still running finish',
};

export function BulkStatusBadge({ status, testId }: { status: BulkStatus; testId?: string }) {
  return (
    <span
      data-testid={testId}
      data-status={status}
      title={STATUS_TITLES[status]}
      className={`inline-flex items-center gap-1.5 rounded px-1.5 py-0.5 font-mono text-xs font-medium ring-1 ring-inset ${STATUS_TONES[status]}`}
    >
      {status === 'running' ? <span aria-hidden className="size-1.5 animate-pulse rounded-full bg-blue-500" /> : null}
      {status}
    </span>
  );
}

/** A grid cell's colours; the progress bar and the count chips use the same swatches. */
export const HOST_STATE_TONES: Record<BulkHostState, { cell: string; swatch: string }> = {
  pending: { cell: 'bg-slate-100 text-slate-600 ring-slate-200', swatch: 'bg-slate-200' },
  waiting_for_lock: { cell: 'bg-violet-100 text-violet-900 ring-violet-300', swatch: 'bg-violet-400' },
  running: { cell: 'bg-blue-100 text-blue-900 ring-blue-300', swatch: 'bg-blue-500' },
  succeeded: { cell: 'bg-emerald-100 text-emerald-900 ring-emerald-300', swatch: 'bg-emerald-500' },
  failed: { cell: 'bg-red-100 text-red-900 ring-red-300', swatch: 'bg-red-500' },
  cancelled: { cell: 'bg-zinc-200 text-zinc-700 ring-zinc-300', swatch: 'bg-zinc-500' },
  skipped: { cell: 'bg-amber-50 text-amber-900 ring-amber-300', swatch: 'bg-amber-300' },
};
