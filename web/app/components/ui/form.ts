import { useState, type FormEvent } from 'react';
import { useNavigation } from 'react-router';
import { hasFieldErrors, type FieldErrors } from '../../lib/form-errors.ts';

/** The intent a POST form is sending right now, if any. */
export function useSendingIntent(): string | null {
  const navigation = useNavigation();
  if (navigation.state === 'idle' || navigation.formMethod === undefined || navigation.formMethod === 'GET') return null;
  const intent = navigation.formData?.get('_intent');
  return typeof intent === 'string' ? intent : null;
}

/** Whether this intent (and, where given, these fields: which row) is being sent. */
export function useBusy(intent: string, match: Record<string, string> = {}): boolean {
  const navigation = useNavigation();
  const sent = navigation.state !== 'idle' && navigation.formMethod !== 'GET' ? navigation.formData : undefined;
  return sent?.get('_intent') === intent && Object.entries(match).every(([name, value]) => sent.get(name) === value);
}

/** Focus the first input the errors marked, once they have rendered; a marked group (a host list) gives its first input. */
function focusFirstInvalid(form: HTMLFormElement) {
  requestAnimationFrame(() => {
    const marked = form.querySelector<HTMLElement>('[aria-invalid="true"]');
    const target = marked && !marked.matches('input, select, textarea, button') ? marked.querySelector<HTMLElement>('input, select, textarea') : marked;
    target?.focus();
  });
}

interface CheckedFormOptions {
  /** The same check the route action runs: the form's fields in, field errors out. */
  check: (form: FormData) => FieldErrors;
  /** What the route action answered last time (the API's errors included). */
  serverErrors: FieldErrors;
  /** The intents of this form's submit buttons; their sending hides stale errors. */
  intents: readonly string[];
}

/**
 * The browser half of a form: checks before anything is sent, shows what is wrong beside each field, and checks
 * again on every change once it has complained, so errors go away as they are fixed. Without JS the route action
 * runs the same check and its answer arrives as `serverErrors`.
 */
export function useCheckedForm({ check, serverErrors, intents }: CheckedFormOptions) {
  const sending = useSendingIntent();
  const busy = sending !== null && intents.includes(sending);
  const [clientErrors, setClientErrors] = useState<FieldErrors | null>(null);

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    const found = check(new FormData(event.currentTarget));
    if (!hasFieldErrors(found)) {
      setClientErrors(null);
      return;
    }
    event.preventDefault();
    setClientErrors(found);
    focusFirstInvalid(event.currentTarget);
  }

  function onChange(event: FormEvent<HTMLFormElement>) {
    if (clientErrors !== null) setClientErrors(check(new FormData(event.currentTarget)));
  }

  return {
    errors: clientErrors ?? (busy ? {} : serverErrors),
    /** The browser found problems: a message from the last server answer no longer applies. */
    complained: clientErrors !== null,
    busy,
    sending,
    onSubmit,
    onChange,
  };
}
