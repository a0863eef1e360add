import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EnvironmentSnapshot, RunArtifactView } from '@drydock/core/run-contract';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { REGISTRATION_SECRET, startTestStack, type TestStack } from '../support/stack.ts';

const MB = 1024 * 1024;
let stack: TestStack;

beforeAll(async () => {
  // A per-file limit of 3 MB: capture-demo's default 2 MB file passes, a 4 MB one does not.
  stack = await startTestStack({ env: { DRYDOCK_ARTIFACT_MAX_FILE_MB: '3' } });
});
afterAll(async () => {
  await stack?.teardown();
});

async function artifactsOf(runId: string): Promise<RunArtifactView[]> {
  const res = await stack.api(`/api/v1/runs/${runId}/artifacts`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { artifacts: RunArtifactView[] }).artifacts;
}

async function download(a: RunArtifactView): Promise<{ res: Response; bytes: Buffer }> {
  const res = await stack.api(a.downloadUrl);
  return { res, bytes: Buffer.from(await res.arrayBuffer()) };
}

const agentToken = async () => (JSON.parse(await readFile(join(stack.config.DRYDOCK_DATA_DIR, 'agents', 'local.json'), 'utf8')) as { token: string }).token;

describe('a run whose manifest asks for capture', () => {
  test('is runnable on an agent host, and keeps its environment snapshot and files for download', async () => {
    const entry = (await (await stack.api('/api/v1/scripts/capture-demo')).json()) as { runnable: boolean };
    expect(entry.runnable).toBe(true);

    const secret = `capture-secret-${randomBytes(8).toString('hex')}`;
    const run = await stack.startRun('capture-demo', { api_token: secret });
    const final = await stack.waitForRun(run.id);
    expect(final).toMatchObject({ status: 'succeeded', exitCode: 0 });

    const artifacts = await artifactsOf(run.id);
    expect(artifacts.map((a) => [a.name, a.kind, a.attempt])).toEqual([
      ['drydock-environment.json', 'environment', 1],
      ['out/big.bin', 'artifact', 1],
      ['out/report.txt', 'artifact', 1],
    ]);
    expect(artifacts.find((a) => a.name === 'out/big.bin')?.size).toBe(2 * MB);

    for (const a of artifacts) {
      const { res, bytes } = await download(a);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-length')).toBe(String(a.size));
      expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="[^"]+"/);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(bytes.length).toBe(a.size);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(a.sha256);
    }
    const report = await download(artifacts.find((a) => a.name === 'out/report.txt')!);
    expect(report.bytes.toString()).toContain(`run: ${run.id} attempt: 1 host: local`);
    expect(report.res.headers.get('content-disposition')).toBe(`attachment; filename="report.txt"; filename*=UTF-8''report.txt`);
    expect(existsSync(join(stack.config.blobDir, 'objects', 'runs', run.id, '1', 'out', 'report.txt'))).toBe(true);

    const { bytes } = await download(artifacts[0]!);
    const text = bytes.toString();
    expect(text).not.toContain(secret);
    const snapshot = JSON.parse(text) as EnvironmentSnapshot;
    expect(snapshot.host.os).toMatchObject({ type: 'Linux', platform: 'linux' });
    expect(snapshot.host.os.release).not.toBe('');
    expect(snapshot.disk?.totalMb).toBeGreaterThan(0);
    expect(snapshot.interpreter?.version).toContain('bash');
    expect(snapshot.environment).toMatchObject({ DRYDOCK_PARAM_API_TOKEN: '••••••', DRYDOCK_PARAM_BIG_MB: '2', DRYDOCK_RUN_ID: run.id });
    // The packages and services capture-demo names: this Debian machine has dpkg-query, and was not booted with systemd.
    expect(snapshot.packages).toEqual([
      { name: 'bash', version: execFileSync('dpkg-query', ['-W', '-f=${Version}', 'bash'], { encoding: 'utf8' }), source: 'dpkg' },
      { name: 'no-such-package-xyz', version: null, source: 'dpkg', error: 'dpkg-query: no packages found matching no-such-package-xyz' },
    ]);
    expect(snapshot.services).toEqual([{ name: 'ssh', state: null, manager: null, error: 'no systemd on this host (it was not booted with systemd as init), nor OpenRC' }]);

    const lines = (await stack.lines(run.id)).map((l) => l.line);
    expect(lines.some((l) => l.includes(secret))).toBe(false);
    expect(lines).toContainEqual(expect.stringMatching(/^captured artifact out\/big\.bin \(2 MB, sha256 [0-9a-f]{12}\)$/));
    expect(lines.at(-1)).toMatch(/^captured 3 files \(2\.0 MB\) from attempt 1$/);
  });

  test('a file over the limit set in the environment is refused with the limit named, and the run still succeeds', async () => {
    const run = await stack.startRun('capture-demo', { big_mb: 4 });
    const final = await stack.waitForRun(run.id);
    expect(final.status).toBe('succeeded');
    const lines = (await stack.lines(run.id)).filter((l) => l.stream === 'system').map((l) => l.line);
    expect(lines).toContain('artifact out/big.bin not captured: 4 MB is over the per-file limit of 3 MB (DRYDOCK_ARTIFACT_MAX_FILE_MB)');
    expect((await artifactsOf(run.id)).map((a) => a.name)).toEqual(['drydock-environment.json', 'out/report.txt']);
  });
});

