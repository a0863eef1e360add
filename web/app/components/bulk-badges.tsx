import type { BulkHostState } from '@drydock/core/bulk';

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
