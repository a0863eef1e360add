import type { ReactNode } from 'react';
import { Form, Link, data, useSearchParams } from 'react-router';
import type { Route } from './+types/host-install';
import { CopyButton } from '../components/copy-button.tsx';
import { NameValueTable } from '../components/name-value-table.tsx';
import { RouteError } from '../components/route-error.tsx';
import { revokeColumn, tokenStateColumn } from '../components/token-columns.tsx';
import { Button, ButtonLink } from '../components/ui/button.tsx';
import { Field } from '../components/ui/field.tsx';
import { Notice } from '../components/ui/notice.tsx';
import { PageHeader } from '../components/ui/page-header.tsx';
import { Panel } from '../components/ui/panel.tsx';
import { IntentButton } from '../components/ui/button.tsx';
import { useCheckedForm } from '../components/ui/form.ts';
import { DataTable, type Column } from '../components/ui/table.tsx';
import type { FieldErrors } from '../lib/form-errors.ts';
import { formatDateTime } from '../lib/format.ts';
import type { RegistrationTokenView } from '@drydock/core/api-schemas';
import { checkRegistrationToken, withIssuedToken } from '../lib/registration-token.ts';
import { loadAgentInstall, registrationTokenAction, type AgentInstallPage, type RegistrationOutcome } from './host-install.server.ts';

export const meta: Route.MetaFunction = () => [{ title: 'Install an agent · Drydock' }];

// The page can carry the registration secret: no cache keeps a copy.
export const headers: Route.HeadersFunction = () => ({ 'Cache-Control': 'no-store' });

export async function loader({ request }: Route.LoaderArgs) {
  return loadAgentInstall(request);
}

export async function action({ request }: Route.ActionArgs) {
  const { outcome, status } = await registrationTokenAction(request);
  return data(outcome, { status });
}

const ENV_FILE = '/etc/drydock/agent.env';
const UNIT_FILE = '/etc/systemd/system/drydock-agent.service';
const CHECKOUT = '/opt/drydock';

const SYSTEMD_UNIT = `[Unit]
Description=Drydock agent
Wants=network-online.target
After=network-online.target

[Service]
User=drydock
WorkingDirectory=${CHECKOUT}
EnvironmentFile=${ENV_FILE}
Environment=DRYDOCK_DATA_DIR=/var/lib/drydock
StateDirectory=drydock
ExecStart=/usr/bin/node ${CHECKOUT}/agent/src/main.ts
Restart=always
RestartSec=5

[Install]
WantedBy=multi-user.target
`;

function Step({ n, title, children, testId }: { n: number; title: string; children: ReactNode; testId?: string }) {
  return (
    <Panel
      testId={testId}
      title={
        <span className="flex items-center gap-2">
          <span aria-hidden className="inline-flex size-5 items-center justify-center rounded-full bg-slate-800 text-xs text-white">
            {n}
          </span>
          {title}
        </span>
      }
    >
      <div className="space-y-2 text-sm text-slate-700">{children}</div>
    </Panel>
  );
}

function Code({ children, testId, copy }: { children: string; testId?: string; copy?: boolean }) {
  return (
    <div className="relative">
      <pre data-testid={testId} className="overflow-x-auto rounded border border-slate-200 bg-slate-50 px-3 py-2 font-mono text-xs whitespace-pre text-slate-900">
        {children}
      </pre>
      {copy ? (
        <div className="absolute top-1.5 right-1.5">
          <CopyButton text={children} />
        </div>
      ) : null}
    </div>
  );
}

/** The install page's own URL with some parameters changed. */
function useInstallHref(changes: Record<string, string | null>): string {
  const [params] = useSearchParams();
  const next = new URLSearchParams(params);
  for (const [k, v] of Object.entries(changes)) {
    if (v === null) next.delete(k);
    else next.set(k, v);
  }
  const query = next.toString();
  return query ? `/hosts/install?${query}` : '/hosts/install';
}

