export { receiveAlertmanagerWebhook, type AlertmanagerReceipt, type WebhookHeaders } from './alertmanager/alertmanager-webhook.ts';
export { createPagerdutyClient, type PagerdutyClient, type PagerdutyClientOptions, type PagerdutyConnection, type PagerdutyNote } from './pagerduty/pagerduty-client.ts';
export { PagerdutyError, type PagerdutyErrorReason } from './pagerduty/pagerduty-error.ts';
export { drydockStatusOf, pagerdutyUpdateFor, PAGERDUTY_STATUSES, type DrydockIncidentStatus, type PagerdutyIncident, type PagerdutyStatus } from './pagerduty/pagerduty-incident.ts';
export {
  parsePagerdutyEvent,
  receivePagerdutyWebhook,
  verifyPagerdutySignature,
  PAGERDUTY_STATUS_EVENTS,
  type PagerdutyAgent,
  type PagerdutyReceipt,
  type PagerdutyStatusEvent,
  type PagerdutyWebhookEvent,
} from './pagerduty/pagerduty-webhook.ts';
export {
  createPrometheusClient,
  graphUrl,
  seriesEvidence,
  type PrometheusClient,
  type PrometheusClientOptions,
  type PrometheusResult,
  type PrometheusSample,
  type PrometheusSeries,
  type QueryOptions,
  type SeriesEvidenceInput,
} from './prometheus/prometheus-client.ts';
export { PrometheusError, QueryTemplateError, type PrometheusErrorReason } from './prometheus/prometheus-error.ts';
export {
  checkQueryTemplate,
  fillQueryTemplate,
  templatesFor,
  QUERY_PLACEHOLDERS,
  QueryTemplateSchema,
  ServiceQueryTemplatesSchema,
  type QueryPlaceholder,
  type QueryTemplate,
  type QueryValues,
  type ServiceQueryTemplates,
} from './prometheus/promql-template.ts';
export { createAnthropicClient, proposeHypotheses, type ProposeHypothesesInput } from './llm/propose-hypotheses.ts';
export { catalogDocument, evidenceDocument, SYSTEM_PROMPT } from './llm/hypothesis-prompt.ts';
