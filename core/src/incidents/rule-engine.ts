import type { Evidence, EvidenceOf, IncidentContext } from './evidence.ts';
import { rankHypotheses, type Hypothesis, type HypothesisProposal } from './hypothesis.ts';

// The deterministic producer of hypotheses: no API key, no network, the same answer for the same evidence. Each rule
// reads one kind of evidence against the incident's start (T) and scope, and its confidence comes from the fixed steps
// below, so a person can tell why one hypothesis ranks above another. The table is repeated in core/README.md.
//
// | rule | when | confidence |
// |---|---|---|
// | deployment | a deployment of an incident service (or to one of its hosts) finished in the window before T, or was still going at T | 0.8 within 10 min, 0.6 within 30, 0.4 within the window; 0.7 still going; +0.1 when it failed or was cancelled |
// | heartbeat | a host's agent last heartbeated more than 3 intervals before T, or the host is offline | 0.75 when it stopped in the window; 0.5 when it stopped earlier; 0.4 offline and never seen |
// | disk | a disk at 90 % or more (host status, or the last value of a `disk_used_percent` series) | 0.55 from 90 %, 0.75 from 95 %, 0.85 from 98 % |
// | memory | memory at 95 % or more | 0.5 |
// | run | a run on an incident host failed or timed out in the window | 0.65 within 15 min, 0.5 earlier; +0.1 with error lines in its log |
// | run | a run on an incident host finished within 15 min before T, or was running at T | 0.35 finished, 0.45 running; +0.1 with error lines |
// | bulk execution | a bulk execution reached an incident host in the window | 0.6 when it failed there, 0.35 otherwise |
// | lock | a lock on an incident host was held at T past the release its holder expected | 0.45 |
// | log errors | error lines in the log of a run no other rule cited | 0.3 |

export interface RuleEngineOptions {
  /** How far before T evidence counts as "just before the alert"; 60 minutes unless given. */
  windowMinutes?: number;
}

const MINUTE = 60_000;
const RECENT_RUN_MINUTES = 15;
const STALE_HEARTBEATS = 3;

function minutes(ms: number): string {
  const m = Math.round(ms / MINUTE);
  if (m < 1) return 'less than a minute';
  return m === 1 ? '1 minute' : `${m} minutes`;
}

const at = (iso: string) => Date.parse(iso);
const cap = (c: number) => Math.round(Math.min(0.95, c) * 100) / 100;

interface Scope {
  t: number;
  windowStart: number;
  hosts: Set<string>;
  services: Set<string>;
  alertIds: string[];
}

/** With no hosts (or services) named, the evidence was gathered for the incident, so all of it is in scope. */
const onHost = (s: Scope, host: string) => s.hosts.size === 0 || s.hosts.has(host);

function deploymentRule(d: EvidenceOf<'deployment'>, s: Scope): Hypothesis | undefined {
  const inScope = s.services.size === 0 || s.services.has(d.service) || d.hosts.some((h) => s.hosts.has(h));
  if (!inScope) return undefined;
  const what = `A deployment of ${d.service}${d.version ? ` (${d.version})` : ''}`;
  const failed = d.status === 'failed' || d.status === 'cancelled';
  const started = at(d.startedAt);
  const finished = d.finishedAt ? at(d.finishedAt) : undefined;
  let title: string;
  let confidence: number;
  if (started <= s.t && (finished === undefined || finished > s.t)) {
    title = `${what} was still going out when the alert fired`;
    confidence = 0.7;
  } else {
    const when = finished ?? started;
    if (when > s.t || when < s.windowStart) return undefined;
    const before = s.t - when;
    title = `${what} ${failed ? d.status : 'finished'} ${minutes(before)} before the alert`;
    confidence = before <= 10 * MINUTE ? 0.8 : before <= 30 * MINUTE ? 0.6 : 0.4;
  }
  if (failed) confidence += 0.1;
  return {
    title,
    confidence: cap(confidence),
    rationale: `Changes are the most common cause of incidents. ${d.service} was deployed${d.environment ? ` to ${d.environment}` : ''} (status ${d.status}, started ${d.startedAt}${d.finishedAt ? `, finished ${d.finishedAt}` : ''}) and the alert started at ${new Date(s.t).toISOString()}.`,
    evidenceIds: [d.id, ...s.alertIds],
    checks: [{ description: `Compare what ${d.deploymentId} changed with what the alert measures` }],
    remediations: [],
  };
}

