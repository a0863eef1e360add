import { z } from 'zod';

// The audit trail: who did what, on which resource, from where; and whether its hash chain holds.

const IsoTime = z.iso.datetime({ offset: true });

export const AuditQuerySchema = z.strictObject({
  actor: z.string().min(1).optional().meta({ description: "The actor's id or name (a user's email, `agent:<hostId>`), exactly" }),
  action: z
    .string()
    .min(1)
    .optional()
    .meta({ description: 'An action exactly (`run.start`), or a prefix ending in `*` (`lock.*`)', example: 'run.*' }),
  target: z.string().min(1).optional().meta({ description: 'The resource acted on, exactly (`host:local`, `run:<id>`)' }),
  from: IsoTime.optional().meta({ description: 'Rows written at or after this time (ISO 8601 with an offset)' }),
  to: IsoTime.optional().meta({ description: 'Rows written before this time' }),
  limit: z.coerce.number().int().min(1).max(500).default(50).meta({ description: 'Rows per page, newest first' }),
  cursor: z
    .string()
    .regex(/^[1-9][0-9]{0,18}$/, 'send the nextCursor of the previous page, unchanged')
    .optional()
    .meta({ description: '`nextCursor` of the previous page, sent with the same filters' }),
});
export type AuditQuery = z.infer<typeof AuditQuerySchema>;

export const AuditExportQuerySchema = AuditQuerySchema.omit({ limit: true, cursor: true });
export type AuditExportQuery = z.infer<typeof AuditExportQuerySchema>;

export const AuditRowViewSchema = z
  .object({
    id: z.string().meta({ description: 'Increases with every row written, across teams' }),
    seq: z.number().int().meta({ description: "The row's number in its team's hash chain, from 1" }),
    at: IsoTime,
    teamId: z.string(),
    actor: z.object({ id: z.string().nullable(), name: z.string() }).meta({ description: 'Who: a user, an agent (`agent:<hostId>`) or `anonymous`' }),
    action: z.string().meta({ example: 'run.start' }),
    target: z.string().nullable().meta({ description: 'The resource acted on', example: 'host:local' }),
    result: z.number().int().meta({ description: 'The HTTP status the call ended with' }),
    sourceIp: z.string().nullable(),
    userAgent: z.string().nullable(),
    requestId: z.string().nullable().meta({ description: "The request's `x-request-id`, to find it in the API's log" }),
    detail: z.record(z.string(), z.unknown()).nullable().meta({ description: 'What else the action recorded; never a secret' }),
    hash: z.string().meta({ description: "sha256 of the row's content and the previous row's hash (hex)" }),
  })
  .meta({ id: 'AuditRowView', description: 'One audit row.' });
export type AuditRowView = z.infer<typeof AuditRowViewSchema>;

export const AuditPageSchema = z
  .object({
    rows: z.array(AuditRowViewSchema),
    nextCursor: z.string().nullable().meta({ description: 'The `cursor` of the next page; `null` on the last page' }),
  })
  .meta({ id: 'AuditPage' });
export type AuditPage = z.infer<typeof AuditPageSchema>;

export const AuditChainReportSchema = z
  .object({
    ok: z.boolean().meta({ description: 'Every row checked holds its content and its place' }),
    teams: z.array(
      z.object({
        teamId: z.string(),
        rows: z.number().int().meta({ description: 'Rows checked' }),
        head: z
          .object({ seq: z.number().int(), hash: z.string() })
          .nullable()
          .meta({ description: 'The last row when the chain holds: kept elsewhere, it also reveals rows removed from the end' }),
        firstBreak: z
          .object({
            kind: z.enum(['changed', 'deleted', 'reordered', 'replaced']),
            rowId: z.string(),
            seq: z.number().int(),
            message: z.string(),
          })
          .nullable()
          .meta({ description: 'The first row whose content or place does not hold; `null` when the chain holds' }),
      }),
    ),
  })
  .meta({ id: 'AuditChainReport' });
export type AuditChainReport = z.infer<typeof AuditChainReportSchema>;
