import { FINAL_BULK_STATUSES, type BulkCounts, type BulkHostState, type BulkHostView, type BulkOptions, type BulkSelector, type BulkStatus } from '@drydock/core/bulk';
import { formatSeconds } from './format.ts';

/** What the execution page's buttons ask the API for. */
export const BULK_INTENTS = ['pause', 'resume', 'cancel', 'rerun-failed', 'approve', 'reject'] as const;
export type BulkIntent = (typeof BULK_INTENTS)[number];

export function isFinalBulk(status: BulkStatus): boolean {
  return FINAL_BULK_STATUSES.includes(status);
}

const FINAL_HOST_STATES: readonly BulkHostState[] = ['succeeded', 'failed', 'cancelled', 'skipped'];

export function isFinalHost(state: BulkHostState): boolean {
  return FINAL_HOST_STATES.includes(state);
}

/** Hosts that will not change any more: what the progress bar fills with. */
export function finishedHosts(counts: BulkCounts): number {
  return counts.succeeded + counts.failed + counts.cancelled + counts.skipped;
}

export const HOST_STATE_LABEL: Record<BulkHostState, string> = {
  pending: 'pending',
  waiting_for_lock: 'waiting for lock',
  running: 'running',
  succeeded: 'succeeded',
  failed: 'failed',
  cancelled: 'cancelled',
  skipped: 'skipped',
};

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The waves in words, runs of equal sizes folded: "a canary of 1 host, then 3 waves of 10 hosts and 1 wave of 5 hosts". */
export function describeWaves(waves: readonly number[], canary: boolean): string {
  if (waves.length === 0) return 'no wave: no host to run on';
  const [first, ...others] = waves;
  const rest = canary ? others : waves;
  const runs: { size: number; count: number }[] = [];
  for (const size of rest) {
    const last = runs.at(-1);
    if (last && last.size === size) last.count += 1;
    else runs.push({ size, count: 1 });
  }
  const batches = runs.map((r) => `${plural(r.count, 'wave')} of ${plural(r.size, 'host')}`).join(' and ');
  if (canary) return rest.length === 0 ? `a canary of ${plural(first ?? 0, 'host')}, alone` : `a canary of ${plural(first ?? 0, 'host')}, then ${batches}`;
  return waves.length === 1 ? `one wave of ${plural(first ?? 0, 'host')}` : batches;
}

/** "10" hosts, or "10%" of them, as a person reads it. */
function countOrShare(value: number | string): string {
  return typeof value === 'number' ? plural(value, 'host') : `${value} of the hosts`;
}

/** The execution's options as label and value, for its page. */
export function describeOptions(options: BulkOptions): [label: string, value: string][] {
  return [
    ['At most in parallel', plural(options.maxParallel, 'host')],
    ['Batches', options.batchSize === undefined ? 'none: every host in one wave' : `waves of ${countOrShare(options.batchSize)}`],
    ['Canary', options.canary === undefined ? 'none' : `${countOrShare(options.canary)} first, alone`],
    ['Failure threshold', options.failureThreshold === undefined ? 'none: every host is tried' : `stop starting hosts after ${countOrShare(options.failureThreshold)} failed`],
    ['Timeout per host', options.timeoutSeconds === undefined ? "the manifest's" : formatSeconds(options.timeoutSeconds)],
    ['Retries per host', options.retries === undefined ? "the manifest's" : String(options.retries)],
    ['Host locks', options.takeLocks ? 'taken while each host runs' : 'only when the manifest requires them'],
  ];
}

/**
 * Merges host updates into the grid, by host id, in position order. A host never goes back from a final state, so
 * a page reload that raced a live update cannot turn a finished cell running again.
 */
export function mergeHosts(current: readonly BulkHostView[], updates: readonly BulkHostView[]): BulkHostView[] {
  if (updates.length === 0) return current as BulkHostView[];
  const byId = new Map(updates.map((h) => [h.hostId, h]));
  let added = false;
  const merged = current.map((host) => {
    const next = byId.get(host.hostId);
    if (!next) return host;
    byId.delete(host.hostId);
    return isFinalHost(host.state) && !isFinalHost(next.state) ? host : next;
  });
  for (const host of byId.values()) {
    merged.push(host);
    added = true;
  }
  return added ? merged.sort((a, b) => a.position - b.position) : merged;
}

/** How the hosts were chosen, in one line. */
export function describeSelector(selector: BulkSelector): string {
  const parts: string[] = [];
  if (selector.hostIds) {
    const [a, b, c] = selector.hostIds;
    const more = selector.hostIds.length - 3;
    parts.push(`named: ${[a, b, c].filter(Boolean).join(', ')}${more > 0 ? ` and ${more} more` : ''}`);
  }
  if (selector.environment) parts.push(`environment ${selector.environment}`);
  if (selector.group) parts.push(`group ${selector.group}`);
  if (selector.tags && selector.tags.length > 0) parts.push(`tagged ${selector.tags.join(', ')}`);
  return parts.join(' · ') || 'no hosts';
}