function heartbeatRule(h: EvidenceOf<'host_status'>, s: Scope): Hypothesis | undefined {
  if (!onHost(s, h.host)) return undefined;
  const last = h.lastHeartbeatAt ? at(h.lastHeartbeatAt) : undefined;
  const interval = h.heartbeatIntervalSeconds;
  const stale = last !== undefined && interval !== undefined && s.t - last > STALE_HEARTBEATS * interval * 1000;
  if (!stale && h.status !== 'offline') return undefined;
  let title: string;
  let confidence: number;
  if (last === undefined) {
    title = `${h.host} is offline and Drydock has never heard from it`;
    confidence = 0.4;
  } else if (last > s.t) {
    return undefined;
  } else if (last >= s.windowStart) {
    title = `${h.host}'s agent stopped heartbeating ${minutes(s.t - last)} before the alert`;
    confidence = 0.75;
  } else {
    title = `${h.host}'s agent has not heartbeated since ${minutes(s.t - last)} before the alert`;
    confidence = 0.5;
  }
  return {
    title,
    confidence,
    rationale: `A host whose agent stops heartbeating is down, cut off or overloaded. ${h.host} is ${h.status}; its last heartbeat was ${h.lastHeartbeatAt ?? 'never'}${interval ? `, and it heartbeats every ${interval} s` : ''}.`,
    evidenceIds: [h.id],
    checks: [{ description: `Check whether ${h.host} is up and reachable, and whether the Drydock agent runs on it`, hosts: [h.host] }],
    remediations: [],
  };
}

function diskConfidence(percent: number): number | undefined {
  if (percent >= 98) return 0.85;
  if (percent >= 95) return 0.75;
  if (percent >= 90) return 0.55;
  return undefined;
}

function diskHypothesis(host: string, mount: string | undefined, percent: number, evidenceId: string): Hypothesis | undefined {
  const confidence = diskConfidence(percent);
  if (confidence === undefined) return undefined;
  const shown = Math.round(percent);
  return {
    title: `Disk ${mount ? `${mount} ` : ''}on ${host} is at ${shown} %`,
    confidence,
    rationale: `A nearly full disk makes writes fail: logs, databases, uploads and deployments stop working. ${host}${mount ? `'s ${mount}` : ''} is ${shown} % full.`,
    evidenceIds: [evidenceId],
    checks: [{ description: `Find what grew on ${host}${mount ? ` under ${mount}` : ''}`, hosts: [host] }],
    remediations: [],
  };
}

function hostResourceRules(h: EvidenceOf<'host_status'>, s: Scope): Hypothesis[] {
  if (!onHost(s, h.host)) return [];
  const found: Hypothesis[] = [];
  for (const disk of h.disks) {
    const hypothesis = diskHypothesis(h.host, disk.mount, disk.usedPercent, h.id);
    if (hypothesis) found.push(hypothesis);
  }
  if (h.memoryUsedPercent !== undefined && h.memoryUsedPercent >= 95) {
    found.push({
      title: `Memory on ${h.host} is at ${Math.round(h.memoryUsedPercent)} %`,
      confidence: 0.5,
      rationale: `With memory nearly exhausted, processes slow down, swap or are killed. ${h.host} uses ${Math.round(h.memoryUsedPercent)} % of its memory.`,
      evidenceIds: [h.id],
      checks: [{ description: `See which processes hold the memory on ${h.host}`, hosts: [h.host] }],
      remediations: [],
    });
  }
  return found;
}

/** The host a series is about, by the labels exporters use. */
function seriesHost(labels: Record<string, string>): string | undefined {
  const named = labels['host'] ?? labels['hostname'] ?? labels['nodename'] ?? labels['instance'];
  return named?.replace(/:\d+$/, '');
}

function seriesRules(p: EvidenceOf<'prometheus_series'>, s: Scope): Hypothesis[] {
  if (p.measure !== 'disk_used_percent' || p.missing) return [];
  const found: Hypothesis[] = [];
  for (const series of p.series) {
    const host = seriesHost(series.labels);
    const last = [...series.samples].reverse().find(([, v]) => Number.isFinite(Number(v)));
    if (!host || !last || !onHost(s, host)) continue;
    const hypothesis = diskHypothesis(host, series.labels['mountpoint'] ?? series.labels['mount'], Number(last[1]), p.id);
    if (hypothesis) found.push(hypothesis);
  }
  return found;
}

