import { useState, type ReactNode } from 'react';
import { Form, Link, useSearchParams } from 'react-router';
import type { HostView, ScriptView } from '@drydock/core/api-schemas';
import { formatDateTime } from '../lib/format.ts';
import { useMayRun } from '../lib/me.ts';
import { unplacedErrors } from '../lib/form-errors.ts';
import { checkRunForm, type StartRunFailure } from '../lib/run-form.ts';
import { transportLabel } from './host-badges.tsx';
import { ParameterField } from './parameter-field.tsx';
import { IntentButton } from './ui/button.tsx';
import { Field, UnplacedErrors } from './ui/field.tsx';
import { useCheckedForm } from './ui/form.ts';
import { Notice } from './ui/notice.tsx';

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
  const status = host ? (
    <span className="flex items-center gap-1.5" data-testid="host-status">
      <span aria-hidden className={`size-2 rounded-full ${host.online ? 'bg-emerald-500' : 'bg-slate-400'}`} />
      {hostStatus(host)}
      {host.os ? ` · ${host.os}` : ''}
      {host.agentVersion ? ` · agent ${host.agentVersion}` : ''}
      {host.lastSeenAt ? ` · last seen ${formatDateTime(host.lastSeenAt)} UTC` : ''}
    </span>
  ) : undefined;
  return (
    <Field
      name="hostId"
      id="hostId"
      label="Run on host"
      required
      aside={hostTags.length > 0 ? <span className="ml-2 text-xs font-normal text-slate-500">hosts tagged {hostTags.join(', ')}</span> : null}
      size="sm"
      messages={errors}
      description={status}
      className="border-b border-slate-200 pb-3"
    >
      {(props) =>
        hosts.length === 0 ? (
          <p className="text-sm text-amber-800">
            {hostTags.length > 0 ? `No host carries the tags ${hostTags.join(', ')}. ` : 'No host is registered yet. '}
            <Link to="/hosts" className="underline">
              Manage hosts
            </Link>
          </p>
        ) : (
          <select {...props} value={hostId} onChange={(e) => setHostId(e.currentTarget.value)} className={`${props.className} max-w-md`}>
            {hosts.map((h) => (
              <option key={h.id} value={h.id}>
                {h.name} ({h.transport !== 'agent' ? transportLabel(h.transport) : h.online ? 'online' : 'offline'})
              </option>
            ))}
          </select>
        )
      }
    </Field>
  );
}

/** Above a run form whose entry cannot run: why, so nobody fills it in for nothing. */
export function NotRunnableNotice({ entry }: { entry: Pick<ScriptView, 'kind' | 'runnable' | 'notRunnableReason'> }) {
  if (entry.runnable) return null;
  return (
    <Notice tone="muted" as="div" testId="not-runnable" className="mb-3">
      <span className="font-medium">
        This {entry.kind} cannot run{entry.notRunnableReason ? ':' : '.'}
      </span>{' '}
      {entry.notRunnableReason ?? ''}
    </Notice>
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
/** The run form, for operators and above; a viewer is told why there is none. */
export function RunForm(props: RunFormProps) {
  const mayRun = useMayRun();
  if (!mayRun) {
    return (
      <Notice tone="muted" testId="run-not-allowed">
        Your role in this team is viewer: you can read this {props.entry.kind} and its runs, and an operator or above can run it.
      </Notice>
    );
  }
  return <StartRunForm {...props} />;
}

function StartRunForm({ entry, hosts, failure, hidden, notice, submitLabel }: RunFormProps) {
  const [searchParams] = useSearchParams();
  const { errors, complained, busy, onSubmit, onChange } = useCheckedForm({
    check: (form) => checkRunForm(entry.parameters, form),
    serverErrors: failure?.fields ?? {},
    intents: ['run'],
  });
  const known = new Set(['hostId', ...entry.parameters.map((p) => p.name)]);
  const banner = !complained && !busy && failure ? failure.message : null;
  const disabled = !entry.runnable;

  return (
    <Form method="post" noValidate onSubmit={onSubmit} onChange={onChange} className="rounded border border-slate-200 bg-white px-4 py-3" data-testid="run-form">
      {Object.entries(hidden).map(([name, value]) => (
        <input key={name} type="hidden" name={name} value={value} />
      ))}
      <NotRunnableNotice entry={entry} />
      {notice}
      {banner ? (
        <Notice tone="error" as="div" className="mb-3">
          {banner}
        </Notice>
      ) : null}
      <UnplacedErrors entries={unplacedErrors(errors, (field) => known.has(field))} className="mb-3" />

      <fieldset disabled={disabled} className="min-w-0 disabled:opacity-60">
        <HostSelect hosts={hosts} hostTags={entry.hostTags} initial={failure?.hostId || defaultHostId(hosts, searchParams.get('host'))} errors={errors.hostId} />

        {entry.parameters.length === 0 ? (
          <p className="py-3 text-sm text-slate-500">This {entry.kind} takes no parameters.</p>
        ) : (
          <div className="divide-y divide-slate-100">
            {entry.parameters.map((p) => (
              <ParameterField key={p.name} parameter={p} submitted={failure?.values[p.name]} errors={errors[p.name]} hosts={hosts} />
            ))}
          </div>
        )}

        <div className="flex items-center gap-3 border-t border-slate-200 pt-3">
          <IntentButton intent="run" disabled={hosts.length === 0} busyLabel="Starting…" testId="start-run">
            {submitLabel}
          </IntentButton>
          <span className="text-xs text-slate-500">
            <span aria-hidden className="text-red-600">
              *
            </span>{' '}
            required
          </span>
        </div>
      </fieldset>
    </Form>
  );
}