describe('the artifact upload route', () => {
  test('holds the limit itself, refuses names outside the run directory and files of another host', async () => {
    const run = await stack.startRun('capture-demo', { big_mb: 0 });
    await stack.waitForRun(run.id);
    const url = (query: string) => `/api/v1/agent/runs/${run.id}/artifacts?${query}`;
    const token = await agentToken();
    const post = (query: string, body: RequestInit['body'], bearer = token) =>
      stack.api(url(query), { method: 'POST', body, headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/octet-stream' } });

    const tooBig = await post('attempt=1&kind=artifact&name=out/huge.bin', new Blob([new Uint8Array(3 * MB + 1)]));
    expect(tooBig.status).toBe(413);
    expect(((await tooBig.json()) as { error: { message: string } }).error.message).toBe(
      'out/huge.bin is over the per-file artifact limit of 3 MB (DRYDOCK_ARTIFACT_MAX_FILE_MB)',
    );
    // A body of unknown length is cut off the moment it passes the limit, and the refusal still arrives.
    const chunks = (function* () {
      for (let i = 0; i < 8; i++) yield new Uint8Array(MB / 2);
    })();
    const streamed = await stack.api(url('attempt=1&kind=artifact&name=out/streamed.bin'), {
      method: 'POST',
      body: new ReadableStream<Uint8Array>({
        pull(controller) {
          const next = chunks.next();
          if (next.done) controller.close();
          else controller.enqueue(next.value);
        },
      }),
      headers: { authorization: `Bearer ${token}` },
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(((await streamed.json()) as { error: { message: string } }).error.message).toBe(
      'out/streamed.bin is over the per-file artifact limit of 3 MB (DRYDOCK_ARTIFACT_MAX_FILE_MB)',
    );

    const escape = await post('attempt=1&kind=artifact&name=../escape.txt', 'x');
    expect(escape.status).toBe(400);
    const posing = await post('attempt=1&kind=artifact&name=drydock-environment.json', '{}');
    expect(posing.status).toBe(400);
    expect((await artifactsOf(run.id)).map((a) => a.name)).toEqual(['drydock-environment.json', 'out/big.bin', 'out/report.txt']);

    const sent = await post('attempt=1&kind=artifact&name=extra/notes.txt', 'sent by hand');
    expect(sent.status).toBe(201);
    const stored = (await sent.json()) as RunArtifactView;
    expect(stored).toMatchObject({ name: 'extra/notes.txt', size: 12, sha256: createHash('sha256').update('sent by hand').digest('hex') });
    const again = (await (await post('attempt=1&kind=artifact&name=extra/notes.txt', 'sent twice')).json()) as RunArtifactView;
    expect(again.id).toBe(stored.id);
    expect((await download(again)).bytes.toString()).toBe('sent twice');

    const registered = await stack.api('/api/v1/agents/register', { method: 'POST', json: { hostName: 'other-host', registrationSecret: REGISTRATION_SECRET } });
    const other = ((await registered.json()) as { token: string }).token;
    expect((await post('attempt=1&kind=artifact&name=x.txt', 'x', other)).status).toBe(404);
    expect((await stack.anonymous(url('attempt=1&kind=artifact&name=x.txt'), { method: 'POST', body: 'x' })).status).toBe(401);
    expect((await stack.api(`/api/v1/runs/${run.id}/artifacts/${stored.runId}`)).status).toBe(404);
  });
});
