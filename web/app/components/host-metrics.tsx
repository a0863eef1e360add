import type { HostView } from '@drydock/core/api-schemas';

type Metrics = NonNullable<HostView['metrics']>;

function percent(used: number | null, total: number | null): number | null {
  return used === null || total === null || total <= 0 ? null : Math.round((used / total) * 100);
}

function gb(mb: number | null): string {
  return mb === null ? '?' : mb >= 1024 ? `${(mb / 1024).toFixed(1)} GB` : `${mb} MB`;
}

/** `3d 4h`, `5h 12m`, `42m`: how long the host has been up. */
export function formatUptime(seconds: number | null): string {
  if (seconds === null) return '—';
  const d = Math.floor(seconds / 86_400);
  const h = Math.floor((seconds % 86_400) / 3_600);
  const m = Math.floor((seconds % 3_600) / 60);
  return d > 0 ? `${d}d ${h}h` : h > 0 ? `${h}h ${m}m` : `${m}m`;
}

/** A used-of-total bar that turns amber past 80 % and red past 95 %, as operators scan for full disks. */
function Gauge({ label, used, total, testId }: { label: string; used: number | null; total: number | null; testId: string }) {
  const p = percent(used, total);
  const tone = p === null ? 'bg-slate-300' : p >= 95 ? 'bg-red-600' : p >= 80 ? 'bg-amber-500' : 'bg-emerald-600';
  return (
    <div className="flex items-center gap-1.5" data-testid={testId} data-percent={p ?? undefined} title={`${label}: ${gb(used)} of ${gb(total)} used`}>
      <span className="w-8 text-slate-500">{label}</span>
      <span className="inline-block h-1.5 w-14 overflow-hidden rounded bg-slate-200" aria-hidden>
        <span className={`block h-full ${tone}`} style={{ width: `${p ?? 0}%` }} />
      </span>
      <span className="tabular-nums">{p === null ? '—' : `${p}%`}</span>
    </div>
  );
}

/** Load, memory, disk and uptime from the agent's latest heartbeat; SSH, WinRM and Docker hosts report none. */
export function HostMetrics({ metrics }: { metrics: Metrics | null }) {
  if (!metrics) return <span className="text-xs text-slate-400">not reported</span>;
  const [one, five, fifteen] = metrics.load;
  return (
    <div className="space-y-0.5 text-xs" data-testid="host-metrics">
      <div className="tabular-nums" data-testid="host-load" title="Load average over 1, 5 and 15 minutes">
        <span className="text-slate-500">load</span> {[one, five, fifteen].map((l) => (l === null || l === undefined ? '—' : l.toFixed(2))).join(' ')}
      </div>
      <Gauge label="mem" used={metrics.memoryMb.used} total={metrics.memoryMb.total} testId="host-memory" />
      <Gauge label="disk" used={metrics.diskMb.used} total={metrics.diskMb.total} testId="host-disk" />
      <div className="tabular-nums" data-testid="host-uptime">
        <span className="text-slate-500">up</span> {formatUptime(metrics.uptimeSeconds)}
        {metrics.runningJobs !== null ? <span className="text-slate-500"> · {metrics.runningJobs} running</span> : null}
      </div>
    </div>
  );
}
