import type { Parameter } from '@drydock/core/manifest';
import { Form, useNavigation } from 'react-router';
import type { BulkView } from '../lib/api-views.ts';
import { BULK_INTENTS, finishedHosts, isFinalBulk, type BulkIntent } from '../lib/bulk-view.ts';
import { ParameterField } from './parameter-field.tsx';

function useSending(): BulkIntent | null {
  const navigation = useNavigation();
  const intent = navigation.state !== 'idle' && navigation.formMethod === 'POST' ? navigation.formData?.get('_intent') : null;
  return BULK_INTENTS.find((i) => i === intent) ?? null;
}

const button = 'rounded border px-3 py-1.5 text-sm disabled:cursor-not-allowed disabled:opacity-60';

const RERUN_TITLE = 'A new execution of the same version, parameters and options, on the hosts that failed here';

/** Re-run on the failed hosts; secrets are not kept, so a manifest with secret parameters asks for them again. */
function Rerun({ failed, secrets, busy, starting }: { failed: number; secrets: Parameter[]; busy: boolean; starting: boolean }) {
  const label = starting ? 'Starting…' : `Re-run failed hosts (${failed})`;
  if (secrets.length === 0) {
    return (
      <Form method="post">
        <button type="submit" name="_intent" value="rerun-failed" disabled={busy} data-testid="rerun-failed" title={RERUN_TITLE} className={`${button} border-slate-300 bg-white text-slate-800 hover:bg-slate-100`}>
          {label}
        </button>
      </Form>
    );
  }
  return (
    <details className="relative" data-testid="rerun-failed-secrets">
      <summary className={`${button} cursor-pointer list-none border-slate-300 bg-white text-slate-800 select-none hover:bg-slate-100 [&::-webkit-details-marker]:hidden`} title={RERUN_TITLE}>
        Re-run failed hosts ({failed})…
      </summary>
      <Form method="post" role="dialog" aria-label="Re-run on the failed hosts" className="absolute right-0 z-10 mt-1 w-96 rounded border border-slate-200 bg-white p-3 text-sm shadow-lg">
        <p className="text-xs text-slate-600">Secret values are never kept. Enter them again for the re-run; one left empty is not passed.</p>
        {secrets.map((p) => (
          <ParameterField key={p.name} parameter={p} submitted={undefined} errors={undefined} hosts={[]} />
        ))}
        <div className="flex justify-end">
          <button type="submit" name="_intent" value="rerun-failed" disabled={busy} data-testid="rerun-failed" className="rounded bg-blue-700 px-3 py-1 text-sm font-medium text-white hover:bg-blue-600 disabled:opacity-60">
            {label}
          </button>
        </div>
      </Form>
    </details>
  );
}

/** Temporal Web, pause or resume, re-run the failed hosts, and cancel (asked first; a <details>, so it works without JS). */
export function BulkControls({ bulk, secrets }: { bulk: BulkView; secrets: Parameter[] }) {
  const sending = useSending();
  const final = isFinalBulk(bulk.status);
  return (
    <div className="flex flex-wrap items-start gap-2">
      <a href={bulk.temporalUrl} target="_blank" rel="noreferrer" data-testid="bulk-temporal-link" className={`${button} border-slate-300 bg-white text-slate-700 hover:bg-slate-100`}>
        Open in Temporal Web ↗
      </a>
      {bulk.status === 'running' ? (
        <Form method="post">
          <button type="submit" name="_intent" value="pause" disabled={sending !== null} data-testid="pause-bulk" title="No new host starts until you resume; hosts already running carry on" className={`${button} border-amber-300 bg-white text-amber-900 hover:bg-amber-50`}>
            {sending === 'pause' ? 'Pausing…' : 'Pause'}
          </button>
        </Form>
      ) : null}
      {bulk.status === 'paused' ? (
        <Form method="post">
          <button type="submit" name="_intent" value="resume" disabled={sending !== null} data-testid="resume-bulk" className={`${button} border-blue-700 bg-blue-700 font-medium text-white hover:bg-blue-600`}>
            {sending === 'resume' ? 'Resuming…' : 'Resume'}
          </button>
        </Form>
      ) : null}
      {bulk.counts.failed > 0 ? <Rerun failed={bulk.counts.failed} secrets={secrets} busy={sending !== null} starting={sending === 'rerun-failed'} /> : null}
      {!final ? (
        <details className="relative" data-testid="cancel-bulk">
          <summary className={`${button} cursor-pointer list-none border-red-300 bg-white text-red-700 select-none hover:bg-red-50 [&::-webkit-details-marker]:hidden`}>Cancel…</summary>
          <div role="dialog" aria-label="Cancel this bulk execution" className="absolute right-0 z-10 mt-1 w-80 rounded border border-slate-200 bg-white p-3 text-sm shadow-lg">
            <p className="font-medium text-slate-900">Cancel the execution on {bulk.total - finishedHosts(bulk.counts)} unfinished hosts?</p>
            <p className="mt-1 text-xs text-slate-600">Hosts that have not started never will, and runs still going are cancelled. Finished hosts keep their results.</p>
            <Form method="post" className="mt-3 flex justify-end">
              <button type="submit" name="_intent" value="cancel" disabled={sending !== null} data-testid="confirm-cancel-bulk" className="rounded bg-red-700 px-3 py-1 text-sm font-medium text-white hover:bg-red-600 disabled:opacity-60">
                {sending === 'cancel' ? 'Cancelling…' : 'Cancel execution'}
              </button>
            </Form>
          </div>
        </details>
      ) : null}
    </div>
  );
}
