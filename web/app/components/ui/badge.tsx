import type { ReactNode } from 'react';

export type BadgeTone = 'neutral' | 'info' | 'success' | 'danger' | 'warning' | 'orange' | 'violet' | 'muted' | 'stone' | 'sky' | 'teal' | 'indigo';

const TONE: Record<BadgeTone, string> = {
  neutral: 'bg-slate-100 text-slate-700 ring-slate-300',
  info: 'bg-blue-50 text-blue-700 ring-blue-300',
  success: 'bg-emerald-50 text-emerald-700 ring-emerald-300',
  danger: 'bg-red-50 text-red-700 ring-red-300',
  warning: 'bg-amber-50 text-amber-800 ring-amber-300',
  orange: 'bg-orange-50 text-orange-800 ring-orange-300',
  violet: 'bg-violet-50 text-violet-800 ring-violet-300',
  muted: 'bg-zinc-100 text-zinc-600 ring-zinc-300',
  stone: 'bg-stone-50 text-stone-500 ring-stone-300',
  sky: 'bg-sky-50 text-sky-800 ring-sky-200',
  teal: 'bg-teal-50 text-teal-800 ring-teal-200',
  indigo: 'bg-indigo-50 text-indigo-800 ring-indigo-200',
};

interface BadgeProps {
  tone: BadgeTone;
  children: ReactNode;
  title?: string;
  testId?: string;
  /** `label`: a small tag beside a name (kind, transport); `status`: a state, slightly larger. */
  size?: 'label' | 'status';
  upper?: boolean;
  /** A dot that pulses: something is under way. */
  pulse?: boolean;
  data?: Record<`data-${string}`, string | undefined>;
}

export function Badge({ tone, children, title, testId, size = 'label', upper = false, pulse = false, data = {} }: BadgeProps) {
  const shape = size === 'status' ? 'gap-1.5 py-0.5 text-xs font-medium' : 'gap-1 py-px text-[0.7rem] font-medium tracking-wide';
  return (
    <span data-testid={testId} title={title} {...data} className={`inline-flex items-center rounded px-1.5 whitespace-nowrap ring-1 ring-inset ${shape} ${upper ? 'uppercase' : ''} ${TONE[tone]}`}>
      {pulse ? <span aria-hidden className="size-1.5 animate-pulse rounded-full bg-blue-500" /> : null}
      {children}
    </span>
  );
}

/** `waiting_for_lock` as people say it: "waiting for lock". */
export function humanLabel(value: string): string {
  return value.replaceAll('_', ' ');
}

export interface StatusLook {
  tone: BadgeTone;
  /** What the status means, on hover. */
  title?: string;
  pulse?: boolean;
}

/** A status in words, with the raw value in `data-status` for scripts and tests. */
export function StatusBadge<S extends string>({ status, looks, testId }: { status: S; looks: Record<S, StatusLook>; testId?: string }) {
  const look = looks[status];
  return (
    <Badge tone={look.tone} size="status" title={look.title} pulse={look.pulse} testId={testId} data={{ 'data-status': status }}>
      {humanLabel(status)}
    </Badge>
  );
}
