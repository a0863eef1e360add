import { ApplicationFailure } from '@temporalio/common';
import { sql } from 'kysely';
import { BULK_CHANNEL } from './bulk.activities.ts';
import { CatalogStore, type Db, NotFoundError, type RunOutcome } from '@drydock/core';
import type { ContainerOptions, SuccessCriteria } from '@drydock/core/manifest';
import { operationRefusal } from '@drydock/core/operations';
import type { AgentScriptJob, JobCapture } from '@drydock/core/run-contract';
import type { Notifier } from './notifications.activities.ts';

export interface RunActivityDeps {
  db: Db;
  /** Tells the team's notification rules about a run's end; absent, nobody is told. */
  notifier?: Notifier | undefined;
}

/** What `beginRun` resolves a run to: what runs, as the job carries it, and the manifest's settings around it. */
export interface ScriptForRun extends Pick<AgentScriptJob, 'interpreter' | 'scriptPath' | 'script' | 'content' | 'commandTemplate' | 'operation'> {
  name: string;
  version: string;
  timeoutSeconds: number;
  retries: number;
  retryDelaySeconds: number;
  secretNames: string[];
  successCriteria: SuccessCriteria;
  /** The manifest's capture; absent in results recorded before capture existed. */
  capture?: JobCapture;
  /** How the run's host is reached: its agent's queue, or SSH, WinRM or a Docker engine from a central worker. */
  transport: 'agent' | 'ssh' | 'winrm' | 'docker';
  /** runner docker: the image and what the container gets. */
  container?: { image: string } & ContainerOptions;
}

/** Channel the API listens on to push run status changes to SSE clients. */
export const RUN_CHANNEL = 'drydock_runs';

export function createRunActivities({ db, notifier }: RunActivityDeps) {
  const catalog = new CatalogStore(db);
  return {
    /** Resolves the exact version the run executes and marks the run as running, in one step. */
    async beginRun(input: {
      runId: string;
      teamId: string;
      source: 'script' | 'action';
      scriptId: string;
      version: string;
      hostId: string;
      workflowRunId: string;
    }): Promise<ScriptForRun> {
      let script: ScriptForRun;
      const host = await db.selectFrom('hosts').select('transport').where('id', '=', input.hostId).executeTakeFirst();
      if (!host) throw ApplicationFailure.nonRetryable(`host ${input.hostId} no longer exists`, 'NotFound');
      try {
        const item = await catalog.get(input.teamId, input.source, input.scriptId, input.source === 'script' ? input.version : undefined);
        const refusal = item.manifest.operation ? operationRefusal(item.manifest.operation, host.transport, input.hostId) : null;
        if (refusal) throw ApplicationFailure.nonRetryable(refusal, 'Unsupported');
        if (item.version !== input.version && !item.version.startsWith(input.version)) {
          // Actions are edited in place: never run another revision than the one the parameters were checked against.
          throw ApplicationFailure.nonRetryable(`${input.source} ${input.scriptId} changed since the run was requested (revision ${input.version} is now ${item.version}); start it again`, 'Changed');
        }
        const m = item.manifest;
        script = {
          name: m.name,
          version: item.version,
          interpreter: m.interpreter ?? null,
          scriptPath: m.script ?? null,
          script: m.script !== undefined && item.script ? { version: item.version, path: m.script, ...item.script } : null,
          commandTemplate: m.command_template ?? null,
          operation: m.operation ?? null,
          timeoutSeconds: m.timeout,
          retries: m.retries,
          retryDelaySeconds: m.retry_delay,
          secretNames: m.parameters.filter((p) => p.type === 'secret').map((p) => p.name),
          successCriteria: m.success_criteria,
          capture: m.capture,
          transport: host.transport,
          ...(m.runner === 'docker' && m.runner_image ? { container: { image: m.runner_image, ...(m.container ?? { network: false, read_only: false }) } } : {}),
        };
      } catch (err) {
        if (err instanceof NotFoundError) throw ApplicationFailure.nonRetryable(err.message, 'NotFound');
        throw err;
      }
      await db
        .updateTable('runs')
        .set({ status: 'running', started_at: new Date(), workflow_run_id: input.workflowRunId, script_version: script.version })
        .where('id', '=', input.runId)
        .where('status', 'in', ['queued', 'waiting_for_lock'])
        .execute();
      await notifyRun(db, input.runId);
      return script;
    },

    async recordRunFinished(input: { runId: string; outcome: RunOutcome }): Promise<void> {
      const { outcome } = input;
      // The run's secrets go before it reads as ended, and so do those of runs lost without ending, once past their bound.
      await db
        .deleteFrom('run_secrets')
        .where((eb) => eb.or([eb('run_id', '=', input.runId), eb('expires_at', '<', new Date())]))
        .execute();
      await db
        .updateTable('runs')
        .set({
          status: outcome.status,
          exit_code: outcome.exitCode,
          error: outcome.error,
          result: outcome.result ?? null,
          attempts: outcome.attempts,
          finished_at: sql<Date>`now()`,
          duration_ms: sql<number>`(extract(epoch from now() - coalesce(started_at, created_at)) * 1000)::int`,
        })
        .where('id', '=', input.runId)
        .execute();
      await notifyRun(db, input.runId);
      await notifier?.runEnded(input.runId);
    },
  };
}

/** Tells the run's SSE streams, and its bulk execution's grid if it has one, that the run changed. */
export async function notifyRun(db: Db, runId: string): Promise<void> {
  // A bulk execution's grid hears about its hosts' runs on its own channel.
  await sql`select pg_notify(${RUN_CHANNEL}, ${runId}), (select pg_notify(${BULK_CHANNEL}, bulk_id::text) from runs where id = ${runId} and bulk_id is not null)`.execute(db);
}

export type RunActivities = ReturnType<typeof createRunActivities>;
