import type { Duplex } from 'node:stream';
import { createConnection } from 'mysql2';
import { CONNECT_TIMEOUT_SECONDS, DatabaseQueryError, networkFailure, type QueryAnswer, type QueryRequest } from './database-engine.ts';

const CLIENT_GRACE_MS = 5_000;
const ER_UNKNOWN_SYSTEM_VARIABLE = 1193;

/**
 * MySQL and MariaDB. The session's transactions are read-only as well as this one, so a statement that commits
 * implicitly (DDL) still lands in a read-only transaction.
 */
export async function queryMysql(request: QueryRequest): Promise<QueryAnswer> {
  let stream: Duplex | undefined;
  try {
    // mysql2 takes a ready stream only, so a tunnel is opened before the connection.
    stream = request.connect ? await request.connect() : undefined;
  } catch (err) {
    throw new DatabaseQueryError(describe(err, request));
  }
  const raw = createConnection({
    ...(stream ? { stream } : {}),
    host: request.host,
    port: request.port,
    database: request.database,
    user: request.user,
    password: request.password ?? '',
    connectTimeout: CONNECT_TIMEOUT_SECONDS * 1000,
    multipleStatements: false,
    supportBigNumbers: true,
    bigNumberStrings: false,
    dateStrings: true,
  });
  // Failures reach the pending query; without a listener a late socket error would crash the process.
  raw.on('error', () => {});
  const connection = raw.promise();
  let cancelled = false;
  let overdue = false;
  let failed = false;
  const onAbort = () => {
    cancelled = true;
    const threadId = raw.threadId;
    raw.destroy();
    // The server notices a closed socket only between rows or sleeps: stop the statement outright.
    if (threadId) void killQuery(request, threadId);
  };
  const backstop = setTimeout(
    () => {
      overdue = true;
      raw.destroy();
    },
    CONNECT_TIMEOUT_SECONDS * 1000 + request.timeoutMs + CLIENT_GRACE_MS,
  );
  if (request.signal.aborted) onAbort();
  else request.signal.addEventListener('abort', onAbort, { once: true });

  try {
    await connection.query('SET SESSION TRANSACTION READ ONLY');
    await setStatementTimeout(connection, request.timeoutMs);
    await connection.query('START TRANSACTION READ ONLY');
    const [rows, fields] =
      request.bind.length > 0
        ? await connection.execute({ sql: request.query, rowsAsArray: true }, request.bind)
        : await connection.query({ sql: request.query, rowsAsArray: true });
    await connection.query('ROLLBACK');
    const list = Array.isArray(rows) ? (rows as unknown[][]) : [];
    return { rowCount: list.length, column: fields?.[0]?.name ?? null, first: list[0]?.[0] };
  } catch (err) {
    // After a failed handshake or a lost connection, end() never settles: drop the socket instead.
    failed = true;
    raw.destroy();
    if (cancelled) throw new DatabaseQueryError('cancelled');
    if (overdue) throw new DatabaseQueryError(`MySQL at ${request.host}:${request.port} stopped answering`);
    throw new DatabaseQueryError(describe(err, request));
  } finally {
    clearTimeout(backstop);
    request.signal.removeEventListener('abort', onAbort);
    if (!failed) await connection.end().catch(() => raw.destroy());
  }
}

async function killQuery(request: QueryRequest, threadId: number): Promise<void> {
  const stream = request.connect ? await request.connect().catch(() => null) : undefined;
  if (stream === null) return;
  const raw = createConnection({
    ...(stream ? { stream } : {}),
    host: request.host,
    port: request.port,
    user: request.user,
    password: request.password ?? '',
    connectTimeout: CONNECT_TIMEOUT_SECONDS * 1000,
  });
  raw.on('error', () => {});
  const connection = raw.promise();
  try {
    await connection.query('KILL QUERY ?', [threadId]);
    await connection.end();
  } catch {
    raw.destroy();
  }
}

/** MariaDB counts max_statement_time in seconds; MySQL has max_execution_time, in milliseconds, for SELECT. */
async function setStatementTimeout(connection: ReturnType<ReturnType<typeof createConnection>['promise']>, timeoutMs: number): Promise<void> {
  try {
    await connection.query('SET SESSION max_statement_time = ?', [timeoutMs / 1000]);
  } catch (err) {
    if ((err as { errno?: number }).errno !== ER_UNKNOWN_SYSTEM_VARIABLE) throw err;
    await connection.query('SET SESSION max_execution_time = ?', [Math.max(1, Math.round(timeoutMs))]);
  }
}

function describe(err: unknown, request: QueryRequest): string {
  const { code, errno, message } = err as { code?: string; errno?: number; message?: string };
  const where = `${request.host}:${request.port}`;
  const text = (message ?? String(err)).split('\n')[0]!;
  const network = networkFailure(code, where, 'MySQL');
  if (network) return network;
  switch (errno) {
    case 1045:
    case 1698:
      return `authentication failed for user ${request.user} on ${where}: ${text}`;
    case 1044:
      return `user ${request.user} may not use database ${request.database}: ${text}`;
    case 1049:
      return `database ${request.database} does not exist on ${where}`;
    case 1064:
      return `SQL syntax error: ${text}`;
    case 1792:
      return `refused: the query tried to write, and operations run in a read-only transaction (${text})`;
    case 1568:
      return `refused: the query tried to leave the read-only transaction (${text})`;
    case 1969:
    case 3024:
      return `the query ran longer than ${request.timeoutMs / 1000} s and was cancelled`;
    case 1142:
    case 1227:
      return `permission denied: ${text}`;
  }
  if (code === 'PROTOCOL_CONNECTION_LOST') return `MySQL at ${where} closed the connection`;
  return errno !== undefined && errno > 0 ? `MySQL error ${errno}: ${text}` : `MySQL at ${where}: ${text}`;
}
