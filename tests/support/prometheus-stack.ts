import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@drydock/core';

// A real Prometheus and a real Alertmanager (Debian's `prometheus` and `prometheus-alertmanager`), each on a free port
// of 127.0.0.1 with its own temporary directory, started by a test file once and stopped with it. setpriv's
// --pdeathsig kills them if the test process dies first, so no run leaves one behind. A test exporter serves the
// series the test sets, in the text exposition format, for Prometheus to scrape.

export const PROMETHEUS_BIN = '/usr/bin/prometheus';
export const ALERTMANAGER_BIN = '/usr/bin/prometheus-alertmanager';

export interface TestExporter {
  /** `http://127.0.0.1:<port>`; Prometheus scrapes `/metrics`. */
  url: string;
  /** The host:port Prometheus' static config names. */
  target: string;
  /** Sets a gauge's value for one label set (label values are escaped as the exposition format says). */
  set(metric: string, labels: Record<string, string>, value: number): void;
  remove(metric: string, labels: Record<string, string>): void;
  close(): Promise<void>;
}

const escapeLabelValue = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

export async function startTestExporter(): Promise<TestExporter> {
  const gauges = new Map<string, Map<string, number>>();
  const labelText = (labels: Record<string, string>) =>
    Object.keys(labels).length === 0
      ? ''
      : `{${Object.entries(labels)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([k, v]) => `${k}="${escapeLabelValue(v)}"`)
          .join(',')}}`;
  const server: Server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    const lines: string[] = [];
    for (const [metric, series] of gauges) {
      lines.push(`# HELP ${metric} A gauge the test sets.`, `# TYPE ${metric} gauge`);
      for (const [labels, value] of series) lines.push(`${metric}${labels} ${value}`);
    }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
    res.end(`${lines.join('\n')}\n`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    target: `127.0.0.1:${port}`,
    set: (metric, labels, value) => {
      if (!gauges.has(metric)) gauges.set(metric, new Map());
      gauges.get(metric)!.set(labelText(labels), value);
    },
    remove: (metric, labels) => void gauges.get(metric)?.delete(labelText(labels)),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

interface RunningProcess {
  url: string;
  dir: string;
  child: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
}

async function startDaemon(name: string, bin: string, args: (port: number, dir: string) => string[], files: (dir: string) => Promise<void>): Promise<RunningProcess> {
  const dir = await mkdtemp(join(tmpdir(), `drydock-${name}-`));
  await files(dir);
  const port = await freePort();
  const child = spawn('setpriv', ['--pdeathsig', 'SIGKILL', '--', bin, ...args(port, dir)], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(killer);
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`${name} exited with ${child.exitCode} before it was ready:\n${output}`);
    }
    try {
      const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      if (res.ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${name} was not ready within 60 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { url, dir, child, output: () => output, stop };
}

export interface PrometheusOptions {
  /** host:port targets scraped as job `exporter`. */
  targets: string[];
  /** A rules file (YAML), evaluated every `evaluationSeconds`. */
  rules?: string;
  alertmanagerUrl?: string;
  scrapeSeconds?: number;
  evaluationSeconds?: number;
  /** Prometheus' own limit for one query (--query.timeout). */
  queryTimeout?: string;
}

export type PrometheusProcess = RunningProcess;

export function startPrometheus(options: PrometheusOptions): Promise<PrometheusProcess> {
  const scrape = `${options.scrapeSeconds ?? 1}s`;
  const evaluation = `${options.evaluationSeconds ?? 1}s`;
  const config = [
    'global:',
    `  scrape_interval: ${scrape}`,
    `  evaluation_interval: ${evaluation}`,
    ...(options.rules ? ['rule_files: [rules.yml]'] : []),
    ...(options.alertmanagerUrl ? ['alerting:', '  alertmanagers:', '    - static_configs:', `        - targets: ['${new URL(options.alertmanagerUrl).host}']`] : []),
    'scrape_configs:',
    '  - job_name: exporter',
    `    static_configs: [{ targets: [${options.targets.map((t) => `'${t}'`).join(', ')}] }]`,
    '',
  ].join('\n');
  return startDaemon(
    'prometheus',
    PROMETHEUS_BIN,
    (port, dir) => [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--query.timeout=${options.queryTimeout ?? '2m'}`,
      '--log.level=warn',
    ],
    async (dir) => {
      await writeFile(join(dir, 'prometheus.yml'), config);
      if (options.rules) await writeFile(join(dir, 'rules.yml'), options.rules);
    },
  );
}

export interface AlertmanagerOptions {
  /** Where the webhook receiver posts. */
  receiverUrl: string;
  groupBy?: string[];
  groupWait?: string;
  groupInterval?: string;
  /** Sent as `Authorization: Bearer <token>` with every notification (http_config.authorization). */
  bearerToken?: string;
}

export type AlertmanagerProcess = RunningProcess;

export function startAlertmanager(options: AlertmanagerOptions): Promise<AlertmanagerProcess> {
  const config = [
    'route:',
    '  receiver: drydock',
    `  group_by: [${(options.groupBy ?? ['alertname']).map((l) => `'${l}'`).join(', ')}]`,
    `  group_wait: ${options.groupWait ?? '1s'}`,
    `  group_interval: ${options.groupInterval ?? '1s'}`,
    '  repeat_interval: 1h',
    'receivers:',
    '  - name: drydock',
    '    webhook_configs:',
    `      - url: '${options.receiverUrl}'`,
    '        send_resolved: true',
    ...(options.bearerToken ? ['        http_config:', '          authorization:', '            type: Bearer', `            credentials: '${options.bearerToken}'`] : []),
    '',
  ].join('\n');
  return startDaemon(
    'alertmanager',
    ALERTMANAGER_BIN,
    (port, dir) => [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--web.external-url=http://127.0.0.1:${port}`,
      // No gossip: one instance, and no port of its own to collide with another test's.
      '--cluster.listen-address=',
      '--log.level=warn',
    ],
    (dir) => writeFile(join(dir, 'alertmanager.yml'), config),
  );
}

/** Resolves once `expr` has at least `count` series: Prometheus' scrape manager starts its targets seconds after start-up. */
export async function untilScraped(prometheusUrl: string, expr: string, count = 1, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${prometheusUrl}/api/v1/query?${new URLSearchParams({ query: expr })}`);
    const body = (await res.json()) as { data?: { result?: unknown[] } };
    if ((body.data?.result?.length ?? 0) >= count) return;
    if (Date.now() > deadline) throw new Error(`Prometheus had fewer than ${count} series of ${expr} after ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
