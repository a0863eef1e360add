import type { EvidenceOf, EvidenceSource } from '@drydock/core/incidents';
import { unreachableReason } from '../../cicd/cicd-error.ts';
import { PrometheusError } from './prometheus-error.ts';

// Prometheus' HTTP API (/api/v1/query and /api/v1/query_range), with a deadline. Prometheus is told the deadline as
// its `timeout` parameter, so a query too expensive to finish in time is stopped there and reported as `slow`; Drydock
// waits one second more for that answer before it gives up on its own (`timeout`).

export interface PrometheusSample {
  /** Unix milliseconds. */
  at: number;
  /** NaN and ±Infinity as Prometheus gives them. */
  value: number;
  /** The value as Prometheus wrote it. */
  raw: string;
}

export interface PrometheusSeries {
  labels: Record<string, string>;
  samples: PrometheusSample[];
}

export interface PrometheusResult {
  resultType: 'matrix' | 'vector' | 'scalar' | 'string';
  /** Every result as series: a scalar or a string is one series without labels. */
  series: PrometheusSeries[];
  warnings: string[];
}

export interface PrometheusClientOptions {
  /** Prometheus' base URL, e.g. `http://prometheus:9090` (a path prefix such as `/prometheus` is kept). */
  url: string;
  /** The deadline of a query unless the call gives one; 10 seconds. */
  deadlineMs?: number;
  /** Headers for a proxy in front of Prometheus (an Authorization header); never put in a message. */
  headers?: Record<string, string>;
  fetch?: typeof fetch;
}

export interface QueryOptions {
  deadlineMs?: number;
}

export interface PrometheusClient {
  readonly url: string;
  /** An instant query at `at` (now unless given). */
  query(expr: string, options?: QueryOptions & { at?: Date }): Promise<PrometheusResult>;
  /** A range query from `start` to `end`, one point every `stepSeconds`. */
  queryRange(expr: string, range: { start: Date; end: Date; stepSeconds: number }, options?: QueryOptions): Promise<PrometheusResult>;
}

/** How long Drydock waits past the deadline for Prometheus to say it stopped the query. */
const GRACE_MS = 1_000;

const seconds = (d: Date) => (d.getTime() / 1000).toString();

function sample(pair: unknown): PrometheusSample {
  if (!Array.isArray(pair) || typeof pair[0] !== 'number' || typeof pair[1] !== 'string') throw new TypeError('a sample is [time, "value"]');
  return { at: Math.round(pair[0] * 1000), value: Number(pair[1] === '+Inf' ? Infinity : pair[1] === '-Inf' ? -Infinity : pair[1]), raw: pair[1] };
}

function toSeries(data: { resultType?: unknown; result?: unknown }): PrometheusResult['series'] {
  const { resultType, result } = data;
  if (resultType === 'scalar' || resultType === 'string') return [{ labels: {}, samples: [sample(result)] }];
  if (!Array.isArray(result)) throw new TypeError('result is not a list');
  return result.map((r: { metric?: Record<string, string>; value?: unknown; values?: unknown[] }) => ({
    labels: r.metric ?? {},
    samples: resultType === 'matrix' ? (r.values ?? []).map(sample) : [sample(r.value)],
  }));
}

