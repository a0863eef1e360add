import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import { executeJob } from '@drydock/activities/job-execution';
import type { AgentActivities, AgentScriptJob, AgentScriptResult } from '@drydock/core/run-contract';
import { type LogShipperOptions, RunLogStream } from './log-shipper.ts';
import { runScriptProcess } from './script-runner.ts';

export interface AgentActivityDeps {
  hostId: string;
  workDir: string;
  shipper: LogShipperOptions;
  heartbeatIntervalMs?: number;
}

export function createAgentActivities(deps: AgentActivityDeps): AgentActivities {
  return {
    async runScript(job: AgentScriptJob): Promise<AgentScriptResult> {
      const attempt = Context.current().info.attempt;
      return executeJob({
        job,
        hostId: deps.hostId,
        sink: new RunLogStream(deps.shipper, job.runId, attempt),
        heartbeatIntervalMs: deps.heartbeatIntervalMs,
        run: (onLine, signal) =>
          runScriptProcess({
            job,
            workDir: join(deps.workDir, `${job.runId}-${attempt}`),
            extraEnv: { DRYDOCK_RUN_ID: job.runId, DRYDOCK_SCRIPT_ID: job.scriptId, DRYDOCK_HOST_ID: deps.hostId, DRYDOCK_ATTEMPT: String(attempt) },
            onLine,
            signal,
          }),
      });
    },
  };
}
