import { Link } from 'react-router';
import { formatDateTime } from '../lib/format.ts';
import { ShortSha } from './short-sha.tsx';
import { Notice } from './ui/notice.tsx';

/** Above a form about to run a script at an older version than the current one: which, and the way back. */
export function OlderVersionNotice({ version, committedAt, current }: { version: string; committedAt?: string | null; current: { to: string; label: string } }) {
  return (
    <Notice tone="warning" as="div" testId="version-banner" className="mb-3">
      You are about to run version <ShortSha sha={version} className="font-mono font-semibold" />
      {committedAt ? ` from ${formatDateTime(committedAt)} UTC` : ''}, not the current one.{' '}
      <Link to={current.to} className="underline">
        {current.label}
      </Link>
    </Notice>
  );
}
