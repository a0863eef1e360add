import type { ReactNode } from 'react';
import { buttonClass, type ButtonSize, type ButtonVariant } from './button.tsx';

interface DisclosureProps {
  /** The button that opens it. */
  summary: ReactNode;
  /** What the opened panel is, for screen readers: "Delete the host db-1". */
  label: string;
  variant?: ButtonVariant;
  size?: ButtonSize;
  testId?: string;
  width?: 'w-80' | 'w-96';
  title?: string;
  children: ReactNode;
}

/**
 * A button that opens a small panel below it: a question to confirm, a reason to give, secrets to enter again.
 * A <details> disclosure, so it works the same before hydration and without JS.
 */
export function Disclosure({ summary, label, variant = 'secondary', size = 'md', testId, width = 'w-80', title, children }: DisclosureProps) {
  return (
    <details className="relative inline-block" data-testid={testId}>
      <summary title={title} className={buttonClass(variant, size, 'cursor-pointer list-none [&::-webkit-details-marker]:hidden')}>
        {summary}
      </summary>
      <div role="dialog" aria-label={label} className={`absolute right-0 z-10 mt-1 ${width} rounded border border-slate-200 bg-white p-3 text-left text-sm shadow-lg`}>
        {children}
      </div>
    </details>
  );
}

/** The question a confirming panel asks, and what follows from the answer. */
export function ConfirmText({ question, consequence }: { question: ReactNode; consequence: ReactNode }) {
  return (
    <>
      <p className="font-medium text-slate-900">{question}</p>
      <p className="mt-1 text-xs text-slate-600">{consequence}</p>
    </>
  );
}
