import { type EnvironmentView, HOST_STATUSES, type HostStatus } from '@drydock/core/api-schemas';
import { Link } from 'react-router';
import type { Route } from './+types/hosts';
import { HostStateBadge, LastSeen, hostTarget, TransportBadge, WINRM_AUTH_LABEL } from '../components/host-badges.tsx';
import { EnvironmentSwatch } from '../components/environment-swatch.tsx';
import { HostMetrics } from '../components/host-metrics.tsx';
import { RouteError } from '../components/route-error.tsx';
import { ButtonLink } from '../components/ui/button.tsx';
import { noValue } from '../components/ui/fact-list.tsx';
import { FilterBar, FilterInput, FilterSelect } from '../components/ui/filter-bar.tsx';
import { Notice } from '../components/ui/notice.tsx';
import { PageHeader } from '../components/ui/page-header.tsx';
import { DataTable, RowLink, type Column } from '../components/ui/table.tsx';
import { TagList } from '../components/ui/tag-list.tsx';
import type { HostView } from '@drydock/core/api-schemas';
import { loadEnvironments, loadHostList, readHostFilters, type HostFilters } from '../lib/hosts.server.ts';
import { useRevalidateWhile } from '../lib/polling.ts';

export const meta: Route.MetaFunction = () => [{ title: 'Hosts · Drydock' }];

export async function loader({ request }: Route.LoaderArgs) {
  const url = new URL(request.url);
  const filters = readHostFilters(url);
  const [hosts, environments] = await Promise.all([loadHostList(request, filters), loadEnvironments(request)]);
  return { filters, hosts, environments, now: Date.now(), deleted: url.searchParams.get('deleted') };
}

/** The status filter's choices as the select names them; each badge's title says more. */
const STATUS_OPTION: Record<HostStatus, string> = {
  idle: 'idle',
  busy: 'busy (running jobs)',
  maintenance: 'maintenance (locked)',
  unreachable: 'unreachable',
  error: 'error (needs a person)',
};

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

const TRANSPORT_OPTIONS = [
  ['agent', 'agent'],
  ['ssh', 'SSH'],
  ['winrm', 'WinRM'],
  ['docker', 'Docker engine'],
] as const;

function isFiltered(filters: HostFilters): boolean {
  return Object.values(filters).some((v) => v !== '');
}

function Filters({ filters, environments }: { filters: HostFilters; environments: EnvironmentView[] }) {
  return (
    <FilterBar key={JSON.stringify(filters)} action="/hosts" filtered={isFiltered(filters)} testId="host-filters">
      <FilterSelect label="Environment" name="environment" value={filters.environment} anyLabel="any" options={environments.map((e) => [e.name, e.name])} autoApply />
      <FilterSelect label="Transport" name="transport" value={filters.transport} anyLabel="any" options={TRANSPORT_OPTIONS} autoApply />
      <FilterSelect label="Status" name="status" value={filters.status} anyLabel="any" options={HOST_STATUSES.map((status) => [status, STATUS_OPTION[status]])} autoApply />
      <FilterSelect label="Last seen" name="seen" value={filters.seen} anyLabel="any time" options={SEEN_OPTIONS} autoApply testId="host-seen-filter" />
      <FilterInput label="Tags" name="tags" defaultValue={filters.tags} placeholder="linux, db" spellCheck={false} className="w-40" />
    </FilterBar>
  );
}

function KeyPinned({ host: h }: { host: HostView }) {
  if (h.transport === 'agent' || h.transport === 'docker') {
    return (
      <span className="text-xs text-slate-400" title={h.transport === 'agent' ? 'Agents connect out to Drydock; no host key or certificate applies' : 'A local engine socket; no host key or certificate applies'}>
        n/a
      </span>
    );
  }
  if (h.hostKeyPinned) {
    return (
      <span className="text-emerald-700" title={h.transport === 'winrm' ? 'HTTPS certificate pinned: a different certificate stops the connection' : 'Host key pinned: a different key stops the connection'}>
        ✓<span className="sr-only">pinned</span>
      </span>
    );
  }
  return (
    <span className="text-xs text-slate-500" title={`The next connection pins the ${h.transport === 'winrm' ? 'certificate' : 'key'} the host presents`}>
      not yet
    </span>
  );
}

