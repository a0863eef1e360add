import { Fragment, type ReactNode } from 'react';
import { Link } from 'react-router';
import { Panel } from './panel.tsx';

export interface Crumb {
  label: ReactNode;
  to?: string;
}

interface PageHeaderProps {
  title: ReactNode;
  /** Where the page sits: `Runs / <id>`; the last crumb is the page itself and links nowhere. */
  crumbs?: Crumb[];
  /** Badges and the like beside the title. */
  badges?: ReactNode;
  description?: ReactNode;
  /** A count or note under the title, in small print. */
  note?: ReactNode;
  noteTestId?: string;
  /** Buttons and links on the right. */
  actions?: ReactNode;
}

/** A page's title, where it sits, what it is for and what can be done on it. */
export function PageHeader({ title, crumbs, badges, description, note, noteTestId, actions }: PageHeaderProps) {
  return (
    <div className="flex flex-wrap items-start justify-between gap-3">
      <div className="min-w-0">
        {crumbs && crumbs.length > 0 ? (
          <nav aria-label="Breadcrumb" className="text-xs text-slate-500">
            {crumbs.map((c, i) => (
              <Fragment key={i}>
                {i > 0 ? ' / ' : null}
                {c.to ? (
                  <Link to={c.to} className="hover:underline">
                    {c.label}
                  </Link>
                ) : (
                  c.label
                )}
              </Fragment>
            ))}
          </nav>
        ) : null}
        <h1 className="flex flex-wrap items-center gap-2 text-lg font-semibold">
          {title}
          {badges}
        </h1>
        {note ? (
          <p className="text-xs text-slate-500" data-testid={noteTestId}>
            {note}
          </p>
        ) : null}
        {description ? <div className="mt-1 max-w-3xl text-sm text-slate-600">{description}</div> : null}
      </div>
      {actions ? <div className="flex flex-wrap items-start gap-2">{actions}</div> : null}
    </div>
  );
}

/** A page that is one form: its header, then the form in a panel. */
export function FormPage({ crumbs, title, description, children }: Pick<PageHeaderProps, 'crumbs' | 'title' | 'description'> & { children: ReactNode }) {
  return (
    <div className="max-w-4xl space-y-4">
      <PageHeader crumbs={crumbs} title={title} description={description} />
      <Panel>{children}</Panel>
    </div>
  );
}
