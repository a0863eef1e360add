import { ParameterSchema } from '@drydock/core';
import { EvidenceListSchema, type Evidence, type Hypothesis, type IncidentContext, type RemediationScript } from '@drydock/core/incidents';

// An incident, its evidence and a catalog for the LLM tests: a deployment four minutes before a checkout alert, a
// failed run with error lines, a disk nearly full; and the hypotheses a model might reply with.

const T = Date.parse('2026-03-02T10:00:00Z');
const iso = (minutes: number) => new Date(T + minutes * 60_000).toISOString();
const collectedAt = iso(2);

export const incident: IncidentContext = { title: 'Checkout 5xx above 5 %', services: ['checkout'], hosts: ['web-1', 'web-2'], environment: 'staging', startedAt: iso(0) };

export function evidenceWith(extra: unknown[] = []): Evidence[] {
  return EvidenceListSchema.parse([
    {
      id: 'alert:3fa1', kind: 'alert', source: { system: 'alertmanager', ref: '3fa1' }, collectedAt, name: 'CheckoutErrors', status: 'firing', startsAt: iso(0),
      labels: { alertname: 'CheckoutErrors', service: 'checkout', instance: 'web-1:9100' }, annotations: { summary: 'Checkout 5xx above 5 %' }, fingerprint: '3fa1', expression: 'rate(http_requests_total{code=~"5.."}[5m]) > 0.05',
    },
    { id: 'dep-812', kind: 'deployment', source: { system: 'cicd', ref: 'gha/812' }, collectedAt, deploymentId: 'gha/812', service: 'checkout', environment: 'staging', version: 'v2.14.0', status: 'succeeded', startedAt: iso(-9), finishedAt: iso(-4) },
    { id: 'run-r2', kind: 'run', source: { system: 'drydock', ref: 'r2' }, collectedAt, runId: 'r2', scriptId: 'migrate-db', host: 'web-2', status: 'failed', exitCode: 3, startedAt: iso(-8), finishedAt: iso(-7) },
    { id: 'log-r2', kind: 'log_errors', source: { system: 'drydock', ref: 'r2' }, collectedAt, runId: 'r2', host: 'web-2', lines: [{ seq: 10, text: 'ERROR: relation "orders" does not exist' }] },
    { id: 'host-web-1', kind: 'host_status', source: { system: 'drydock', ref: 'web-1' }, collectedAt, host: 'web-1', status: 'online', lastHeartbeatAt: iso(1), heartbeatIntervalSeconds: 10, disks: [{ mount: '/var', usedPercent: 97 }] },
    ...extra,
  ]);
}

export const catalog: RemediationScript[] = [
  {
    scriptId: 'rollback-service',
    name: 'Roll back a service',
    description: 'Deploys the previous version of a service',
    parameters: [
      ParameterSchema.parse({ name: 'service', type: 'enum', options: ['checkout', 'search'], required: true }),
      ParameterSchema.parse({ name: 'version', type: 'string', pattern: '^v\\d+\\.\\d+\\.\\d+$' }),
      ParameterSchema.parse({ name: 'deploy_token', type: 'secret' }),
    ],
  },
  { scriptId: 'disk-usage', name: 'Disk usage report', parameters: [ParameterSchema.parse({ name: 'path', type: 'string', required: true })] },
];

/** A reply as a model following the system prompt would give it. */
export const goodHypotheses: Hypothesis[] = [
  {
    title: 'Checkout v2.14.0 broke the order path',
    confidence: 0.82,
    rationale: 'dep-812 finished 4 minutes before alert:3fa1; run-r2 failed with a missing relation, which v2.14.0 expects.',
    evidenceIds: ['dep-812', 'alert:3fa1', 'log-r2'],
    checks: [{ description: 'Compare the 5xx rate before and after dep-812' }],
    remediations: [{ description: 'Roll checkout back to v2.13.4; orders placed since the deployment stay', scriptId: 'rollback-service', parameters: [{ name: 'service', value: 'checkout' }, { name: 'version', value: 'v2.13.4' }], hosts: ['web-1', 'web-2'] }],
  },
  {
    title: '/var on web-1 is nearly full',
    confidence: 0.35,
    rationale: 'host-web-1 reports /var at 97 %.',
    evidenceIds: ['host-web-1'],
    checks: [{ description: 'See what fills /var', scriptId: 'disk-usage', parameters: [{ name: 'path', value: '/var' }], hosts: ['web-1'] }],
    remediations: [],
  },
];
