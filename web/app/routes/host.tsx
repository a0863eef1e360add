import type { ReactNode } from 'react';
import { Form, Link, data, useNavigation } from 'react-router';
import type { Route } from './+types/host';
import { ConfirmDelete } from '../components/confirm-delete.tsx';
import { HostStateBadge, LastSeen, hostTarget, TransportBadge, WINRM_AUTH_LABEL } from '../components/host-badges.tsx';
import { HostForm } from '../components/host-form.tsx';
import { HostMetrics } from '../components/host-metrics.tsx';
import { RouteError } from '../components/route-error.tsx';
import type { HostView } from '../lib/api-views.ts';
import { deleteHost, loadHost, loadHostCredentials, loadJumpHosts, resetHostKey, updateHost } from '../lib/hosts.server.ts';
import { useRevalidateWhile } from '../lib/polling.ts';

export const meta: Route.MetaFunction = ({ loaderData }) => [{ title: `${loaderData?.host.name ?? 'Host'} · Drydock` }];

export async function loader({ request, params }: Route.LoaderArgs) {
  const host = await loadHost(request, params.id);
  const [credentials, jumpHosts] =
    host.transport === 'ssh'
      ? await Promise.all([loadHostCredentials(request), loadJumpHosts(request, host.id)])
      : host.transport === 'winrm'
        ? [await loadHostCredentials(request), []]
        : [[], []];
  return { host, credentials, jumpHosts, now: Date.now() };
}

export async function action({ request, params }: Route.ActionArgs) {
  const form = await request.formData();
  switch (form.get('_intent')) {
    case 'save':
      return updateHost(request, params.id, form);
    case 'reset-host-key':
      return resetHostKey(request, params.id);
    case 'delete':
      return deleteHost(request, params.id);
    default:
      throw data({ code: 'invalid', message: 'This form does not do that.' }, { status: 400 });
  }
}

function Fact({ term, children, testId }: { term: string; children: ReactNode; testId?: string }) {
  return (
    <div className="min-w-0">
      <dt className="text-xs text-slate-500">{term}</dt>
      <dd className="truncate text-sm" data-testid={testId}>
        {children}
      </dd>
    </div>
  );
}

const none = <span className="text-slate-400">—</span>;

function Facts({ host: h, now }: { host: HostView; now: number }) {
  const labels = (
    <>
      <Fact term="Environment" testId="host-environment">
        {h.environment ?? none}
      </Fact>
      <Fact term="Group" testId="host-group">
        {h.group ?? none}
      </Fact>
      <Fact term="Tags" testId="host-tags">
        {h.tags.length > 0 ? h.tags.join(', ') : none}
      </Fact>
    </>
  );
  return (
    <dl className="grid grid-cols-2 gap-x-6 gap-y-3 rounded border border-slate-200 bg-white px-4 py-3 sm:grid-cols-4" data-testid="host-facts">
      {h.transport === 'docker' ? (
        <>
          <Fact term="Engine socket" testId="host-address">
            <span className="font-mono">{hostTarget(h)}</span>
          </Fact>
          <Fact term="Last used">
            <LastSeen iso={h.lastSeenAt} now={now} testId="host-last-seen" />
          </Fact>
        </>
      ) : h.transport !== 'agent' ? (
        <>
          <Fact term="Connects to" testId="host-address">
            <span className="font-mono">{hostTarget(h)}</span>
          </Fact>
          <Fact term="Credential" testId="host-credential">
            {h.credential ? (
              <Link to="/credentials" className="hover:underline">
                {h.credential.name}
              </Link>
            ) : (
              none
            )}
          </Fact>
          {h.transport === 'winrm' ? (
            <Fact term="Authentication" testId="host-winrm-auth">
              {h.winrmAuth ? WINRM_AUTH_LABEL[h.winrmAuth] : none}
            </Fact>
          ) : (
            <Fact term="Jump host" testId="host-jump">
              {h.jumpHostId ? (
                <Link to={`/hosts/${encodeURIComponent(h.jumpHostId)}`} className="font-mono hover:underline">
                  {h.jumpHostId}
                </Link>
              ) : (
                'none: direct'
              )}
            </Fact>
          )}
          <Fact term="Last reached">
            <LastSeen iso={h.lastSeenAt} now={now} testId="host-last-seen" />
          </Fact>
        </>
      ) : (
        <>
          <Fact term="Operating system" testId="host-system">
            {h.os ?? 'not reported'}
          </Fact>
          <Fact term="Agent version" testId="host-agent-version">
            {h.agentVersion ?? 'not reported'}
          </Fact>
          <Fact term="Last heartbeat">
            <LastSeen iso={h.lastSeenAt} now={now} testId="host-last-seen" />
          </Fact>
          <Fact term="Load · memory · disk · uptime">
            <HostMetrics metrics={h.metrics} />
          </Fact>
        </>
      )}
      {labels}
    </dl>
  );
}