function NameForm({ page }: { page: AgentInstallPage }) {
  const setting = (name: string) => <span className="font-mono font-normal text-slate-500">{name}</span>;
  return (
    <Form method="get" key={`${page.hostName}|${page.tags}`} className="flex flex-wrap items-start gap-3" data-testid="agent-name-form">
      {page.showSecrets ? <input type="hidden" name="secrets" value="show" /> : null}
      {page.os === 'windows' ? <input type="hidden" name="os" value="windows" /> : null}
      <Field name="host" id="agent-host" label="Host name" aside={<> {setting('DRYDOCK_AGENT_HOST')}</>} messages={page.fields.host}>
        {(props) => <input {...props} defaultValue={page.hostName} placeholder="db-staging-1" spellCheck={false} className={`${props.className} w-56 font-mono`} />}
      </Field>
      <Field name="tags" id="agent-tags" label="Tags" aside={<> {setting('DRYDOCK_AGENT_TAGS')}</>} messages={page.fields.tags}>
        {(props) => <input {...props} defaultValue={page.tags} placeholder="linux, db" spellCheck={false} className={`${props.className} w-56`} />}
      </Field>
      <Button type="submit" variant="filter" className="mt-5">
        Fill in
      </Button>
    </Form>
  );
}

function ExistingHost({ page }: { page: AgentInstallPage }) {
  const host = page.existing;
  if (!host) return null;
  const link = (
    <Link to={`/hosts/${encodeURIComponent(host.id)}`} className="font-mono underline">
      {host.id}
    </Link>
  );
  return (
    <Notice tone="warning" testId="agent-host-exists" className="text-xs">
      {host.transport === 'agent' ? (
        <>A host named {link} already has an agent. Registering this one revokes the earlier agent's token: stop that agent too.</>
      ) : (
        <>{link} is reached over {host.transport === 'winrm' ? 'WinRM' : 'SSH'}, so an agent cannot register under that name. Pick another name, or delete that host first.</>
      )}
    </Notice>
  );
}

/** The settings with secret values left out: what the file holds, before anyone asks to see the secrets. */
function MaskedSettings({ settings }: { settings: AgentInstallPage['settings'] }) {
  const shown = (s: AgentInstallPage['settings'][number]) =>
    s.secret ? <span className="text-slate-500">•••••••• hidden</span> : s.value === '' ? <span className="text-slate-400">(empty)</span> : s.value;
  return <NameValueTable rows={settings.map((s) => [s.name, shown(s)])} testId="agent-settings" rowAttribute="data-setting" framed />;
}

function SecretsToggle({ page }: { page: AgentInstallPage }) {
  const toggle = useInstallHref({ secrets: page.showSecrets ? null : 'show' });
  const secrets = page.settings.filter((s) => s.secret).map((s) => s.name);
  return (
    <div className="flex items-center gap-3">
      <ButtonLink to={toggle} replace preventScrollReset testId="toggle-secrets" data-shown={page.showSecrets}>
        {page.showSecrets ? 'Hide secrets' : 'Show secrets'}
      </ButtonLink>
      <span className="text-xs text-slate-500">
        {secrets.length > 0 ? `Secret: ${secrets.join(', ')}. ` : ''}
        Anyone who has the registration secret can register an agent and receive scripts to run.
      </span>
    </div>
  );
}

function EnvironmentFile({ page }: { page: AgentInstallPage }) {
  return (
    <>
      <p>Create it readable by root only; systemd reads it before it starts the agent:</p>
      <Code copy>{`sudo install -d -m 755 /etc/drydock\nsudo install -m 600 /dev/null ${ENV_FILE}\nsudoedit ${ENV_FILE}`}</Code>
      <SecretsToggle page={page} />
      {page.envFile !== null ? (
        <Code testId="agent-env-file" copy>
          {page.envFile}
        </Code>
      ) : (
        <>
          <MaskedSettings settings={page.settings} />
          <p data-testid="secrets-hidden" className="text-xs text-slate-500">
            The file to paste, secrets included, appears once you show secrets.
          </p>
        </>
      )}
      {page.hostName === '' || page.fields.host ? (
        <p className="text-xs text-amber-800">
          Replace <code className="font-mono">&lt;host-name&gt;</code> with the host's name, or fill it in above.
        </p>
      ) : null}
      <p className="text-xs text-slate-500">
        The registration secret is needed only while the agent registers: on its first start, or after its token was revoked. Once the host shows online you may remove that
        line.
      </p>
    </>
  );
}

