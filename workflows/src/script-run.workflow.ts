import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  TimeoutFailure,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { CentralActivities } from '@drydock/activities';
import {
  type AgentActivities,
  type AgentScriptJob,
  type AgentScriptResult,
  type AttemptRecovery,
  RUN_FAILED,
  type RunOutcome,
  SCRIPT_FAILED,
  SCRIPT_TIMED_OUT,
  type ScriptFailureDetails,
  type ScriptRunInput,
} from '@drydock/core/run-contract';
import { agentQueue } from '@drydock/temporal/names';
import { searchAttributes } from '@drydock/temporal/search-attributes';
import { approvalEndReason } from '@drydock/core/approval';
import { awaitApproval } from './approval.ts';
import { withHostLock } from './host-lock-client.ts';
import { outcomeQuery } from './script-run.messages.ts';

// Short database steps run as local activities, in the workflow's own worker: no task-queue round trip.
// They are idempotent, so replaying one after a worker crash is harmless.
const central = proxyLocalActivities<CentralActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '10 seconds' },
});

export { RUN_FAILED };

/** One script on one host: `run/<runId>`. The run row in Postgres is written here at start and at the end. */
export async function scriptRunWorkflow(input: ScriptRunInput): Promise<RunOutcome> {
  let outcome: RunOutcome | null = null;
  setHandler(outcomeQuery, () => outcome);

  let cancellation: unknown;
  try {
    // A protected environment's run waits for its decision before it takes any lock or touches the host.
    const approval = input.approval ? await awaitApproval('run', input.runId, input.approval) : null;
    if (approval && input.approval && approval.decision !== 'approved') {
      outcome = { status: approval.decision === 'expired' ? 'expired' : 'rejected', exitCode: null, error: approvalEndReason(approval, input.approval), attempts: 0 };
    } else {
      outcome = input.lock ? await executeLocked(input, input.lock) : await execute(input);
    }
  } catch (err) {
    if (isCancellation(err)) {
      cancellation = err;
      outcome = { status: 'cancelled', exitCode: null, error: 'cancelled by request', attempts: 0 };
    } else {
      outcome = describeFailure(err, input.hostId);
    }
  }

  const final = outcome;
  await CancellationScope.nonCancellable(async () => {
    await central.recordRunFinished({ runId: input.runId, outcome: final });
  });
  upsertSearchAttributes(searchAttributes({ status: final.status }));
  // Rethrowing the cancellation ends the workflow as Cancelled in Temporal too, after the run row says so.
  if (cancellation) throw cancellation;
  // A failed run is Failed in Temporal Web too; the outcome travels as the failure's details.
  if (final.status === 'failed' || final.status === 'timed_out') {
    throw ApplicationFailure.create({ type: RUN_FAILED, message: final.error ?? `the run ended ${final.status}`, nonRetryable: true, details: [final] });
  }
  return final;
}

/** requires_lock: the run waits for its host's execution lock, and gives it back however it ends. */
function executeLocked(input: ScriptRunInput, lock: NonNullable<ScriptRunInput['lock']>): Promise<RunOutcome> {
  return withHostLock(
    input.hostId,
    {
      type: 'execution',
      ttlSeconds: lock.ttlSeconds,
      waitTimeoutMs: lock.waitTimeoutMs,
      reason: `run of ${input.scriptId}`,
      holder: { kind: 'run', id: input.runId, name: `${input.scriptId} by ${input.initiator.name}` },
      onWaiting: async () => {
        await central.markRunWaitingForLock({ runId: input.runId });
        upsertSearchAttributes(searchAttributes({ status: 'waiting_for_lock' }));
      },
    },
    () => execute(input),
  );
}