function runRule(r: EvidenceOf<'run'>, s: Scope, logs: EvidenceOf<'log_errors'>[]): Hypothesis | undefined {
  if (!onHost(s, r.host)) return undefined;
  const started = at(r.startedAt);
  const finished = r.finishedAt ? at(r.finishedAt) : undefined;
  const failed = r.status === 'failed' || r.status === 'timed_out';
  let title: string;
  let confidence: number;
  if (started <= s.t && (finished === undefined || finished > s.t)) {
    if (r.status !== 'running' && finished === undefined) return undefined;
    title = `Script ${r.scriptId} was running on ${r.host} when the alert fired`;
    confidence = 0.45;
  } else {
    if (finished === undefined || finished > s.t || finished < s.windowStart) return undefined;
    const before = s.t - finished;
    if (failed) {
      title = `Script ${r.scriptId} ${r.status === 'timed_out' ? 'timed out' : 'failed'} on ${r.host} ${minutes(before)} before the alert`;
      confidence = before <= RECENT_RUN_MINUTES * MINUTE ? 0.65 : 0.5;
    } else if (before <= RECENT_RUN_MINUTES * MINUTE) {
      title = `Script ${r.scriptId} ran on ${r.host} ${minutes(before)} before the alert`;
      confidence = 0.35;
    } else {
      return undefined;
    }
  }
  const errors = logs.filter((l) => l.runId === r.runId);
  const lineCount = errors.reduce((n, l) => n + l.lines.length, 0);
  if (lineCount > 0) confidence += 0.1;
  return {
    title,
    confidence: cap(confidence),
    rationale: `A script that changes a host shortly before an alert on it may have caused it. Run ${r.runId} (${r.status}${r.exitCode !== undefined ? `, exit code ${r.exitCode}` : ''}${r.initiator ? `, started by ${r.initiator}` : ''}) ran on ${r.host} from ${r.startedAt}${r.finishedAt ? ` to ${r.finishedAt}` : ''}${lineCount > 0 ? `; its log has ${lineCount} error line${lineCount === 1 ? '' : 's'}` : ''}.`,
    evidenceIds: [r.id, ...errors.map((l) => l.id), ...s.alertIds],
    checks: [{ description: `Read the log of run ${r.runId} and what it changed on ${r.host}`, hosts: [r.host] }],
    remediations: [],
  };
}

function bulkRule(b: EvidenceOf<'bulk_execution'>, s: Scope): Hypothesis | undefined {
  const hosts = s.hosts.size === 0 ? b.hosts : b.hosts.filter((h) => s.hosts.has(h));
  if (hosts.length === 0) return undefined;
  const when = b.finishedAt ? at(b.finishedAt) : at(b.startedAt);
  if (at(b.startedAt) > s.t || when < s.windowStart) return undefined;
  const failedHere = b.failedHosts.filter((h) => hosts.includes(h));
  const named = (list: string[]) => (list.length <= 3 ? list.join(', ') : `${list.slice(0, 3).join(', ')} and ${list.length - 3} more`);
  return {
    title:
      failedHere.length > 0
        ? `Bulk execution of ${b.scriptId} failed on ${named(failedHere)} before the alert`
        : `Bulk execution of ${b.scriptId} ran on ${named(hosts)} before the alert`,
    confidence: failedHere.length > 0 ? 0.6 : 0.35,
    rationale: `Bulk execution ${b.executionId} (${b.status}) ran ${b.scriptId} on ${b.hosts.length} host${b.hosts.length === 1 ? '' : 's'} from ${b.startedAt}, ${hosts.length} of them affected by the incident${failedHere.length > 0 ? `, and failed on ${failedHere.length}` : ''}.`,
    evidenceIds: [b.id, ...s.alertIds],
    checks: [{ description: `Read bulk execution ${b.executionId}'s results on the affected hosts`, hosts: hosts.slice(0, 50) }],
    remediations: [],
  };
}

