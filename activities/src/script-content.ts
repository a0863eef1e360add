import { ApplicationFailure } from '@temporalio/common';
import { CatalogStore, type Db } from '@drydock/core';
import type { AgentScriptJob } from '@drydock/core/run-contract';
import { describeScript, scriptMismatch } from './job-execution.ts';

/**
 * A job with its script's content, read from Postgres by the run it belongs to: jobs carry only the script's
 * identity, so a script of any size runs and workflow history never holds it. Older jobs carry it inline.
 */
export async function withScriptContent(db: Db, job: AgentScriptJob): Promise<AgentScriptJob> {
  if (!job.script) return job;
  const found = await new CatalogStore(db).runScript(job.runId);
  if (!found) throw ApplicationFailure.nonRetryable(`${describeScript(job.script)} of run ${job.runId} is no longer in the catalog`, 'NotFound');
  const mismatch = scriptMismatch(job.script, found.content);
  if (mismatch) throw ApplicationFailure.nonRetryable(mismatch, 'Changed');
  return { ...job, content: found.content };
}
