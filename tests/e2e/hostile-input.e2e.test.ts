import { execFile } from 'node:child_process';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { REGISTRATION_SECRET, startTestStack, type TestStack } from '../support/stack.ts';

const run = promisify(execFile);
const SECRET = 'hostile-input-webhook-secret';

let stack: TestStack;
let gitDir: string;

/** A request with headers fetch will not send as given (a foreign Host). */
function rawRequest(url: string, init: { method?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: init.method ?? 'GET', headers: init.headers }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function errorOf(res: Response): Promise<{ code: string; message: string; fields?: Record<string, string[]>; requestId?: string }> {
  return ((await res.json()) as { error: { code: string; message: string; fields?: Record<string, string[]> } }).error;
}

async function apiIsUp(): Promise<void> {
  expect(stack.processes.api?.running).toBe(true);
  expect((await stack.api('/health')).status).toBe(200);
}

beforeAll(async () => {
  stack = await startTestStack({ processes: ['api', 'worker', 'agent', 'web'] });
  gitDir = await mkdtemp(join(tmpdir(), 'drydock-hostile-'));
  await writeFile(join(gitDir, 'hello.yaml'), 'id: hostile-hello\nname: Hello\nscript: hello.sh\n');
  await writeFile(join(gitDir, 'hello.sh'), '#!/bin/sh\necho hello\n');
  const git = (...args: string[]) => run('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: gitDir });
  await git('init', '-q', '-b', 'main');
  await git('add', '.');
  await git('commit', '-qm', 'first');
  const added = await stack.api('/api/v1/repositories', {
    method: 'POST',
    json: { id: 'hostile', name: 'Hostile', url: `file://${gitDir}`, branch: 'main', provider: 'generic', webhookSecret: SECRET, syncIntervalSeconds: 3600 },
  });
  expect(added.status).toBe(201);
});

afterAll(async () => {
  await stack?.teardown();
  if (gitDir) await rm(gitDir, { recursive: true, force: true });
});

describe('no request stops the API', () => {
  test('a NUL in a query answers 400 naming the parameter, and the API stays up', async () => {
    const res = await stack.api('/api/v1/runs?script=%00');
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({ fields: { script: [expect.stringContaining('NUL')] } });
    // The process that answered is the one still serving: the stack's API was never restarted.
    await apiIsUp();
    expect((await stack.api('/api/v1/runs?script=echo-params')).status).toBe(200);
  });

  test('NUL characters and lone surrogates anywhere in a request are 400s naming the field', async () => {
    const path = await stack.api('/api/v1/scripts/sle%00ep');
    expect(path.status).toBe(400);
    expect((await errorOf(path)).fields).toEqual({ path: [expect.stringContaining('NUL')] });

    const deep = await stack.api('/api/v1/runs', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"scriptId":"echo-params","hostId":"local","params":{"list":["ok","\\ud800"]}}',
    });
    expect(deep.status).toBe(400);
    expect((await errorOf(deep)).fields).toEqual({ 'params.list.1': [expect.stringContaining('surrogate')] });

    const badEncoding = await stack.api('/api/v1/runs?script=%ED%A0%80');
    expect(badEncoding.status).toBe(400);
    expect((await errorOf(badEncoding)).fields).toEqual({ script: ['is not percent-encoded UTF-8'] });
    await apiIsUp();
  });

  test('a codec payload that does not open with this key is a 400 that says so', async () => {
    const res = await stack.api('/api/v1/codec/decode', {
      method: 'POST',
      json: {
        payloads: [
          {
            metadata: { encoding: Buffer.from('binary/encrypted').toString('base64'), 'encryption-key-id': Buffer.from('k1').toString('base64') },
            data: randomBytes(64).toString('base64'),
          },
        ],
      },
    });
    expect(res.status).toBe(400);
    expect((await errorOf(res)).message).toContain('payload 0 cannot be decrypted with this key');
  });

  test('a signed webhook whose body is not the provider’s push shape is a 400, not a 500', async () => {
    for (const body of ['null', '{"ref":42}', '[]']) {
      const res = await stack.api('/api/v1/webhooks/hostile', {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}` },
      });
      expect(res.status, body).toBe(400);
      expect((await errorOf(res)).message).toBe('webhook body is not a GitHub push event as the provider documents it');
    }
    const bitbucket = JSON.stringify({ push: { changes: 5 } });
    const res = await stack.api('/api/v1/webhooks/hostile', {
      method: 'POST',
      body: bitbucket,
      headers: { 'content-type': 'application/json', 'x-event-key': 'repo:push', 'x-hub-signature': `sha256=${createHmac('sha256', SECRET).update(bitbucket).digest('hex')}` },
    });
    expect(res.status).toBe(400);
    expect((await errorOf(res)).fields).toHaveProperty(['push.changes']);
  });

  test('an artifact named under a file the attempt already captured is a 409 that says why', async () => {
    const registered = await stack.api('/api/v1/agents/register', { method: 'POST', json: { registrationSecret: REGISTRATION_SECRET, hostName: 'hostile-agent' } });
    const { token } = (await registered.json()) as { token: string };
    const started = await stack.startRun('echo-params', {}, 'hostile-agent');
    const upload = (name: string) =>
      stack.api(`/api/v1/agent/runs/${started.id}/artifacts?attempt=1&kind=artifact&name=${encodeURIComponent(name)}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' },
        body: 'captured',
      });
    expect((await upload('out/a.txt')).status).toBe(201);
    const under = await upload('out/a.txt/b.txt');
    expect(under.status).toBe(409);
    expect((await errorOf(under)).message).toContain('out/a.txt/b.txt cannot be kept beside attempt 1');
    const above = await upload('out');
    expect(above.status).toBe(409);
    await stack.api(`/api/v1/runs/${started.id}/cancel`, { method: 'POST' });
  });
});

