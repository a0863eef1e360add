import { Link } from 'react-router';
import type { ScriptVersionView } from '@drydock/core/api-schemas';
import { formatDateTime } from '../lib/format.ts';
import { ShortSha } from './short-sha.tsx';
import { Badge } from './ui/badge.tsx';
import { DataTable, type Column } from './ui/table.tsx';

interface VersionHistoryProps {
  scriptId: string;
  versions: ScriptVersionView[];
  /** The version the page shows now. */
  viewing: string;
}

/** Every version the catalog has seen of one script, newest first, each one runnable again. */
export function VersionHistory({ scriptId, versions, viewing }: VersionHistoryProps) {
  const base = `/scripts/${encodeURIComponent(scriptId)}`;
  const columns: Column<ScriptVersionView>[] = [
    {
      key: 'version',
      header: 'Version',
      nowrap: true,
      cell: (v) => (
        <>
          <ShortSha sha={v.version} className="font-mono text-xs" />
          {v.current ? (
            <span data-testid="current-version" className="ml-2">
              <Badge tone="success">current</Badge>
            </span>
          ) : null}
        </>
      ),
    },
    { key: 'author', header: 'Author', nowrap: true, cell: (v) => v.author },
    { key: 'date', header: 'Date (UTC)', mono: true, nowrap: true, cell: (v) => formatDateTime(v.committedAt) },
    { key: 'message', header: 'Message', className: 'max-w-sm text-slate-700', cell: (v) => v.message },
    {
      key: 'changes',
      header: 'Changes',
      cell: (v) =>
        v.changes.length === 0 ? (
          <span className="text-slate-400">—</span>
        ) : (
          <ul className="list-disc space-y-0.5 pl-4 text-xs text-slate-700">
            {v.changes.map((c, i) => (
              <li key={i}>{c}</li>
            ))}
          </ul>
        ),
    },
    {
      key: 'run',
      header: 'Run',
      hidden: true,
      align: 'right',
      nowrap: true,
      cell: (v) =>
        v.version === viewing ? (
          <span className="text-xs text-slate-500">shown above</span>
        ) : (
          <Link to={v.current ? base : `${base}?version=${encodeURIComponent(v.version)}`} data-testid="run-version-link" className="text-xs text-blue-700 hover:underline">
            Run this version
          </Link>
        ),
    },
  ];
  return (
    <DataTable
      rows={versions}
      columns={columns}
      rowKey={(v) => v.version}
      row={(v) => ({
        'data-testid': 'version-row',
        'data-version': v.version,
        'data-current': v.current || undefined,
        'aria-current': v.version === viewing ? 'true' : undefined,
        className: v.version === viewing ? 'bg-blue-50/60' : '',
      })}
      testId="version-history"
      empty="No version history yet."
    />
  );
}
