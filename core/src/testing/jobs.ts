import type { AgentScriptJob } from '../run-contract.ts';

/** A job as a workflow hands it to a transport: a bash script that does nothing, unless told otherwise. */
export function agentScriptJob(overrides: Partial<AgentScriptJob> = {}): AgentScriptJob {
  return {
    runId: 'run-1',
    scriptId: 'echo-params',
    interpreter: 'bash',
    scriptPath: 'scripts/echo-params.sh',
    content: 'true\n',
    commandTemplate: null,
    operation: null,
    params: {},
    secretNames: [],
    timeoutSeconds: 30,
    successCriteria: { exit_codes: [0], output_contains: [], output_not_contains: [] },
    ...overrides,
  };
}