function columns(now: number, colours: Map<string, string>): Column<HostView>[] {
  return [
    { key: 'host', header: 'Host', cell: (h) => <RowLink to={`/hosts/${encodeURIComponent(h.id)}`} id={h.name !== h.id ? h.id : undefined}>{h.name}</RowLink> },
    { key: 'transport', header: 'Transport', cell: (h) => <TransportBadge transport={h.transport} /> },
    { key: 'status', header: 'Status', cell: (h) => <HostStateBadge host={h} /> },
    {
      key: 'environment',
      header: 'Environment',
      nowrap: true,
      testId: 'host-environment',
      cell: (h) =>
        h.environment ? (
          <Link to={`/hosts?environment=${encodeURIComponent(h.environment)}`} className="hover:underline">
            <EnvironmentSwatch name={h.environment} colour={colours.get(h.environment)} />
          </Link>
        ) : (
          noValue
        ),
    },
    { key: 'group', header: 'Group', testId: 'host-group', cell: (h) => h.group ?? noValue },
    { key: 'tags', header: 'Tags', testId: 'host-tags', cell: (h) => <TagList tags={h.tags} to={(t) => `/hosts?tags=${encodeURIComponent(t)}`} /> },
    {
      key: 'address',
      header: 'Address · system',
      className: 'text-xs',
      cell: (h) =>
        h.transport !== 'agent' ? (
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
        ),
    },
    { key: 'metrics', header: 'Load · memory · disk · uptime', title: "From the agent's latest heartbeat", cell: (h) => <HostMetrics metrics={h.metrics} /> },
    { key: 'seen', header: 'Last seen', className: 'text-xs', cell: (h) => <LastSeen iso={h.lastSeenAt} now={now} testId="host-last-seen" /> },
    {
      key: 'pinned',
      header: 'Key pinned',
      align: 'center',
      title: "An SSH host's key, a WinRM host's HTTPS certificate",
      cell: (h) => (
        <span data-testid="host-key-pinned" data-pinned={h.transport === 'ssh' || h.transport === 'winrm' ? h.hostKeyPinned : undefined}>
          <KeyPinned host={h} />
        </span>
      ),
    },
  ];
}

export default function HostsPage({ loaderData }: Route.ComponentProps) {
  const { filters, hosts, environments, now, deleted } = loaderData;
  const colours = new Map(environments.map((e) => [e.name, e.colour]));
  // Agents turn unreachable within 30 s of their last heartbeat and runs come and go; keep the column honest.
  useRevalidateWhile(true, 10_000);
  const filtered = isFiltered(filters);
  const count = `${hosts.length} ${hosts.length === 1 ? 'host' : 'hosts'}`;
  return (
    <div className="space-y-3">
      <PageHeader
        title="Hosts"
        note={filtered ? `${count} match these filters` : `${count}: machines with an agent, and machines Drydock reaches over SSH or WinRM`}
        noteTestId="hosts-count"
        actions={
          <>
            <ButtonLink to="/hosts/install" testId="install-agent">
              Install an agent
            </ButtonLink>
            <ButtonLink to="/hosts/new" variant="primary" testId="new-ssh-host">
              Add SSH or WinRM host
            </ButtonLink>
          </>
        }
      />
      {deleted ? (
        <Notice tone="success" testId="host-message">
          Host <span className="font-mono">{deleted}</span> deleted.
        </Notice>
      ) : null}
      <Filters filters={filters} environments={environments} />
      <DataTable
        rows={hosts}
        columns={columns(now, colours)}
        rowKey={(h) => h.id}
        row={(h) => ({ 'data-testid': 'host-row', 'data-host-id': h.id, 'data-transport': h.transport, 'data-online': h.online, 'data-status': h.status })}
        testId="host-list"
        empty={filtered ? 'No host matches these filters.' : 'No host yet. Add one Drydock reaches over SSH or WinRM, or install an agent on it.'}
      />
    </div>
  );
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  return <RouteError error={error} />;
}
