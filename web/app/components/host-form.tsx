import { useState } from 'react';
import { Form, Link } from 'react-router';
import type { CredentialView, HostView } from '@drydock/core/api-schemas';
import { credentialKindLabel } from '../lib/format.ts';
import { checkHostBody, createBody, HOST_FIELDS, patchBody, readSettings, settingsOf, type AgentlessTransport, type HostField, type HostFormValues } from '../lib/host-form.ts';
import { unplacedErrors, type FieldErrors } from '../lib/form-errors.ts';
import { hostTarget, WINRM_AUTH_LABEL } from './host-badges.tsx';
import { IntentButton } from './ui/button.tsx';
import { Field, FieldError, Options, StaticField, UnplacedErrors } from './ui/field.tsx';
import { useCheckedForm } from './ui/form.ts';
import { OutcomeNotice } from './ui/notice.tsx';

const TRANSPORTS: { value: AgentlessTransport; label: string; hint: string }[] = [
  { value: 'ssh', label: 'SSH', hint: 'Linux and other hosts with an SSH server: scripts in any interpreter the host has.' },
  { value: 'winrm', label: 'WinRM', hint: 'Windows hosts, over WinRM on HTTPS: PowerShell scripts and command templates.' },
  { value: 'docker', label: 'Docker engine', hint: 'An engine the central worker reaches on its unix socket: runner docker scripts run there in throwaway containers.' },
];

/** SSH or WinRM, for a new host; the connection fields below follow the choice. */
function TransportChoice({ value, onChange, errors }: { value: string; onChange: (t: AgentlessTransport) => void; errors: FieldErrors }) {
  const messages = errors.transport ?? [];
  return (
    <fieldset className="sm:col-span-2" data-field="transport">
      <legend className="mb-1 block text-xs font-medium text-slate-700">Connect over</legend>
      <div className={`inline-flex overflow-hidden rounded border text-sm shadow-xs ${messages.length > 0 ? 'border-red-400' : 'border-slate-300'}`}>
        {TRANSPORTS.map((t) => (
          <label
            key={t.value}
            htmlFor={`host-transport-${t.value}`}
            className="cursor-pointer bg-white px-4 py-1.5 text-slate-700 not-first:border-l not-first:border-slate-300 hover:bg-slate-50 has-checked:bg-blue-700 has-checked:text-white has-focus-visible:ring-2 has-focus-visible:ring-blue-200 has-focus-visible:ring-inset"
          >
            <input
              type="radio"
              id={`host-transport-${t.value}`}
              name="transport"
              value={t.value}
              checked={value === t.value}
              onChange={() => onChange(t.value)}
              aria-invalid={messages.length > 0 || undefined}
              className="sr-only"
            />
            {t.label}
          </label>
        ))}
      </div>
      <p className="mt-1 text-xs text-slate-500">{TRANSPORTS.find((t) => t.value === value)?.hint}</p>
      <FieldError name="transport" messages={messages} />
    </fieldset>
  );
}

interface HostFormProps {
  mode: 'new' | 'edit';
  /** The team's environment names, the choices a host may be in. */
  environments: readonly string[];
  /** The stored host when editing; an agent host offers its labels only, as its agent reports the rest. */
  host: HostView | null;
  /** What was sent, when the server sent the form back. */
  submitted: HostFormValues | undefined;
  credentials: CredentialView[];
  jumpHosts: HostView[];
  errors: FieldErrors;
  message: string | null;
  saved?: boolean;
  /** The transport a new host starts with (`/hosts/new?transport=winrm`). */
  defaultTransport?: AgentlessTransport;
}