const TOKEN_COLUMNS: Column<RegistrationTokenView>[] = [
  { key: 'name', header: 'Name', testId: 'registration-token-name', cell: (t) => t.name },
  { key: 'prefix', header: 'Starts with', mono: true, cell: (t) => `${t.prefix}…` },
  tokenStateColumn('registration-token-state'),
  { key: 'uses', header: 'Agents registered', numeric: true, testId: 'registration-token-uses', cell: (t) => t.uses },
  { key: 'expires', header: 'Expires (UTC)', mono: true, nowrap: true, cell: (t) => formatDateTime(t.expiresAt) },
  revokeColumn('registration-token-revoke'),
];

function IssueTokenForm({ errors: serverErrors }: { errors: FieldErrors }) {
  const { errors, onSubmit, onChange } = useCheckedForm({ check: checkRegistrationToken, serverErrors, intents: ['issue'] });
  return (
    <Form method="post" noValidate onSubmit={onSubmit} onChange={onChange} className="flex flex-wrap items-start gap-3" data-testid="registration-token-form">
      <Field name="name" id="registration-token-name" label="Name" required description="Where it goes: “staging rack”." messages={errors.name}>
        {(props) => <input {...props} type="text" className={`${props.className} w-56`} />}
      </Field>
      <Field name="expiresInDays" id="registration-token-days" label="Expires after (days)" messages={errors.expiresInDays}>
        {(props) => <input {...props} type="number" min={1} max={90} defaultValue={7} className={`${props.className} w-24`} />}
      </Field>
      <IntentButton intent="issue" busyLabel="Issuing…" testId="registration-token-issue" className="mt-5">
        Issue a registration token
      </IntentButton>
    </Form>
  );
}

/** A team's own registration tokens: an agent that registers with one joins this team. */
function RegistrationTokens({ page, outcome }: { page: AgentInstallPage; outcome: RegistrationOutcome | undefined }) {
  return (
    <Panel title="Registration tokens of this team" testId="registration-tokens">
      <div className="space-y-3 text-sm text-slate-700">
        <p>
          An agent that registers with one of these tokens joins this team: its host, runs, logs and locks are this team's only. A token registers any number of agents until
          it expires or is revoked; agents already registered keep their own tokens.
          {page.needsRegistrationToken ? ' Issue one for the file below: it takes the place of <registration-token>.' : ' The registration secret below registers agents into the default team.'}
        </p>
        {outcome?.ok && outcome.intent === 'issue' ? (
          <Notice tone="success" as="div" testId="registration-token-issued">
            <p>Registration token “{outcome.issued.name}” issued. Copy it now: it is shown this once, and Drydock keeps only its hash. It is written into the settings below while this page is open.</p>
            <input
              readOnly
              value={outcome.issued.token}
              aria-label="The new registration token"
              onFocus={(event) => event.currentTarget.select()}
              className="mt-2 block w-full rounded border border-emerald-300 bg-white px-2 py-1 font-mono text-sm"
              data-testid="registration-token-value"
            />
          </Notice>
        ) : outcome ? (
          <Notice tone={outcome.ok ? 'success' : 'error'} testId="registration-token-message">
            {outcome.message}
          </Notice>
        ) : null}
        <DataTable
          rows={page.registrationTokens}
          columns={TOKEN_COLUMNS}
          rowKey={(t) => t.id}
          row={(t) => ({ 'data-testid': 'registration-token-row', 'data-name': t.name })}
          testId="registration-token-list"
          label="Registration tokens"
          empty="No registration tokens yet."
        />
        <IssueTokenForm errors={outcome && !outcome.ok && outcome.intent === 'issue' ? outcome.fields : {}} />
      </div>
    </Panel>
  );
}

