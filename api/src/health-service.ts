import { sql } from 'kysely';
import { databaseUnavailable, type Health } from '@drydock/core';
import type { ApiDeps } from './context.ts';

/** Each dependency gets this long to answer: the health check must answer even when one of them hangs. */
const DEADLINE_MS = 2_000;

const WORDS: Record<string, string> = { ECONNREFUSED: 'connection refused', ECONNRESET: 'connection reset', ETIMEDOUT: 'timed out', ENOTFOUND: 'the host name does not resolve' };

function why(err: unknown): string {
  const code = databaseUnavailable(err);
  if (code) return WORDS[code] ?? code;
  const message = err instanceof Error ? err.message : String(err);
  if (/ECONNREFUSED/.test(message)) return 'connection refused';
  if (/DEADLINE_EXCEEDED|Deadline exceeded/i.test(message)) return `no answer within ${DEADLINE_MS / 1000} s`;
  return message.split('\n')[0]!;
}

/** 'ok', or what is wrong: `unreachable at <where> (<why>)`. Never longer than the deadline. */
async function check(where: string, probe: () => Promise<unknown>): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`unreachable at ${where} (no answer within ${DEADLINE_MS / 1000} s)`), DEADLINE_MS);
  });
  try {
    return await Promise.race([
      probe().then(
        () => 'ok',
        (err: unknown) => `unreachable at ${where} (${why(err)})`,
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The API, its database and Temporal: 'degraded' with the reason when one does not answer, never slower than the deadline. */
export async function checkHealth(deps: ApiDeps): Promise<Health> {
  const database = deps.config.DATABASE_URL ? new URL(deps.config.DATABASE_URL).host : 'DATABASE_URL';
  const temporal = deps.config.temporalAddress;
  const [db, tp] = await Promise.all([
    check(database, () => sql`select 1`.execute(deps.db)),
    check(temporal, () => deps.temporal.connection.withDeadline(Date.now() + DEADLINE_MS, () => deps.temporal.connection.workflowService.getSystemInfo({}))),
  ]);
  const failing = Object.entries({ database: db, temporal: tp }).filter(([, state]) => state !== 'ok');
  if (failing.length === 0) return { status: 'ok', database: db, temporal: tp };
  return { status: 'degraded', database: db, temporal: tp, reason: failing.map(([name, state]) => `${name}: ${state}`).join('; ') };
}
