import { ActionForm, IntentButton } from './ui/button.tsx';

/** Starts a sync of one repository now, instead of at its next interval. */
export function SyncButton({ repositoryId, syncing, large = false }: { repositoryId: string; syncing: boolean; large?: boolean }) {
  const hidden = { repositoryId };
  return (
    <ActionForm hidden={hidden}>
      <IntentButton intent="sync" match={hidden} variant="secondary" size={large ? 'md' : 'xs'} busyLabel="Starting…" testId="sync-repository">
        {syncing ? 'Sync again' : 'Sync now'}
      </IntentButton>
    </ActionForm>
  );
}
