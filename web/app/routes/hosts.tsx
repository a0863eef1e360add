import { ENVIRONMENTS, HOST_STATUSES, type HostStatus } from '@drydock/core/api-schemas';
import type { FormEvent } from 'react';
import { Form, Link, useSubmit } from 'react-router';
import type { Route } from './+types/hosts';
import { HostStateBadge, LastSeen, hostTarget, TransportBadge, WINRM_AUTH_LABEL } from '../components/host-badges.tsx';
import { HostMetrics } from '../components/host-metrics.tsx';
import { RouteError } from '../components/route-error.tsx';
import type { HostView } from '../lib/api-views.ts';
import { loadHostList, readHostFilters, type HostFilters } from '../lib/hosts.server.ts';
import { filledFields } from '../lib/links.ts';
import { useRevalidateWhile } from '../lib/polling.ts';

export const meta: Route.MetaFunction = () => [{ title: 'Hosts · Drydock' }];

export async function loader({ request }: Route.LoaderArgs) {
  const url = new URL(request.url);
  const filters = readHostFilters(url);
  const hosts = await loadHostList(request, filters);
  return { filters, hosts, now: Date.now(), deleted: url.searchParams.get('deleted') };
}

/** The status filter's choices as the select names them; each badge's title says more. */
const STATUS_OPTION: Record<HostStatus, string> = {
  idle: 'idle',
  busy: 'busy (running jobs)',
  maintenance: 'maintenance (locked)',
  unreachable: 'unreachable',
  error: 'error (needs a person)',
};

const fieldClass = 'rounded border border-slate-300 bg-white px-2 py-1 text-sm shadow-xs focus:border-slate-500 focus:outline-none';

/** Heartbeat or connection: seen within a window, or not for at least that long (never seen included). */
const SEEN_OPTIONS: [NonNullable<HostFilters['seen']>, string][] = [
  ['within-15m', 'in the last 15 min'],
  ['within-1h', 'in the last hour'],
  ['within-24h', 'in the last 24 h'],
  ['within-7d', 'in the last 7 days'],
  ['not-1h', 'not for an hour or more'],
  ['not-24h', 'not for a day or more'],
  ['not-7d', 'not for a week or more'],
];

function isFiltered(filters: HostFilters): boolean {
  return Object.values(filters).some((v) => v !== '');
}

function Filters({ filters }: { filters: HostFilters }) {
  const submit = useSubmit();
  const apply = (form: HTMLFormElement | null) => {
    if (form) void submit(filledFields(form), { method: 'get', action: '/hosts' });
  };
  // Without JS the browser sends every field; with it, empty filters stay out of the URL.
  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    apply(event.currentTarget);
  }
  return (
    <Form
      method="get"
      role="search"
      key={JSON.stringify(filters)}
      onSubmit={onSubmit}
      className="mb-3 flex flex-wrap items-end gap-2 rounded border border-slate-200 bg-white px-3 py-2"
      data-testid="host-filters"
    >
      <label className="flex flex-col text-xs text-slate-600">
        Environment
        <select name="environment" defaultValue={filters.environment} onChange={(e) => apply(e.currentTarget.form)} className={fieldClass}>
          <option value="">any</option>
          {ENVIRONMENTS.map((e) => (
            <option key={e} value={e}>
              {e}
            </option>
          ))}
        </select>
      </label>
      <label className="flex flex-col text-xs text-slate-600">
        Transport
        <select name="transport" defaultValue={filters.transport} onChange={(e) => apply(e.currentTarget.form)} className={fieldClass}>
          <option value="">any</option>
          <option value="agent">agent</option>
          <option value="ssh">SSH</option>
          <option value="winrm">WinRM</option>
          <option value="docker">Docker engine</option>
        </select>
      </label>
      <label className="flex flex-col text-xs text-slate-600">
        Status
        <select name="status" defaultValue={filters.status} onChange={(e) => apply(e.currentTarget.form)} className={fieldClass}>
          <option value="">any</option>
          {HOST_STATUSES.map((status) => (
            <option key={status} value={status}>
              {STATUS_OPTION[status]}
            </option>
          ))}
        </select>
      </label>
      <label className="flex flex-col text-xs text-slate-600">
        Last seen
        <select name="seen" defaultValue={filters.seen} onChange={(e) => apply(e.currentTarget.form)} className={fieldClass} data-testid="host-seen-filter">
          <option value="">any time</option>
          {SEEN_OPTIONS.map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
      </label>
      <label className="flex flex-col text-xs text-slate-600">
        Tags
        <input name="tags" defaultValue={filters.tags} placeholder="linux, db" spellCheck={false} className={`${fieldClass} w-40`} />
      </label>
      <button type="submit" className="rounded bg-slate-800 px-3 py-1 text-sm text-white hover:bg-slate-700">
        Apply
      </button>
      {isFiltered(filters) ? (
        <Link to="/hosts" className="px-1 py-1 text-sm text-slate-600 underline">
          Reset
        </Link>
      ) : null}
    </Form>
  );
}

