import { alertGroupNotice, applyAlertGroupNotice, checkHypotheses, parseAlertmanagerWebhook, proposeFromRules, type AlertGroupState, type Evidence, type Hypothesis, type IncidentContext, type RemediationScript } from '@drydock/core/incidents';

// The workflow bundle of tests/e2e/incident-rules.e2e.test.ts: the pure incident modules run inside Temporal's
// workflow sandbox, where a future incidentWorkflow would run them.

export async function incidentRulesWorkflow(input: {
  evidence: Evidence[];
  incident: IncidentContext;
  catalog: RemediationScript[];
  reply: Hypothesis[];
  notifications: unknown[];
  now: number;
}): Promise<{ proposal: ReturnType<typeof proposeFromRules>; checked: ReturnType<typeof checkHypotheses>; actions: string[] }> {
  let state: AlertGroupState | undefined;
  const actions: string[] = [];
  for (const body of input.notifications) {
    const step = applyAlertGroupNotice(state, alertGroupNotice(parseAlertmanagerWebhook(body)), input.now);
    actions.push(step.action);
    state = step.state;
  }
  return {
    proposal: proposeFromRules(input.evidence, input.incident),
    checked: checkHypotheses(input.reply, input),
    actions,
  };
}
