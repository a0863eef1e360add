import { ENVIRONMENTS } from '@drydock/core/api-schemas';
import { useMemo, useState } from 'react';
import { Link } from 'react-router';
import type { HostView } from '../lib/api-views.ts';
import type { BulkSettings } from '../lib/bulk-form.ts';
import type { FieldErrors } from '../lib/run-form.ts';
import { HostStateBadge, TransportBadge } from './host-badges.tsx';

const inputClass = 'block w-full rounded border bg-white px-2.5 py-1.5 text-sm shadow-xs focus:outline-none focus:ring-2 focus:ring-blue-200';

export function FieldError({ name, errors }: { name: string; errors: string[] | undefined }) {
  if (!errors || errors.length === 0) return null;
  return (
    <p id={`bulk-${name}-error`} data-field-error={name} className="mt-1 text-xs font-medium text-red-700">
      {errors.join(' ')}
    </p>
  );
}

function matches(host: HostView, query: string): boolean {
  if (query === '') return true;
  const q = query.toLowerCase();
  return [host.id, host.name, host.environment ?? '', host.group ?? '', ...host.tags].some((v) => v.toLowerCase().includes(q));
}

/** Named hosts: a checkbox per host the entry can run on, with a filter and select-all for long lists. */
function NamedHosts({ hosts, initial, errors }: { hosts: HostView[]; initial: string[]; errors: string[] | undefined }) {
  const [selected, setSelected] = useState(() => new Set(initial));
  const [query, setQuery] = useState('');
  const shown = useMemo(() => hosts.filter((h) => matches(h, query.trim())), [hosts, query]);
  const shownIds = useMemo(() => new Set(shown.map((h) => h.id)), [shown]);
  const invalid = errors !== undefined && errors.length > 0;

  const toggle = (id: string, on: boolean) =>
    setSelected((s) => {
      const next = new Set(s);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });

  return (
    <div>
      <div className="mb-2 flex flex-wrap items-center gap-2">
        <input
          type="search"
          aria-label="Filter hosts by name, id, environment, group or tag"
          placeholder="Filter hosts"
          value={query}
          onChange={(e) => setQuery(e.currentTarget.value)}
          className={`${inputClass} max-w-56 border-slate-300`}
        />
        <button
          type="button"
          onClick={() => setSelected((s) => new Set([...s, ...shown.map((h) => h.id)]))}
          className="rounded border border-slate-300 bg-white px-2 py-1 text-xs text-slate-700 hover:bg-slate-100"
          data-testid="bulk-select-shown"
        >
          Select {query.trim() ? `the ${shown.length} shown` : `all ${hosts.length}`}
        </button>
        <button type="button" onClick={() => setSelected(new Set())} className="rounded border border-slate-300 bg-white px-2 py-1 text-xs text-slate-700 hover:bg-slate-100">
          Clear
        </button>
        <span className="text-xs text-slate-500" data-testid="bulk-selected-count" aria-live="polite">
          {selected.size} of {hosts.length} selected
        </span>
      </div>
      <div
        role="group"
        aria-label="Hosts to run on"
        aria-invalid={invalid || undefined}
        aria-describedby={invalid ? 'bulk-hostIds-error' : undefined}
        className={`max-h-80 overflow-auto rounded border ${invalid ? 'border-red-400' : 'border-slate-200'}`}
      >
        <table className="w-full text-left text-sm">
          <tbody className="divide-y divide-slate-100">
            {hosts.map((h) => (
              <tr key={h.id} hidden={!shownIds.has(h.id)} className="hover:bg-slate-50">
                <td className="w-8 py-1 pl-2">
                  <input
                    id={`bulk-host-${h.id}`}
                    type="checkbox"
                    name="hostIds"
                    value={h.id}
                    checked={selected.has(h.id)}
                    onChange={(e) => toggle(h.id, e.currentTarget.checked)}
                    className="size-4 rounded border-slate-300"
                  />
                </td>
                <td className="py-1 pr-2">
                  <label htmlFor={`bulk-host-${h.id}`} className="cursor-pointer">
                    {h.name}
                    {h.name !== h.id ? <span className="ml-1.5 font-mono text-xs text-slate-500">{h.id}</span> : null}
                  </label>
                </td>
                <td className="py-1 pr-2">
                  <TransportBadge transport={h.transport} />
                </td>
                <td className="py-1 pr-2 text-xs text-slate-600">{[h.environment, h.group].filter(Boolean).join(' · ') || '—'}</td>
                <td className="py-1 pr-2">
                  <HostStateBadge host={h} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {shown.length === 0 ? <p className="px-3 py-3 text-sm text-slate-500">No host matches “{query.trim()}”.</p> : null}
      </div>
      <FieldError name="hostIds" errors={errors} />
    </div>
  );
}

function distinct(values: (string | null)[]): string[] {
  return [...new Set(values.filter((v): v is string => v !== null && v !== ''))].sort();
}

/** Hosts by label: every host in the environment, in the group and carrying every tag given. */
function HostLabels({ hosts, settings, errors }: { hosts: HostView[]; settings: BulkSettings; errors: FieldErrors }) {
  const groups = distinct(hosts.map((h) => h.group));
  const tags = distinct(hosts.flatMap((h) => h.tags));
  const describe = (name: string) => (errors[name] ? `bulk-${name}-error` : undefined);
  const border = (name: string) => (errors[name] ? 'border-red-400' : 'border-slate-300');
  return (
    <div>
      <div className="grid gap-3 sm:grid-cols-3">
        <div>
          <label htmlFor="bulk-hostEnvironment" className="mb-1 block text-sm font-medium text-slate-800">
            Environment
          </label>
          <select
            id="bulk-hostEnvironment"
            name="hostEnvironment"
            defaultValue={settings.hostEnvironment}
            aria-invalid={errors.hostEnvironment ? true : undefined}
            aria-describedby={describe('hostEnvironment')}
            className={`${inputClass} ${border('hostEnvironment')}`}
          >
            <option value="">any</option>
            {ENVIRONMENTS.map((e) => (
              <option key={e} value={e}>
                {e}
              </option>
            ))}
          </select>
          <FieldError name="hostEnvironment" errors={errors.hostEnvironment} />
        </div>
        <div>
          <label htmlFor="bulk-hostGroup" className="mb-1 block text-sm font-medium text-slate-800">
            Group
          </label>
          <input
            id="bulk-hostGroup"
            name="hostGroup"
            list="bulk-groups"
            defaultValue={settings.hostGroup}
            placeholder="any"
            spellCheck={false}
            aria-invalid={errors.hostGroup ? true : undefined}
            aria-describedby={describe('hostGroup')}
            className={`${inputClass} ${border('hostGroup')}`}
          />
          <datalist id="bulk-groups">
            {groups.map((g) => (
              <option key={g} value={g} />
            ))}
          </datalist>
          <FieldError name="hostGroup" errors={errors.hostGroup} />
        </div>
        <div>
          <label htmlFor="bulk-hostTags" className="mb-1 block text-sm font-medium text-slate-800">
            Tags
          </label>
          <input
            id="bulk-hostTags"
            name="hostTags"
            defaultValue={settings.hostTags}
            placeholder="linux, db"
            spellCheck={false}
            aria-invalid={errors.hostTags ? true : undefined}
            aria-describedby={[describe('hostTags'), 'bulk-hostTags-hint'].filter(Boolean).join(' ')}
            className={`${inputClass} ${border('hostTags')}`}
          />
          <p id="bulk-hostTags-hint" className="mt-1 text-xs text-slate-500">
            Hosts carrying every one of them, separated by commas.{tags.length > 0 ? ` In use: ${tags.join(', ')}.` : ''}
          </p>
          <FieldError name="hostTags" errors={errors.hostTags} />
        </div>
      </div>
      <FieldError name="hostLabels" errors={errors.hostLabels} />
    </div>
  );
}

interface HostPickerProps {
  hosts: HostView[];
  hostTags: string[];
  kind: string;
  settings: BulkSettings;
  errors: FieldErrors;
}

/** Which hosts: named, or by label. The choice shows its own fields by CSS alone, so it works before hydration too. */
export function BulkHostPicker({ hosts, hostTags, kind, settings, errors }: HostPickerProps) {
  return (
    <fieldset className="group/selector min-w-0">
      <legend className="mb-1 text-sm font-semibold text-slate-800">Hosts</legend>
      <p className="mb-2 text-xs text-slate-500">
        {hostTags.length > 0 ? `This ${kind} runs only on hosts tagged ${hostTags.join(', ')}; others are left out. ` : ''}
        <Link to="/hosts" className="underline">
          Manage hosts
        </Link>
      </p>
      <div className="mb-3 flex flex-wrap gap-4 text-sm">
        <label htmlFor="select-by-hosts" className="flex items-center gap-1.5">
          <input id="select-by-hosts" type="radio" name="selectBy" value="hosts" defaultChecked={settings.selectBy === 'hosts'} className="size-4" />
          Name the hosts
        </label>
        <label htmlFor="select-by-labels" className="flex items-center gap-1.5">
          <input id="select-by-labels" type="radio" name="selectBy" value="labels" defaultChecked={settings.selectBy === 'labels'} className="size-4" />
          By environment, group and tags
        </label>
      </div>
      <div className="group-has-[#select-by-labels:checked]/selector:hidden" data-testid="bulk-named-hosts">
        {hosts.length === 0 ? (
          <>
            <p className="text-sm text-amber-800">{hostTags.length > 0 ? `No host carries the tags ${hostTags.join(', ')}.` : 'No host is registered yet.'}</p>
            <FieldError name="hostIds" errors={errors.hostIds} />
          </>
        ) : (
          <NamedHosts hosts={hosts} initial={settings.hostIds} errors={errors.hostIds} />
        )}
      </div>
      <div className="hidden group-has-[#select-by-labels:checked]/selector:block" data-testid="bulk-host-labels">
        <HostLabels hosts={hosts} settings={settings} errors={errors} />
      </div>
    </fieldset>
  );
}
