import type { BulkPreview, HostView } from '@drydock/core/api-schemas';
import { describeWaves } from '../lib/bulk-view.ts';
import { TransportBadge } from './host-badges.tsx';
import { IntentButton } from './ui/button.tsx';
import { DataTable, type Column } from './ui/table.tsx';

interface BulkPreviewPanelProps {
  preview: BulkPreview;
  canary: boolean;
  maxParallel: string;
  /** The form changed since this preview: starting now would not do what it says. */
  stale: boolean;
}

const TRANSPORTS: readonly string[] = ['agent', 'ssh', 'winrm', 'docker'] satisfies HostView['transport'][];

function Transport({ transport }: { transport: string }) {
  return TRANSPORTS.includes(transport) ? <TransportBadge transport={transport as HostView['transport']} /> : <span className="text-xs">{transport}</span>;
}

const HOST_COLUMNS: Column<BulkPreview['hosts'][number]>[] = [
  {
    key: 'host',
    header: 'Host',
    cell: (h) => (
      <>
        {h.name}
        {h.name !== h.id ? <span className="ml-1.5 font-mono text-xs text-slate-500">{h.id}</span> : null}
      </>
    ),
  },
  { key: 'transport', header: 'Transport', cell: (h) => <Transport transport={h.transport} /> },
  { key: 'labels', header: 'Environment · group', className: 'text-xs text-slate-600', cell: (h) => [h.environment, h.group].filter(Boolean).join(' · ') || '—' },
  { key: 'now', header: 'Now', className: 'text-xs', cell: (h) => (h.online ? 'online' : 'not online') },
];

function hostsText(n: number): string {
  return `${n} ${n === 1 ? 'host' : 'hosts'}`;
}

/** What Preview found, and the button that starts exactly that. */
export function BulkPreviewPanel({ preview, canary, maxParallel, stale }: BulkPreviewPanelProps) {
  const count = preview.hosts.length;
  const notOnline = preview.hosts.filter((h) => !h.online).length;
  return (
    <section aria-labelledby="bulk-preview-title" data-testid="bulk-preview" className="mt-4 rounded border border-blue-200 bg-blue-50/60 px-4 py-3">
      <h2 id="bulk-preview-title" className="text-base font-semibold" data-testid="bulk-preview-count" data-count={count}>
        {count === 0 ? 'No host would run it' : `This will run on ${hostsText(count)}`}
      </h2>
      {count > 0 ? (
        <p className="mt-0.5 text-sm text-slate-700" data-testid="bulk-preview-waves">
          In {describeWaves(preview.waves, canary)}; at most {maxParallel || '50'} at the same time.
          {notOnline > 0 ? ` ${hostsText(notOnline)} of them ${notOnline === 1 ? 'is' : 'are'} not online now: an agent's run waits for it to come back, an SSH or WinRM host is connected to when its run starts.` : ''}
        </p>
      ) : null}

      {preview.excluded.length > 0 ? (
        <div className="mt-3">
          <h3 className="text-sm font-medium text-amber-900">
            {hostsText(preview.excluded.length)} of those selected {preview.excluded.length === 1 ? 'is' : 'are'} left out
          </h3>
          <ul className="mt-1 max-h-48 overflow-auto rounded border border-amber-200 bg-white text-sm" data-testid="bulk-preview-excluded">
            {preview.excluded.map((e) => (
              <li key={e.id} data-testid="bulk-excluded" data-host-id={e.id} className="flex gap-3 border-b border-amber-100 px-3 py-1 last:border-0">
                <span className="shrink-0 font-mono text-xs leading-5">{e.id}</span>
                <span className="text-slate-700">{e.reason}</span>
              </li>
            ))}
          </ul>
        </div>
      ) : null}

      {count > 0 ? (
        <details className="mt-3">
          <summary className="cursor-pointer text-sm text-blue-800">Show the {hostsText(count)}</summary>
          <div className="mt-1 max-h-64 overflow-auto rounded border border-slate-200 bg-white">
            <DataTable
              rows={preview.hosts}
              columns={HOST_COLUMNS}
              rowKey={(h) => h.id}
              row={(h) => ({ 'data-host-id': h.id })}
              density="compact"
              framed={false}
              testId="bulk-preview-hosts"
              empty={null}
            />
          </div>
        </details>
      ) : null}

      <div className="mt-3 flex flex-wrap items-center gap-3 border-t border-blue-200 pt-3">
        {stale ? (
          <p role="status" data-testid="bulk-preview-stale" className="text-sm text-amber-900">
            The form changed since this preview. Preview again before starting.
          </p>
        ) : count > 0 ? (
          <IntentButton intent="start" busyLabel="Starting…" testId="confirm-bulk">
            Confirm: run on {hostsText(count)}
          </IntentButton>
        ) : (
          <p className="text-sm text-slate-700">Choose other hosts, then preview again.</p>
        )}
      </div>
    </section>
  );
}