function lockRules(changes: EvidenceOf<'lock_change'>[], s: Scope): Hypothesis[] {
  const leases = new Map<string, EvidenceOf<'lock_change'>[]>();
  for (const c of changes) {
    if (!onHost(s, c.host) || at(c.at) > s.t) continue;
    const key = `${c.host}\u0000${c.leaseId}`;
    leases.set(key, [...(leases.get(key) ?? []), c]);
  }
  const found: Hypothesis[] = [];
  for (const list of leases.values()) {
    const ordered = [...list].sort((a, b) => at(a.at) - at(b.at));
    const last = ordered.at(-1)!;
    if (last.change !== 'acquired' && last.change !== 'extended') continue;
    const expected = ordered.find((c) => c.change === 'acquired' && c.expectedReleaseAt)?.expectedReleaseAt;
    if (!expected || at(expected) >= s.t) continue;
    found.push({
      title: `The ${last.lockType} lock on ${last.host} was held ${minutes(s.t - at(expected))} past its expected release when the alert fired`,
      confidence: 0.45,
      rationale: `A lock held longer than its holder expected means the work under it is stuck or slow, and runs waiting for the host do not start. ${last.holder} took it expecting to release it by ${expected}.`,
      evidenceIds: ordered.map((c) => c.id),
      checks: [{ description: `See what ${last.holder} is doing on ${last.host}`, hosts: [last.host] }],
      remediations: [],
    });
  }
  return found;
}

function logRule(l: EvidenceOf<'log_errors'>, s: Scope): Hypothesis | undefined {
  if (!onHost(s, l.host)) return undefined;
  return {
    title: `Run ${l.runId} on ${l.host} logged ${l.lines.length} error line${l.lines.length === 1 ? '' : 's'}`,
    confidence: 0.3,
    rationale: `Errors in a run's log on an affected host may show the same fault the alert measures.`,
    evidenceIds: [l.id],
    checks: [{ description: `Read the error lines of run ${l.runId}`, hosts: [l.host] }],
    remediations: [],
  };
}

/** The rule engine's hypotheses for the evidence, unranked, in the order of the evidence. */
export function ruleHypotheses(evidence: readonly Evidence[], incident: IncidentContext, options: RuleEngineOptions = {}): Hypothesis[] {
  const t = at(incident.startedAt);
  const scope: Scope = {
    t,
    windowStart: t - (options.windowMinutes ?? 60) * MINUTE,
    hosts: new Set(incident.hosts),
    services: new Set(incident.services),
    alertIds: evidence.filter((e) => e.kind === 'alert').map((e) => e.id),
  };
  const logs = evidence.filter((e): e is EvidenceOf<'log_errors'> => e.kind === 'log_errors');
  const found: Hypothesis[] = [];
  const add = (h: Hypothesis | undefined) => {
    if (h) found.push(h);
  };
  for (const e of evidence) {
    switch (e.kind) {
      case 'deployment':
        add(deploymentRule(e, scope));
        break;
      case 'host_status':
        add(heartbeatRule(e, scope));
        found.push(...hostResourceRules(e, scope));
        break;
      case 'prometheus_series':
        found.push(...seriesRules(e, scope));
        break;
      case 'run':
        add(runRule(e, scope, logs));
        break;
      case 'bulk_execution':
        add(bulkRule(e, scope));
        break;
      case 'alert':
      case 'lock_change':
      case 'log_errors':
        break;
    }
  }
  found.push(...lockRules(evidence.filter((e): e is EvidenceOf<'lock_change'> => e.kind === 'lock_change'), scope));
  const cited = new Set(found.flatMap((h) => h.evidenceIds));
  for (const l of logs) if (!cited.has(l.id)) add(logRule(l, scope));
  return found;
}

/** The rule engine's ranked hypotheses as a proposal; `fallback` says why the LLM did not produce them, when it was asked. */
export function proposeFromRules(
  evidence: readonly Evidence[],
  incident: IncidentContext,
  options: RuleEngineOptions & { fallback?: HypothesisProposal['fallback']; dropped?: HypothesisProposal['dropped'] } = {},
): HypothesisProposal {
  return {
    producer: 'rules',
    ...(options.fallback ? { fallback: options.fallback } : {}),
    hypotheses: rankHypotheses(ruleHypotheses(evidence, incident, options)),
    dropped: options.dropped ?? [],
  };
}