async function execute(input: ScriptRunInput): Promise<RunOutcome> {
  const script = await central.beginRun({
    runId: input.runId,
    teamId: input.teamId,
    source: input.source,
    scriptId: input.scriptId,
    version: input.version,
    hostId: input.hostId,
    workflowRunId: workflowInfo().runId,
  });
  upsertSearchAttributes(searchAttributes({ status: 'running' }));
  if (input.overrides?.timeoutSeconds !== undefined) script.timeoutSeconds = input.overrides.timeoutSeconds;
  if (input.overrides?.retries !== undefined) script.retries = input.overrides.retries;

  const options = {
    startToCloseTimeout: (script.timeoutSeconds + 60) * 1000,
    heartbeatTimeout: input.heartbeatTimeoutMs,
    // A cancelled run ends only once the host has killed the process tree.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: {
      maximumAttempts: script.retries + 1,
      initialInterval: Math.max(script.retryDelaySeconds, 0.001) * 1000,
      backoffCoefficient: 1,
    },
  };
  const job: AgentScriptJob = {
    runId: input.runId,
    scriptId: input.scriptId,
    interpreter: script.interpreter,
    scriptPath: script.scriptPath,
    script: script.script ?? null,
    // Only a beginRun recorded before scripts went by reference returns the content itself.
    ...(script.content !== undefined ? { content: script.content } : {}),
    commandTemplate: script.commandTemplate,
    operation: script.operation,
    params: input.params,
    ...(input.secretRefs ? { secretRefs: input.secretRefs } : {}),
    secretNames: script.secretNames,
    timeoutSeconds: script.timeoutSeconds,
    successCriteria: script.successCriteria,
    capture: script.capture,
  };
  let result;
  if (script.transport === 'ssh') {
    // Agentless hosts are reached from a central worker; any central worker can take the attempt.
    result = await proxyActivities<CentralActivities>(options).runScriptOverSsh({ job, hostId: input.hostId });
  } else if (script.transport === 'winrm') {
    result = await proxyActivities<CentralActivities>(options).runScriptOverWinrm({ job, hostId: input.hostId });
  } else if (script.transport === 'docker') {
    if (!script.container) throw ApplicationFailure.nonRetryable(`host ${input.hostId} is a Docker engine; it runs manifests with runner docker only`, 'Unsupported');
    result = await proxyActivities<CentralActivities>(options).runScriptInDocker({ job, hostId: input.hostId, container: script.container });
  } else if (patched(AGENT_ATTEMPTS_IN_WORKFLOW)) {
    result = await runOnAgent(input, job, options.startToCloseTimeout, script.retries + 1, options.retry.initialInterval);
  } else {
    const agent = proxyActivities<AgentActivities>({
      ...options,
      taskQueue: agentQueue(input.hostId),
      // No agent polling the host's queue within this bound means the host is offline.
      scheduleToStartTimeout: input.offlineTimeoutMs,
    });
    result = await agent.runScript(job);
  }
  return { status: 'succeeded', exitCode: result.exitCode, error: null, attempts: result.attempt, result: result.operation ?? null };
}

/** Runs whose attempts on an agent host are counted by the workflow; older histories replay Temporal's count. */
const AGENT_ATTEMPTS_IN_WORKFLOW = 'agent-attempts-in-workflow';

/**
 * The attempts of a run on an agent host. The workflow counts them, not Temporal: when Temporal loses sight of
 * an attempt (no heartbeat through an outage), it must ask the host what became of it before it starts
 * another, and a Temporal retry would start the next one (running the script again) before it could ask.
 */
async function runOnAgent(input: ScriptRunInput, job: AgentScriptJob, startToCloseMs: number, attempts: number, retryDelayMs: number): Promise<AgentScriptResult> {
  const queue = agentQueue(input.hostId);
  const agent = proxyActivities<AgentActivities>({
    taskQueue: queue,
    startToCloseTimeout: startToCloseMs,
    heartbeatTimeout: input.heartbeatTimeoutMs,
    // No agent polling the host's queue within this bound means the host is offline.
    scheduleToStartTimeout: input.offlineTimeoutMs,
    // A cancelled run ends only once the host has killed the process tree.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: { maximumAttempts: 1 },
  });
  const recovery = proxyActivities<AgentActivities>({
    taskQueue: queue,
    // Delivering the log lines that waited may take as long as the API was away: heartbeats say the agent is alive.
    startToCloseTimeout: '7 days',
    heartbeatTimeout: input.heartbeatTimeoutMs,
    scheduleToStartTimeout: input.offlineTimeoutMs,
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    // The question is safe to ask again: another outage while it is answered is not the host's fault.
    retry: { maximumAttempts: 5, initialInterval: '1 second' },
  });
  for (let attempt = 1; ; attempt++) {
    try {
      return await attemptOnAgent(agent, recovery, { ...job, attempt });
    } catch (err) {
      if (isCancellation(err) || attempt >= attempts || !retryable(err)) throw err;
      await sleep(retryDelayMs);
    }
  }
}

