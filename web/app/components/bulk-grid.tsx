import { BULK_HOST_STATES } from '@drydock/core/bulk';
import { memo, useMemo, useState } from 'react';
import { Link } from 'react-router';
import type { BulkHostView } from '@drydock/core/api-schemas';
import type { BulkCounts, BulkHostState } from '@drydock/core/bulk';
import { HOST_STATE_LABEL } from '../lib/bulk-view.ts';
import { formatDuration } from '../lib/format.ts';
import { HOST_STATE_TONES } from './bulk-badges.tsx';
import { SearchInput } from './ui/field.tsx';

function cellTitle(host: BulkHostView): string {
  const parts = [`${host.hostId}: ${HOST_STATE_LABEL[host.state]}`];
  if (host.exitCode !== null) parts.push(`exit code ${host.exitCode}`);
  if (host.durationMs !== null) parts.push(formatDuration(host.durationMs));
  if (host.error) parts.push(host.error);
  if (host.state === 'skipped') parts.push('never started');
  return parts.join(' · ');
}

const HostCell = memo(function HostCell({ host, dense }: { host: BulkHostView; dense: boolean }) {
  // Compact cells carry no text, so they take the stronger swatch colours to stay tellable apart.
  const tone = dense ? `${HOST_STATE_TONES[host.state].swatch} ring-black/10` : HOST_STATE_TONES[host.state].cell;
  const size = dense ? 'block size-3.5' : 'block truncate px-1.5 py-0.5 font-mono text-[11px] leading-4';
  return (
    <li className="min-w-0">
      <Link
        to={`/runs/${encodeURIComponent(host.runId)}`}
        data-testid="bulk-host"
        data-host-id={host.hostId}
        data-state={host.state}
        title={cellTitle(host)}
        className={`${size} rounded-sm ring-1 ring-inset ${tone} hover:ring-2 hover:ring-slate-600 focus-visible:outline-2 focus-visible:outline-blue-600`}
      >
        {dense ? (
          <span className="sr-only">
            {host.hostId}, {HOST_STATE_LABEL[host.state]}
          </span>
        ) : (
          <>
            {host.hostId}
            <span className="sr-only">, {HOST_STATE_LABEL[host.state]}</span>
          </>
        )}
      </Link>
    </li>
  );
});

interface BulkGridProps {
  hosts: BulkHostView[];
  counts: BulkCounts;
  total: number;
  /** The waves' sizes; with more than one, the grid is split by wave. */
  waves: number[];
  canary: boolean;
  currentWave: number;
  active: boolean;
}