/** Addresses the API gave that another host cannot reach. */
function LoopbackWarning({ page }: { page: AgentInstallPage }) {
  return page.loopback.length > 0 ? (
    <Notice tone="warning" as="div" role="alert" testId="agent-loopback" className="text-xs">
      {page.loopback.map((l) => (
        <p key={l.name}>
          <span className="font-mono">
            {l.name}={l.value}
          </span>{' '}
          is a loopback address: only this machine reaches it, not another host.
        </p>
      ))}
      <p className="mt-1">
        Give the API a reachable <code className="font-mono">DRYDOCK_PUBLIC_URL</code> and use a Temporal frontend the host can reach, or put the right addresses in
        the file yourself.
      </p>
    </Notice>
  ) : null;
}

function OsTabs({ os }: { os: AgentInstallPage['os'] }) {
  const linux = useInstallHref({ os: null });
  const windows = useInstallHref({ os: 'windows' });
  const tab = (to: string, label: string, current: boolean, testId: string) => (
    <Link
      to={to}
      replace
      preventScrollReset
      data-testid={testId}
      aria-current={current ? 'page' : undefined}
      className={`-mb-px border-b-2 px-3 py-1.5 text-sm ${current ? 'border-slate-800 font-medium text-slate-900' : 'border-transparent text-slate-600 hover:text-slate-900'}`}
    >
      {label}
    </Link>
  );
  return (
    <nav aria-label="Operating system" className="flex gap-1 border-b border-slate-200" data-testid="install-os">
      {tab(linux, 'Linux (systemd)', os === 'linux', 'install-os-linux')}
      {tab(windows, 'Windows (service)', os === 'windows', 'install-os-windows')}
    </nav>
  );
}

function WindowsScript({ page }: { page: AgentInstallPage }) {
  const w = page.windowsInstall;
  const script = page.windows.script;
  return (
    <>
      <p>
        The script writes the agent's config file and an env file with the registration secret, lets only SYSTEM and Administrators read them, compiles a small service
        host with Windows PowerShell, and registers the Windows service <code className="font-mono text-xs">{w.serviceName}</code>. Save it as{' '}
        <code className="font-mono text-xs">{w.scriptName}</code> on the host.
      </p>
      <SecretsToggle page={page} />
      {script !== null ? (
        <>
          <p>
            <a
              href={`data:text/plain;charset=utf-8,${encodeURIComponent(script)}`}
              download={w.scriptName}
              data-testid="windows-script-download"
              className="text-blue-700 hover:underline"
            >
              Download {w.scriptName}
            </a>{' '}
            or copy it:
          </p>
          <Code testId="windows-install-script" copy>
            {script}
          </Code>
        </>
      ) : page.windows.missing === 'host' ? (
        <p data-testid="windows-script-needs-host" className="text-xs text-amber-800">
          Fill in the host name above: the script registers the host under that name.
        </p>
      ) : page.windows.missing === 'secrets' ? (
        <p data-testid="secrets-hidden" className="text-xs text-slate-500">
          The script, registration secret included, appears once you show secrets.
        </p>
      ) : (
        <Notice tone="error" testId="windows-script-problem" className="text-xs whitespace-pre-wrap">
          {page.windows.problem}
        </Notice>
      )}
    </>
  );
}

/** What each system's steps are given by the page. */
interface StepsProps {
  page: AgentInstallPage;
  hostName: string;
  temporal?: string;
  apiUrl?: string;
}

interface StepText {
  title: string;
  testId: string;
}

/**
 * The steps both systems share: prepare the host (its own needs, then the network), name it, and, when the page has no
 * problem, write its settings.
 */
