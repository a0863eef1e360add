import { shortVersion } from '../lib/format.ts';

/** A commit or version cut to the characters people quote, the whole of it on hover; a dash when there is none. */
export function ShortSha({ sha, className = 'font-mono' }: { sha: string | null; className?: string }) {
  if (!sha) return <>—</>;
  return (
    <abbr title={sha} className={`no-underline ${className}`}>
      {shortVersion(sha)}
    </abbr>
  );
}
