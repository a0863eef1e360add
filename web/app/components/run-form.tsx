import { useState, type FormEvent, type ReactNode } from 'react';
import { Form, Link, useNavigation, useSearchParams } from 'react-router';
import type { HostView, ScriptView } from '../lib/api-views.ts';
import { formatDateTime } from '../lib/format.ts';
import { checkHost, checkParams, type FieldErrors, type StartRunFailure } from '../lib/run-form.ts';
import { transportLabel } from './host-badges.tsx';
import { ParameterField } from './parameter-field.tsx';

function validate(entry: ScriptView, form: HTMLFormElement): FieldErrors {
  const formData = new FormData(form);
  const { result } = checkParams(entry.parameters, formData);
  return { ...checkHost(formData), ...(result.ok ? {} : result.fields) };
}

/** The host the page was opened for (`?host=`, from a host's "Run a script here"), else the local agent, else one online. */
function defaultHostId(hosts: HostView[], preferred: string | null): string {
  return (hosts.find((h) => h.id === preferred) ?? hosts.find((h) => h.id === 'local') ?? hosts.find((h) => h.online) ?? hosts[0])?.id ?? '';
}

function hostStatus(host: HostView): string {
  if (host.transport !== 'agent') {
    const over = `over ${transportLabel(host.transport)}`;
    return host.online ? `reached ${over}` : `${over}, not reached yet: the run connects when it starts`;
  }
  return host.online ? 'online' : 'offline: the run waits for its agent to come back';
}

function HostSelect({ hosts, hostTags, initial, errors }: { hosts: HostView[]; hostTags: string[]; initial: string; errors: string[] | undefined }) {
  const [hostId, setHostId] = useState(initial);
  const host = hosts.find((h) => h.id === hostId);
  const invalid = errors !== undefined && errors.length > 0;
  return (
    <div className="border-b border-slate-200 pb-3">
      <label htmlFor="hostId" className="mb-1 block text-sm font-medium text-slate-800">
        Run on host<span className="ml-0.5 text-red-600">*</span>
        {hostTags.length > 0 ? <span className="ml-2 text-xs font-normal text-slate-500">hosts tagged {hostTags.join(', ')}</span> : null}
      </label>
      {hosts.length === 0 ? (
        <p className="text-sm text-amber-800">
          {hostTags.length > 0 ? `No host carries the tags ${hostTags.join(', ')}. ` : 'No host is registered yet. '}
          <Link to="/hosts" className="underline">
            Manage hosts
          </Link>
        </p>
      ) : (
        <select
          id="hostId"
          name="hostId"
          value={hostId}
          onChange={(e) => setHostId(e.currentTarget.value)}
          aria-invalid={invalid || undefined}
          className={`block w-full max-w-md rounded border bg-white px-2.5 py-1.5 text-sm shadow-xs ${invalid ? 'border-red-400' : 'border-slate-300'}`}
        >
          {hosts.map((h) => (
            <option key={h.id} value={h.id}>
              {h.name} ({h.transport !== 'agent' ? transportLabel(h.transport) : h.online ? 'online' : 'offline'})
            </option>
          ))}
        </select>
      )}
      {host ? (
        <p className="mt-1 flex items-center gap-1.5 text-xs text-slate-500" data-testid="host-status">
          <span aria-hidden className={`size-2 rounded-full ${host.online ? 'bg-emerald-500' : 'bg-slate-400'}`} />
          {hostStatus(host)}
          {host.os ? ` · ${host.os}` : ''}
          {host.agentVersion ? ` · agent ${host.agentVersion}` : ''}
          {host.lastSeenAt ? ` · last seen ${formatDateTime(host.lastSeenAt)} UTC` : ''}
        </p>
      ) : null}
      {invalid ? (
        <p data-field-error="hostId" className="mt-1 text-xs font-medium text-red-700">
          {errors.join(' ')}
        </p>
      ) : null}
    </div>
  );
}

interface RunFormProps {
  entry: ScriptView;
  hosts: HostView[];
  failure: StartRunFailure | undefined;
  /** Fields the route action needs besides the parameters; their names are camelCase or start with `_`, which no parameter name can. */
  hidden: Record<string, string>;
  /** Shown above the fields, e.g. that an older version is about to run. */
  notice?: ReactNode;
  submitLabel: string;
}

