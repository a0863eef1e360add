import { useMemo, useState } from 'react';
import { Link } from 'react-router';
import type { HostView } from '@drydock/core/api-schemas';
import type { BulkSettings } from '../lib/bulk-form.ts';
import type { FieldErrors } from '../lib/form-errors.ts';
import { HostStateBadge, TransportBadge } from './host-badges.tsx';
import { Button } from './ui/button.tsx';
import { Field, FieldError, Options, SearchInput } from './ui/field.tsx';


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
        <SearchInput label="Filter hosts by name, id, environment, group or tag" placeholder="Filter hosts" value={query} onChange={setQuery} className="max-w-56" />
        <Button size="xs" onClick={() => setSelected((s) => new Set([...s, ...shown.map((h) => h.id)]))} testId="bulk-select-shown">
          Select {query.trim() ? `the ${shown.length} shown` : `all ${hosts.length}`}
        </Button>
        <Button size="xs" onClick={() => setSelected(new Set())}>
          Clear
        </Button>
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
      <FieldError id="bulk-hostIds-error" name="hostIds" messages={errors} />
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
  return (
    // The "choose an environment, a group or tags" problem belongs to the three together: the group is what is marked.
    <div role="group" aria-label="Hosts by label" aria-invalid={errors.hostLabels ? true : undefined} aria-describedby={errors.hostLabels ? 'bulk-hostLabels-error' : undefined}>
      <div className="grid gap-3 sm:grid-cols-3">
        <Field name="hostEnvironment" id="bulk-hostEnvironment" label="Environment" size="sm" messages={errors.hostEnvironment}>
          {(props) => (
            <select {...props} defaultValue={settings.hostEnvironment}>
              <Options choices={[...new Set(hosts.flatMap((h) => (h.environment ? [h.environment] : [])))].sort()} empty="any" />
            </select>
          )}
        </Field>
        <Field name="hostGroup" id="bulk-hostGroup" label="Group" size="sm" messages={errors.hostGroup}>
          {(props) => (
            <>
              <input {...props} list="bulk-groups" defaultValue={settings.hostGroup} placeholder="any" spellCheck={false} />
              <datalist id="bulk-groups">
                {groups.map((g) => (
                  <option key={g} value={g} />
                ))}
              </datalist>
            </>
          )}
        </Field>
        <Field
          name="hostTags"
          id="bulk-hostTags"
          label="Tags"
          size="sm"
          messages={errors.hostTags}
          description={`Hosts carrying every one of them, separated by commas.${tags.length > 0 ? ` In use: ${tags.join(', ')}.` : ''}`}
        >
          {(props) => <input {...props} defaultValue={settings.hostTags} placeholder="linux, db" spellCheck={false} />}
        </Field>
      </div>
      <FieldError id="bulk-hostLabels-error" name="hostLabels" messages={errors.hostLabels} />
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
            <FieldError id="bulk-hostIds-error" name="hostIds" messages={errors.hostIds} />
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
