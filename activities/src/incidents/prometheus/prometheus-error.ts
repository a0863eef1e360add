export type PrometheusErrorReason =
  /** No connection: refused, reset, DNS. */
  | 'unreachable'
  /** No answer within Drydock's deadline (and the second of grace it gives Prometheus to say it gave up). */
  | 'timeout'
  /** Prometheus stopped the query itself: it took longer than the deadline Drydock sent, or Prometheus' --query.timeout. */
  | 'slow'
  /** 400 or 422: Prometheus refused the query (`bad_data`: it does not parse; `execution`: it failed while running). */
  | 'bad_query'
  /** 5xx (other than its own timeout), or Prometheus answered `canceled` or `internal`. */
  | 'unavailable'
  /** 401 or 403 from a proxy in front of Prometheus. */
  | 'bad_credentials'
  /** Something answered, but not Prometheus' HTTP API. */
  | 'wrong_url';

/** A Prometheus query failed; `message` says what to fix. The evidence it was for is marked missing with it. */
export class PrometheusError extends Error {
  readonly reason: PrometheusErrorReason;
  /** Prometheus' own `errorType` (`bad_data`, `execution`, `timeout`, `canceled`, `internal`, `unavailable`), when it gave one. */
  readonly errorType?: string;
  readonly status?: number;
  constructor(reason: PrometheusErrorReason, message: string, extra: { errorType?: string; status?: number } = {}) {
    super(message);
    this.name = 'PrometheusError';
    this.reason = reason;
    if (extra.errorType !== undefined) this.errorType = extra.errorType;
    if (extra.status !== undefined) this.status = extra.status;
  }
}

/** A query template that cannot be filled safely, or a value it cannot take. */
export class QueryTemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QueryTemplateError';
  }
}