test('a script that prints a NUL keeps its whole log, the NUL shown as ␀', async () => {
  const created = await stack.api('/api/v1/actions', {
    method: 'POST',
    json: { id: 'print-nul', name: 'Print a NUL', command_template: 'printf {{format}}', parameters: [{ name: 'format', type: 'string', required: true }] },
  });
  expect(created.status).toBe(201);
  const started = await stack.api('/api/v1/runs', { method: 'POST', json: { actionId: 'print-nul', hostId: 'local', params: { format: 'before\\0after\\nlast line\\n' } } });
  expect(started.status).toBe(201);
  const { id } = (await started.json()) as { id: string };
  expect((await stack.waitForRun(id)).status).toBe('succeeded');
  const printed = (await stack.lines(id)).filter((l) => l.stream === 'stdout').map((l) => l.line);
  expect(printed).toEqual(['before\u2400after', 'last line']);
});

test('the web server answers hostile page requests without a 5xx and stays up', async () => {
  const pages = ['/runs/%00', '/scripts/%ED%A0%80', '/%E0%A4%A', '/runs?cursor=%00&status=%ff', '/hosts/..%2f..%2fetc', `/bulk/${'x'.repeat(5_000)}`];
  for (const path of pages) {
    // A page may answer 200 with its own message about a bad filter; it never fails with a 5xx.
    const res = await fetch(`${stack.config.webUrl}${path}`, { headers: { cookie: stack.admin.cookie } });
    expect(res.status, path).toBeLessThan(500);
  }
  const form = await fetch(`${stack.config.webUrl}/runs/${randomUUID()}`, { method: 'POST', headers: { cookie: stack.admin.cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: 'intent=%00' });
  expect(form.status).toBeLessThan(500);
  expect(stack.processes.web?.running).toBe(true);
});

describe('webhook replays', () => {
  test('a delivery seen before is acknowledged as a duplicate and requests nothing', async () => {
    const body = JSON.stringify({ ref: 'refs/heads/main' });
    const delivery = randomUUID();
    const send = () =>
      stack.api('/api/v1/webhooks/hostile', {
        method: 'POST',
        body,
        headers: {
          'content-type': 'application/json',
          'x-github-event': 'push',
          'x-github-delivery': delivery,
          'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`,
        },
      });
    const first = await send();
    expect(first.status).toBe(202);
    expect(await first.json()).toMatchObject({ sync: 'requested' });
    const again = await send();
    expect(again.status).toBe(202);
    expect(await again.json()).toEqual({ sync: 'ignored', reason: `duplicate delivery ${delivery}: it was received before` });

    const gitlabDelivery = randomUUID();
    const gitlabBody = JSON.stringify({ object_kind: 'push', ref: 'refs/heads/main' });
    const gitlab = () =>
      stack.api('/api/v1/webhooks/hostile', {
        method: 'POST',
        body: gitlabBody,
        headers: { 'content-type': 'application/json', 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': SECRET, 'x-gitlab-event-uuid': gitlabDelivery },
      });
    expect(await (await gitlab()).json()).toMatchObject({ sync: 'requested' });
    expect(await (await gitlab()).json()).toMatchObject({ sync: 'ignored', reason: expect.stringContaining('duplicate delivery') });
  });
});

describe('DNS rebinding', () => {
  test('the API and the web server refuse a Host they are not configured for, naming the setting', async () => {
    for (const base of [stack.config.apiUrl, stack.config.webUrl]) {
      const port = new URL(base).port;
      const res = await rawRequest(`${base}/api/v1/runs`, { headers: { host: `rebind.attacker.example:${port}` } });
      expect(res.status, base).toBe(421);
      expect(res.body).toContain('DRYDOCK_ALLOWED_HOSTS');
      expect((await rawRequest(`${base}/api/v1/runs`, { headers: { host: `localhost:${port}`, ...stack.adminHeaders() } })).status).toBe(200);
    }
  });
});

describe('cross-site requests', () => {
  test('a cross-site bodyless POST through the web origin cancels nothing, by the API proxy or a page action', async () => {
    const sleeping = await stack.startRun('sleep', { seconds: 5 });
    await stack.waitForRun(sleeping.id, (r) => r.status === 'running', 30_000);
    // The attack rides on the admin's signed-in browser: their cookies go with it.
    const crossSite = { cookie: stack.admin.cookie, origin: 'https://attacker.example', 'sec-fetch-site': 'cross-site' };

    const proxied = await fetch(`${stack.config.webUrl}/api/v1/runs/${sleeping.id}/cancel`, { method: 'POST', headers: crossSite });
    expect(proxied.status).toBe(403);
    expect((await errorOf(proxied)).message).toContain('a page of another site sent it');
    const action = await fetch(`${stack.config.webUrl}/runs/${sleeping.id}`, {
      method: 'POST',
      headers: { ...crossSite, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'intent=cancel',
    });
    expect(action.status).toBe(403);
    // Another origin of the same machine is not Drydock either.
    const sameSite = await fetch(`${stack.config.apiUrl}/api/v1/runs/${sleeping.id}/cancel`, {
      method: 'POST',
      headers: { cookie: stack.admin.cookie, origin: 'http://localhost:8233', 'sec-fetch-site': 'same-site' },
    });
    expect(sameSite.status).toBe(403);

    expect((await stack.waitForRun(sleeping.id)).status).toBe('succeeded');
  });

  test('the UI’s own pages and programs without browser headers still change things', async () => {
    const sleeping = await stack.startRun('sleep', { seconds: 30 });
    await stack.waitForRun(sleeping.id, (r) => r.status === 'running', 30_000);
    const own = await fetch(`${stack.config.webUrl}/api/v1/runs/${sleeping.id}/cancel`, {
      method: 'POST',
      headers: { cookie: stack.admin.cookie, 'x-csrf-token': stack.admin.csrfToken, origin: stack.config.webUrl, 'sec-fetch-site': 'same-origin' },
    });
    expect(own.status).toBe(202);
    expect((await stack.waitForRun(sleeping.id)).status).toBe('cancelled');
  });
});
