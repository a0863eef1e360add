import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EvidenceSchema, proposeFromRules } from '@drydock/core/incidents';
import { startPrometheus, startTestExporter, untilScraped, type PrometheusProcess, type TestExporter } from '../../../../tests/support/prometheus-stack.ts';
import { createPrometheusClient, graphUrl, seriesEvidence, type PrometheusClient } from './prometheus-client.ts';
import { PrometheusError, QueryTemplateError } from './prometheus-error.ts';
import { checkQueryTemplate, fillQueryTemplate, ServiceQueryTemplatesSchema, templatesFor } from './promql-template.ts';

// Against a real Prometheus (Debian's package) scraping a test exporter every second.

const HOSTILE = 'nobody"} or vector(1) or drydock_test_disk_used_percent{host="';

let exporter: TestExporter;
let prometheus: PrometheusProcess;
let client: PrometheusClient;

async function failure(promise: Promise<unknown>): Promise<PrometheusError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof PrometheusError) return err;
    throw err;
  }
  throw new Error('expected a PrometheusError');
}

beforeAll(async () => {
  exporter = await startTestExporter();
  exporter.set('drydock_test_disk_used_percent', { host: 'web-1', mountpoint: '/data' }, 97.5);
  exporter.set('drydock_test_disk_used_percent', { host: 'web-2', mountpoint: '/' }, 40);
  // A series whose label holds the hostile value itself: a safe query still finds exactly it.
  exporter.set('drydock_test_disk_used_percent', { host: HOSTILE, mountpoint: '/' }, 1);
  exporter.set('drydock_test_disk_used_percent', { host: 'web.1', mountpoint: '/' }, 2);
  prometheus = await startPrometheus({ targets: [exporter.target] });
  client = createPrometheusClient({ url: prometheus.url, deadlineMs: 10_000 });
  await untilScraped(prometheus.url, 'drydock_test_disk_used_percent', 4);
});

afterAll(async () => {
  await prometheus?.stop();
  await exporter?.close();
});

