import type { ReactNode } from 'react';

interface NameValueTableProps {
  rows: readonly (readonly [name: string, value: ReactNode])[];
  testId?: string;
  /** A data attribute each row carries, holding the row's name (`data-param`, `data-setting`). */
  rowAttribute?: `data-${string}`;
  /** In a box of its own, names in bold: settings to read one by one. */
  framed?: boolean;
}

/** Names and their values in monospace (parameters, environment variables, settings): the name heads its row. */
export function NameValueTable({ rows, testId, rowAttribute, framed = false }: NameValueTableProps) {
  const table = (
    <table className="w-full text-left text-xs" data-testid={testId}>
      <tbody className="divide-y divide-slate-100">
        {rows.map(([name, value]) => (
          <tr key={name} {...(rowAttribute ? { [rowAttribute]: name } : {})}>
            <th scope="row" className={framed ? 'w-0 px-3 py-1.5 align-top font-mono font-medium whitespace-nowrap' : 'w-1/3 py-1 pr-3 align-top font-mono font-normal text-slate-500'}>
              {name}
            </th>
            <td className={`font-mono break-all whitespace-pre-wrap ${framed ? 'px-3 py-1.5' : 'py-1'}`}>{value}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
  return framed ? <div className="overflow-x-auto rounded border border-slate-200">{table}</div> : table;
}