async function attemptOnAgent(agent: AgentActivities, recovery: AgentActivities, job: AgentScriptJob & { attempt: number }): Promise<AgentScriptResult> {
  try {
    return await agent.runScript(job);
  } catch (err) {
    const timeout = err instanceof ActivityFailure && err.cause instanceof TimeoutFailure ? err.cause.timeoutType : undefined;
    if (timeout !== 'HEARTBEAT' && timeout !== 'START_TO_CLOSE') throw err;
    // Temporal did not hear from the host for a while; the host may have finished meanwhile. Ask it.
    let answer: AttemptRecovery;
    try {
      answer = await recovery.recoverAttempt({ runId: job.runId, attempt: job.attempt });
    } catch (asked) {
      if (isCancellation(asked)) throw asked;
      throw err;
    }
    if (answer.state === 'succeeded') return answer.result;
    if (answer.state === 'failed') {
      const { type, message, nonRetryable, details } = answer.failure;
      throw ApplicationFailure.create({ type, message, nonRetryable, details: details ? [details] : undefined });
    }
    if (answer.state === 'cancelled') throw new CancelledFailure('the attempt was cancelled on the host');
    // Unknown: the agent process that ran it died. The loss of the host is what happened.
    throw err;
  }
}

/** What Temporal's retry policy retried: script failures and lost hosts, not refusals or an offline host. */
function retryable(err: unknown): boolean {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof TimeoutFailure) return cause.timeoutType !== 'SCHEDULE_TO_START';
  if (cause instanceof ApplicationFailure) return !cause.nonRetryable;
  return true;
}

function describeFailure(err: unknown, hostId: string): RunOutcome {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof TimeoutFailure) {
    const attempt = (cause.lastHeartbeatDetails as { attempt?: number } | undefined)?.attempt ?? 0;
    if (cause.timeoutType === 'SCHEDULE_TO_START') {
      return { status: 'failed', exitCode: null, error: `host ${hostId} is offline: no agent picked up the run`, attempts: attempt };
    }
    if (cause.timeoutType === 'HEARTBEAT') {
      return { status: 'failed', exitCode: null, error: `host ${hostId} stopped responding mid-run (no heartbeat from its agent or SSH session)`, attempts: attempt };
    }
    return { status: 'failed', exitCode: null, error: `host ${hostId} did not finish the run in time`, attempts: attempt };
  }
  if (cause instanceof ApplicationFailure) {
    const details = cause.details?.[0] as (ScriptFailureDetails & { attempt?: number }) | undefined;
    const attempts = details?.attempt ?? 1;
    if (cause.type === SCRIPT_TIMED_OUT) {
      return { status: 'timed_out', exitCode: details?.exitCode ?? null, error: cause.message, attempts };
    }
    if (cause.type === SCRIPT_FAILED) {
      const tail = details?.stderrTail ? `\n${details.stderrTail}` : '';
      return { status: 'failed', exitCode: details?.exitCode ?? null, error: `${cause.message}${tail}`, attempts, result: details?.operation ?? null };
    }
    // The host's lock stopped the run: no attempt of its own to count.
    if (cause.type?.startsWith('HostLock')) return { status: 'failed', exitCode: null, error: cause.message, attempts: 0 };
    return { status: 'failed', exitCode: null, error: cause.message, attempts };
  }
  return { status: 'failed', exitCode: null, error: err instanceof Error ? err.message : String(err), attempts: 0 };
}