/** An SSH or WinRM host's connection and labels, checked with the API's own schema before anything is sent. */
export function HostForm({ mode, environments, host, submitted, credentials, jumpHosts, errors: serverErrors, message, saved, defaultTransport = 'ssh' }: HostFormProps) {
  const before = host ? settingsOf(host) : null;
  // A new host's transport is chosen here; a stored host keeps its own.
  const [chosen, setChosen] = useState<string>(submitted?.transport || defaultTransport);
  const transport = host ? host.transport : chosen;
  // SSH and WinRM hosts have a connection to set; an engine has its socket, fixed once added; an agent reports its own.
  const agentless = transport === 'ssh' || transport === 'winrm';
  const winrm = transport === 'winrm';

  const { errors, complained, busy, onSubmit, onChange } = useCheckedForm({
    check: (data) => (before ? checkHostBody(patchBody(data, readSettings(data.get('_before')) ?? before), 'edit', before.transport) : checkHostBody(createBody(data), 'new')),
    serverErrors,
    intents: ['save'],
  });
  const field = (name: HostField) => ({ name, id: `host-${name}`, messages: errors[name] });

  const initial = (key: HostField, fallback = ''): string => {
    if (submitted?.[key] !== undefined) return submitted[key];
    if (!host || !before) return fallback;
    if (key === 'id') return host.id;
    if (key === 'tags') return before.tags.join(', ');
    if (key === 'socketPath') return host.address ?? fallback;
    const value = before[key];
    return value === null ? fallback : String(value);
  };
  // WinRM logs in with a password only.
  const choices = winrm ? credentials.filter((c) => c.kind === 'password') : credentials;
  const credentialKnown = initial('credentialId') === '' || choices.some((c) => c.id === initial('credentialId'));
  // A stored host keeps showing its credential; a new one just switched to WinRM starts over rather than show an SSH key it cannot use.
  const credentialDefault = credentialKnown || mode === 'edit' ? initial('credentialId') : '';
  const jumpKnown = initial('jumpHostId') === '' || jumpHosts.some((h) => h.id === initial('jumpHostId'));
  // Uncontrolled fields keep what was typed; a fresh key after saving shows what the API stored.
  const formKey = before ? JSON.stringify(before) : 'new';

  return (
    <Form method="post" key={formKey} noValidate onSubmit={onSubmit} onChange={onChange} className="space-y-4" data-testid="host-form">
      {before ? <input type="hidden" name="_before" value={JSON.stringify(before)} /> : null}
      <OutcomeNotice outcome={message && !busy && !complained ? { ok: saved === true, message } : null} testId="host-form-message" />
      <UnplacedErrors entries={unplacedErrors(errors, (name) => (HOST_FIELDS as readonly string[]).includes(name))} />
      <div className="grid gap-4 sm:grid-cols-2">
        <Field {...field('name')} label="Name" optional={mode === 'new'} description={mode === 'new' ? 'Shown in lists; the id when left empty.' : undefined}>
          {(props) => <input {...props} type="text" defaultValue={initial('name')} />}
        </Field>
        {mode === 'new' ? (
          <Field {...field('id')} label="Id" description="lower-kebab-case; runs name the host by it, so it cannot change later">
            {(props) => <input {...props} type="text" spellCheck={false} placeholder="db-staging-1" defaultValue={initial('id')} className={`${props.className} font-mono`} />}
          </Field>
        ) : (
          <StaticField label="Id">{host?.id}</StaticField>
        )}

        {mode === 'new' ? <TransportChoice value={chosen} onChange={setChosen} errors={errors} /> : null}

        {agentless ? (
          <>
            <Field
              {...field('address')}
              label="Address"
              description={mode === 'edit' ? `A new address forgets the pinned ${winrm ? 'certificate' : 'host key'}.` : 'A host name or IP address the central worker can reach.'}
            >
              {(props) => <input {...props} type="text" spellCheck={false} placeholder="10.0.4.12" defaultValue={initial('address')} className={`${props.className} font-mono`} />}
            </Field>
            <Field {...field('port')} label={winrm ? 'WinRM port' : 'SSH port'} description={winrm && mode === 'new' ? 'HTTPS: 5986 when left empty.' : undefined}>
              {(props) => (
                <input {...props} type="text" inputMode="numeric" placeholder={winrm ? '5986' : '22'} defaultValue={initial('port')} className={`${props.className} max-w-32 font-mono`} />
              )}
            </Field>
            <Field {...field('username')} label="User" description={winrm ? 'Scripts run as this account: user, DOMAIN\\user or user@domain.' : 'Scripts run as this account.'}>
              {(props) => (
                <input
                  {...props}
                  type="text"
                  spellCheck={false}
                  autoComplete="off"
                  placeholder={winrm ? 'CORP\\deploy' : 'deploy'}
                  defaultValue={initial('username')}
                  className={`${props.className} font-mono`}
                />
              )}
            </Field>
            <Field
              {...field('credentialId')}
              label="Credential"
              description={
                <>
                  {winrm
                    ? choices.length === 0
                      ? 'No password is stored yet: WinRM logs in with a password. '
                      : 'A password: WinRM takes no SSH key. '
                    : choices.length === 0
                      ? 'No SSH key or password is stored yet. '
                      : 'An SSH private key or a password. '}
                  <Link to="/credentials" className="text-blue-700 hover:underline" data-testid="manage-credentials">
                    {choices.length === 0 ? 'Add one on Credentials' : 'Manage credentials'}
                  </Link>
                </>
              }
            >
              {(props) => (
                <select {...props} defaultValue={credentialDefault}>
                  <option value="">Choose a credential…</option>
                  {credentialDefault === '' || credentialKnown ? null : <option value={credentialDefault}>{host?.credential?.name ?? credentialDefault}</option>}
                  {choices.map((c) => (
                    <option key={c.id} value={c.id}>
                      {c.name} ({credentialKindLabel(c.kind)}
                      {c.username ? `, ${c.username}` : ''})
                    </option>
                  ))}
                </select>
              )}
            </Field>
            {winrm ? (
              <Field {...field('winrmAuth')} label="Authentication" description="NTLM for domain accounts; Basic for local ones, if the host allows it.">
                {(props) => (
                  <select {...props} defaultValue={initial('winrmAuth', 'ntlm')}>
                    {(['ntlm', 'basic'] as const).map((a) => (
                      <option key={a} value={a}>
                        {WINRM_AUTH_LABEL[a]}
                      </option>
                    ))}
                  </select>
                )}
              </Field>
            ) : (
              <Field {...field('jumpHostId')} label="Jump host" optional description="Drydock connects through this SSH host first (one hop).">
                {(props) => (
                  <select {...props} defaultValue={initial('jumpHostId')}>
                    <option value="">none: connect directly</option>
                    {jumpKnown ? null : <option value={initial('jumpHostId')}>{initial('jumpHostId')}</option>}
                    {jumpHosts.map((h) => (
                      <option key={h.id} value={h.id}>
                        {h.name} ({hostTarget(h)})
                      </option>
                    ))}
                  </select>
                )}
              </Field>
            )}
          </>
        ) : transport === 'docker' && mode === 'new' ? (
          <Field {...field('socketPath')} label="Engine socket" optional description="An absolute path on the central worker's machine; /var/run/docker.sock when left empty.">
            {(props) => <input {...props} type="text" spellCheck={false} placeholder="/var/run/docker.sock" defaultValue={submitted?.socketPath ?? ''} className={`${props.className} font-mono`} />}
          </Field>
        ) : null}

        <Field {...field('environment')} label="Environment" optional>
          {(props) => (
            <select {...props} defaultValue={initial('environment')}>
              <Options choices={environments} empty="none" />
            </select>
          )}
        </Field>
        <Field {...field('group')} label="Group" optional description="Free text, e.g. payments-eu.">
          {(props) => <input {...props} type="text" defaultValue={initial('group')} />}
        </Field>
        {transport !== 'agent' ? (
          <Field {...field('maxConcurrentJobs')} label="Jobs at once" optional description="Runs and bulk executions together; more wait for a free slot. Empty: the server's default.">
            {(props) => <input {...props} type="number" min={1} max={1000} defaultValue={initial('maxConcurrentJobs')} />}
          </Field>
        ) : null}
        {transport !== 'agent' ? (
          <Field {...field('tags')} label="Tags" optional description="Comma-separated: linux, db. A script's host_tags name the tags a host needs to run it.">
            {(props) => <input {...props} type="text" spellCheck={false} placeholder="linux, db" defaultValue={initial('tags')} />}
          </Field>
        ) : null}
      </div>
      <div className="flex items-center gap-3">
        <IntentButton intent="save" busyLabel="Saving…" testId="save-host">
          {mode === 'new' ? 'Add host' : 'Save settings'}
        </IntentButton>
        {mode === 'new' ? (
          <span className="text-xs text-slate-500">Nothing connects yet: the first run reaches the host and pins its {winrm ? 'HTTPS certificate' : 'host key'}.</span>
        ) : null}
      </div>
    </Form>
  );
}
