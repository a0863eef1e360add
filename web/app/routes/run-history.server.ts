import { type RunPage, RunListQuerySchema } from '@drydock/core/api-schemas';
import { data } from 'react-router';
import { api, result } from '../lib/api.server.ts';
import { localInputToIso } from '../lib/format.ts';

export const FILTER_KEYS = ['script', 'host', 'status', 'initiator', 'from', 'to'] as const;
export type Filters = Record<(typeof FILTER_KEYS)[number], string>;

export interface RunHistory extends RunPage {
  filters: Filters;
  sort: 'created_at' | 'duration_ms';
  order: 'asc' | 'desc';
  cursor: string | null;
  problem: string | null;
  suggestions: { scripts: { id: string; name: string }[]; hosts: string[] };
}

async function suggestions(request: Request): Promise<RunHistory['suggestions']> {
  const client = api(request);
  const [scripts, hosts] = await Promise.all([result(client.scripts.$get({ query: {} })), result(client.hosts.$get({ query: {} }))]);
  return {
    scripts: scripts.ok ? scripts.body.scripts.map((s) => ({ id: s.id, name: s.name })) : [],
    hosts: hosts.ok ? hosts.body.hosts.map((h) => h.id) : [],
  };
}

/** Reads the history filters from the page URL, checks them with the API's own query schema, and fetches one page. */
export async function loadRunHistory(request: Request): Promise<RunHistory> {
  const url = new URL(request.url);
  const filters = Object.fromEntries(FILTER_KEYS.map((k) => [k, url.searchParams.get(k)?.trim() ?? ''])) as Filters;
  const cursor = url.searchParams.get('cursor') || null;

  const problems: string[] = [];
  const query: Record<string, string> = {};
  for (const key of ['script', 'host', 'status', 'initiator'] as const) if (filters[key]) query[key] = filters[key];
  for (const key of ['from', 'to'] as const) {
    if (!filters[key]) continue;
    const iso = localInputToIso(filters[key]);
    if (iso) query[key] = iso;
    else problems.push(`“${filters[key]}” is not a date and time`);
  }
  for (const key of ['sort', 'order'] as const) {
    const value = url.searchParams.get(key);
    if (value) query[key] = value;
  }
  if (cursor) query.cursor = cursor;

  const parsed = RunListQuerySchema.safeParse(query);
  const sort = parsed.success ? parsed.data.sort : 'created_at';
  const order = parsed.success ? parsed.data.order : 'desc';
  const empty: RunPage = { runs: [], nextCursor: null, total: 0 };
  const hints = suggestions(request);

  if (!parsed.success || problems.length > 0) {
    const issues = parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`);
    return { filters, sort, order, cursor, suggestions: await hints, ...empty, problem: [...problems, ...issues].join('; ') };
  }

  const [page, suggested] = await Promise.all([result(api(request).runs.$get({ query: parsed.data })), hints]);
  const base = { filters, sort, order, cursor, suggestions: suggested };
  if (page.ok) return { ...base, ...page.body, problem: null };
  if (page.status === 400) return { ...base, ...empty, problem: page.error.message };
  throw data(page.error, { status: page.status });
}
