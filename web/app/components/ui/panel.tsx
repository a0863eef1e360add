import type { ReactNode } from 'react';

interface PanelProps {
  title?: ReactNode;
  /** Beside the title: a button that acts on the panel's content. */
  action?: ReactNode;
  testId?: string;
  className?: string;
  children: ReactNode;
}

/** A white box with a heading: one part of a page (settings, a form, a list). */
export function Panel({ title, action, testId, className = '', children }: PanelProps) {
  return (
    <section className={`rounded border border-slate-200 bg-white p-4 ${className}`} data-testid={testId}>
      {title || action ? (
        <div className="mb-3 flex items-center justify-between gap-2">
          {title ? <h2 className="text-sm font-semibold">{title}</h2> : null}
          {action}
        </div>
      ) : null}
      {children}
    </section>
  );
}

/** A titled part of a page without a box of its own (the box is the table or list inside). */
export function Section({ title, testId, children }: { title: ReactNode; testId?: string; children: ReactNode }) {
  return (
    <section data-testid={testId}>
      <h2 className="mb-2 text-sm font-semibold">{title}</h2>
      {children}
    </section>
  );
}