function Tags({ tags }: { tags: string[] }) {
  if (tags.length === 0) return <span className="text-slate-400">—</span>;
  return (
    <div className="flex flex-wrap gap-1">
      {tags.map((t) => (
        <Link key={t} to={`/hosts?tags=${encodeURIComponent(t)}`} className="rounded bg-slate-100 px-1.5 py-0.5 text-xs text-slate-700 hover:bg-slate-200">
          {t}
        </Link>
      ))}
    </div>
  );
}

function HostRow({ host: h, now }: { host: HostView; now: number }) {
  return (
    <tr data-testid="host-row" data-host-id={h.id} data-transport={h.transport} data-online={h.online} data-status={h.status} className="align-top hover:bg-slate-50">
      <td className="px-3 py-2">
        <Link to={`/hosts/${encodeURIComponent(h.id)}`} className="font-medium text-blue-700 hover:underline">
          {h.name}
        </Link>
        {h.name !== h.id ? <div className="font-mono text-xs text-slate-500">{h.id}</div> : null}
      </td>
      <td className="px-3 py-2">
        <TransportBadge transport={h.transport} />
      </td>
      <td className="px-3 py-2">
        <HostStateBadge host={h} />
      </td>
      <td className="px-3 py-2 whitespace-nowrap" data-testid="host-environment">
        {h.environment ? (
          <Link to={`/hosts?environment=${encodeURIComponent(h.environment)}`} className="hover:underline">
            {h.environment}
          </Link>
        ) : (
          <span className="text-slate-400">—</span>
        )}
      </td>
      <td className="px-3 py-2" data-testid="host-group">
        {h.group ?? <span className="text-slate-400">—</span>}
      </td>
      <td className="px-3 py-2" data-testid="host-tags">
        <Tags tags={h.tags} />
      </td>
      <td className="px-3 py-2 text-xs">
        {h.transport !== 'agent' ? (
          <>
            <span className="font-mono" data-testid="host-address">
              {hostTarget(h)}
            </span>
            {h.jumpHostId ? <div className="text-slate-500">via {h.jumpHostId}</div> : null}
            {h.winrmAuth ? <div className="text-slate-500">{WINRM_AUTH_LABEL[h.winrmAuth]} authentication</div> : null}
          </>
        ) : (
          <span data-testid="host-system">
            {h.os ?? <span className="text-slate-400">OS not reported</span>}
            {h.agentVersion ? <div className="text-slate-500">agent {h.agentVersion}</div> : null}
          </span>
        )}
      </td>
      <td className="px-3 py-2">
        <HostMetrics metrics={h.metrics} />
      </td>
      <td className="px-3 py-2 text-xs">
        <LastSeen iso={h.lastSeenAt} now={now} testId="host-last-seen" />
      </td>
      <td className="px-3 py-2 text-center" data-testid="host-key-pinned" data-pinned={h.transport === 'ssh' || h.transport === 'winrm' ? h.hostKeyPinned : undefined}>
        {h.transport === 'agent' || h.transport === 'docker' ? (
          <span className="text-xs text-slate-400" title={h.transport === 'agent' ? 'Agents connect out to Drydock; no host key or certificate applies' : 'A local engine socket; no host key or certificate applies'}>
            n/a
          </span>
        ) : h.hostKeyPinned ? (
          <span
            className="text-emerald-700"
            title={h.transport === 'winrm' ? 'HTTPS certificate pinned: a different certificate stops the connection' : 'Host key pinned: a different key stops the connection'}
          >
            ✓<span className="sr-only">pinned</span>
          </span>
        ) : (
          <span className="text-xs text-slate-500" title={`The next connection pins the ${h.transport === 'winrm' ? 'certificate' : 'key'} the host presents`}>
            not yet
          </span>
        )}
      </td>
    </tr>
  );
}