/** Why the host is in error, and how it clears; the reason names what to fix. */
function LastError({ host: h, now }: { host: HostView; now: number }) {
  if (!h.lastError) return null;
  const clears =
    h.transport === 'agent'
      ? 'It clears once the agent has a working token again.'
      : `It clears at the next ${h.transport === 'docker' ? 'run on this engine' : 'connection'} that succeeds: fix the cause, then run a script here.`;
  return (
    <div role="alert" data-testid="host-error" className="rounded border border-red-200 bg-red-50 px-4 py-3 text-sm text-red-900">
      <p className="font-medium">
        {h.transport === 'agent' ? 'Its agent was locked out' : 'The last contact failed'} <LastSeen iso={h.lastError.at} now={now} />
      </p>
      <p className="mt-1 font-mono text-xs break-words" data-testid="host-error-reason">
        {h.lastError.message}
      </p>
      <p className="mt-1 text-xs text-red-800">{clears}</p>
    </div>
  );
}

function HostKeyPanel({ host, outcome }: { host: HostView; outcome: { ok: boolean; message: string } | undefined }) {
  const navigation = useNavigation();
  const busy = navigation.state !== 'idle' && navigation.formData?.get('_intent') === 'reset-host-key';
  const winrm = host.transport === 'winrm';
  const key = winrm ? 'certificate' : 'key';
  return (
    <section className="self-start rounded border border-slate-200 bg-white p-4" data-testid="host-key">
      <h2 className="mb-2 text-sm font-semibold">{winrm ? 'HTTPS certificate' : 'Host key'}</h2>
      <p className="flex items-center gap-1.5 text-sm" data-testid="host-key-state" data-pinned={host.hostKeyPinned}>
        {host.hostKeyPinned ? (
          <>
            <span aria-hidden className="text-emerald-700">
              ✓
            </span>
            Pinned: Drydock refuses to connect if the host presents another {key}.
          </>
        ) : (
          `Not pinned yet: the next connection pins the ${key} the host presents.`
        )}
      </p>
      {winrm ? (
        <p className="mt-2 text-xs text-slate-600">
          Windows hosts usually present a self-signed certificate, so Drydock pins its SHA-256 fingerprint the first time it connects and checks it every time after, before
          sending any credential. Reset the pin when runs fail with <q className="font-mono">the TLS certificate of … changed since it was pinned</q> because the host's WinRM
          certificate was renewed or replaced. If nothing like that happened, find out why first: a different certificate can mean the connection is being intercepted.
        </p>
      ) : (
        <p className="mt-2 text-xs text-slate-600">
          Drydock trusts a host's SSH key the first time it connects and checks it every time after. Reset it when runs fail with{' '}
          <q className="font-mono">host key … changed since it was pinned</q> because the machine was rebuilt, reinstalled or given new SSH host keys. If nothing like that
          happened, find out why first: a different key can mean the connection is being intercepted.
        </p>
      )}
      {outcome ? (
        <p role={outcome.ok ? 'status' : 'alert'} data-testid="host-key-message" className={`mt-2 text-sm ${outcome.ok ? 'text-emerald-800' : 'text-red-700'}`}>
          {outcome.message}
        </p>
      ) : null}
      <Form method="post" className="mt-3">
        <input type="hidden" name="_intent" value="reset-host-key" />
        <button
          type="submit"
          disabled={busy}
          data-testid="reset-host-key"
          className="rounded border border-slate-300 bg-white px-3 py-1.5 text-sm text-slate-700 hover:bg-slate-100 disabled:opacity-60"
        >
          {busy ? 'Resetting…' : winrm ? 'Reset certificate pin' : 'Reset host key'}
        </button>
      </Form>
    </section>
  );
}

function EnginePanel({ host }: { host: HostView }) {
  return (
    <section className="self-start rounded border border-slate-200 bg-white p-4 text-sm text-slate-700" data-testid="engine-panel">
      <h2 className="mb-2 text-sm font-semibold text-slate-900">Docker engine</h2>
      <p>
        Scripts whose manifest says <code className="font-mono text-xs">runner: docker</code> run here, each in a fresh container of its{' '}
        <code className="font-mono text-xs">runner_image</code>, started by a central worker on <span className="font-mono">{host.address}</span> and removed afterwards.
      </p>
      <p className="mt-2">
        Drydock never pulls images: build or load them on this engine first. A container gets no network unless its manifest asks for it.
      </p>
    </section>
  );
}

