import type { ReactNode } from 'react';
import { Form, useNavigation } from 'react-router';

interface ConfirmDeleteProps {
  /** What goes, as the question names it: “Delete the action Disk usage?” */
  what: string;
  consequence: ReactNode;
  /** Extra form fields, e.g. which row of a list to delete. */
  hidden?: Record<string, string>;
  label?: string;
}

/** A Delete button that asks first; a <details> disclosure, so it works the same without JS. */
export function ConfirmDelete({ what, consequence, hidden = {}, label = 'Delete…' }: ConfirmDeleteProps) {
  const navigation = useNavigation();
  const sent = navigation.state !== 'idle' ? navigation.formData : undefined;
  const busy = sent?.get('_intent') === 'delete' && Object.entries(hidden).every(([name, value]) => sent.get(name) === value);
  return (
    <details className="group relative" data-testid="delete">
      <summary className="cursor-pointer list-none rounded border border-red-300 bg-white px-3 py-1.5 text-sm text-red-700 select-none hover:bg-red-50 [&::-webkit-details-marker]:hidden">
        {label}
      </summary>
      <div role="dialog" aria-label={`Delete ${what}`} className="absolute right-0 z-10 mt-1 w-80 rounded border border-slate-200 bg-white p-3 text-sm shadow-lg">
        <p className="font-medium text-slate-900">Delete {what}?</p>
        <p className="mt-1 text-xs text-slate-600">{consequence}</p>
        <Form method="post" className="mt-3 flex justify-end gap-2">
          <input type="hidden" name="_intent" value="delete" />
          {Object.entries(hidden).map(([name, value]) => (
            <input key={name} type="hidden" name={name} value={value} />
          ))}
          <button
            type="submit"
            disabled={busy}
            data-testid="confirm-delete"
            className="rounded bg-red-700 px-3 py-1 text-sm font-medium text-white hover:bg-red-600 disabled:opacity-60"
          >
            {busy ? 'Deleting…' : 'Delete'}
          </button>
        </Form>
      </div>
    </details>
  );
}
