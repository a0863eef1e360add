import { ENVIRONMENTS } from '@drydock/core/api-schemas';
import { useState, type FormEvent, type ReactNode } from 'react';
import { Form, Link, useNavigation } from 'react-router';
import { credentialKindLabel, type CredentialView, type HostView } from '../lib/api-views.ts';
import { checkHostBody, createBody, patchBody, readSettings, settingsOf, type AgentlessTransport, type HostField, type HostFormValues } from '../lib/host-form.ts';
import type { FieldErrors } from '../lib/run-form.ts';
import { hostTarget, WINRM_AUTH_LABEL } from './host-badges.tsx';

const inputClass = 'block w-full rounded border bg-white px-2.5 py-1.5 text-sm shadow-xs focus:outline-none focus:ring-2 focus:ring-blue-200';

function Field({ name, label, errors, hint, children }: { name: HostField; label: ReactNode; errors: FieldErrors; hint?: ReactNode; children: (invalid: boolean) => ReactNode }) {
  const messages = errors[name] ?? [];
  return (
    <div data-field={name}>
      <label htmlFor={`host-${name}`} className="mb-1 block text-xs font-medium text-slate-700">
        {label}
      </label>
      {children(messages.length > 0)}
      {hint ? <p className="mt-1 text-xs text-slate-500">{hint}</p> : null}
      {messages.length > 0 ? (
        <p data-field-error={name} className="mt-1 text-xs font-medium text-red-700">
          {messages.join(' ')}
        </p>
      ) : null}
    </div>
  );
}

const optional = <span className="font-normal text-slate-500">(optional)</span>;

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
      {messages.length > 0 ? (
        <p data-field-error="transport" className="mt-1 text-xs font-medium text-red-700">
          {messages.join(' ')}
        </p>
      ) : null}
    </fieldset>
  );
}

interface HostFormProps {
  mode: 'new' | 'edit';
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
export function HostForm({ mode, host, submitted, credentials, jumpHosts, errors: serverErrors, message, saved, defaultTransport = 'ssh' }: HostFormProps) {
  const navigation = useNavigation();
  const busy = navigation.state !== 'idle' && navigation.formData?.get('_intent') === 'save';
  const [clientErrors, setClientErrors] = useState<FieldErrors | null>(null);
  const errors = clientErrors ?? (busy ? {} : serverErrors);
  const before = host ? settingsOf(host) : null;
  // A new host's transport is chosen here; a stored host keeps its own.
  const [chosen, setChosen] = useState<string>(submitted?.transport || defaultTransport);
  const transport = host ? host.transport : chosen;
  // SSH and WinRM hosts have a connection to set; an engine has its socket, fixed once added; an agent reports its own.
  const agentless = transport === 'ssh' || transport === 'winrm';
  const winrm = transport === 'winrm';

  const check = (form: HTMLFormElement) => {
    const data = new FormData(form);
    return before ? checkHostBody(patchBody(data, readSettings(data.get('_before')) ?? before), 'edit', before.transport) : checkHostBody(createBody(data), 'new');
  };

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    const found = check(event.currentTarget);
    if (Object.keys(found).length === 0) {
      setClientErrors(null);
      return;
    }
    event.preventDefault();
    setClientErrors(found);
    const form = event.currentTarget;
    requestAnimationFrame(() => form.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus());
  }

  function onChange(event: FormEvent<HTMLFormElement>) {
    if (clientErrors !== null) setClientErrors(check(event.currentTarget));
  }

