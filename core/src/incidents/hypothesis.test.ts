import { describe, expect, it } from 'vitest';
import { ParameterSchema } from '../manifest.ts';
import type { Evidence, IncidentContext } from './evidence.ts';
import { checkHypotheses, HypothesisReplySchema, rankHypotheses, type Hypothesis, type RemediationScript } from './hypothesis.ts';

const incident: IncidentContext = { title: 'Checkout down', services: ['checkout'], hosts: ['web-1'], startedAt: '2026-03-02T10:00:00Z' };
const evidence: Evidence[] = [
  { id: 'run-1', kind: 'run', source: { system: 'drydock', ref: 'r1' }, collectedAt: '2026-03-02T10:01:00Z', runId: 'r1', scriptId: 'deploy', host: 'web-2', status: 'failed', startedAt: '2026-03-02T09:50:00Z', finishedAt: '2026-03-02T09:55:00Z' },
];
const catalog: RemediationScript[] = [
  {
    scriptId: 'restart-service',
    name: 'Restart a service',
    parameters: [
      ParameterSchema.parse({ name: 'service', type: 'enum', options: ['nginx', 'checkout'], required: true }),
      ParameterSchema.parse({ name: 'grace_seconds', type: 'integer', min: 0, max: 300 }),
      ParameterSchema.parse({ name: 'drain', type: 'boolean' }),
      ParameterSchema.parse({ name: 'api_token', type: 'secret' }),
    ],
  },
];

const base: Hypothesis = {
  title: 'The deploy broke checkout',
  confidence: 0.7,
  rationale: 'run-1 failed just before the alert',
  evidenceIds: ['run-1', 'run-1'],
  checks: [{ description: 'Read the deploy log' }],
  remediations: [{ description: 'Restart checkout', scriptId: 'restart-service', parameters: [{ name: 'service', value: 'checkout' }, { name: 'grace_seconds', value: '30' }, { name: 'drain', value: 'true' }], hosts: ['web-1', 'web-2'] }],
};

describe('checking hypotheses against the evidence and the catalog', () => {
  it('keeps a hypothesis whose citations and suggestions all exist, each evidence id once', () => {
    const { kept, dropped } = checkHypotheses([base], { evidence, catalog, incident });
    expect(dropped).toEqual([]);
    expect(kept).toEqual([{ ...base, evidenceIds: ['run-1'] }]);
  });

  it('drops a hypothesis that cites unknown evidence, scripts, parameters, values, secrets or hosts, saying each', () => {
    const bad = (title: string, change: Partial<Hypothesis>): Hypothesis => ({ ...base, title, ...change });
    const remediation = base.remediations[0]!;
    const { kept, dropped } = checkHypotheses(
      [
        bad('unknown evidence', { evidenceIds: ['run-1', 'run-404'] }),
        bad('unknown script', { remediations: [{ ...remediation, scriptId: 'rm-rf' }] }),
        bad('unknown parameter', { remediations: [{ ...remediation, parameters: [{ name: 'command', value: 'rm -rf /' }] }] }),
        bad('refused value', { remediations: [{ ...remediation, parameters: [{ name: 'service', value: 'sshd' }, { name: 'grace_seconds', value: '9000' }] }] }),
        bad('secret', { remediations: [{ ...remediation, parameters: [{ name: 'api_token', value: 'guess' }] }] }),
        bad('unknown host', { checks: [{ description: 'look', hosts: ['prod-db-1'] }] }),
        bad('not a boolean', { remediations: [{ ...remediation, parameters: [{ name: 'drain', value: 'yes' }] }] }),
        bad('script in a check', { checks: [{ description: 'look', scriptId: 'cat-etc-shadow' }] }),
      ],
      { evidence, catalog, incident },
    );
    expect(kept).toEqual([]);
    expect(dropped).toEqual([
      { title: 'unknown evidence', reasons: ['cites evidence "run-404", which does not exist'] },
      { title: 'unknown script', reasons: ['names script "rm-rf", which is not in the catalog'] },
      { title: 'unknown parameter', reasons: ['gives parameter "command", which script "restart-service" does not take'] },
      {
        title: 'refused value',
        reasons: [
          expect.stringMatching(/^gives "service" of script "restart-service" a value it refuses: /),
          expect.stringMatching(/^gives "grace_seconds" of script "restart-service" a value it refuses: /),
        ],
      },
      { title: 'secret', reasons: ['gives a value for "api_token" of script "restart-service", a secret: secrets are never suggested'] },
      { title: 'unknown host', reasons: ['targets host "prod-db-1", which neither the incident nor its evidence names'] },
      { title: 'not a boolean', reasons: ['gives "drain" of script "restart-service" the value "yes"; it is true or false'] },
      { title: 'script in a check', reasons: ['names script "cat-etc-shadow", which is not in the catalog'] },
    ]);
  });

  it('ranks by confidence, ties in the order given', () => {
    const ranked = rankHypotheses([
      { ...base, title: 'a', confidence: 0.2 },
      { ...base, title: 'b', confidence: 0.9 },
      { ...base, title: 'c', confidence: 0.2 },
    ]);
    expect(ranked.map((h) => [h.rank, h.title])).toEqual([
      [1, 'b'],
      [2, 'a'],
      [3, 'c'],
    ]);
  });

  it('refuses a reply with confidence outside 0..1 or a hypothesis without evidence', () => {
    const result = HypothesisReplySchema.safeParse({ hypotheses: [{ ...base, confidence: 1.5 }, { ...base, evidenceIds: [] }] });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path.join('.'))).toEqual(['hypotheses.0.confidence', 'hypotheses.1.evidenceIds']);
  });
});
