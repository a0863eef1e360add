import type { ButtonHTMLAttributes, ReactNode } from 'react';
import { Form, Link, type LinkProps } from 'react-router';
import { useBusy } from './form.ts';

export type ButtonVariant = 'primary' | 'secondary' | 'danger' | 'danger-outline' | 'warning-outline' | 'filter';
export type ButtonSize = 'xs' | 'sm' | 'md';

const VARIANT: Record<ButtonVariant, string> = {
  primary: 'bg-blue-700 font-medium text-white hover:bg-blue-600',
  secondary: 'border border-slate-300 bg-white text-slate-700 hover:bg-slate-100',
  danger: 'bg-red-700 font-medium text-white hover:bg-red-600',
  'danger-outline': 'border border-red-300 bg-white text-red-700 hover:bg-red-50',
  'warning-outline': 'border border-amber-300 bg-white text-amber-900 hover:bg-amber-50',
  filter: 'bg-slate-800 text-white hover:bg-slate-700',
};

const SIZE: Record<ButtonSize, string> = {
  xs: 'px-2 py-0.5 text-xs',
  sm: 'px-3 py-1 text-sm',
  md: 'px-3 py-1.5 text-sm',
};

/** The look of a button, for the rare control that must be something else (a <summary>, an <a download>). */
export function buttonClass(variant: ButtonVariant = 'secondary', size: ButtonSize = 'md', extra = ''): string {
  return `inline-flex items-center justify-center gap-1.5 rounded whitespace-nowrap select-none focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-blue-600 disabled:cursor-not-allowed disabled:opacity-60 ${VARIANT[variant]} ${SIZE[size]} ${extra}`;
}

interface LookProps {
  variant?: ButtonVariant;
  size?: ButtonSize;
  testId?: string;
}

export function Button({ variant, size, testId, className = '', type = 'button', ...rest }: LookProps & ButtonHTMLAttributes<HTMLButtonElement>) {
  return <button type={type} data-testid={testId} className={buttonClass(variant, size, className)} {...rest} />;
}

/** A link that looks like a button: navigation, not a submission. */
export function ButtonLink({ variant, size, testId, className = '', ...rest }: LookProps & LinkProps) {
  return <Link data-testid={testId} className={buttonClass(variant, size, className)} {...rest} />;
}

/** An external page (Temporal Web), opened in a new tab. */
export function ExternalButtonLink({ href, children, testId, title, size }: { href: string; children: ReactNode; testId?: string; title?: string; size?: ButtonSize }) {
  return (
    <a href={href} target="_blank" rel="noreferrer" data-testid={testId} title={title} className={buttonClass('secondary', size)}>
      {children}
    </a>
  );
}

interface IntentButtonProps extends LookProps, Omit<ButtonHTMLAttributes<HTMLButtonElement>, 'name' | 'value' | 'type' | 'children'> {
  /** What the route action does; the button submits it as `_intent`, so one form can hold several. */
  intent: string;
  children: ReactNode;
  /** Shown while this intent is being sent. */
  busyLabel?: ReactNode;
  /** Fields that must match too for this button to count as the one sending (a row's id among many rows). */
  match?: Record<string, string>;
}

/**
 * A submit button that names its intent. `_intent`, not `intent`: a run form's fields are the manifest's parameter
 * names, lower_snake_case, which may well be `intent`; a leading `_` no parameter name can have.
 */
export function IntentButton({ intent, busyLabel, match, children, disabled, variant = 'primary', ...rest }: IntentButtonProps) {
  const busy = useBusy(intent, match);
  return (
    <Button type="submit" name="_intent" value={intent} disabled={disabled || busy} variant={variant} aria-busy={busy || undefined} {...rest}>
      {busy && busyLabel !== undefined ? busyLabel : children}
    </Button>
  );
}

/** A small POST form around intent buttons, with the hidden fields that say which row they act on. */
export function ActionForm({ hidden = {}, children, className = 'inline-flex items-center gap-2' }: { hidden?: Record<string, string>; children: ReactNode; className?: string }) {
  return (
    <Form method="post" className={className}>
      {Object.entries(hidden).map(([name, value]) => (
        <input key={name} type="hidden" name={name} value={value} />
      ))}
      {children}
    </Form>
  );
}
