import type { ReactNode } from 'react';
import { ActionForm, IntentButton } from './ui/button.tsx';
import { ConfirmText, Disclosure } from './ui/disclosure.tsx';

interface ConfirmDeleteProps {
  /** What goes, as the question names it: “Delete the action Disk usage?” */
  what: string;
  consequence: ReactNode;
  /** Extra form fields, e.g. which row of a list to delete. */
  hidden?: Record<string, string>;
}

/** A Delete button that asks first; the route action's `delete` intent does it. */
export function ConfirmDelete({ what, consequence, hidden = {} }: ConfirmDeleteProps) {
  return (
    <Disclosure summary="Delete…" label={`Delete ${what}`} variant="danger-outline" testId="delete">
      <ConfirmText question={`Delete ${what}?`} consequence={consequence} />
      <ActionForm hidden={hidden} className="mt-3 flex justify-end">
        <IntentButton intent="delete" match={hidden} variant="danger" size="sm" busyLabel="Deleting…" testId="confirm-delete">
          Delete
        </IntentButton>
      </ActionForm>
    </Disclosure>
  );
}