  const initial = (key: HostField, fallback = ''): string => {
    if (submitted?.[key] !== undefined) return submitted[key];
    if (!host || !before) return fallback;
    if (key === 'id') return host.id;
    if (key === 'tags') return before.tags.join(', ');
    if (key === 'socketPath') return host.address ?? fallback;
    const value = before[key];
    return value === null ? fallback : String(value);
  };
  const cls = (invalid: boolean, extra = '') => `${inputClass} ${extra} ${invalid ? 'border-red-400' : 'border-slate-300 focus:border-blue-500'}`;
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
      <input type="hidden" name="_intent" value="save" />
      {before ? <input type="hidden" name="_before" value={JSON.stringify(before)} /> : null}
      {message && !busy && clientErrors === null ? (
        <p
          role={saved ? 'status' : 'alert'}
          data-testid="host-form-message"
          className={`rounded border px-3 py-2 text-sm ${saved ? 'border-emerald-300 bg-emerald-50 text-emerald-900' : 'border-red-200 bg-red-50 text-red-800'}`}
        >
          {message}
        </p>
      ) : null}
      {errors._ ? (
        <p role="alert" data-field-error="_" className="rounded border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">
          {errors._.join(' ')}
        </p>
      ) : null}
      <div className="grid gap-4 sm:grid-cols-2">
        <Field name="name" label={mode === 'new' ? <>Name {optional}</> : 'Name'} errors={errors} hint={mode === 'new' ? 'Shown in lists; the id when left empty.' : undefined}>
          {(invalid) => <input id="host-name" name="name" type="text" defaultValue={initial('name')} aria-invalid={invalid || undefined} className={cls(invalid)} />}
        </Field>
        {mode === 'new' ? (
          <Field name="id" label="Id" errors={errors} hint="lower-kebab-case; runs name the host by it, so it cannot change later">
            {(invalid) => (
              <input id="host-id" name="id" type="text" spellCheck={false} placeholder="db-staging-1" defaultValue={initial('id')} aria-invalid={invalid || undefined} className={cls(invalid, 'font-mono')} />
            )}
          </Field>
        ) : (
          <div>
            <p className="mb-1 text-xs font-medium text-slate-700">Id</p>
            <p className="py-1.5 font-mono text-sm">{host?.id}</p>
          </div>
        )}

        {mode === 'new' ? <TransportChoice value={chosen} onChange={setChosen} errors={errors} /> : null}

