import { type SelectQueryBuilder, sql } from 'kysely';
import type { AuditExportQuery, AuditPage, AuditQuery, AuditRowView, Database, Db } from '@drydock/core';

type AuditSelect = SelectQueryBuilder<Database, 'audit_log', object>;

function filtered(db: Db, teamId: string, q: AuditExportQuery): AuditSelect {
  let query: AuditSelect = db.selectFrom('audit_log').where('team_id', '=', teamId);
  if (q.actor) query = query.where((eb) => eb.or([eb('actor_id', '=', q.actor!), eb('actor_name', '=', q.actor!)]));
  if (q.action?.endsWith('*')) {
    // A prefix, taken literally: LIKE's own wildcards in it match only themselves.
    const prefix = q.action.slice(0, -1).replace(/[\\%_]/g, (ch) => `\\${ch}`);
    query = query.where('action', 'like', `${prefix}%`);
  } else if (q.action) query = query.where('action', '=', q.action);
  if (q.target) query = query.where('resource', '=', q.target);
  if (q.from) query = query.where('created_at', '>=', new Date(q.from));
  if (q.to) query = query.where('created_at', '<', new Date(q.to));
  return query;
}

function selectView(query: AuditSelect) {
  return query
    .select([
      sql<string>`id::text`.as('id'),
      sql<string>`team_seq::text`.as('team_seq'),
      'created_at',
      'team_id',
      'actor_id',
      'actor_name',
      'action',
      'resource',
      'result',
      'ip',
      'user_agent',
      'request_id',
      'detail',
      'hash',
    ])
    // Qualified: the bare name would sort by the text alias above.
    .orderBy('audit_log.id', 'desc');
}

type Row = Awaited<ReturnType<ReturnType<typeof selectView>['execute']>>[number];

function toView(r: Row): AuditRowView {
  return {
    id: r.id,
    seq: Number(r.team_seq),
    at: r.created_at.toISOString(),
    teamId: r.team_id,
    actor: { id: r.actor_id, name: r.actor_name },
    action: r.action,
    target: r.resource,
    result: r.result,
    sourceIp: r.ip,
    userAgent: r.user_agent,
    requestId: r.request_id,
    detail: r.detail,
    hash: r.hash,
  };
}

/** One page of a team's audit rows, newest first; the cursor is the last id shown. */
export async function listAudit(db: Db, teamId: string, q: AuditQuery): Promise<AuditPage> {
  let query = filtered(db, teamId, q);
  if (q.cursor) query = query.where(sql<boolean>`id < ${q.cursor}::bigint`);
  const rows = await selectView(query)
    .limit(q.limit + 1)
    .execute();
  const page = rows.slice(0, q.limit).map(toView);
  return { rows: page, nextCursor: rows.length > q.limit ? (page.at(-1)?.id ?? null) : null };
}

const EXPORT_BATCH = 1000;

/** Every matching row, newest first, read in batches so an export of millions never sits in memory. */
export async function* exportAudit(db: Db, teamId: string, q: AuditExportQuery): AsyncGenerator<AuditRowView> {
  let before: string | undefined;
  for (;;) {
    let query = filtered(db, teamId, q);
    if (before) query = query.where(sql<boolean>`id < ${before}::bigint`);
    const rows = await selectView(query).limit(EXPORT_BATCH).execute();
    for (const row of rows) yield toView(row);
    if (rows.length < EXPORT_BATCH) return;
    before = rows.at(-1)!.id;
  }
}

export const CSV_COLUMNS = ['id', 'seq', 'at', 'team', 'actor_id', 'actor', 'action', 'target', 'result', 'source_ip', 'user_agent', 'request_id', 'detail', 'hash'] as const;

/**
 * One RFC 4180 field. A cell a spreadsheet would read as a formula (= + - @, or a tab or carriage return
 * before one) is prefixed with `'` so it shows as text (OWASP's CSV injection advice).
 */
export function csvField(value: string | number | null): string {
  if (value === null) return '';
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvRecord(row: AuditRowView): string {
  const cells = [
    row.id,
    row.seq,
    row.at,
    row.teamId,
    row.actor.id,
    row.actor.name,
    row.action,
    row.target,
    row.result,
    row.sourceIp,
    row.userAgent,
    row.requestId,
    row.detail === null ? null : JSON.stringify(row.detail),
    row.hash,
  ];
  return `${cells.map(csvField).join(',')}\r\n`;
}