export function createPrometheusClient(options: PrometheusClientOptions): PrometheusClient {
  const base = options.url.replace(/\/+$/, '');
  const doFetch = options.fetch ?? fetch;

  async function call(path: string, params: Record<string, string>, expr: string, deadlineMs: number): Promise<PrometheusResult> {
    const body = new URLSearchParams({ ...params, query: expr, timeout: (deadlineMs / 1000).toString() });
    let res: Response;
    let text: string;
    const signal = AbortSignal.timeout(Math.ceil(deadlineMs + GRACE_MS));
    try {
      res = await doFetch(`${base}${path}`, {
        method: 'POST',
        headers: { ...options.headers, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body,
        signal,
        redirect: 'error',
      });
      text = await res.text();
    } catch (err) {
      if (signal.aborted) throw new PrometheusError('timeout', `Prometheus at ${base} gave no answer within ${deadlineMs / 1000} s; it may be overloaded or the network slow`);
      throw new PrometheusError('unreachable', `Prometheus at ${base} is unreachable: ${unreachableReason(err)}; check DRYDOCK_PROMETHEUS_URL`);
    }
    let json: { status?: unknown; data?: { resultType?: unknown; result?: unknown }; errorType?: unknown; error?: unknown; warnings?: unknown } | undefined;
    try {
      json = JSON.parse(text) as typeof json;
    } catch {
      json = undefined;
    }
    if (!json || (json.status !== 'success' && json.status !== 'error')) {
      if (res.status === 401 || res.status === 403) throw new PrometheusError('bad_credentials', `Prometheus at ${base} refused Drydock's credentials (HTTP ${res.status})`, { status: res.status });
      if (res.status >= 500) throw new PrometheusError('unavailable', `Prometheus at ${base} is unavailable (HTTP ${res.status})`, { status: res.status });
      throw new PrometheusError('wrong_url', `${base} answered HTTP ${res.status} but not as Prometheus' HTTP API does; check DRYDOCK_PROMETHEUS_URL`, { status: res.status });
    }
    if (json.status === 'error') {
      const errorType = typeof json.errorType === 'string' ? json.errorType : 'unknown';
      const said = typeof json.error === 'string' ? json.error.slice(0, 500) : 'no reason given';
      const extra = { errorType, status: res.status };
      if (errorType === 'timeout') throw new PrometheusError('slow', `Prometheus stopped the query after ${deadlineMs / 1000} s or its own --query.timeout (${said}); narrow the range or the series it selects`, extra);
      if (errorType === 'bad_data' || errorType === 'execution' || res.status === 400 || res.status === 422) {
        throw new PrometheusError('bad_query', `Prometheus refused the query (${errorType}): ${said}`, extra);
      }
      throw new PrometheusError('unavailable', `Prometheus could not answer (${errorType}): ${said}`, extra);
    }
    try {
      return {
        resultType: json.data?.resultType as PrometheusResult['resultType'],
        series: toSeries(json.data ?? {}),
        warnings: Array.isArray(json.warnings) ? json.warnings.map(String) : [],
      };
    } catch (err) {
      throw new PrometheusError('wrong_url', `${base} answered a result Drydock cannot read (${(err as Error).message}); check DRYDOCK_PROMETHEUS_URL`);
    }
  }

  return {
    url: base,
    query: (expr, opts = {}) => call('/api/v1/query', opts.at ? { time: seconds(opts.at) } : {}, expr, opts.deadlineMs ?? options.deadlineMs ?? 10_000),
    queryRange: (expr, range, opts = {}) =>
      call('/api/v1/query_range', { start: seconds(range.start), end: seconds(range.end), step: range.stepSeconds.toString() }, expr, opts.deadlineMs ?? options.deadlineMs ?? 10_000),
  };
}

export interface SeriesEvidenceInput {
  id: string;
  query: string;
  measure?: EvidenceOf<'prometheus_series'>['measure'];
  start: Date;
  end: Date;
  collectedAt: Date;
  /** Where a person can see the query in Prometheus' UI. */
  url?: string;
}

const MAX_SERIES = 200;
const MAX_SAMPLES = 2_000;

/** A range query's answer as evidence; at most 200 series of the last 2,000 samples each, values as Prometheus wrote them. */
export function seriesEvidence(input: SeriesEvidenceInput, result: PrometheusResult | PrometheusError): EvidenceOf<'prometheus_series'> {
  const source: EvidenceSource = { system: 'prometheus', ref: input.query.slice(0, 2_000), ...(input.url ? { url: input.url } : {}) };
  const base = {
    id: input.id,
    kind: 'prometheus_series' as const,
    source,
    collectedAt: input.collectedAt.toISOString(),
    query: input.query.slice(0, 4_000),
    measure: input.measure ?? 'other',
    start: input.start.toISOString(),
    end: input.end.toISOString(),
  };
  if (result instanceof PrometheusError) return { ...base, series: [], missing: { reason: result.reason, message: result.message.slice(0, 1_000) } };
  return {
    ...base,
    series: result.series.slice(0, MAX_SERIES).map((s) => ({
      labels: Object.fromEntries(Object.entries(s.labels).map(([k, v]) => [k.slice(0, 256), v.slice(0, 2_000)])),
      samples: s.samples.slice(-MAX_SAMPLES).map((p) => [p.at, p.raw.slice(0, 64)] as [number, string]),
    })),
  };
}

/** A link to the query in Prometheus' graph page. */
export function graphUrl(prometheusUrl: string, query: string): string {
  return `${prometheusUrl.replace(/\/+$/, '')}/graph?${new URLSearchParams({ 'g0.expr': query, 'g0.tab': '0' }).toString()}`;
}
