import { type AuditChainReport, type AuditPage, AuditQuerySchema } from '@drydock/core/api-schemas';
import { data } from 'react-router';
import { api, result } from '../lib/api.server.ts';
import { localInputToIso } from '../lib/format.ts';

export const AUDIT_FILTERS = ['actor', 'action', 'target', 'from', 'to'] as const;
export type AuditFilters = Record<(typeof AUDIT_FILTERS)[number], string>;

export interface AuditTrail extends AuditPage {
  filters: AuditFilters;
  cursor: string | null;
  /** The same filters as the API's export routes take them, for the download links. */
  exportQuery: string;
  problem: string | null;
  /** Present when the page was asked to check the chain (`?verify=1`). */
  chain: AuditChainReport | null;
}

/** Reads the filters from the page URL, checks them with the API's own schema, and fetches one page of rows. */
export async function loadAuditTrail(request: Request): Promise<AuditTrail> {
  const url = new URL(request.url);
  const filters = Object.fromEntries(AUDIT_FILTERS.map((k) => [k, url.searchParams.get(k)?.trim() ?? ''])) as AuditFilters;
  const cursor = url.searchParams.get('cursor') || null;
  const problems: string[] = [];
  const query: Record<string, string> = {};
  for (const key of ['actor', 'action', 'target'] as const) if (filters[key]) query[key] = filters[key];
  for (const key of ['from', 'to'] as const) {
    if (!filters[key]) continue;
    const iso = localInputToIso(filters[key]);
    if (iso) query[key] = iso;
    else problems.push(`“${filters[key]}” is not a date and time`);
  }
  const exportQuery = new URLSearchParams(query).toString();
  if (cursor) query.cursor = cursor;
  const parsed = AuditQuerySchema.safeParse(query);
  const empty = { rows: [], nextCursor: null, chain: null };
  if (!parsed.success || problems.length > 0) {
    const issues = parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`);
    return { filters, cursor, exportQuery, ...empty, problem: [...problems, ...issues].join('; ') };
  }
  const client = api(request);
  const [page, chain] = await Promise.all([
    result(client.audit.$get({ query: parsed.data })),
    url.searchParams.get('verify') === '1' ? result(client.audit.verify.$get()) : null,
  ]);
  if (!page.ok) {
    if (page.status === 400) return { filters, cursor, exportQuery, ...empty, problem: page.error.message };
    throw data(page.error, { status: page.status });
  }
  return { filters, cursor, exportQuery, ...page.body, chain: chain?.ok ? chain.body : null, problem: null };
}
