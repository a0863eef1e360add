import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '@drydock/core';
import type { LogBatchBody } from '@drydock/core/api-schemas';
import { describe, expect, test as baseTest, vi } from 'vitest';
import { type LogLine, RunLogStream } from './log-shipper.ts';

interface Recorded {
  method: string;
  path: string;
  authorization: string | undefined;
  contentType: string | undefined;
  body: LogBatchBody;
  status: number;
}

/** A stand-in for the API's log endpoint that records every request and answers what the test decides. */
interface FakeApi {
  url: string;
  requests: Recorded[];
  /** Status for the n-th request (0-based); 204 unless the test says otherwise. */
  respond: (n: number) => number | Promise<number>;
  start(port?: number): Promise<string>;
  accepted(): number[];
}

const test = baseTest
  .extend('spool', async ({}, { onCleanup }) => {
    const dir = await mkdtemp(join(tmpdir(), 'drydock-spool-'));
    onCleanup(() => rm(dir, { recursive: true, force: true }));
    return { dir, file: join(dir, 'lines.jsonl'), at: (delivered = 0) => ({ lines: join(dir, 'lines.jsonl'), delivered }) };
  })
  .extend('api', async ({}, { onCleanup }): Promise<FakeApi> => {
  const api: FakeApi = {
    url: '',
    requests: [],
    respond: () => 204,
    accepted: () => api.requests.filter((r) => r.status < 300).flatMap((r) => r.body.lines.map((l) => l.seq)),
    async start(port = 0) {
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
      api.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      return api.url;
    },
  };
  const server = createServer(async (req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const n = api.requests.length;
    const record: Recorded = {
      method: req.method ?? '',
      path: req.url ?? '',
      authorization: req.headers.authorization,
      contentType: req.headers['content-type'],
      body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as LogBatchBody,
      status: 0,
    };
    api.requests.push(record);
    record.status = await api.respond(n);
    res.writeHead(record.status).end();
  });
  onCleanup(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return api;
});

function lines(count: number, from = 0): LogLine[] {
  return Array.from({ length: count }, (_, i) => ({
    seq: from + i,
    stream: i % 3 === 2 ? 'stderr' : 'stdout',
    ts: new Date(Date.UTC(2025, 0, 1, 12, 0, 0, from + i)).toISOString(),
    line: `line ${from + i}`,
  }));
}

const seqs = (count: number) => Array.from({ length: count }, (_, i) => i);

describe('RunLogStream', () => {
  test('delivers lines in order, in batches, to the run’s endpoint with the agent token', async ({ api, spool }) => {
    const stream = new RunLogStream({ apiUrl: await api.start(), token: 'dda_agent_token', maxBatch: 100 }, 'run-42', 2, spool.at());
    const sent = lines(250);
    for (const line of sent) stream.push(line);
    await stream.close();

    expect(api.requests.map((r) => r.body.lines.length)).toEqual([100, 100, 50]);
    for (const r of api.requests) {
      expect(r).toMatchObject({
        method: 'POST',
        path: '/api/v1/agent/runs/run-42/logs',
        authorization: 'Bearer dda_agent_token',
        contentType: 'application/json',
      });
      expect(r.body.attempt).toBe(2);
    }
    expect(api.requests.flatMap((r) => r.body.lines)).toEqual(sent);
  });

  test('sends lines while the script is still running, without waiting for close', async ({ api, spool }) => {
    const stream = new RunLogStream({ apiUrl: await api.start(), token: 't', flushIntervalMs: 20 }, 'run-1', 1, spool.at());
    for (const line of lines(3)) stream.push(line);
    await vi.waitFor(() => expect(api.accepted()).toEqual([0, 1, 2]));
    for (const line of lines(2, 3)) stream.push(line);
    await vi.waitFor(() => expect(api.accepted()).toEqual([0, 1, 2, 3, 4]));
    await stream.close();
    expect(api.accepted()).toEqual([0, 1, 2, 3, 4]);
  });

  test('keeps retrying while the API answers 503, then delivers every line once, in order', async ({ api, spool }) => {
    api.respond = (n) => (n < 3 ? 503 : 204);
    const stream = new RunLogStream({ apiUrl: await api.start(), token: 't', maxBatch: 4, flushIntervalMs: 10 }, 'run-1', 1, spool.at());
    for (const line of lines(10)) stream.push(line);
    await stream.close();

    expect(api.requests.slice(0, 3).map((r) => r.status)).toEqual([503, 503, 503]);
    expect(api.accepted()).toEqual(seqs(10));
  });

  test('waits for an API that is not listening yet', async ({ api, spool }) => {
    const port = await freePort();
    const stream = new RunLogStream({ apiUrl: `http://127.0.0.1:${port}`, token: 't', flushIntervalMs: 10 }, 'run-1', 1, spool.at());
    for (const line of lines(5)) stream.push(line);
    await sleep(300);
    expect(api.requests).toEqual([]);

    await api.start(port);
    for (const line of lines(5, 5)) stream.push(line);
    await stream.close();
    expect(api.accepted()).toEqual(seqs(10));
  });

  test('close() resolves only once the API has taken every line', async ({ api, spool }) => {
    api.respond = async () => {
      await sleep(100);
      return 204;
    };
    const stream = new RunLogStream({ apiUrl: await api.start(), token: 't', maxBatch: 3 }, 'run-1', 1, spool.at());
    for (const line of lines(7)) stream.push(line);
    await stream.close();
    expect(api.accepted()).toEqual(seqs(7));
  });

  test('drops a batch the API refuses with 400, says so, and goes on with the next', async ({ api, spool }) => {
    api.respond = (n) => (n === 0 ? 400 : 204);
    const log = vi.fn();
    const stream = new RunLogStream({ apiUrl: await api.start(), token: 't', maxBatch: 2, log }, 'run-1', 1, spool.at());
    for (const line of lines(6)) stream.push(line);
    await stream.close();

    expect(api.requests.map((r) => r.body.lines.map((l) => l.seq))).toEqual([
      [0, 1],
      [2, 3],
      [4, 5],
    ]);
    expect(api.accepted()).toEqual([2, 3, 4, 5]);
    expect(log).toHaveBeenCalledWith(expect.stringContaining('refused 2 log lines of run run-1 (HTTP 400)'));
  });

  test('on a 401 tells the agent which token was refused, and sends later batches with the current token', async ({ api, spool }) => {
    let token = 'dda_old';
    const refused: string[] = [];
    api.respond = (n) => (n === 0 ? 401 : 204);
    const stream = new RunLogStream(
      {
        apiUrl: await api.start(),
        token: () => token,
        flushIntervalMs: 10,
        onUnauthorized: (t) => {
          refused.push(t);
          token = 'dda_rotated';
        },
      },
      'run-1',
      1,
      spool.at(),
    );
    for (const line of lines(3)) stream.push(line);
    await stream.close();
    expect(refused).toEqual(['dda_old']);
    expect(api.requests.map((r) => [r.authorization, r.status])).toEqual([
      ['Bearer dda_old', 401],
      ['Bearer dda_rotated', 204],
    ]);
    expect(api.accepted()).toEqual([0, 1, 2]);
  });

  test('once the agent knows its token is revoked, close() gives up at once, saying why and where the lines stay', async ({ api, spool }) => {
    const revoked = new AbortController();
    api.respond = () => 401;
    const stream = new RunLogStream(
      { apiUrl: await api.start(), token: 'dda_revoked', flushIntervalMs: 10, onUnauthorized: () => revoked.abort(), stop: revoked.signal },
      'run-1',
      1,
      spool.at(),
    );
    for (const line of lines(4)) stream.push(line);
    await expect(stream.close()).rejects.toThrow(`4 log lines of run run-1 could not be delivered: the API no longer accepts this agent's token; they stay in ${spool.file}`);
    expect(api.requests).toHaveLength(1);
  });

  test('while the API is away every line waits on disk, and close() waits for it however long it takes', async ({ api, spool }) => {
    let away = true;
    api.respond = () => (away ? 503 : 204);
    const outage: string[] = [];
    const link = { unreachable: (why: string) => void outage.push(`down: ${why}`), reached: () => void outage.push('up') };
    const stream = new RunLogStream({ apiUrl: await api.start(), token: 't', flushIntervalMs: 10, link }, 'run-1', 1, spool.at());
    for (const line of lines(5)) stream.push(line);
    let closed = false;
    const closing = stream.close().then(() => (closed = true));
    await vi.waitFor(() => expect(api.requests.length).toBeGreaterThan(3), { timeout: 10_000 });
    expect(closed).toBe(false);
    const onDisk = (await readFile(spool.file, 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l) as LogLine);
    expect(onDisk).toEqual(lines(5));
    away = false;
    await closing;
    expect(api.accepted()).toEqual(seqs(5));
    expect(outage[0]).toBe('down: HTTP 503 from the log endpoint');
    expect(outage.at(-1)).toBe('up');
  });

  test('a later stream on the same file sends only what was not delivered, then what it adds', async ({ api, spool }) => {
    // What a process that died left: six lines on disk, the first three of them stored by the API.
    const text = lines(6).map((l) => `${JSON.stringify(l)}\n`);
    await writeFile(spool.file, text.join(''));
    const delivered = text.slice(0, 3).join('').length;

    const next = new RunLogStream({ apiUrl: await api.start(), token: 't', flushIntervalMs: 10 }, 'run-1', 1, {
      ...spool.at(delivered),
      written: text.join('').length,
      unsent: 3,
    });
    expect(next.pending).toBe(3);
    next.push({ seq: 6, stream: 'system', ts: new Date().toISOString(), line: 'added by the next process' });
    await next.close();
    expect(api.accepted()).toEqual([3, 4, 5, 6]);
    expect(next.pending).toBe(0);
  });
});
