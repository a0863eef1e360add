import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, test as baseTest } from 'vitest';
import type { ServiceHealthOperation } from '@drydock/core/operations';
import { runOperation } from './run-operation.ts';
import { interpretIsActive } from './systemd-unit.ts';
import { parseScQuery } from './windows-service.ts';

interface Web {
  base: string;
  /** Paths the server was asked for, in order. */
  requests: string[];
}

const test = baseTest.extend('web', { scope: 'file' }, async ({}, { onCleanup }): Promise<Web> => {
  const requests: string[] = [];
  const hanging: ServerResponse[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    if (req.url === '/health') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('status: healthy\n');
    } else if (req.url === '/broken') {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('database unavailable\n');
    } else if (req.url === '/old') {
      res.writeHead(302, { location: '/health' });
      res.end();
    } else if (req.url === '/hang') {
      hanging.push(res);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
});

function check(service: Omit<ServiceHealthOperation, 'type'>, signal = new AbortController().signal) {
  return runOperation({ type: 'service_health', ...service }, { signal, secrets: {} });
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('service_health over HTTP', () => {
  test('200 with the expected body passes; the status is the value', async ({ web }) => {
    const result = await check({ http: { url: `${web.base}/health`, expect_body_contains: 'healthy' } });
    expect(result).toMatchObject({
      ok: true,
      value: 200,
      checks: [
        { name: 'status', ok: true, detail: '200 OK' },
        { name: 'body', ok: true, detail: 'body (16 bytes) contains "healthy"' },
      ],
    });
    expect(result.output[0]).toBe(`GET ${web.base}/health (expecting 200 and a body containing "healthy"; timeout 10 s)`);
    expect(result.output[1]).toBe('← 200 OK');
  });

  test('a body without the text fails, and the log shows how it begins', async ({ web }) => {
    const result = await check({ http: { url: `${web.base}/health`, expect_body_contains: 'ready' } });
    expect(result.ok).toBe(false);
    expect(result.checks[1]).toEqual({ name: 'body', ok: false, detail: 'body (16 bytes) does not contain "ready"' });
    expect(result.output).toContain('body begins: status: healthy');
  });

  test('500 fails against the default expectation of 200', async ({ web }) => {
    const result = await check({ http: { url: `${web.base}/broken` } });
    expect(result).toMatchObject({ ok: false, value: 500, checks: [{ name: 'status', ok: false, detail: '500 Internal Server Error, expected 200' }] });
  });

  test('expect_status can name the statuses that count as healthy', async ({ web }) => {
    const result = await check({ http: { url: `${web.base}/broken`, expect_status: [200, 500] } });
    expect(result.ok).toBe(true);
  });

  test('a redirect is reported, not followed', async ({ web }) => {
    web.requests.length = 0;
    const result = await check({ http: { url: `${web.base}/old` } });
    expect(result).toMatchObject({
      ok: false,
      value: 302,
      checks: [
        {
          name: 'status',
          ok: false,
          detail: `302 Found: redirects to ${web.base}/health, which is not followed; expected 200 (point the check at the final URL, or expect 302)`,
        },
      ],
    });
    expect(web.requests).toEqual(['GET /old']);
    const expected = await check({ http: { url: `${web.base}/old`, expect_status: [302] } });
    expect(expected.checks).toEqual([{ name: 'status', ok: true, detail: `302 Found, redirecting to ${web.base}/health (not followed)` }]);
  });

  test('HEAD checks the status alone', async ({ web }) => {
    web.requests.length = 0;
    const result = await check({ http: { url: `${web.base}/health`, method: 'HEAD' } });
    expect(result.ok).toBe(true);
    expect(web.requests).toEqual(['HEAD /health']);
  });

  test('a server that does not answer in time fails with the timeout', async ({ web }) => {
    const result = await check({ http: { url: `${web.base}/hang`, timeout_seconds: 1, expect_body_contains: 'ok' } });
    expect(result).toMatchObject({
      ok: false,
      value: null,
      checks: [
        { name: 'status', ok: false, detail: 'no response within 1 s' },
        { name: 'body', ok: false, detail: 'no response to read' },
      ],
    });
  });

  test('nothing listening is a clear failure', async () => {
    const port = await closedPort();
    const result = await check({ http: { url: `http://127.0.0.1:${port}/health` } });
    expect(result.checks).toEqual([{ name: 'status', ok: false, detail: `cannot connect to 127.0.0.1:${port}: connection refused` }]);
  });

  test('abort ends the request', async ({ web }) => {
    const controller = new AbortController();
    const pending = check({ http: { url: `${web.base}/hang` } }, controller.signal);
    controller.abort();
    expect((await pending).checks).toEqual([{ name: 'status', ok: false, detail: 'cancelled' }]);
  });
});

describe('service_health of a systemd unit', () => {
  test('on a host without systemd it fails as not available', async () => {
    const result = await check({ systemd: { unit: 'nginx.service', expect: 'active' } });
    expect(result).toMatchObject({
      ok: false,
      value: null,
      checks: [{ name: 'state', ok: false, detail: 'systemd is not available on this host (it was not booted with systemd as init)' }],
    });
  });

  test('the state is what systemctl is-active prints', () => {
    expect(interpretIsActive(['inactive'], [])).toEqual({ state: 'inactive' });
    expect(interpretIsActive([], ['Failed to connect to bus: Host is down'])).toEqual({ error: 'systemctl did not say: Failed to connect to bus: Host is down' });
  });
});

describe('service_health of a Windows service', () => {
  test('elsewhere than Windows it fails as Windows-only', async () => {
    const result = await check({ windows_service: { name: 'W32Time', expect: 'Running' } });
    expect(result.checks).toEqual([{ name: 'state', ok: false, detail: `Windows services exist only on Windows hosts; this host runs ${process.platform}` }]);
  });

  // The documented layout of `sc.exe query <name>`, CRLF line ends and trailing spaces as sc.exe writes them.
  const running = [
    '',
    'SERVICE_NAME: W32Time ',
    '        TYPE               : 30  WIN32  ',
    '        STATE              : 4  RUNNING ',
    '                                (STOPPABLE, NOT_PAUSABLE, ACCEPTS_SHUTDOWN)',
    '        WIN32_EXIT_CODE    : 0  (0x0)',
    '        SERVICE_EXIT_CODE  : 0  (0x0)',
    '        CHECKPOINT         : 0x0',
    '        WAIT_HINT          : 0x0',
    '',
  ].join('\r\n');
  const stopped = [
    '',
    'SERVICE_NAME: W32Time ',
    '        TYPE               : 20  WIN32_SHARE_PROCESS  ',
    '        STATE              : 1  STOPPED ',
    '        WIN32_EXIT_CODE    : 1077  (0x435)',
    '        SERVICE_EXIT_CODE  : 4  (0x4)',
    '        CHECKPOINT         : 0x4',
    '        WAIT_HINT          : 0x0',
    '',
  ].join('\r\n');

  test('sc query: the state comes from its number', () => {
    expect(parseScQuery(running, 'W32Time')).toEqual({ state: 'Running' });
    expect(parseScQuery(stopped, 'W32Time')).toEqual({ state: 'Stopped' });
    expect(parseScQuery(running.replace('4  RUNNING', '2  START_PENDING'), 'W32Time')).toEqual({ state: 'StartPending' });
    expect(parseScQuery(running.replace('4  RUNNING', '7  PAUSED'), 'W32Time')).toEqual({ state: 'Paused' });
  });

  test('sc query: a failure is read from its error code', () => {
    const missing = '[SC] EnumQueryServicesStatus:OpenService FAILED 1060:\r\n\r\nThe specified service does not exist as an installed service.\r\n\r\n';
    expect(parseScQuery(missing, 'W32Tme')).toEqual({ error: 'no service named W32Tme is installed (give its service name, not its display name)', code: 1060 });
    const denied = '[SC] OpenService FAILED 5:\r\n\r\nAccess is denied.\r\n\r\n';
    expect(parseScQuery(denied, 'W32Time')).toEqual({ error: 'access denied when asking for the state of W32Time', code: 5 });
    const other = '[SC] OpenSCManager FAILED 1722:\r\n\r\nThe RPC server is unavailable.\r\n\r\n';
    expect(parseScQuery(other, 'W32Time')).toEqual({ error: 'sc.exe failed with error 1722: The RPC server is unavailable.', code: 1722 });
    expect(parseScQuery('DESCRIPTION:\r\n        Queries a service.\r\n', 'W32Time')).toEqual({
      error: 'sc.exe answered in a way this agent does not understand: DESCRIPTION:',
      code: null,
    });
  });
});