function AgentPanel({ host }: { host: HostView }) {
  return (
    <section className="self-start rounded border border-slate-200 bg-white p-4 text-sm text-slate-700">
      <h2 className="mb-2 text-sm font-semibold text-slate-900">Its agent</h2>
      <p>
        The agent on <span className="font-mono">{host.id}</span> runs this host's scripts and sends a heartbeat every 10&nbsp;s; it shows unreachable 30&nbsp;s after the last one,
        unless Temporal still sees it polling its queue.
      </p>
      <p className="mt-2">
        Its tags come from <code className="font-mono text-xs">DRYDOCK_AGENT_TAGS</code> in the agent's environment and travel with every heartbeat, so change them there.
      </p>
      <p className="mt-2">
        <Link to="/hosts/install" className="text-blue-700 hover:underline">
          Install an agent
        </Link>{' '}
        shows the settings an agent needs.
      </p>
    </section>
  );
}

export default function HostPage({ loaderData, actionData }: Route.ComponentProps) {
  const { host: h, credentials, jumpHosts, now } = loaderData;
  const save = actionData?.intent === 'save' ? actionData : undefined;
  const failure = save && 'fields' in save ? save : undefined;
  const reset = actionData?.intent === 'reset-host-key' ? actionData : undefined;
  const deleteFailure = actionData?.intent === 'delete' ? actionData : undefined;
  const agentless = h.transport === 'ssh' || h.transport === 'winrm';
  // Heartbeats and first connections change the facts above; unchanged settings keep what is being typed.
  useRevalidateWhile(true, 10_000);

  return (
    <div className="space-y-5">
      <div className="flex flex-wrap items-start justify-between gap-3">
        <div>
          <p className="text-xs text-slate-500">
            <Link to="/hosts" className="hover:underline">
              Hosts
            </Link>{' '}
            / <span className="font-mono">{h.id}</span>
          </p>
          <h1 className="flex flex-wrap items-center gap-2 text-lg font-semibold">
            {h.name}
            <TransportBadge transport={h.transport} />
            <HostStateBadge host={h} />
          </h1>
        </div>
        <div className="flex items-start gap-2">
          <Link
            to={`/locks?host=${encodeURIComponent(h.id)}`}
            data-testid="host-lock"
            title={h.lock ? `${h.lock.type} lock held by ${h.lock.holder}: ${h.lock.reason}` : "Take this host's lock, or see who waits for it"}
            className={`rounded border px-3 py-1.5 text-sm whitespace-nowrap ${h.lock ? 'border-amber-300 bg-amber-50 text-amber-900 hover:bg-amber-100' : 'border-slate-300 bg-white text-slate-700 hover:bg-slate-100'}`}
          >
            {h.lock ? `Locked · ${h.lock.type}` : 'Lock'}
          </Link>
          <Link
            to={`/runs?host=${encodeURIComponent(h.id)}`}
            data-testid="host-runs"
            className="rounded border border-slate-300 bg-white px-3 py-1.5 text-sm whitespace-nowrap text-slate-700 hover:bg-slate-100"
          >
            Runs here
          </Link>
          <Link
            to={`/?host=${encodeURIComponent(h.id)}`}
            data-testid="run-script-here"
            className="rounded bg-blue-700 px-3 py-1.5 text-sm font-medium whitespace-nowrap text-white hover:bg-blue-600"
          >
            Run a script here
          </Link>
          <ConfirmDelete
            what={`the host ${h.name}`}
            consequence={
              h.transport !== 'agent'
                ? `Scripts can no longer run on it. Past runs and their logs stay in the history.${h.transport === 'ssh' ? ' A host that jumps through it must be changed first.' : ''}`
                : "Its agent's token is revoked, so the agent can no longer report. Stop the agent on the host too: started again with the registration secret, it registers the host anew."
            }
          />
        </div>
      </div>

      {deleteFailure ? (
        <p role="alert" data-testid="host-message" className="rounded border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">
          {deleteFailure.message}
        </p>
      ) : null}

      <LastError host={h} now={now} />

      <Facts host={h} now={now} />

      <div className="grid gap-5 lg:grid-cols-[1fr_24rem]">
        <section className="rounded border border-slate-200 bg-white p-4">
          <h2 className="mb-3 text-sm font-semibold">{agentless ? 'Settings' : 'Labels'}</h2>
          <HostForm
            mode="edit"
            host={h}
            submitted={failure?.values}
            credentials={credentials}
            jumpHosts={jumpHosts}
            errors={failure?.fields ?? {}}
            message={save?.message ?? null}
            saved={save !== undefined && failure === undefined}
          />
        </section>
        {h.transport === 'docker' ? <EnginePanel host={h} /> : agentless ? <HostKeyPanel host={h} outcome={reset} /> : <AgentPanel host={h} />}
      </div>
    </div>
  );
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  return <RouteError error={error} />;
}
