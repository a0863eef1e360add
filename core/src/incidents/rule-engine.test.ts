import { describe, expect, it } from 'vitest';
import { EvidenceListSchema, type Evidence, type IncidentContext } from './evidence.ts';
import { HypothesisProposalSchema } from './hypothesis.ts';
import { proposeFromRules } from './rule-engine.ts';

const T = Date.parse('2026-03-02T10:00:00Z');
const iso = (minutesFromAlert: number) => new Date(T + minutesFromAlert * 60_000).toISOString();
const collectedAt = iso(2);
const drydock = (ref: string) => ({ system: 'drydock' as const, ref });

const incident: IncidentContext = { title: 'Checkout 5xx above 5 %', services: ['checkout'], hosts: ['web-1', 'web-2'], environment: 'staging', startedAt: iso(0) };

const alert: Evidence = {
  id: 'alert:3fa1',
  kind: 'alert',
  source: { system: 'alertmanager', ref: '3fa1' },
  collectedAt,
  name: 'CheckoutErrors',
  status: 'firing',
  startsAt: iso(0),
  labels: { alertname: 'CheckoutErrors', service: 'checkout', instance: 'web-1:9100' },
  annotations: { summary: 'Checkout 5xx above 5 %' },
  fingerprint: '3fa1',
};

function evidence(list: unknown[]): Evidence[] {
  // The rule engine reads evidence as the workflow stores it: checked by the schema.
  return EvidenceListSchema.parse(list);
}

