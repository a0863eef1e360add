import type { ScriptView } from '@drydock/core/api-schemas';
import { useState, type FormEvent, type ReactNode } from 'react';
import { Form, Link, useNavigation } from 'react-router';
import type { Route } from './+types/script';
import { ParameterField } from '../components/parameter-field.tsx';
import { RouteError } from '../components/route-error.tsx';
import { formatDateTime } from '../lib/format.ts';
import { checkHost, checkParams, type FieldErrors } from '../lib/run-form.ts';
import { loadHosts, loadScript, startRun, type HostView } from './script.server.ts';

export const meta: Route.MetaFunction = ({ loaderData }) => [{ title: `${loaderData?.script.name ?? 'Script'} · Drydock` }];

export async function loader({ request, params }: Route.LoaderArgs) {
  const [script, hosts] = await Promise.all([loadScript(request, params.id), loadHosts(request)]);
  return { script, hosts };
}

export async function action({ request, params }: Route.ActionArgs) {
  return startRun(request, params.id);
}

function validate(script: ScriptView, form: HTMLFormElement): FieldErrors {
  const formData = new FormData(form);
  const { result } = checkParams(script.parameters, formData);
  return { ...checkHost(formData), ...(result.ok ? {} : result.fields) };
}

function defaultHostId(hosts: HostView[]): string {
  return (hosts.find((h) => h.id === 'local') ?? hosts.find((h) => h.online) ?? hosts[0])?.id ?? '';
}

function HostSelect({ hosts, initial, errors }: { hosts: HostView[]; initial: string; errors: string[] | undefined }) {
  const [hostId, setHostId] = useState(initial);
  const host = hosts.find((h) => h.id === hostId);
  const invalid = errors !== undefined && errors.length > 0;
  return (
    <div className="border-b border-slate-200 pb-3">
      <label htmlFor="hostId" className="mb-1 block text-sm font-medium text-slate-800">
        Host<span className="ml-0.5 text-red-600">*</span>
      </label>
      {hosts.length === 0 ? (
        <p className="text-sm text-amber-800">No host is registered yet: start an agent to run scripts.</p>
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
              {h.name} ({h.online ? 'online' : 'offline'})
            </option>
          ))}
        </select>
      )}
      {host ? (
        <p className="mt-1 flex items-center gap-1.5 text-xs text-slate-500" data-testid="host-status">
          <span aria-hidden className={`size-2 rounded-full ${host.online ? 'bg-emerald-500' : 'bg-slate-400'}`} />
          {host.online ? 'online' : 'offline: the run waits for its agent to come back'}
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

function ScriptFacts({ script }: { script: ScriptView }) {
  const facts: [string, ReactNode][] = [
    ['Id', <span className="font-mono">{script.id}</span>],
    ['Version', <span className="font-mono break-all">{script.version}</span>],
    ['Interpreter', <span className="font-mono">{script.interpreter}</span>],
    ['Category', script.category],
    ['Timeout', `${script.timeout} s`],
    ['Retries', String(script.retries)],
  ];
  return (
    <aside className="rounded border border-slate-200 bg-white p-4 text-sm">
      <dl className="grid grid-cols-[6rem_1fr] gap-x-3 gap-y-1.5">
        {facts.map(([term, value]) => (
          <div key={term} className="contents">
            <dt className="text-slate-500">{term}</dt>
            <dd>{value}</dd>
          </div>
        ))}
        <dt className="text-slate-500">Tags</dt>
        <dd className="flex flex-wrap gap-1">
          {script.tags.length === 0 ? '—' : null}
          {script.tags.map((t) => (
            <Link key={t} to={`/?q=${encodeURIComponent(t)}`} className="rounded bg-slate-100 px-1.5 py-0.5 text-xs hover:bg-slate-200">
              {t}
            </Link>
          ))}
        </dd>
      </dl>
      <p className="mt-4 border-t border-slate-100 pt-3 text-xs">
        <Link to={`/runs?script=${encodeURIComponent(script.id)}`} className="text-blue-700 hover:underline">
          Past runs of this script →
        </Link>
      </p>
    </aside>
  );
}

export default function ScriptPage({ loaderData, actionData }: Route.ComponentProps) {
  const { script, hosts } = loaderData;
  const navigation = useNavigation();
  const busy = navigation.state !== 'idle' && navigation.formMethod === 'POST';
  const [clientErrors, setClientErrors] = useState<FieldErrors | null>(null);

  const shown: FieldErrors = clientErrors ?? (busy ? {} : (actionData?.fields ?? {}));
  const known = new Set(['hostId', ...script.parameters.map((p) => p.name)]);
  const otherErrors = Object.entries(shown).filter(([key]) => !known.has(key));
  const banner = clientErrors === null && !busy && actionData ? actionData.message : null;

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    const errors = validate(script, event.currentTarget);
    if (Object.keys(errors).length === 0) {
      setClientErrors(null);
      return;
    }
    event.preventDefault();
    setClientErrors(errors);
    const first = script.parameters.find((p) => errors[p.name]);
    const target = event.currentTarget.elements.namedItem(errors.hostId ? 'hostId' : (first?.name ?? ''));
    if (target instanceof HTMLElement) target.focus();
  }

  function onChange(event: FormEvent<HTMLFormElement>) {
    if (clientErrors !== null) setClientErrors(validate(script, event.currentTarget));
  }

  return (
    <div>
      <div className="mb-4">
        <p className="text-xs text-slate-500">
          <Link to="/" className="hover:underline">
            Catalog
          </Link>{' '}
          / {script.category}
        </p>
        <h1 className="text-lg font-semibold">{script.name}</h1>
        {script.description ? <p className="mt-1 max-w-3xl text-sm text-slate-600">{script.description}</p> : null}
      </div>

      <div className="grid gap-5 lg:grid-cols-[1fr_18rem]">
        <Form
          method="post"
          noValidate
          onSubmit={onSubmit}
          onChange={onChange}
          className="rounded border border-slate-200 bg-white px-4 py-3"
          data-testid="run-form"
        >
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

          <HostSelect hosts={hosts} initial={actionData?.hostId || defaultHostId(hosts)} errors={shown.hostId} />

          {script.parameters.length === 0 ? (
            <p className="py-3 text-sm text-slate-500">This script takes no parameters.</p>
          ) : (
            <div className="divide-y divide-slate-100">
              {script.parameters.map((p) => (
                <ParameterField key={p.name} parameter={p} submitted={actionData?.values[p.name]} errors={shown[p.name]} />
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
              {busy ? 'Starting…' : 'Run script'}
            </button>
            <span className="text-xs text-slate-500">
              <span className="text-red-600">*</span> required
            </span>
          </div>
        </Form>

        <ScriptFacts script={script} />
      </div>
    </div>
  );
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  return <RouteError error={error} />;
}