/** Every host of the execution as a coloured cell: filter by state or name; a cell opens that host's run (each host has one from the start). */
export function BulkGrid({ hosts, counts, total, waves, canary, currentWave, active }: BulkGridProps) {
  const [state, setState] = useState<BulkHostState | 'all'>('all');
  const [query, setQuery] = useState('');
  const [dense, setDense] = useState(hosts.length > 200);

  const q = query.trim().toLowerCase();
  const shown = useMemo(() => hosts.filter((h) => (state === 'all' || h.state === state) && (q === '' || h.hostId.toLowerCase().includes(q))), [hosts, state, q]);
  const byWave = useMemo(() => {
    const groups = new Map<number, BulkHostView[]>();
    for (const h of shown) {
      const list = groups.get(h.wave);
      if (list) list.push(h);
      else groups.set(h.wave, [h]);
    }
    return [...groups.entries()].sort(([a], [b]) => a - b);
  }, [shown]);
  const waveNumbers = useMemo(() => [...new Set(hosts.map((h) => h.wave))].sort((a, b) => a - b), [hosts]);
  const split = waves.length > 1;
  const list = (items: BulkHostView[]) => (
    <ul className={dense ? 'flex flex-wrap gap-0.5' : 'grid grid-cols-[repeat(auto-fill,minmax(7.5rem,1fr))] gap-1'}>
      {items.map((h) => (
        <HostCell key={h.hostId} host={h} dense={dense} />
      ))}
    </ul>
  );

  return (
    <section aria-labelledby="bulk-grid-title" className="rounded border border-slate-200 bg-white px-4 py-3" data-testid="bulk-grid">
      <div className="mb-2 flex flex-wrap items-center gap-2">
        <h2 id="bulk-grid-title" className="mr-2 text-sm font-semibold">
          Hosts
        </h2>
        <div role="group" aria-label="Show hosts in state" className="flex flex-wrap gap-1">
          <button
            type="button"
            aria-pressed={state === 'all'}
            onClick={() => setState('all')}
            data-testid="bulk-count"
            data-state="all"
            data-count={total}
            className={`rounded px-2 py-0.5 text-xs ring-1 ring-inset ${state === 'all' ? 'bg-slate-800 text-white ring-slate-800' : 'bg-white text-slate-700 ring-slate-300 hover:bg-slate-100'}`}
          >
            all <span className="font-semibold tabular-nums">{total}</span>
          </button>
          {BULK_HOST_STATES.map((s) => (
            <button
              key={s}
              type="button"
              aria-pressed={state === s}
              onClick={() => setState(state === s ? 'all' : s)}
              data-testid="bulk-count"
              data-state={s}
              data-count={counts[s]}
              className={`inline-flex items-center gap-1.5 rounded px-2 py-0.5 text-xs ring-1 ring-inset ${state === s ? 'bg-slate-800 text-white ring-slate-800' : counts[s] === 0 ? 'bg-white text-slate-400 ring-slate-200 hover:bg-slate-50' : 'bg-white text-slate-700 ring-slate-300 hover:bg-slate-100'}`}
            >
              <span aria-hidden className={`size-2 rounded-sm ${HOST_STATE_TONES[s].swatch}`} />
              {HOST_STATE_LABEL[s]} <span className="font-semibold tabular-nums">{counts[s]}</span>
            </button>
          ))}
        </div>
        <div className="ml-auto flex items-center gap-3">
          <SearchInput label="Find a host by id" placeholder="Find a host" value={query} onChange={setQuery} className="w-40" />
          <label className="flex items-center gap-1.5 text-xs text-slate-600">
            <input type="checkbox" checked={dense} onChange={(e) => setDense(e.currentTarget.checked)} className="size-3.5" />
            Compact cells
          </label>
        </div>
      </div>
      <p className="mb-2 text-xs text-slate-500" data-testid="bulk-grid-shown" aria-live="polite">
        {shown.length === hosts.length ? `${hosts.length} ${hosts.length === 1 ? 'host' : 'hosts'}` : `${shown.length} of ${hosts.length} hosts shown`}
        {active ? ' · updates live' : ''} · a cell opens its host's run and log
      </p>

      {hosts.length === 0 ? (
        <p className="py-6 text-center text-sm text-slate-500">This execution has no host.</p>
      ) : shown.length === 0 ? (
        <p className="py-6 text-center text-sm text-slate-500">No host {state === 'all' ? '' : `is ${HOST_STATE_LABEL[state]} `}{q ? `matching “${query.trim()}”` : ''}.</p>
      ) : split ? (
        <div className="space-y-3">
          {byWave.map(([wave, items]) => {
            const index = waveNumbers.indexOf(wave);
            const size = waves[index];
            return (
              <div key={wave} data-testid="bulk-wave" data-wave={wave}>
                <h3 className="mb-1 text-xs font-medium text-slate-600">
                  Wave {index + 1} of {waves.length}
                  {canary && index === 0 ? ' (canary)' : ''}
                  {size !== undefined ? ` · ${size} ${size === 1 ? 'host' : 'hosts'}` : ''}
                  {active && wave === currentWave ? <span className="ml-1.5 text-blue-700">· running now</span> : null}
                </h3>
                {list(items)}
              </div>
            );
          })}
        </div>
      ) : (
        list(shown)
      )}
    </section>
  );
}