/** Host, parameters and the Run button; checks with the shared validator before anything is sent. */
export function RunForm({ entry, hosts, failure, hidden, notice, submitLabel }: RunFormProps) {
  const navigation = useNavigation();
  const [searchParams] = useSearchParams();
  const busy = navigation.state !== 'idle' && navigation.formMethod === 'POST' && navigation.formData?.get('_intent') === 'run';
  const [clientErrors, setClientErrors] = useState<FieldErrors | null>(null);

  const shown: FieldErrors = clientErrors ?? (busy ? {} : (failure?.fields ?? {}));
  const known = new Set(['hostId', ...entry.parameters.map((p) => p.name)]);
  const otherErrors = Object.entries(shown).filter(([key]) => !known.has(key));
  const banner = clientErrors === null && !busy && failure ? failure.message : null;
  const disabled = !entry.runnable;

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    const errors = validate(entry, event.currentTarget);
    if (Object.keys(errors).length === 0) {
      setClientErrors(null);
      return;
    }
    event.preventDefault();
    setClientErrors(errors);
    const first = entry.parameters.find((p) => errors[p.name]);
    const target = event.currentTarget.elements.namedItem(errors.hostId ? 'hostId' : (first?.name ?? ''));
    if (target instanceof HTMLElement) target.focus();
    else if (target instanceof RadioNodeList && target[0] instanceof HTMLElement) target[0].focus();
  }

  function onChange(event: FormEvent<HTMLFormElement>) {
    if (clientErrors !== null) setClientErrors(validate(entry, event.currentTarget));
  }

  return (
    <Form method="post" noValidate onSubmit={onSubmit} onChange={onChange} className="rounded border border-slate-200 bg-white px-4 py-3" data-testid="run-form">
      <input type="hidden" name="_intent" value="run" />
      {Object.entries(hidden).map(([name, value]) => (
        <input key={name} type="hidden" name={name} value={value} />
      ))}
      {disabled ? (
        <div role="status" data-testid="not-runnable" className="mb-3 rounded border border-slate-300 bg-slate-100 px-3 py-2 text-sm text-slate-800">
          <span className="font-medium">This {entry.kind} cannot run{entry.notRunnableReason ? ':' : '.'}</span> {entry.notRunnableReason ?? ''}
        </div>
      ) : null}
      {notice}
      {banner ? (
        <div role="alert" className="mb-3 rounded border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">
          {banner}
        </div>
      ) : null}
      {otherErrors.length > 0 ? (
        <ul role="alert" className="mb-3 rounded border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">
          {otherErrors.map(([key, messages]) => (
            <li key={key} data-field-error={key}>
              {messages.join(' ')}
            </li>
          ))}
        </ul>
      ) : null}

      <fieldset disabled={disabled} className="min-w-0 disabled:opacity-60">
        <HostSelect hosts={hosts} hostTags={entry.hostTags} initial={failure?.hostId || defaultHostId(hosts, searchParams.get('host'))} errors={shown.hostId} />

        {entry.parameters.length === 0 ? (
          <p className="py-3 text-sm text-slate-500">This {entry.kind} takes no parameters.</p>
        ) : (
          <div className="divide-y divide-slate-100">
            {entry.parameters.map((p) => (
              <ParameterField key={p.name} parameter={p} submitted={failure?.values[p.name]} errors={shown[p.name]} hosts={hosts} />
            ))}
          </div>
        )}

        <div className="flex items-center gap-3 border-t border-slate-200 pt-3">
          <button
            type="submit"
            disabled={busy || hosts.length === 0}
            data-testid="start-run"
            className="rounded bg-blue-700 px-4 py-1.5 text-sm font-medium text-white hover:bg-blue-600 disabled:cursor-not-allowed disabled:opacity-60"
          >
            {busy ? 'Starting…' : submitLabel}
          </button>
          <span className="text-xs text-slate-500">
            <span className="text-red-600">*</span> required
          </span>
        </div>
      </fieldset>
    </Form>
  );
}
