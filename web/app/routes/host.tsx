import { Link, data } from 'react-router';
import type { Route } from './+types/host';
import { ConfirmDelete } from '../components/confirm-delete.tsx';
import { HostStateBadge, LastSeen, hostTarget, TransportBadge, WINRM_AUTH_LABEL } from '../components/host-badges.tsx';
import { HostForm } from '../components/host-form.tsx';
import { HostMetrics } from '../components/host-metrics.tsx';
import { RouteError } from '../components/route-error.tsx';
import { ActionForm, ButtonLink, IntentButton } from '../components/ui/button.tsx';
import { Fact, FactList, noValue } from '../components/ui/fact-list.tsx';
import { Notice, OutcomeNotice } from '../components/ui/notice.tsx';
import { PageHeader } from '../components/ui/page-header.tsx';
import { Panel } from '../components/ui/panel.tsx';
import type { HostView } from '@drydock/core/api-schemas';
import { deleteHost, loadEnvironments, loadHost, loadHostCredentials, loadJumpHosts, resetHostKey, updateHost } from '../lib/hosts.server.ts';
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
  const environments = (await loadEnvironments(request)).map((e) => e.name);
  return { host, credentials, jumpHosts, environments, now: Date.now() };
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

function Facts({ host: h, now }: { host: HostView; now: number }) {
  const labels = (
    <>
      <Fact term="Environment" testId="host-environment">
        {h.environment ?? noValue}
      </Fact>
      <Fact term="Group" testId="host-group">
        {h.group ?? noValue}
      </Fact>
      <Fact term="Tags" testId="host-tags">
        {h.tags.length > 0 ? h.tags.join(', ') : noValue}
      </Fact>
    </>
  );
  return (
    <FactList columns={4} testId="host-facts">
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
              noValue
            )}
          </Fact>
          {h.transport === 'winrm' ? (
            <Fact term="Authentication" testId="host-winrm-auth">
              {h.winrmAuth ? WINRM_AUTH_LABEL[h.winrmAuth] : noValue}
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
    </FactList>
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
  const winrm = host.transport === 'winrm';
  const key = winrm ? 'certificate' : 'key';
  return (
    <Panel title={winrm ? 'HTTPS certificate' : 'Host key'} testId="host-key" className="self-start">
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
      <OutcomeNotice outcome={outcome} testId="host-key-message" className="mt-2" />
      <ActionForm className="mt-3">
        <IntentButton intent="reset-host-key" variant="secondary" busyLabel="Resetting…" testId="reset-host-key">
          {winrm ? 'Reset certificate pin' : 'Reset host key'}
        </IntentButton>
      </ActionForm>
    </Panel>
  );
}

function EnginePanel({ host }: { host: HostView }) {
  return (
    <Panel title="Docker engine" testId="engine-panel" className="self-start text-sm text-slate-700">
      <p>
        Scripts whose manifest says <code className="font-mono text-xs">runner: docker</code> run here, each in a fresh container of its{' '}
        <code className="font-mono text-xs">runner_image</code>, started by a central worker on <span className="font-mono">{host.address}</span> and removed afterwards.
      </p>
      <p className="mt-2">
        Drydock never pulls images: build or load them on this engine first. A container gets no network unless its manifest asks for it.
      </p>
    </Panel>
  );
}

function AgentPanel({ host }: { host: HostView }) {
  return (
    <Panel title="Its agent" className="self-start text-sm text-slate-700">
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
    </Panel>
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
      <PageHeader
        crumbs={[{ label: 'Hosts', to: '/hosts' }, { label: <span className="font-mono">{h.id}</span> }]}
        title={h.name}
        badges={
          <>
            <TransportBadge transport={h.transport} />
            <HostStateBadge host={h} />
          </>
        }
        actions={
          <>
            <ButtonLink
              to={`/locks?host=${encodeURIComponent(h.id)}`}
              variant={h.lock ? 'warning-outline' : 'secondary'}
              testId="host-lock"
              title={h.lock ? `${h.lock.type} lock held by ${h.lock.holder}: ${h.lock.reason}` : "Take this host's lock, or see who waits for it"}
            >
              {h.lock ? `Locked · ${h.lock.type}` : 'Lock'}
            </ButtonLink>
            <ButtonLink to={`/runs?host=${encodeURIComponent(h.id)}`} testId="host-runs">
              Runs here
            </ButtonLink>
            <ButtonLink to={`/?host=${encodeURIComponent(h.id)}`} variant="primary" testId="run-script-here">
              Run a script here
            </ButtonLink>
            <ConfirmDelete
              what={`the host ${h.name}`}
              consequence={
                h.transport !== 'agent'
                  ? `Scripts can no longer run on it. Past runs and their logs stay in the history.${h.transport === 'ssh' ? ' A host that jumps through it must be changed first.' : ''}`
                  : "Its agent's token is revoked, so the agent can no longer report. Stop the agent on the host too: started again with the registration secret, it registers the host anew."
              }
            />
          </>
        }
      />

      {deleteFailure ? <Notice tone="error" testId="host-message">{deleteFailure.message}</Notice> : null}

      <LastError host={h} now={now} />

      <Facts host={h} now={now} />

      <div className="grid gap-5 lg:grid-cols-[1fr_24rem]">
        <Panel title={agentless ? 'Settings' : 'Labels'}>
          <HostForm
            mode="edit"
            environments={loaderData.environments}
            host={h}
            submitted={failure?.values}
            credentials={credentials}
            jumpHosts={jumpHosts}
            errors={failure?.fields ?? {}}
            message={save?.message ?? null}
            saved={save !== undefined && failure === undefined}
          />
        </Panel>
        {h.transport === 'docker' ? <EnginePanel host={h} /> : agentless ? <HostKeyPanel host={h} outcome={reset} /> : <AgentPanel host={h} />}
      </div>
    </div>
  );
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  return <RouteError error={error} />;
}