describe('the rule engine', () => {
  it('ranks a deployment four minutes before the alert first, and says so in words', () => {
    const list = evidence([
      alert,
      { id: 'dep-1', kind: 'deployment', source: { system: 'cicd', ref: 'gha/812' }, collectedAt, deploymentId: 'gha/812', service: 'checkout', environment: 'staging', version: 'v2.14.0', status: 'succeeded', startedAt: iso(-9), finishedAt: iso(-4) },
      { id: 'dep-other', kind: 'deployment', source: { system: 'cicd', ref: 'gha/900' }, collectedAt, deploymentId: 'gha/900', service: 'search', status: 'succeeded', startedAt: iso(-6), finishedAt: iso(-5) },
      { id: 'run-ok', kind: 'run', source: drydock('r1'), collectedAt, runId: 'r1', scriptId: 'rotate-logs', host: 'web-1', status: 'succeeded', startedAt: iso(-12), finishedAt: iso(-11) },
    ]);
    const proposal = proposeFromRules(list, incident);
    expect(HypothesisProposalSchema.parse(proposal)).toEqual(proposal);
    expect(proposal.producer).toBe('rules');
    expect(proposal.fallback).toBeUndefined();
    expect(proposal.hypotheses.map((h) => [h.rank, h.title, h.confidence, h.evidenceIds])).toEqual([
      [1, 'A deployment of checkout (v2.14.0) finished 4 minutes before the alert', 0.8, ['dep-1', 'alert:3fa1']],
      [2, 'Script rotate-logs ran on web-1 11 minutes before the alert', 0.35, ['run-ok', 'alert:3fa1']],
    ]);
    // Another service's deployment is not this incident's.
    expect(JSON.stringify(proposal)).not.toContain('dep-other');
  });

  it('grades deployments by how long before the alert they went out, and whether they failed', () => {
    const deployment = (id: string, finished: number, status = 'succeeded') => ({
      id, kind: 'deployment', source: { system: 'cicd', ref: id }, collectedAt, deploymentId: id, service: 'checkout', status, startedAt: iso(finished - 3), finishedAt: iso(finished),
    });
    const list = evidence([deployment('d-25', -25), deployment('d-50', -50), deployment('d-8-failed', -8, 'failed'), deployment('d-90', -90), deployment('d-after', 5)]);
    const byId = Object.fromEntries(proposeFromRules(list, incident).hypotheses.map((h) => [h.evidenceIds[0], [h.title, h.confidence]]));
    expect(byId).toEqual({
      'd-8-failed': ['A deployment of checkout failed 8 minutes before the alert', 0.9],
      'd-25': ['A deployment of checkout finished 25 minutes before the alert', 0.6],
      'd-50': ['A deployment of checkout finished 50 minutes before the alert', 0.4],
    });
    // Outside the window (90 minutes) and after the alert: not a cause.
    expect(proposeFromRules(list, incident, { windowMinutes: 120 }).hypotheses.some((h) => h.evidenceIds[0] === 'd-90')).toBe(true);
  });

  it('tells an agent that stopped heartbeating, a nearly full disk and a lock held past its time', () => {
    const list = evidence([
      { id: 'host-web-1', kind: 'host_status', source: drydock('web-1'), collectedAt, host: 'web-1', status: 'offline', lastHeartbeatAt: iso(-6), heartbeatIntervalSeconds: 10, disks: [{ mount: '/', usedPercent: 41 }] },
      { id: 'host-web-2', kind: 'host_status', source: drydock('web-2'), collectedAt, host: 'web-2', status: 'online', lastHeartbeatAt: iso(1), heartbeatIntervalSeconds: 10, disks: [{ mount: '/var', usedPercent: 97.2 }, { mount: '/', usedPercent: 60 }], memoryUsedPercent: 50 },
      { id: 'lock-1', kind: 'lock_change', source: drydock('lock/web-2'), collectedAt, host: 'web-2', change: 'acquired', lockType: 'maintenance', leaseId: 'l-1', holder: 'alice@example.com', at: iso(-70), expectedReleaseAt: iso(-40) },
      { id: 'lock-2', kind: 'lock_change', source: drydock('lock/web-2'), collectedAt, host: 'web-2', change: 'extended', lockType: 'maintenance', leaseId: 'l-1', holder: 'alice@example.com', at: iso(-41) },
      { id: 'lock-3', kind: 'lock_change', source: drydock('lock/web-1'), collectedAt, host: 'web-1', change: 'acquired', lockType: 'execution', leaseId: 'l-2', holder: 'run r9', at: iso(-70), expectedReleaseAt: iso(-60) },
      { id: 'lock-4', kind: 'lock_change', source: drydock('lock/web-1'), collectedAt, host: 'web-1', change: 'released', lockType: 'execution', leaseId: 'l-2', holder: 'run r9', at: iso(-59) },
    ]);
    const titles = proposeFromRules(list, incident).hypotheses.map((h) => [h.title, h.confidence, h.evidenceIds]);
    expect(titles).toEqual([
      ["web-1's agent stopped heartbeating 6 minutes before the alert", 0.75, ['host-web-1']],
      ['Disk /var on web-2 is at 97 %', 0.75, ['host-web-2']],
      ['The maintenance lock on web-2 was held 40 minutes past its expected release when the alert fired', 0.45, ['lock-1', 'lock-2']],
    ]);
  });

  it('reads disk usage from a Prometheus series the query template marks as disk_used_percent', () => {
    const list = evidence([
      {
        id: 'prom-disk', kind: 'prometheus_series', source: { system: 'prometheus', ref: 'disk' }, collectedAt, query: '100 * (1 - node_filesystem_avail_bytes / node_filesystem_size_bytes)', measure: 'disk_used_percent', start: iso(-30), end: iso(0),
        series: [
          { labels: { instance: 'web-1:9100', mountpoint: '/data' }, samples: [[T - 60_000, '97.9'], [T, '98.4'], [T + 1, 'NaN']] },
          { labels: { instance: 'web-2:9100', mountpoint: '/' }, samples: [[T, '12']] },
          { labels: { instance: 'db-9:9100', mountpoint: '/' }, samples: [[T, '99']] },
        ],
      },
      { id: 'prom-missing', kind: 'prometheus_series', source: { system: 'prometheus', ref: 'disk' }, collectedAt, query: 'up', measure: 'disk_used_percent', start: iso(-30), end: iso(0), series: [], missing: { reason: 'unreachable', message: 'Prometheus at http://prom:9090 is unreachable' } },
    ]);
    expect(proposeFromRules(list, incident).hypotheses.map((h) => [h.title, h.confidence])).toEqual([['Disk /data on web-1 is at 98 %', 0.85]]);
  });

  it('weighs a failed run with errors in its log above a bulk execution, and keeps orphan log errors low', () => {
    const list = evidence([
      alert,
      { id: 'run-f', kind: 'run', source: drydock('r2'), collectedAt, runId: 'r2', scriptId: 'migrate-db', host: 'web-2', status: 'failed', exitCode: 3, initiator: 'bob@example.com', startedAt: iso(-8), finishedAt: iso(-7) },
      { id: 'log-r2', kind: 'log_errors', source: drydock('r2'), collectedAt, runId: 'r2', host: 'web-2', lines: [{ seq: 10, text: 'ERROR: relation "orders" does not exist' }] },
      { id: 'log-r7', kind: 'log_errors', source: drydock('r7'), collectedAt, runId: 'r7', host: 'web-1', lines: [{ seq: 1, text: 'ERROR: disk quota exceeded' }, { seq: 2, text: 'ERROR: write failed' }] },
      { id: 'bulk-1', kind: 'bulk_execution', source: drydock('b1'), collectedAt, executionId: 'b1', scriptId: 'restart-nginx', status: 'failed', hosts: ['web-1', 'web-3', 'web-4'], failedHosts: ['web-1'], startedAt: iso(-20), finishedAt: iso(-18) },
      { id: 'run-running', kind: 'run', source: drydock('r3'), collectedAt, runId: 'r3', scriptId: 'backup', host: 'web-1', status: 'running', startedAt: iso(-3) },
      { id: 'run-elsewhere', kind: 'run', source: drydock('r4'), collectedAt, runId: 'r4', scriptId: 'backup', host: 'db-1', status: 'failed', startedAt: iso(-3), finishedAt: iso(-2) },
    ]);
    expect(proposeFromRules(list, incident).hypotheses.map((h) => [h.title, h.confidence, h.evidenceIds])).toEqual([
      ['Script migrate-db failed on web-2 7 minutes before the alert', 0.75, ['run-f', 'log-r2', 'alert:3fa1']],
      ['Bulk execution of restart-nginx failed on web-1 before the alert', 0.6, ['bulk-1', 'alert:3fa1']],
      ['Script backup was running on web-1 when the alert fired', 0.45, ['run-running', 'alert:3fa1']],
      ['Run r7 on web-1 logged 2 error lines', 0.3, ['log-r7']],
    ]);
  });

  it('gives the same answer for the same evidence, and nothing when nothing stands out', () => {
    const list = evidence([alert, { id: 'host-ok', kind: 'host_status', source: drydock('web-1'), collectedAt, host: 'web-1', status: 'online', lastHeartbeatAt: iso(0), heartbeatIntervalSeconds: 10, disks: [{ mount: '/', usedPercent: 50 }] }]);
    expect(proposeFromRules(list, incident)).toEqual({ producer: 'rules', hypotheses: [], dropped: [] });
    const busy = evidence([alert, { id: 'dep-1', kind: 'deployment', source: { system: 'cicd', ref: 'x' }, collectedAt, deploymentId: 'x', service: 'checkout', status: 'running', startedAt: iso(-2) }]);
    expect(proposeFromRules(busy, incident)).toEqual(proposeFromRules(busy, incident));
    expect(proposeFromRules(busy, incident).hypotheses[0]?.title).toBe('A deployment of checkout was still going out when the alert fired');
  });

  it('refuses evidence lists that cite one id twice, naming both places', () => {
    const result = EvidenceListSchema.safeParse([alert, alert]);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]).toMatchObject({ path: [1, 'id'], message: 'evidence id "alert:3fa1" is used twice (first at 0)' });
  });
});
