import type { HTMLAttributes, ReactNode } from 'react';

export type NoticeTone = 'success' | 'error' | 'warning' | 'info' | 'neutral' | 'muted' | 'violet';

const NOTICE_TONE: Record<NoticeTone, string> = {
  success: 'border-emerald-300 bg-emerald-50 text-emerald-900',
  error: 'border-red-200 bg-red-50 text-red-800',
  warning: 'border-amber-300 bg-amber-50 text-amber-900',
  info: 'border-blue-200 bg-blue-50 text-blue-900',
  neutral: 'border-slate-200 bg-white text-slate-700',
  muted: 'border-slate-300 bg-slate-100 text-slate-800',
  violet: 'border-violet-200 bg-violet-50 text-violet-900',
};

interface NoticeProps extends Omit<HTMLAttributes<HTMLElement>, 'role'> {
  tone: NoticeTone;
  /** `alert` interrupts a screen reader, `status` waits its turn; an error is an alert unless said otherwise. */
  role?: 'alert' | 'status' | null;
  testId?: string;
  /** `pre` keeps a multi-line error as it was written. */
  as?: 'p' | 'div' | 'pre' | 'section';
  children: ReactNode;
}

/** A message box above or inside a page: what happened, or what to know before going on. */
export function Notice({ tone, role, testId, as: Tag = 'p', className = '', children, ...rest }: NoticeProps) {
  const shape = Tag === 'pre' ? 'overflow-auto font-mono text-xs whitespace-pre-wrap' : 'text-sm';
  return (
    <Tag role={role === null ? undefined : (role ?? (tone === 'error' ? 'alert' : 'status'))} data-testid={testId} className={`rounded border px-3 py-2 ${shape} ${NOTICE_TONE[tone]} ${className}`} {...rest}>
      {children}
    </Tag>
  );
}

/** A route action's answer, when it has one: green when it worked, red when it did not. */
export function OutcomeNotice({ outcome, testId, className }: { outcome: { ok: boolean; message: ReactNode } | null | undefined; testId?: string; className?: string }) {
  if (!outcome) return null;
  return (
    <Notice tone={outcome.ok ? 'success' : 'error'} testId={testId} className={className}>
      {outcome.message}
    </Notice>
  );
}
