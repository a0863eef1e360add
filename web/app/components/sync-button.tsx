import { Form, useNavigation } from 'react-router';

/** Starts a sync of one repository now, instead of at its next interval. */
export function SyncButton({ repositoryId, syncing, large = false }: { repositoryId: string; syncing: boolean; large?: boolean }) {
  const navigation = useNavigation();
  const sending = navigation.state !== 'idle' && navigation.formData?.get('_intent') === 'sync' && navigation.formData.get('repositoryId') === repositoryId;
  return (
    <Form method="post">
      <input type="hidden" name="_intent" value="sync" />
      <input type="hidden" name="repositoryId" value={repositoryId} />
      <button
        type="submit"
        disabled={sending}
        data-testid="sync-repository"
        className={`rounded border border-slate-300 bg-white whitespace-nowrap text-slate-700 hover:bg-slate-100 disabled:opacity-60 ${large ? 'px-3 py-1.5 text-sm' : 'px-2.5 py-1 text-xs'}`}
      >
        {sending ? 'Starting…' : syncing ? 'Sync again' : 'Sync now'}
      </button>
    </Form>
  );
}