function FirstSteps({ page, apiUrl, temporal, prepare, settings, children }: StepsProps & { prepare: StepText; settings: StepText & { body: ReactNode }; children: ReactNode }) {
  return (
    <>
      <Step n={1} title={prepare.title} testId={prepare.testId}>
        <ul className="list-disc space-y-1 pl-5">
          {children}
          <li>
            Network access to Drydock at <code className="font-mono text-xs">{apiUrl || 'DRYDOCK_API_URL'}</code> and to Temporal at{' '}
            <code className="font-mono text-xs">{temporal || 'TEMPORAL_ADDRESS'}</code>.
          </li>
        </ul>
        <LoopbackWarning page={page} />
      </Step>

      <NameStep page={page} />

      {page.problem ? null : (
        <Step n={3} title={settings.title} testId={settings.testId}>
          {settings.body}
        </Step>
      )}
    </>
  );
}

function NameStep({ page }: { page: AgentInstallPage }) {
  return (
    <Step n={2} title="Name the host" testId="install-name">
      <p>
        The name becomes the host's id in Drydock: lower-case letters, digits and <code className="font-mono">-</code>. Tags say what the host is; a script's{' '}
        <code className="font-mono">host_tags</code> pick the hosts it may run on.
      </p>
      <NameForm page={page} />
      <ExistingHost page={page} />
    </Step>
  );
}

function WindowsSteps(props: StepsProps) {
  const { page, hostName } = props;
  const w = page.windowsInstall;
  return (
    <>
      <FirstSteps
        {...props}
        prepare={{ title: 'Prepare the Windows host', testId: 'install-prepare-windows' }}
        settings={{ title: `Save ${w.scriptName}`, testId: 'windows-script-step', body: <WindowsScript page={page} /> }}
      >
        <li>Windows 10 or Windows Server 2016 or later, with Windows PowerShell 5.1 and .NET Framework 4 (both come with Windows).</li>
        <li>
          Node.js 22.22 or later at <code className="font-mono text-xs">{w.nodePath}</code> (elsewhere: add{' '}
          <code className="font-mono text-xs">-NodePath D:\tools\node\node.exe</code> when you run the script).
        </li>
        <li>
          A copy of the Drydock repository at <code className="font-mono text-xs">{w.installDir}</code>, with its dependencies: run{' '}
          <code className="font-mono text-xs">npm ci</code> in it. The agent is its <code className="font-mono text-xs">agent\</code> workspace.
        </li>
        <li>
          The interpreters your scripts use: <code className="font-mono text-xs">powershell</code> (Windows PowerShell, built in), and python, bash or node if they
          need them. Scripts run as the service's account, LocalSystem.
        </li>
      </FirstSteps>

      <Step n={page.problem ? 3 : 4} title="Run it as Administrator" testId="install-windows-service">
        <p>In Windows PowerShell opened with "Run as administrator", in the folder you saved the script to:</p>
        <Code testId="windows-install-command" copy>
          {w.installCommand}
        </Code>
        <p>
          The service <code className="font-mono text-xs">{w.serviceName}</code> starts at boot and restarts on failure. Its config file is{' '}
          <code className="font-mono text-xs">{w.configFile}</code> and its log{' '}
          <code className="font-mono text-xs">{w.logFile}</code>; it logs{' '}
          <code className="font-mono text-xs">{`agent for host ${hostName} polling "agent-${hostName}"`}</code> once it runs. Run the script again to change the
          settings; it restarts the service. To remove the service and its data:
        </p>
        <Code copy>{w.uninstallCommand}</Code>
        <p className="text-xs text-slate-500">
          On Windows, <code className="font-mono">resource_limits</code> other than <code className="font-mono">max_execution_seconds</code> are not enforced; each run's
          log says so when they are set.
        </p>
      </Step>
    </>
  );
}