        {agentless ? (
          <>
            <Field
              name="address"
              label="Address"
              errors={errors}
              hint={mode === 'edit' ? `A new address forgets the pinned ${winrm ? 'certificate' : 'host key'}.` : 'A host name or IP address the central worker can reach.'}
            >
              {(invalid) => (
                <input
                  id="host-address"
                  name="address"
                  type="text"
                  spellCheck={false}
                  placeholder="10.0.4.12"
                  defaultValue={initial('address')}
                  aria-invalid={invalid || undefined}
                  className={cls(invalid, 'font-mono')}
                />
              )}
            </Field>
            <Field name="port" label={winrm ? 'WinRM port' : 'SSH port'} errors={errors} hint={winrm && mode === 'new' ? 'HTTPS: 5986 when left empty.' : undefined}>
              {(invalid) => (
                <input
                  id="host-port"
                  name="port"
                  type="text"
                  inputMode="numeric"
                  placeholder={winrm ? '5986' : '22'}
                  defaultValue={initial('port')}
                  aria-invalid={invalid || undefined}
                  className={cls(invalid, 'max-w-32 font-mono')}
                />
              )}
            </Field>
            <Field name="username" label="User" errors={errors} hint={winrm ? 'Scripts run as this account: user, DOMAIN\\user or user@domain.' : 'Scripts run as this account.'}>
              {(invalid) => (
                <input
                  id="host-username"
                  name="username"
                  type="text"
                  spellCheck={false}
                  autoComplete="off"
                  placeholder={winrm ? 'CORP\\deploy' : 'deploy'}
                  defaultValue={initial('username')}
                  aria-invalid={invalid || undefined}
                  className={cls(invalid, 'font-mono')}
                />
              )}
            </Field>
            <Field
              name="credentialId"
              label="Credential"
              errors={errors}
              hint={
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
              {(invalid) => (
                <select id="host-credentialId" name="credentialId" defaultValue={credentialDefault} aria-invalid={invalid || undefined} className={cls(invalid)}>
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
              <Field name="winrmAuth" label="Authentication" errors={errors} hint="NTLM for domain accounts; Basic for local ones, if the host allows it.">
                {(invalid) => (
                  <select id="host-winrmAuth" name="winrmAuth" defaultValue={initial('winrmAuth', 'ntlm')} aria-invalid={invalid || undefined} className={cls(invalid)}>
                    {(['ntlm', 'basic'] as const).map((a) => (
                      <option key={a} value={a}>
                        {WINRM_AUTH_LABEL[a]}
                      </option>
                    ))}
                  </select>
                )}
              </Field>
            ) : (
              <Field name="jumpHostId" label={<>Jump host {optional}</>} errors={errors} hint="Drydock connects through this SSH host first (one hop).">
                {(invalid) => (
                  <select id="host-jumpHostId" name="jumpHostId" defaultValue={initial('jumpHostId')} aria-invalid={invalid || undefined} className={cls(invalid)}>
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
          <Field name="socketPath" label={<>Engine socket {optional}</>} errors={errors} hint="An absolute path on the central worker's machine; /var/run/docker.sock when left empty.">
            {(invalid) => (
              <input
                id="host-socketPath"
                name="socketPath"
                type="text"
                spellCheck={false}
                placeholder="/var/run/docker.sock"
                defaultValue={submitted?.socketPath ?? ''}
                aria-invalid={invalid || undefined}
                className={cls(invalid, 'font-mono')}
              />
            )}
          </Field>
        ) : null}

        <Field name="environment" label={<>Environment {optional}</>} errors={errors}>
          {(invalid) => (
            <select id="host-environment" name="environment" defaultValue={initial('environment')} aria-invalid={invalid || undefined} className={cls(invalid)}>
              <option value="">none</option>
              {ENVIRONMENTS.map((e) => (
                <option key={e} value={e}>
                  {e}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field name="group" label={<>Group {optional}</>} errors={errors} hint="Free text, e.g. payments-eu.">
          {(invalid) => <input id="host-group" name="group" type="text" defaultValue={initial('group')} aria-invalid={invalid || undefined} className={cls(invalid)} />}
        </Field>
        {transport !== 'agent' ? (
          <Field
            name="maxConcurrentJobs"
            label={<>Jobs at once {optional}</>}
            errors={errors}
            hint="Runs and bulk executions together; more wait for a free slot. Empty: the server's default."
          >
            {(invalid) => (
              <input
                id="host-maxConcurrentJobs"
                name="maxConcurrentJobs"
                type="number"
                min={1}
                max={1000}
                defaultValue={initial('maxConcurrentJobs')}
                aria-invalid={invalid || undefined}
                className={cls(invalid)}
              />
            )}
          </Field>
        ) : null}
        {transport !== 'agent' ? (
          <Field name="tags" label={<>Tags {optional}</>} errors={errors} hint="Comma-separated: linux, db. A script's host_tags name the tags a host needs to run it.">
            {(invalid) => (
              <input id="host-tags" name="tags" type="text" spellCheck={false} placeholder="linux, db" defaultValue={initial('tags')} aria-invalid={invalid || undefined} className={cls(invalid)} />
            )}
          </Field>
        ) : null}
      </div>
      <div className="flex items-center gap-3">
        <button type="submit" disabled={busy} data-testid="save-host" className="rounded bg-blue-700 px-4 py-1.5 text-sm font-medium text-white hover:bg-blue-600 disabled:opacity-60">
          {busy ? 'Saving…' : mode === 'new' ? 'Add host' : 'Save settings'}
        </button>
        {mode === 'new' ? (
          <span className="text-xs text-slate-500">Nothing connects yet: the first run reaches the host and pins its {winrm ? 'HTTPS certificate' : 'host key'}.</span>
        ) : null}
      </div>
    </Form>
  );
}
