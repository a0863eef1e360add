import { createContext, Fragment, useContext, type HTMLAttributes, type ReactNode, type TdHTMLAttributes } from 'react';
import { Link } from 'react-router';
import { EmptyState } from './empty-state.tsx';

/** `normal` for pages' main lists, `dense` for long ones (runs, bulk), `compact` for tables inside a panel. */
export type Density = 'normal' | 'dense' | 'compact';

const DensityContext = createContext<Density>('normal');

const CELL_PADDING: Record<Density, string> = { normal: 'px-3 py-2', dense: 'px-3 py-1.5', compact: 'px-3 py-1' };
const HEADER_PADDING: Record<Density, string> = { normal: 'px-3 py-2', dense: 'px-3 py-2', compact: 'px-3 py-1' };

type Align = 'left' | 'right' | 'center';
const ALIGN: Record<Align, string> = { left: '', right: 'text-right', center: 'text-center' };

interface TableProps {
  testId?: string;
  density?: Density;
  /** Says what the table lists, for screen readers; visible captions are the page's headings. */
  label?: string;
  /** Tables inside a scrolling box set their own frame. */
  framed?: boolean;
  children: ReactNode;
}

/** A list as a table: a framed, horizontally scrolling box on narrow screens. */
export function Table({ testId, density = 'normal', label, framed = true, children }: TableProps) {
  const table = (
    <table className="w-full text-left text-sm" data-testid={testId} aria-label={label}>
      {children}
    </table>
  );
  return <DensityContext.Provider value={density}>{framed ? <div className="overflow-x-auto rounded border border-slate-200 bg-white">{table}</div> : table}</DensityContext.Provider>;
}

export function TableHead({ children }: { children: ReactNode }) {
  const density = useContext(DensityContext);
  return (
    <thead className={density === 'compact' ? 'bg-slate-100 text-xs text-slate-600' : 'border-b border-slate-200 bg-slate-100 text-xs tracking-wide text-slate-600 uppercase'}>
      <tr>{children}</tr>
    </thead>
  );
}

interface ThProps {
  children: ReactNode;
  align?: Align;
  /** The column's content reads as a number: aligned right, figures of equal width. */
  numeric?: boolean;
  title?: string;
  /** The header names a column of actions: said to screen readers, not shown. */
  hidden?: boolean;
  sort?: 'ascending' | 'descending' | 'none';
}

export function Th({ children, align = 'left', numeric = false, title, hidden = false, sort }: ThProps) {
  const density = useContext(DensityContext);
  return (
    <th scope="col" title={title} aria-sort={sort} className={`${HEADER_PADDING[density]} font-medium ${ALIGN[numeric ? 'right' : align]}`}>
      {hidden ? <span className="sr-only">{children}</span> : children}
    </th>
  );
}

/** A table's rows; a table of groups (a lock and its waiters) has one body per group, each with its own test id. */
export function TableBody({ children, className = '', ...rest }: HTMLAttributes<HTMLTableSectionElement> & Record<`data-${string}`, string | undefined>) {
  return (
    <tbody className={`divide-y divide-slate-100 ${className}`} {...rest}>
      {children}
    </tbody>
  );
}

interface TdProps extends Omit<TdHTMLAttributes<HTMLTableCellElement>, 'align'> {
  align?: Align;
  numeric?: boolean;
  mono?: boolean;
  nowrap?: boolean;
  testId?: string;
}

export function Td({ align = 'left', numeric = false, mono = false, nowrap = false, testId, className = '', children, ...rest }: TdProps) {
  const density = useContext(DensityContext);
  const look = [CELL_PADDING[density], ALIGN[numeric ? 'right' : align], numeric ? 'tabular-nums' : '', mono ? 'font-mono text-xs' : '', nowrap ? 'whitespace-nowrap' : '', className].filter(Boolean).join(' ');
  return (
    <td data-testid={testId} className={look} {...rest}>
      {children}
    </td>
  );
}

/** A row's way to its own page: its name, with the id beneath when the two differ. */
export function RowLink({ to, children, id, title }: { to: string; children: ReactNode; id?: string; title?: string }) {
  return (
    <>
      <Link to={to} title={title} className="font-medium text-blue-700 hover:underline">
        {children}
      </Link>
      {id !== undefined ? <div className="font-mono text-xs text-slate-500">{id}</div> : null}
    </>
  );
}

export interface Column<T> {
  key: string;
  header: ReactNode;
  cell: (row: T) => ReactNode;
  align?: Align;
  numeric?: boolean;
  mono?: boolean;
  nowrap?: boolean;
  /** On the header: what the column means, on hover. */
  title?: string;
  /** The header names a column of actions: said to screen readers, not shown. */
  hidden?: boolean;
  /** A test id on each of the column's cells. */
  testId?: string;
  className?: string;
  /** The header as a whole cell of its own (a sort link), replacing `header`. */
  th?: ReactNode;
}

type RowAttributes = HTMLAttributes<HTMLTableRowElement> & Record<`data-${string}`, string | number | boolean | undefined>;

interface DataTableProps<T> {
  rows: readonly T[];
  columns: readonly Column<T>[];
  rowKey: (row: T) => string;
  /** Test ids and data attributes of a row; `className` adds to its look. */
  row?: (row: T) => RowAttributes;
  testId?: string;
  density?: Density;
  label?: string;
  /** What shows instead of the table when there are no rows. */
  empty: ReactNode;
  emptyTestId?: string;
  /** Off when the table sits in a scrolling box of its own. */
  framed?: boolean;
}

/** The common list: a header of columns, a row per item, and an empty state when there is none. */
export function DataTable<T>({ rows, columns, rowKey, row, testId, density = 'normal', label, empty, emptyTestId, framed = true }: DataTableProps<T>) {
  if (rows.length === 0) return <EmptyState testId={emptyTestId}>{empty}</EmptyState>;
  return (
    <Table testId={testId} density={density} label={label} framed={framed}>
      <TableHead>
        {columns.map((c) =>
          c.th !== undefined ? (
            <Fragment key={c.key}>{c.th}</Fragment>
          ) : (
            <Th key={c.key} align={c.align} numeric={c.numeric} title={c.title} hidden={c.hidden}>
              {c.header}
            </Th>
          ),
        )}
      </TableHead>
      <TableBody>
        {rows.map((item) => {
          const { className = '', ...attributes } = row?.(item) ?? {};
          return (
            <tr key={rowKey(item)} className={`align-top hover:bg-slate-50 ${className}`} {...attributes}>
              {columns.map((c) => (
                <Td key={c.key} align={c.align} numeric={c.numeric} mono={c.mono} nowrap={c.nowrap} testId={c.testId} className={c.className}>
                  {c.cell(item)}
                </Td>
              ))}
            </tr>
          );
        })}
      </TableBody>
    </Table>
  );
}
