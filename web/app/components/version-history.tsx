import { Link } from 'react-router';
import type { ScriptVersionView } from '../lib/api-views.ts';
import { formatDateTime, shortVersion } from '../lib/format.ts';

interface VersionHistoryProps {
  scriptId: string;
  versions: ScriptVersionView[];
  /** The version the page shows now. */
  viewing: string;
}

/** Every version the catalog has seen of one script, newest first, each one runnable again. */
export function VersionHistory({ scriptId, versions, viewing }: VersionHistoryProps) {
  const base = `/scripts/${encodeURIComponent(scriptId)}`;
  if (versions.length === 0) return <p className="text-sm text-slate-500">No version history yet.</p>;
  return (
    <div className="overflow-x-auto rounded border border-slate-200 bg-white">
      <table className="w-full text-left text-sm" data-testid="version-history">
        <thead className="border-b border-slate-200 bg-slate-100 text-xs uppercase tracking-wide text-slate-600">
          <tr>
            <th className="px-3 py-2 font-medium">Version</th>
            <th className="px-3 py-2 font-medium">Author</th>
            <th className="px-3 py-2 font-medium">Date (UTC)</th>
            <th className="px-3 py-2 font-medium">Message</th>
            <th className="px-3 py-2 font-medium">Changes</th>
            <th className="px-3 py-2 font-medium">
              <span className="sr-only">Run</span>
            </th>
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100">
          {versions.map((v) => {
            const shown = v.version === viewing;
            return (
              <tr
                key={v.version}
                data-testid="version-row"
                data-version={v.version}
                data-current={v.current || undefined}
                aria-current={shown ? 'true' : undefined}
                className={`align-top ${shown ? 'bg-blue-50/60' : 'hover:bg-slate-50'}`}
              >
                <td className="px-3 py-2 whitespace-nowrap">
                  <abbr title={v.version} className="font-mono text-xs no-underline">
                    {shortVersion(v.version)}
                  </abbr>
                  {v.current ? (
                    <span data-testid="current-version" className="ml-2 rounded bg-emerald-50 px-1.5 py-px text-[0.7rem] font-medium text-emerald-800 ring-1 ring-emerald-200 ring-inset">
                      current
                    </span>
                  ) : null}
                </td>
                <td className="px-3 py-2 whitespace-nowrap">{v.author}</td>
                <td className="px-3 py-2 font-mono text-xs whitespace-nowrap">{formatDateTime(v.committedAt)}</td>
                <td className="max-w-sm px-3 py-2 text-slate-700">{v.message}</td>
                <td className="px-3 py-2">
                  {v.changes.length === 0 ? (
                    <span className="text-slate-400">—</span>
                  ) : (
                    <ul className="list-disc space-y-0.5 pl-4 text-xs text-slate-700">
                      {v.changes.map((c, i) => (
                        <li key={i}>{c}</li>
                      ))}
                    </ul>
                  )}
                </td>
                <td className="px-3 py-2 text-right whitespace-nowrap">
                  {shown ? (
                    <span className="text-xs text-slate-500">shown above</span>
                  ) : (
                    <Link
                      to={v.current ? base : `${base}?version=${encodeURIComponent(v.version)}`}
                      data-testid="run-version-link"
                      className="text-xs text-blue-700 hover:underline"
                    >
                      Run this version
                    </Link>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
