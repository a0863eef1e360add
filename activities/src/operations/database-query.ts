import { SECRET_MASK } from '@drydock/core/manifest';
import type { QueryAnswer, QueryRequest } from './database-engine.ts';
import type { DatabaseQueryOperation } from '@drydock/core/operations';
import { type CheckResult, errorMessage, type OperationLog, type Outcome } from '@drydock/core/operations';
import { queryMysql } from './mysql-query.ts';
import { queryPostgres } from './postgres-query.ts';
import { sqlStatements } from '@drydock/core/operations';

export const DEFAULT_QUERY_TIMEOUT_SECONDS = 60;
const MAX_VALUE_LENGTH = 1_000;

/** The driver's value as a scalar: whole numbers stay numbers while exact, dates become ISO text. */
export function toScalar(value: unknown): string | number | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (typeof value === 'string') return value.length > MAX_VALUE_LENGTH ? `${value.slice(0, MAX_VALUE_LENGTH)}…` : value;
  if (typeof value === 'boolean') return String(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? String(value) : value.toISOString();
  if (value instanceof Uint8Array) return `0x${Buffer.from(value.subarray(0, MAX_VALUE_LENGTH / 2)).toString('hex')}`;
  return toScalar(JSON.stringify(value));
}

const NUMERIC = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

function asNumber(value: string | number | null): number | null {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && NUMERIC.test(value.trim())) return Number(value);
  return null;
}

/** expect.min and expect.max are inclusive; equals compares numbers as numbers and anything else as text. */
export function judgeScalar(value: string | number | null, expect: NonNullable<DatabaseQueryOperation['expect']>, hadRow: boolean): CheckResult[] {
  const checks: CheckResult[] = [];
  const shown = value === null ? (hadRow ? 'NULL' : 'no row') : JSON.stringify(value);
  const number = asNumber(value);
  if (expect.min !== undefined) {
    const name = `value >= ${expect.min}`;
    if (number === null) checks.push({ name, ok: false, detail: `the query returned ${shown}, not a number` });
    else checks.push({ name, ok: number >= expect.min, detail: number >= expect.min ? `${number} >= ${expect.min}` : `${number} is below the minimum ${expect.min}` });
  }
  if (expect.max !== undefined) {
    const name = `value <= ${expect.max}`;
    if (number === null) checks.push({ name, ok: false, detail: `the query returned ${shown}, not a number` });
    else checks.push({ name, ok: number <= expect.max, detail: number <= expect.max ? `${number} <= ${expect.max}` : `${number} is above the maximum ${expect.max}` });
  }
  if (expect.equals !== undefined) {
    const want = expect.equals;
    const name = `value = ${JSON.stringify(want)}`;
    const ok = value !== null && (typeof want === 'number' ? number === want : String(value) === want);
    checks.push({ name, ok, detail: ok ? `${shown} = ${JSON.stringify(want)}` : `the query returned ${shown}, expected ${JSON.stringify(want)}` });
  }
  return checks;
}

/**
 * One statement in a read-only transaction that is rolled back afterwards; the first column of the first
 * row is the value the expectations judge. The password is `secrets[password_param]`.
 */
export async function runDatabaseQuery(
  op: DatabaseQueryOperation,
  context: { signal: AbortSignal; log: OperationLog; secrets: Readonly<Record<string, string>>; connect?: QueryRequest['connect'] },
): Promise<Outcome> {
  const { log, secrets } = context;
  const { connection } = op;
  const engineName = op.engine === 'postgresql' ? 'PostgreSQL' : 'MySQL';
  const port = connection.port ?? (op.engine === 'postgresql' ? 5432 : 3306);
  const timeoutSeconds = op.timeout_seconds ?? DEFAULT_QUERY_TIMEOUT_SECONDS;
  log.line(`${engineName} ${connection.user}@${connection.host}:${port}/${connection.database}, read-only: ${op.query.replace(/\s+/g, ' ').trim()}`);
  if (op.bind && op.bind.length > 0) log.line(`bound values: ${op.bind.map((v) => JSON.stringify(v)).join(', ')}`);
  const fail = (detail: string): Outcome => {
    log.line(`FAILED query: ${detail}`);
    const checks: CheckResult[] = [{ name: 'query', ok: false, detail }];
    return { checks, value: null };
  };

  let password: string | undefined;
  if (connection.password_param !== undefined) {
    password = secrets[connection.password_param];
    if (password === undefined) return fail(`the secret parameter ${connection.password_param} has no value, so there is no password to connect with`);
  }
  let statements: number;
  try {
    statements = sqlStatements(op.query, op.engine).length;
  } catch (err) {
    return fail(errorMessage(err));
  }
  if (statements !== 1) return fail(`refused: the query must be exactly one statement, and it has ${statements}`);

  const request: QueryRequest = {
    host: connection.host,
    port,
    database: connection.database,
    user: connection.user,
    password,
    query: op.query,
    bind: op.bind ?? [],
    timeoutMs: timeoutSeconds * 1000,
    signal: context.signal,
    ...(context.connect ? { connect: context.connect } : {}),
  };
  let answer: QueryAnswer;
  try {
    answer = op.engine === 'postgresql' ? await queryPostgres(request) : await queryMysql(request);
  } catch (err) {
    const line = errorMessage(err).split('\n')[0]!;
    return fail(password ? line.split(password).join(SECRET_MASK) : line);
  }

  const value = toScalar(answer.first);
  const hadRow = answer.rowCount > 0;
  const seen = hadRow
    ? `returned ${answer.rowCount} row${answer.rowCount === 1 ? '' : 's'}; first value${answer.column ? ` (${answer.column})` : ''}: ${value === null ? 'NULL' : JSON.stringify(value)}`
    : 'returned no rows';
  log.line(`ok query: ${seen}`);
  const checks: CheckResult[] = [{ name: 'query', ok: true, detail: seen }];
  if (op.expect) {
    for (const check of judgeScalar(value, op.expect, hadRow)) {
      log.line(`${check.ok ? 'ok' : 'FAILED'} ${check.name}: ${check.detail}`);
      checks.push(check);
    }
  }
  return { checks, value };
}
