import { createRoute } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { stream } from 'hono/streaming';
import { z } from 'zod';
import { AuditChainReportSchema, AuditExportQuerySchema, AuditPageSchema, AuditQuerySchema, AuditRowViewSchema } from '@drydock/core';
import { verifyAuditChain } from '../audit/chain.ts';
import { CSV_COLUMNS, csvRecord, exportAudit, listAudit } from '../audit/service.ts';
import type { ApiDeps, ApiEnv } from '../context.ts';
import { access, errors, json, resourceRouter } from '../contract.ts';

const ADMIN_ONLY = 'Admins of the team only; the rows are the caller’s team’s.';

const list = createRoute({
  method: 'get',
  path: '/',
  tags: ['audit'],
  ...access('admin', 'read'),
  summary: "The team's audit rows, newest first, filtered and paged",
  description: ADMIN_ONLY,
  request: { query: AuditQuerySchema },
  responses: { 200: json(AuditPageSchema, 'One page'), ...errors(400, 403) },
});

const exportCsv = createRoute({
  method: 'get',
  path: '/export.csv',
  tags: ['audit'],
  ...access('admin', 'read'),
  summary: 'Every matching audit row as a CSV download, streamed',
  description: `${ADMIN_ONLY} RFC 4180: CRLF line ends, a header row, newest first. A cell starting with \`=\`, \`+\`, \`-\`, \`@\`, a tab or a carriage return is prefixed with \`'\` so that spreadsheets show it as text.`,
  request: { query: AuditExportQuerySchema },
  responses: { 200: { description: 'The rows, as an attachment', content: { 'text/csv': { schema: z.string() } } }, ...errors(400, 403) },
});

const exportJson = createRoute({
  method: 'get',
  path: '/export.json',
  tags: ['audit'],
  ...access('admin', 'read'),
  summary: 'Every matching audit row as a JSON download, streamed',
  description: `${ADMIN_ONLY} One array of rows, newest first, each as \`GET /audit\` shows it.`,
  request: { query: AuditExportQuerySchema },
  responses: { 200: { description: 'The rows, as an attachment', content: { 'application/json': { schema: z.array(AuditRowViewSchema) } } }, ...errors(400, 403) },
});

const verify = createRoute({
  method: 'get',
  path: '/verify',
  tags: ['audit'],
  ...access('admin', 'read'),
  summary: "Walks the team's audit hash chain and names the first changed, deleted or reordered row",
  description: `${ADMIN_ONLY} \`npm run audit:verify\` checks every team's chain from the server.`,
  responses: { 200: json(AuditChainReportSchema, 'The chain, checked; `ok` is false when a row does not hold'), ...errors(403) },
});

/** The caller's team: the routes above let only its admins in. */
function teamOf(c: Context<ApiEnv>): string {
  return c.get('principal')!.teamId;
}

function downloadHeaders(c: Context<ApiEnv>, format: 'csv' | 'json'): void {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  c.header('content-type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8');
  c.header('content-disposition', `attachment; filename="drydock-audit-${stamp}.${format}"`);
  c.header('cache-control', 'no-store');
}

export function auditRoutes(deps: ApiDeps) {
  return resourceRouter()
    .openapi(list, async (c) => c.json(await listAudit(deps.db, teamOf(c), c.req.valid('query')), 200))
    .openapi(verify, async (c) => {
      const report = await verifyAuditChain(deps.db, { teamId: teamOf(c) });
      return c.json(
        {
          ok: report.ok,
          teams: report.teams.map((t) => ({
            teamId: t.teamId,
            rows: t.rows,
            head: t.head,
            firstBreak: t.firstBreak && { kind: t.firstBreak.kind, rowId: t.firstBreak.rowId, seq: t.firstBreak.seq, message: t.firstBreak.message },
          })),
        },
        200,
      );
    })
    .openapi(exportCsv, (c) => {
      const teamId = teamOf(c);
      const q = c.req.valid('query');
      downloadHeaders(c, 'csv');
      return stream(c, async (out) => {
        await out.write(`${CSV_COLUMNS.join(',')}\r\n`);
        for await (const row of exportAudit(deps.db, teamId, q)) {
          if (out.aborted) return;
          await out.write(csvRecord(row));
        }
      });
    })
    .openapi(exportJson, (c) => {
      const teamId = teamOf(c);
      const q = c.req.valid('query');
      downloadHeaders(c, 'json');
      // Streamed, so not through c.json: the typed answer is the document's, the bytes are written here.
      return stream(c, async (out) => {
        await out.write('[');
        let first = true;
        for await (const row of exportAudit(deps.db, teamId, q)) {
          if (out.aborted) return;
          await out.write(`${first ? '' : ','}\n${JSON.stringify(row)}`);
          first = false;
        }
        await out.write('\n]\n');
      }) as never;
    });
}
