import postgres from 'postgres';
import { CONNECT_TIMEOUT_SECONDS, DatabaseQueryError, networkFailure, type QueryAnswer, type QueryRequest } from './database-engine.ts';

/** Past the server-side statement timeout, the client gives up too: a server that stops answering cannot hang a run. */
const CLIENT_GRACE_MS = 5_000;

export async function queryPostgres(request: QueryRequest): Promise<QueryAnswer> {
  const sql = postgres({
    host: request.host,
    port: request.port,
    database: request.database,
    username: request.user,
    // A function, so an absent password stays absent instead of falling back to the agent's PGPASSWORD.
    password: () => request.password ?? '',
    connect_timeout: CONNECT_TIMEOUT_SECONDS,
    // TLS when the server offers it, as libpq's default sslmode.
    ssl: 'prefer',
    max: 1,
    prepare: false,
    fetch_types: false,
    onnotice: () => {},
    types: { bigint: postgres.BigInt },
    connection: { application_name: 'drydock-operation' },
    // Also used for the cancel request, which needs a connection of its own.
    ...(request.connect ? { socket: request.connect } : {}),
  });
  let cancelled = false;
  let overdue = false;
  let running: ReturnType<typeof sql.unsafe> | undefined;
  const close = () => void sql.end({ timeout: 0 }).catch(() => {});
  const onAbort = () => {
    cancelled = true;
    // A cancel request stops the statement on the server; closing the socket alone would leave it running there.
    void Promise.resolve(running?.cancel()).catch(() => {}).finally(close);
  };
  const backstop = setTimeout(
    () => {
      overdue = true;
      close();
    },
    CONNECT_TIMEOUT_SECONDS * 1000 + request.timeoutMs + CLIENT_GRACE_MS,
  );
  if (request.signal.aborted) onAbort();
  else request.signal.addEventListener('abort', onAbort, { once: true });

  try {
    await sql.unsafe('BEGIN READ ONLY');
    await sql.unsafe(`SET LOCAL statement_timeout = ${Math.max(1, Math.round(request.timeoutMs))}`);
    running = sql.unsafe(request.query, request.bind);
    const rows = await running.values();
    await sql.unsafe('ROLLBACK');
    return { rowCount: rows.length, column: rows.columns?.[0]?.name ?? null, first: rows[0]?.[0] };
  } catch (err) {
    if (cancelled) throw new DatabaseQueryError('cancelled');
    if (overdue) throw new DatabaseQueryError(`PostgreSQL at ${request.host}:${request.port} stopped answering`);
    throw new DatabaseQueryError(describe(err, request));
  } finally {
    clearTimeout(backstop);
    request.signal.removeEventListener('abort', onAbort);
    await sql.end({ timeout: 0 }).catch(() => {});
  }
}

function describe(err: unknown, request: QueryRequest): string {
  const { code, message } = err as { code?: string; message?: string };
  const where = `${request.host}:${request.port}`;
  const text = (message ?? String(err)).split('\n')[0]!;
  const network = networkFailure(code, where, 'PostgreSQL');
  if (network) return network;
  switch (code) {
    case '28P01':
    case '28000':
      return `authentication failed for user ${request.user} on ${where}: ${text}`;
    case '3D000':
      return `database ${request.database} does not exist on ${where}`;
    case '42601':
      return `SQL syntax error: ${text}`;
    case '25006':
      return `refused: the query tried to write, and operations run in a read-only transaction (${text})`;
    case '25001':
      return `refused: the query tried to leave the read-only transaction (${text})`;
    case '57014':
      return `the query ran longer than ${request.timeoutMs / 1000} s and was cancelled`;
    case '42501':
      return `permission denied: ${text}`;
    case 'CONNECTION_CLOSED':
    case 'CONNECTION_DESTROYED':
      return `PostgreSQL at ${where} closed the connection`;
  }
  return code !== undefined && /^[0-9A-Z]{5}$/.test(code) ? `PostgreSQL error ${code}: ${text}` : `PostgreSQL at ${where}: ${text}`;
}
