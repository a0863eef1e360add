import type { Parameter } from '@drydock/core/manifest';
import type { BulkView } from '@drydock/core/api-schemas';
import { BULK_INTENTS, finishedHosts, isFinalBulk } from '../lib/bulk-view.ts';
import { useMayRun } from '../lib/me.ts';
import { ParameterField } from './parameter-field.tsx';
import { ActionForm, ExternalButtonLink, IntentButton } from './ui/button.tsx';
import { ConfirmText, Disclosure } from './ui/disclosure.tsx';
import { useSendingIntent } from './ui/form.ts';

const RERUN_TITLE = 'A new execution of the same version, parameters and options, on the hosts that failed here';

/** Re-run on the failed hosts; secrets are not kept, so a manifest with secret parameters asks for them again. */
function Rerun({ failed, secrets, busy }: { failed: number; secrets: Parameter[]; busy: boolean }) {
  const button = (
    <IntentButton intent="rerun-failed" variant={secrets.length === 0 ? 'secondary' : 'primary'} size={secrets.length === 0 ? 'md' : 'sm'} disabled={busy} busyLabel="Starting…" title={RERUN_TITLE} testId="rerun-failed">
      Re-run failed hosts ({failed})
    </IntentButton>
  );
  if (secrets.length === 0) return <ActionForm>{button}</ActionForm>;
  return (
    <Disclosure summary={`Re-run failed hosts (${failed})…`} label="Re-run on the failed hosts" title={RERUN_TITLE} width="w-96" testId="rerun-failed-secrets">
      <ActionForm className="block">
        <p className="text-xs text-slate-600">Secret values are never kept. Enter them again for the re-run; one left empty is not passed.</p>
        {secrets.map((p) => (
          <ParameterField key={p.name} parameter={p} submitted={undefined} errors={undefined} hosts={[]} />
        ))}
        <div className="flex justify-end">{button}</div>
      </ActionForm>
    </Disclosure>
  );
}

/** Temporal Web, pause or resume, re-run the failed hosts, and cancel (asked first). */
export function BulkControls({ bulk, secrets }: { bulk: BulkView; secrets: Parameter[] }) {
  const sending = useSendingIntent();
  const busy = BULK_INTENTS.some((i) => i === sending);
  const temporal = (
    <ExternalButtonLink href={bulk.temporalUrl} testId="bulk-temporal-link">
      Open in Temporal Web ↗
    </ExternalButtonLink>
  );
  // A viewer starts and stops nothing: only the link to Temporal Web.
  if (!useMayRun()) return temporal;
  return (
    <>
      {temporal}
      {bulk.status === 'running' || bulk.status === 'paused' ? (
        <ActionForm>
          {bulk.status === 'running' ? (
            <IntentButton intent="pause" variant="warning-outline" disabled={busy} busyLabel="Pausing…" title="No new host starts until you resume; hosts already running carry on" testId="pause-bulk">
              Pause
            </IntentButton>
          ) : (
            <IntentButton intent="resume" disabled={busy} busyLabel="Resuming…" testId="resume-bulk">
              Resume
            </IntentButton>
          )}
        </ActionForm>
      ) : null}
      {bulk.counts.failed > 0 ? <Rerun failed={bulk.counts.failed} secrets={secrets} busy={busy} /> : null}
      {!isFinalBulk(bulk.status) ? (
        <Disclosure summary="Cancel…" label="Cancel this bulk execution" variant="danger-outline" testId="cancel-bulk">
          <ConfirmText
            question={`Cancel the execution on ${bulk.total - finishedHosts(bulk.counts)} unfinished hosts?`}
            consequence="Hosts that have not started never will, and runs still going are cancelled. Finished hosts keep their results."
          />
          <ActionForm className="mt-3 flex justify-end">
            <IntentButton intent="cancel" variant="danger" size="sm" disabled={busy} busyLabel="Cancelling…" testId="confirm-cancel-bulk">
              Cancel execution
            </IntentButton>
          </ActionForm>
        </Disclosure>
      ) : null}
    </>
  );
}