describe('the Prometheus client against a real Prometheus', () => {
  it('answers instant and range queries as series with their labels and samples', async () => {
    const instant = await client.query('drydock_test_disk_used_percent{host="web-1"}');
    expect(instant.resultType).toBe('vector');
    expect(instant.series).toEqual([
      { labels: { __name__: 'drydock_test_disk_used_percent', host: 'web-1', instance: exporter.target, job: 'exporter', mountpoint: '/data' }, samples: [{ at: expect.any(Number), value: 97.5, raw: '97.5' }] },
    ]);

    const end = new Date();
    await expect
      .poll(async () => (await client.queryRange('drydock_test_disk_used_percent{host="web-2"}', { start: new Date(end.getTime() - 60_000), end: new Date(), stepSeconds: 1 })).series[0]?.samples.length ?? 0, { timeout: 20_000 })
      .toBeGreaterThanOrEqual(3);
    const range = await client.queryRange('drydock_test_disk_used_percent{host="web-2"}', { start: new Date(end.getTime() - 60_000), end: new Date(), stepSeconds: 1 });
    expect(range.resultType).toBe('matrix');
    const samples = range.series[0]!.samples;
    expect(samples.every((s) => s.value === 40)).toBe(true);
    expect(samples[1]!.at - samples[0]!.at).toBe(1_000);

    const scalar = await client.query('1/0');
    expect(scalar).toMatchObject({ resultType: 'scalar', series: [{ labels: {}, samples: [{ value: Infinity, raw: '+Inf' }] }] });
  });

  it('says why Prometheus refused a query, in its own words', async () => {
    const parse = await failure(client.query('sum(drydock_test_disk_used_percent'));
    expect(parse).toMatchObject({ reason: 'bad_query', errorType: 'bad_data', status: 400 });
    expect(parse.message).toMatch(/^Prometheus refused the query \(bad_data\): invalid parameter "query": 1:\d+: parse error: unclosed left parenthesis/);

    const tooFine = await failure(client.queryRange('up', { start: new Date(0), end: new Date(), stepSeconds: 1 }));
    expect(tooFine).toMatchObject({ reason: 'bad_query', errorType: 'bad_data' });
    expect(tooFine.message).toContain('exceeded maximum resolution of 11,000 points per timeseries');
  });

  it('tells a query Prometheus stopped (slow) from one nobody answered (timeout)', async () => {
    // Prometheus is sent the deadline as its timeout: one that has passed before the query starts is stopped there.
    const slow = await failure(client.query('drydock_test_disk_used_percent', { deadlineMs: 0.000_001 }));
    expect(slow).toMatchObject({ reason: 'slow', errorType: 'timeout', status: 503 });
    expect(slow.message).toContain('query timed out');

    const hanging: ServerResponse[] = [];
    const silent: Server = createServer((_req, res) => void hanging.push(res));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
      const timeout = await failure(createPrometheusClient({ url }).query('up', { deadlineMs: 200 }));
      expect(timeout.reason).toBe('timeout');
      expect(timeout.message).toBe(`Prometheus at ${url} gave no answer within 0.2 s; it may be overloaded or the network slow`);
    } finally {
      for (const res of hanging) res.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('tells an unreachable Prometheus from a URL that is not Prometheus', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const down = await failure(createPrometheusClient({ url: `http://127.0.0.1:${port}` }).query('up'));
    expect(down).toMatchObject({ reason: 'unreachable', message: `Prometheus at http://127.0.0.1:${port} is unreachable: connection refused; check DRYDOCK_PROMETHEUS_URL` });

    const exporterInstead = await failure(createPrometheusClient({ url: exporter.url }).query('up'));
    expect(exporterInstead).toMatchObject({ reason: 'wrong_url', status: 404 });
  });

  it('fills query templates so that a hostile host cannot change the query', async () => {
    const template = 'drydock_test_disk_used_percent{host="{{host}}"}';
    const hostile = fillQueryTemplate(template, { host: HOSTILE });
    const result = await client.query(hostile);
    // Exactly the one series whose label is that text: not vector(1), not every host.
    expect(result.series.map((s) => s.labels['host'])).toEqual([HOSTILE]);

    const regex = "drydock_test_disk_used_percent{host=~'{{host}}'}";
    expect((await client.query(fillQueryTemplate(regex, { host: 'web.1' }))).series.map((s) => s.labels['host'])).toEqual(['web.1']);
    expect((await client.query(fillQueryTemplate(regex, { host: '.*' }))).series).toEqual([]);

    for (const value of ['\\', "it's", 'new\nline', '\u0000\u007f', 'web-1"}[5m]']) {
      const filled = fillQueryTemplate(template, { host: value });
      const answer = await client.query(filled);
      expect(answer.resultType, filled).toBe('vector');
      expect(answer.series, filled).toEqual([]);
    }
  });

  it('turns answers into evidence, and a failed query into evidence marked missing', async () => {
    const query = fillQueryTemplate('drydock_test_disk_used_percent{host="{{host}}"}', { host: 'web-1' });
    const end = new Date();
    const start = new Date(end.getTime() - 30_000);
    const result = await client.queryRange(query, { start, end, stepSeconds: 5 });
    const evidence = EvidenceSchema.parse(seriesEvidence({ id: 'prom:disk:web-1', query, measure: 'disk_used_percent', start, end, collectedAt: end, url: graphUrl(prometheus.url, query) }, result));
    expect(evidence).toMatchObject({ kind: 'prometheus_series', source: { system: 'prometheus', url: expect.stringContaining('/graph?g0.expr=') }, series: [{ labels: { host: 'web-1', mountpoint: '/data' } }] });
    const incident = { title: 'Disk', services: [], hosts: ['web-1'], startedAt: end.toISOString() };
    expect(proposeFromRules([evidence], incident).hypotheses.map((h) => h.title)).toEqual(['Disk /data on web-1 is at 98 %']);

    const error = await failure(client.query('sum('));
    const missing = EvidenceSchema.parse(seriesEvidence({ id: 'prom:bad', query: 'sum(', start, end, collectedAt: end }, error));
    expect(missing).toMatchObject({ series: [], missing: { reason: 'bad_query', message: expect.stringContaining('parse error') } });
  });
});

describe('query templates', () => {
  it('names what is wrong with a template that cannot be filled safely', () => {
    expect(checkQueryTemplate('rate(http_requests_total{service="{{service}}", env=~"{{environment}}"}[5m])')).toEqual([]);
    expect(checkQueryTemplate('up{instance={{host}}}')).toEqual(['{{host}} stands outside a string; put it in double quotes, as in instance="{{host}}"']);
    expect(checkQueryTemplate('up{instance=`{{host}}`}')).toEqual(['{{host}} stands in a raw `string`, which cannot escape a value; use double quotes']);
    expect(checkQueryTemplate('up{job="{{team}}"}')).toEqual(['{{team}} is not a placeholder; use {{service}}, {{host}}, {{environment}}']);
    expect(checkQueryTemplate('up{job="{{service}}}')).toEqual(['a string opened with " is never closed']);
    // An escaped quote does not end the string, and a comment is no place for a placeholder to act.
    expect(checkQueryTemplate('up{job="a\\"{{service}}"} # {{host}}')).toEqual([]);
    expect(fillQueryTemplate('up{job="a\\"{{service}}"} # {{host}}', { service: 'x' })).toBe('up{job="a\\"x"} # {{host}}');
    expect(() => fillQueryTemplate('up{job="{{service}}"}', {})).toThrow(new QueryTemplateError('the query template needs {{service}}, and the incident has none'));
    expect(() => fillQueryTemplate('up{job="{{service}}"}', { service: '\ud800' })).toThrow(QueryTemplateError);
  });

  it('checks templates per service when they are saved, and gives a service its own and the shared ones', () => {
    const parsed = ServiceQueryTemplatesSchema.safeParse({ checkout: [{ name: '5xx', query: 'sum(rate(http_requests_total{service={{service}}}[5m]))' }] });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]).toMatchObject({ path: ['checkout', 0, 'query'], message: expect.stringContaining('stands outside a string') });
    const templates = ServiceQueryTemplatesSchema.parse({
      checkout: [{ name: '5xx', query: 'sum(rate(http_requests_total{service="{{service}}",code=~"5.."}[5m]))' }],
      '*': [{ name: 'disk', query: 'drydock_test_disk_used_percent{host="{{host}}"}', measure: 'disk_used_percent' }],
    });
    expect(templatesFor(templates, 'checkout').map((t) => [t.name, t.measure])).toEqual([
      ['5xx', 'other'],
      ['disk', 'disk_used_percent'],
    ]);
    expect(templatesFor(templates, 'search').map((t) => t.name)).toEqual(['disk']);
  });
});
