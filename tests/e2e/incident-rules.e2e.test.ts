import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkHypotheses, proposeFromRules } from '@drydock/core/incidents';
import { catalog, evidenceWith, goodHypotheses, incident } from '../../activities/src/incidents/llm/llm-fixtures.ts';
import { startSandboxWorker, type SandboxWorker } from '../support/sandbox-worker.ts';
import { incidentRulesWorkflow } from '../support/incident-rules.test-workflows.ts';

// @drydock/core/incidents run by a real worker inside Temporal's workflow sandbox: the rule engine, the hypothesis
// checks and Alertmanager's grouping give there what they give outside, so incidentWorkflow can use them.

let sandbox: SandboxWorker;

beforeAll(async () => {
  sandbox = await startSandboxWorker('incident-rules', createRequire(import.meta.url).resolve('../support/incident-rules.test-workflows.ts'));
});
afterAll(() => sandbox?.stop());

const notification = (status: 'firing' | 'resolved') => ({
  version: '4',
  groupKey: '{}:{alertname="CheckoutErrors"}',
  truncatedAlerts: 0,
  status,
  receiver: 'drydock',
  groupLabels: { alertname: 'CheckoutErrors' },
  commonLabels: { alertname: 'CheckoutErrors', service: 'checkout' },
  commonAnnotations: {},
  externalURL: 'http://alertmanager:9093',
  alerts: [{ status, labels: { alertname: 'CheckoutErrors', service: 'checkout', instance: 'web-1:9100' }, annotations: {}, startsAt: '2026-03-02T10:00:00Z', endsAt: status === 'firing' ? '0001-01-01T00:00:00Z' : '2026-03-02T10:30:00Z', generatorURL: '', fingerprint: '3fa1' }],
});

describe('the incident modules inside the workflow sandbox', () => {
  it('propose, check and group as they do outside it', async () => {
    const evidence = evidenceWith();
    const reply = [goodHypotheses[0]!, { ...goodHypotheses[1]!, evidenceIds: ['made-up'] }];
    const result = await sandbox.client.workflow.execute(incidentRulesWorkflow, {
      args: [{ evidence, incident, catalog, reply, notifications: [notification('firing'), notification('firing'), notification('resolved')], now: Date.parse('2026-03-02T10:31:00Z') }],
      taskQueue: sandbox.taskQueue,
      workflowId: `incident-rules-${randomBytes(4).toString('hex')}`,
    });
    expect(result.proposal).toEqual(proposeFromRules(evidence, incident));
    expect(result.proposal.hypotheses[0]?.title).toBe('A deployment of checkout (v2.14.0) finished 4 minutes before the alert');
    expect(result.checked).toEqual(checkHypotheses(reply, { evidence, catalog, incident }));
    expect(result.checked.dropped).toEqual([{ title: '/var on web-1 is nearly full', reasons: ['cites evidence "made-up", which does not exist'] }]);
    expect(result.actions).toEqual(['open', 'update', 'close']);
  });
});