export default function HostsPage({ loaderData }: Route.ComponentProps) {
  const { filters, hosts, now, deleted } = loaderData;
  // Agents turn unreachable within 30 s of their last heartbeat and runs come and go; keep the column honest.
  useRevalidateWhile(true, 10_000);
  const filtered = isFiltered(filters);
  const count = `${hosts.length} ${hosts.length === 1 ? 'host' : 'hosts'}`;
  return (
    <div>
      <div className="mb-4 flex flex-wrap items-end justify-between gap-3">
        <div>
          <h1 className="text-lg font-semibold">Hosts</h1>
          <p className="text-xs text-slate-500" data-testid="hosts-count">
            {filtered ? `${count} match these filters` : `${count}: machines with an agent, and machines Drydock reaches over SSH or WinRM`}
          </p>
        </div>
        <div className="flex items-center gap-2">
          <Link to="/hosts/install" data-testid="install-agent" className="rounded border border-slate-300 bg-white px-3 py-1.5 text-sm text-slate-700 hover:bg-slate-100">
            Install an agent
          </Link>
          <Link to="/hosts/new" data-testid="new-ssh-host" className="rounded bg-blue-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-blue-600">
            Add SSH or WinRM host
          </Link>
        </div>
      </div>

      {deleted ? (
        <p role="status" data-testid="host-message" className="mb-3 rounded border border-emerald-300 bg-emerald-50 px-3 py-2 text-sm text-emerald-900">
          Host <span className="font-mono">{deleted}</span> deleted.
        </p>
      ) : null}

      <Filters filters={filters} />

      {hosts.length === 0 ? (
        <p className="rounded border border-dashed border-slate-300 bg-white px-4 py-8 text-center text-sm text-slate-500">
          {filtered ? 'No host matches these filters.' : 'No host yet. Add one Drydock reaches over SSH or WinRM, or install an agent on it.'}
        </p>
      ) : (
        <div className="overflow-x-auto rounded border border-slate-200 bg-white">
          <table className="w-full text-left text-sm" data-testid="host-list">
            <thead className="border-b border-slate-200 bg-slate-100 text-xs uppercase tracking-wide text-slate-600">
              <tr>
                <th className="px-3 py-2 font-medium">Host</th>
                <th className="px-3 py-2 font-medium">Transport</th>
                <th className="px-3 py-2 font-medium">Status</th>
                <th className="px-3 py-2 font-medium">Environment</th>
                <th className="px-3 py-2 font-medium">Group</th>
                <th className="px-3 py-2 font-medium">Tags</th>
                <th className="px-3 py-2 font-medium">Address · system</th>
                <th className="px-3 py-2 font-medium" title="From the agent's latest heartbeat">Load · memory · disk · uptime</th>
                <th className="px-3 py-2 font-medium">Last seen</th>
                <th className="px-3 py-2 text-center font-medium" title="An SSH host's key, a WinRM host's HTTPS certificate">
                  Key pinned
                </th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {hosts.map((h) => (
                <HostRow key={h.id} host={h} now={now} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  return <RouteError error={error} />;
}
