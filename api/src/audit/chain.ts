import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from '@drydock/core';

/** One stored row as the hash sees it: every field as the database prints it. */
interface ChainRow {
  id: string;
  team_id: string;
  team_seq: string;
  prev_hash: string | null;
  hash: string;
  actor_id: string | null;
  actor_name: string;
  action: string;
  resource: string | null;
  ip: string | null;
  user_agent: string | null;
  result: string;
  detail: string | null;
  request_id: string | null;
  at: string;
}

export type ChainBreakKind = 'changed' | 'deleted' | 'reordered' | 'replaced';

export interface ChainBreak {
  teamId: string;
  kind: ChainBreakKind;
  /** The first row whose place in the chain does not hold (its id, and its number in the team's chain). */
  rowId: string;
  seq: number;
  message: string;
}

export interface TeamChain {
  teamId: string;
  rows: number;
  /** The last row's number and hash: kept somewhere else, they also reveal rows removed from the end. */
  head: { seq: number; hash: string } | null;
  firstBreak: ChainBreak | null;
}

export interface ChainReport {
  ok: boolean;
  teams: TeamChain[];
}

function field(value: string | null): string {
  return value === null ? '~' : `${Buffer.byteLength(value, 'utf8')}:${value}`;
}

/** The hash migration 018's trigger writes, computed here independently of the database's function. */
export function rowHash(row: Omit<ChainRow, 'id' | 'team_seq' | 'hash'>): string {
  const content = [
    row.prev_hash,
    row.team_id,
    row.actor_id,
    row.actor_name,
    row.action,
    row.resource,
    row.ip,
    row.user_agent,
    row.result,
    row.detail,
    row.request_id,
    row.at,
  ]
    .map(field)
    .join('');
  return createHash('sha256').update(content, 'utf8').digest('hex');
}

const PAGE = 2000;

async function readPage(db: Db, teamId: string, afterSeq: number): Promise<ChainRow[]> {
  return db
    .selectFrom('audit_log')
    .select([
      sql<string>`id::text`.as('id'),
      'team_id',
      sql<string>`team_seq::text`.as('team_seq'),
      'prev_hash',
      'hash',
      'actor_id',
      'actor_name',
      'action',
      'resource',
      'ip',
      'user_agent',
      sql<string>`result::text`.as('result'),
      sql<string | null>`detail::text`.as('detail'),
      'request_id',
      sql<string>`to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as('at'),
    ])
    .where('team_id', '=', teamId)
    .where(sql<boolean>`team_seq > ${afterSeq}`)
    // Qualified: the bare name would sort by the text alias above.
    .orderBy(sql`audit_log.team_seq`)
    .limit(PAGE)
    .execute();
}

async function rowWithHash(db: Db, teamId: string, hash: string) {
  return db
    .selectFrom('audit_log')
    .select([sql<string>`id::text`.as('id'), sql<string>`team_seq::text`.as('seq')])
    .where('team_id', '=', teamId)
    .where(sql<boolean>`hash = ${hash}`)
    .executeTakeFirst();
}

function describe(row: ChainRow): string {
  return `row ${row.id} (#${row.team_seq} of team ${row.team_id}, ${row.action} by ${row.actor_name} at ${row.at})`;
}

/** Walks one team's chain in order and stops at the first row whose content or place does not hold. */
async function verifyTeam(db: Db, teamId: string): Promise<TeamChain> {
  let prev: ChainRow | undefined;
  let rows = 0;
  const stop = (row: ChainRow, kind: ChainBreakKind, message: string): TeamChain => ({
    teamId,
    rows: rows + 1,
    head: null,
    firstBreak: { teamId, kind, rowId: row.id, seq: Number(row.team_seq), message },
  });
  for (;;) {
    const page = await readPage(db, teamId, prev ? Number(prev.team_seq) : 0);
    for (const row of page) {
      const expectedSeq = prev ? Number(prev.team_seq) + 1 : 1;
      const seq = Number(row.team_seq);
      if (rowHash(row) !== row.hash) {
        return stop(row, 'changed', `${describe(row)} was changed after it was written: its content no longer matches its hash`);
      }
      const expectedPrev = prev?.hash ?? null;
      if (row.prev_hash !== expectedPrev) {
        const linked = row.prev_hash === null ? undefined : await rowWithHash(db, teamId, row.prev_hash);
        if (row.prev_hash === null) {
          return stop(row, 'reordered', `${describe(row)} is out of order: it was written as the team's first row`);
        }
        if (linked) {
          return stop(row, 'reordered', `${describe(row)} is out of order: it was written after row ${linked.id} (#${linked.seq}), not after ${prev ? `row ${prev.id} (#${prev.team_seq})` : 'nothing'}`);
        }
        if (seq > expectedSeq) {
          const missing = seq - expectedSeq === 1 ? `#${expectedSeq} is` : `#${expectedSeq} to #${seq - 1} are`;
          return stop(row, 'deleted', `row ${missing} missing before ${describe(row)}: deleted`);
        }
        return stop(row, 'replaced', `the row written before ${describe(row)} is not there any more: ${prev ? `row ${prev.id} (#${prev.team_seq}) replaced it` : 'it was removed'}`);
      }
      if (seq !== expectedSeq) {
        return stop(row, 'changed', `${describe(row)} carries number #${seq} where #${expectedSeq} was written: its number was changed`);
      }
      prev = row;
      rows += 1;
    }
    if (page.length < PAGE) break;
  }
  return { teamId, rows, head: prev ? { seq: Number(prev.team_seq), hash: prev.hash } : null, firstBreak: null };
}

/** Verifies every team's chain, or one team's; names the first broken row of each. */
export async function verifyAuditChain(db: Db, options: { teamId?: string } = {}): Promise<ChainReport> {
  const teamIds = options.teamId
    ? [options.teamId]
    : (await db.selectFrom('audit_log').select('team_id').distinct().orderBy('team_id').execute()).map((r) => r.team_id);
  const teams: TeamChain[] = [];
  for (const teamId of teamIds) teams.push(await verifyTeam(db, teamId));
  return { ok: teams.every((t) => t.firstBreak === null), teams };
}
