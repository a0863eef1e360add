import { ApplicationFailure } from '@temporalio/common';
import { sql } from 'kysely';
import { type CatalogSource, type Db, NotFoundError, type RunOutcome } from '@drydock/core';
import type { Interpreter } from '@drydock/core/manifest';

export interface RunActivityDeps {
  db: Db;
  catalog: CatalogSource;
}

export interface ScriptForRun {
  name: string;
  version: string;
  interpreter: Interpreter;
  scriptPath: string;
  content: string;
  timeoutSeconds: number;
  retries: number;
  retryDelaySeconds: number;
  secretNames: string[];
}

/** Channel the API listens on to push run status changes to SSE clients. */
export const RUN_CHANNEL = 'drydock_runs';

export function createRunActivities({ db, catalog }: RunActivityDeps) {
  return {
    /** Resolves the manifest the run executes and marks the run as running, in one step. */
    async beginRun(input: { runId: string; scriptId: string; workflowRunId: string }): Promise<ScriptForRun> {
      let script: ScriptForRun;
      try {
        const { entry, content } = await catalog.resolve(input.scriptId);
        const m = entry.manifest;
        script = {
          name: m.name,
          version: entry.version,
          interpreter: m.interpreter,
          scriptPath: m.script,
          content,
          timeoutSeconds: m.timeout,
          retries: m.retries,
          retryDelaySeconds: m.retry_delay,
          secretNames: m.parameters.filter((p) => p.type === 'secret').map((p) => p.name),
        };
      } catch (err) {
        if (err instanceof NotFoundError) throw ApplicationFailure.nonRetryable(err.message, 'NotFound');
        throw err;
      }
      await db
        .updateTable('runs')
        .set({ status: 'running', started_at: new Date(), workflow_run_id: input.workflowRunId, script_version: script.version })
        .where('id', '=', input.runId)
        .where('status', '=', 'queued')
        .execute();
      await notify(db, input.runId);
      return script;
    },

    async recordRunFinished(input: { runId: string; outcome: RunOutcome }): Promise<void> {
      const { outcome } = input;
      await db
        .updateTable('runs')
        .set({
          status: outcome.status,
          exit_code: outcome.exitCode,
          error: outcome.error,
          attempts: outcome.attempts,
          finished_at: sql<Date>`now()`,
          duration_ms: sql<number>`(extract(epoch from now() - coalesce(started_at, created_at)) * 1000)::int`,
        })
        .where('id', '=', input.runId)
        .execute();
      await notify(db, input.runId);
    },
  };
}

async function notify(db: Db, runId: string): Promise<void> {
  await sql`select pg_notify(${RUN_CHANNEL}, ${runId})`.execute(db);
}

export type RunActivities = ReturnType<typeof createRunActivities>;