export default function InstallAgentPage({ loaderData, actionData }: Route.ComponentProps) {
  const outcome = actionData as RegistrationOutcome | undefined;
  const page = withIssuedToken(loaderData, outcome?.ok && outcome.intent === 'issue' ? outcome.issued.token : undefined);
  const apiUrl = page.settings.find((s) => s.name === 'DRYDOCK_API_URL')?.value;
  const temporal = page.settings.find((s) => s.name === 'TEMPORAL_ADDRESS')?.value;
  const hostName = page.hostName !== '' && !page.fields.host ? page.hostName : '<host-name>';
  return (
    <div className="max-w-4xl space-y-4">
      <PageHeader
        crumbs={[{ label: 'Hosts', to: '/hosts' }, { label: 'install an agent' }]}
        title="Install an agent on another host"
        description={
          <>
            An agent runs scripts on the host it is installed on. It connects out to Drydock and to Temporal; nothing connects in to it. To run scripts on a machine
            without installing anything,{' '}
            <Link to="/hosts/new" className="text-blue-700 hover:underline">
              add it as an SSH host
            </Link>{' '}
            instead.
          </>
        }
      />

      {page.problem ? (
        <Notice tone="error" testId="agent-install-problem">
          {page.problem}
        </Notice>
      ) : null}

      {page.problem ? null : <RegistrationTokens page={page} outcome={outcome} />}

      <OsTabs os={page.os} />

      {page.os === 'windows' ? (
        <WindowsSteps page={page} hostName={hostName} temporal={temporal} apiUrl={apiUrl} />
      ) : (
        <LinuxSteps page={page} hostName={hostName} temporal={temporal} apiUrl={apiUrl} />
      )}

      <p className="text-sm text-slate-600">
        Within 10 s of starting, the host shows as online on{' '}
        <Link to="/hosts?transport=agent" className="text-blue-700 hover:underline">
          Hosts
        </Link>
        .
      </p>
    </div>
  );
}

function LinuxSteps(props: StepsProps) {
  const { page, hostName, temporal } = props;
  return (
    <>
      <FirstSteps
        {...props}
        prepare={{ title: 'Prepare the host', testId: 'install-prepare' }}
        settings={{ title: `Write ${ENV_FILE}`, testId: 'agent-install', body: <EnvironmentFile page={page} /> }}
      >
        <li>
          Node.js 22.22 or later at <code className="font-mono text-xs">/usr/bin/node</code> (<code className="font-mono text-xs">node --version</code>).
        </li>
        <li>
          A checkout of the Drydock repository at <code className="font-mono text-xs">{CHECKOUT}</code>, with its dependencies:{' '}
          <code className="font-mono text-xs">cd {CHECKOUT} && npm ci</code>. The agent is its <code className="font-mono text-xs">agent/</code> workspace; there is no
          separate package.
        </li>
        <li>The interpreters your scripts use (bash, sh, python3, pwsh) and the commands your action templates run.</li>
        <li>
          A system user for the agent; scripts run as this user:{' '}
          <code className="font-mono text-xs">sudo useradd --system --home-dir /var/lib/drydock --shell /usr/sbin/nologin drydock</code>
        </li>
      </FirstSteps>

      <Step n={page.problem ? 3 : 4} title="Run it as a systemd service" testId="install-service">
        <p>
          Save this unit as <code className="font-mono text-xs">{UNIT_FILE}</code>:
        </p>
        <Code testId="systemd-unit" copy>
          {SYSTEMD_UNIT}
        </Code>
        <p>Start it now and at every boot, then watch it register:</p>
        <Code copy>{`sudo systemctl daemon-reload\nsudo systemctl enable --now drydock-agent\njournalctl -u drydock-agent -f`}</Code>
        <p>
          It logs <code className="font-mono text-xs">{`agent for host ${hostName} polling "agent-${hostName}" on ${temporal || '<TEMPORAL_ADDRESS>'}`}</code> once it
          runs. <code className="font-mono text-xs">Restart=always</code> brings it back after a crash; an agent waits for the API, but exits while Temporal is unreachable.
        </p>
      </Step>

      {page.command ? (
        <Step n={page.problem ? 4 : 5} title="Or start it by hand" testId="install-by-hand">
          <p>To try it in a terminal first: as root, from the checkout, with the file's settings exported. Stop it with Ctrl-C before you start the service.</p>
          <Code testId="agent-command" copy>{`cd ${CHECKOUT}\nset -a; . ${ENV_FILE}; set +a\nDRYDOCK_DATA_DIR=/var/lib/drydock ${page.command}`}</Code>
        </Step>
      ) : null}
    </>
  );
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  return <RouteError error={error} />;
}
