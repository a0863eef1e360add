// Times render in UTC so the server-rendered HTML and the hydrated page agree whatever the browser's time zone.

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** `2025-03-14 09:26:53` (UTC), or an em dash when there is no time. */
export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/** `2025-03-14` (UTC). */
export function formatDate(iso: string | null | undefined): string {
  return formatDateTime(iso).slice(0, 10);
}

/**
 * `12 s ago`, `5 min ago`, `3 h ago`, `2 days ago`, or `never`. `now` comes from the loader, so the server-rendered
 * page and the hydrated one say the same.
 */
export function formatRelative(iso: string | null | undefined, now: number): string {
  if (!iso) return 'never';
  const then = new Date(iso).getTime();
  if (Number.isNaN(then)) return iso;
  const seconds = Math.round((now - then) / 1_000);
  if (seconds < 0) return 'just now';
  if (seconds < 60) return `${seconds} s ago`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.floor(hours / 24)} days ago`;
}

/** A commit SHA or content hash cut to the 7 characters people quote; short versions (action revisions) stay whole. */
export function shortVersion(version: string): string {
  return version.length > 12 ? version.slice(0, 7) : version;
}

/** `HH:MM:SS.mmm` (UTC), the log line timestamp. */
export function formatClock(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}`;
}

/** `5 min`, `1 h 30 min`, `45 s`: sync intervals and time limits given in seconds. */
export function formatSeconds(seconds: number): string {
  if (seconds < 60 || seconds % 60 !== 0) return `${seconds} s`;
  const minutes = seconds / 60;
  if (minutes < 60 || minutes % 60 !== 0) return minutes >= 60 ? `${Math.floor(minutes / 60)} h ${minutes % 60} min` : `${minutes} min`;
  return `${minutes / 60} h`;
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const totalSeconds = Math.floor(ms / 1_000);
  const hours = Math.floor(totalSeconds / 3_600);
  const minutes = Math.floor((totalSeconds % 3_600) / 60);
  const seconds = totalSeconds % 60;
  return hours > 0 ? `${hours}h ${pad(minutes)}m ${pad(seconds)}s` : `${minutes}m ${pad(seconds)}s`;
}

/** `datetime-local` value (read as UTC) → ISO with offset, as the runs API expects; undefined when empty or invalid. */
export function localInputToIso(value: string | null): string | undefined {
  if (!value) return undefined;
  const d = new Date(/[zZ]|[+-]\d\d:\d\d$/.test(value) ? value : `${value}Z`);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

const CREDENTIAL_KIND_LABEL: Partial<Record<string, string>> = { https_token: 'HTTPS token', ssh_key: 'SSH private key', password: 'Password' };

export function credentialKindLabel(kind: string): string {
  return CREDENTIAL_KIND_LABEL[kind] ?? kind;
}
