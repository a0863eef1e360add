import type { ScriptView } from '../lib/api-views.ts';

const KIND_TONE: Record<ScriptView['kind'], string> = {
  script: 'bg-sky-50 text-sky-800 ring-sky-200',
  action: 'bg-violet-50 text-violet-800 ring-violet-200',
};

/** Script (from a repository) or action (an editable template). */
export function KindBadge({ kind }: { kind: ScriptView['kind'] }) {
  return (
    <span data-testid="kind-badge" data-kind={kind} className={`inline-block rounded px-1.5 py-px text-[0.7rem] font-medium uppercase tracking-wide ring-1 ring-inset ${KIND_TONE[kind]}`}>
      {kind}
    </span>
  );
}

export function NotRunnableBadge({ reason }: { reason: string | null }) {
  return (
    <span data-testid="not-runnable-badge" title={reason ?? undefined} className="inline-block rounded bg-slate-200 px-1.5 py-px text-[0.7rem] font-medium text-slate-700">
      not runnable
    </span>
  );
}
