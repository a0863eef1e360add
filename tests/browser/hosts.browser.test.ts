import { freePort, type HostView } from '@drydock/core';
import { expect, test as browserTest, type TestStack } from '../support/browser.ts';
import { REGISTRATION_SECRET } from '../support/stack.ts';

const HOST = 'staging-db-1';
const PASSWORD = 'browser-ssh-password';

const test = browserTest
  // A password credential the SSH host logs in with.
  .extend('credentialId', { scope: 'file' }, async ({ stack }) => {
    const created = await stack.api('/api/v1/credentials', { method: 'POST', json: { name: 'ops password', kind: 'password', username: 'ops', secret: PASSWORD } });
    expect(created.status).toBe(201);
    return ((await created.json()) as { id: string }).id;
  })
  /** Nothing listens there: the host need not be reachable to be added, edited and deleted. */
  .extend('closedPort', { scope: 'file' }, async () => freePort());

async function getHostOf(stack: TestStack, id: string): Promise<{ status: number; host: HostView | null }> {
  const res = await stack.api(`/api/v1/hosts/${id}`);
  return { status: res.status, host: res.status === 200 ? ((await res.json()) as HostView) : null };
}

test('add an SSH host, fix the port the form rejects, find it by environment, edit it, reset its host key and delete it', async ({ stack, page, screenshot, credentialId, closedPort }) => {
  const getHost = (id: string) => getHostOf(stack, id);
  await page.goto(`${stack.config.webUrl}/hosts`);
  await page.getByTestId('new-ssh-host').click();
  await page.waitForURL(/\/hosts\/new$/);
  await expect.poll(() => page.getByTestId('host-form').count()).toBe(1);
  expect(await page.locator(`#host-credentialId option[value="${credentialId}"]`).textContent()).toBe('ops password (Password, ops)');

  await page.locator('#host-name').fill('Staging DB 1');
  await page.locator('#host-id').fill(HOST);
  await page.locator('#host-address').fill('127.0.0.1');
  await page.locator('#host-port').fill('70000');
  await page.locator('#host-username').fill('ops');
  await page.locator('#host-credentialId').selectOption(credentialId);
  await page.locator('#host-environment').selectOption('staging');
  await page.locator('#host-group').fill('payments');
  await page.locator('#host-tags').fill('linux, db');
  await page.getByTestId('save-host').click();

  await expect.poll(() => page.locator('[data-field-error="port"]').textContent()).toBe('a port number from 1 to 65535');
  expect(await page.locator('[data-field-error]').count()).toBe(1);
  expect(page.url()).toMatch(/\/hosts\/new$/);
  expect((await getHost(HOST)).status).toBe(404);
  await screenshot('host-new');

  await page.locator('#host-port').fill(String(closedPort));
  await expect.poll(() => page.locator('[data-field-error]').count()).toBe(0);
  await page.getByTestId('save-host').click();
  await page.waitForURL(new RegExp(`/hosts/${HOST}$`));

  const { host } = await getHost(HOST);
  expect(host).toMatchObject({ transport: 'ssh', address: '127.0.0.1', port: closedPort, username: 'ops', environment: 'staging', group: 'payments', tags: ['linux', 'db'], online: false });
  expect(host?.credential?.id).toBe(credentialId);
  expect(await page.getByTestId('host-state').getAttribute('data-state')).toBe('unreachable');
  expect(await page.getByTestId('host-state').getAttribute('title')).toBe('Drydock has not connected to it yet: the first run does.');
  expect(await page.getByTestId('host-address').textContent()).toBe(`ops@127.0.0.1:${closedPort}`);

  // The list: the new SSH host beside the local agent, each with what its transport has to say.
  await page.goto(`${stack.config.webUrl}/hosts`);
  const row = page.locator(`[data-testid="host-row"][data-host-id="${HOST}"]`);
  await expect.poll(() => row.count()).toBe(1);
  expect(await row.getByTestId('transport-badge').textContent()).toBe('SSH');
  expect(await row.getByTestId('host-environment').textContent()).toBe('staging');
  expect(await row.getByTestId('host-group').textContent()).toBe('payments');
  expect(await row.getByTestId('host-address').textContent()).toBe(`ops@127.0.0.1:${closedPort}`);
  expect(await row.getByTestId('host-state').textContent()).toBe('unreachable');
  expect(await row.getByTestId('host-last-seen').textContent()).toBe('never');
  expect(await row.getByTestId('host-key-pinned').getAttribute('data-pinned')).toBe('false');
  const local = page.locator('[data-testid="host-row"][data-host-id="local"]');
  expect(await local.getByTestId('transport-badge').getAttribute('data-transport')).toBe('agent');
  await expect.poll(() => local.getByTestId('host-state').textContent(), { timeout: 20_000 }).toBe('idle');
  expect(await local.getByTestId('host-last-seen').getAttribute('title')).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
  await screenshot('hosts');

  // The status filter offers the five statuses, and each narrows the list to its hosts.
  const status = page.locator('[data-testid="host-filters"] select[name="status"]');
  const listedIds = () => page.getByTestId('host-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-host-id')));
  expect(await status.locator('option').evaluateAll((options) => options.map((o) => o.getAttribute('value')))).toEqual(['', 'idle', 'busy', 'maintenance', 'unreachable', 'error']);
  await status.selectOption('unreachable');
  await page.waitForURL(/\/hosts\?status=unreachable$/);
  await expect.poll(listedIds).toEqual([HOST]);
  await status.selectOption('idle');
  await page.waitForURL(/\/hosts\?status=idle$/);
  await expect.poll(listedIds).toEqual(['local']);

  // A run that cannot connect puts the host in error; the badge's title gives the reason.
  const refused = await stack.startRun('true', {}, HOST);
  await expect.poll(async () => (await stack.run(refused.id)).status, { timeout: 45_000 }).toBe('failed');
  const reason = `127.0.0.1:${closedPort} is unreachable: connection refused (is sshd running on that port?)`;
  await status.selectOption('error');
  await page.waitForURL(/\/hosts\?status=error$/);
  await expect.poll(listedIds).toEqual([HOST]);
  expect(await row.getByTestId('host-state').getAttribute('title')).toBe(`Needs attention: ${reason}`);
  await page.goto(`${stack.config.webUrl}/hosts`);

  await page.locator('[data-testid="host-filters"] select[name="environment"]').selectOption('staging');
  await page.waitForURL(/\/hosts\?environment=staging$/);
  await expect.poll(() => page.getByTestId('host-row').count()).toBe(1);
  expect(await page.getByTestId('host-row').getAttribute('data-host-id')).toBe(HOST);
  await page.locator('[data-testid="host-filters"] select[name="environment"]').selectOption('dev');
  await page.waitForURL(/\/hosts\?environment=dev$/);
  await expect.poll(() => page.getByTestId('host-row').count()).toBe(0);
  await page.locator('[data-testid="host-filters"] select[name="environment"]').selectOption('staging');
  await page.waitForURL(/\/hosts\?environment=staging$/);

  await page.locator(`[data-host-id="${HOST}"] a[href="/hosts/${HOST}"]`).click();
  await page.waitForURL(new RegExp(`/hosts/${HOST}$`));
  expect(await page.getByTestId('host-state').getAttribute('data-state')).toBe('error');
  expect(await page.getByTestId('host-error-reason').textContent()).toBe(reason);

  // An edit sends what changed and nothing else.
  await page.locator('#host-group').fill('payments-eu');
  await page.getByTestId('save-host').click();
  await expect.poll(() => page.getByTestId('host-form-message').textContent()).toBe('Settings saved.');
  expect((await getHost(HOST)).host).toMatchObject({ group: 'payments-eu', environment: 'staging', port: closedPort, tags: ['linux', 'db'] });

  expect(await page.getByTestId('host-key-state').getAttribute('data-pinned')).toBe('false');
  await page.getByTestId('reset-host-key').click();
  await expect.poll(() => page.getByTestId('host-key-message').textContent()).toBe('No host key was pinned yet. The next connection pins the key the host presents.');

  expect(await page.getByTestId('run-script-here').getAttribute('href')).toBe(`/?host=${HOST}`);
  await screenshot('host-ssh');

  await page.getByTestId('delete').locator('summary').click();
  await page.getByTestId('confirm-delete').click();
  await page.waitForURL(new RegExp(`/hosts\\?deleted=${HOST}$`));
  expect(await page.getByTestId('host-message').textContent()).toBe(`Host ${HOST} deleted.`);
  expect(await page.locator(`[data-testid="host-row"][data-host-id="${HOST}"]`).count()).toBe(0);
  expect((await getHost(HOST)).status).toBe(404);
  expect(await page.content()).not.toContain(REGISTRATION_SECRET);
});

test('add a WinRM host: only password credentials, no jump host, NTLM unless chosen otherwise, listed with its badge', async ({ stack, page, screenshot, closedPort }) => {
  const getHost = (id: string) => getHostOf(stack, id);
  const WIN = 'win-app-1';
  const password = await stack.api('/api/v1/credentials', { method: 'POST', json: { name: 'windows ops', kind: 'password', username: 'CORP\\ops', secret: 'browser-winrm-password' } });
  expect(password.status).toBe(201);
  const winCredential = ((await password.json()) as { id: string }).id;
  const key = await stack.api('/api/v1/credentials', { method: 'POST', json: { name: 'deploy key', kind: 'ssh_key', secret: 'not a real key: never used to connect' } });
  expect(key.status).toBe(201);
  const keyCredential = ((await key.json()) as { id: string }).id;

  await page.goto(`${stack.config.webUrl}/hosts/new`);
  await expect.poll(() => page.getByTestId('host-form').count()).toBe(1);
  expect(await page.locator(`#host-credentialId option[value="${keyCredential}"]`).count()).toBe(1);
  expect(await page.locator('#host-jumpHostId').count()).toBe(1);

  // The fields follow the choice once the page is hydrated; until then a click changes nothing here, so try again.
  await expect
    .poll(async () => {
      await page.locator('label[for="host-transport-winrm"]').click();
      return page.locator('#host-winrmAuth').count();
    })
    .toBe(1);
  expect(await page.locator('#host-jumpHostId').count()).toBe(0);
  expect(await page.locator('#host-port').getAttribute('placeholder')).toBe('5986');
  expect(await page.locator('#host-winrmAuth').inputValue()).toBe('ntlm');
  expect(await page.locator(`#host-credentialId option[value="${keyCredential}"]`).count()).toBe(0);
  expect(await page.locator(`#host-credentialId option[value="${winCredential}"]`).textContent()).toBe('windows ops (Password, CORP\\ops)');

  await page.locator('#host-id').fill(WIN);
  await page.locator('#host-address').fill('127.0.0.1');
  await page.locator('#host-port').fill(String(closedPort));
  await page.locator('#host-username').fill('CORP\\ops');
  await page.locator('#host-credentialId').selectOption(winCredential);
  await page.locator('#host-tags').fill('windows');
  await screenshot('host-new-winrm');
  await page.getByTestId('save-host').click();
  await page.waitForURL(new RegExp(`/hosts/${WIN}$`));

  const { host } = await getHost(WIN);
  expect(host).toMatchObject({ transport: 'winrm', winrmAuth: 'ntlm', address: '127.0.0.1', port: closedPort, username: 'CORP\\ops', jumpHostId: null, tags: ['windows'], hostKeyPinned: false });
  expect(host?.credential?.id).toBe(winCredential);
  expect(await page.getByTestId('transport-badge').textContent()).toBe('WinRM');
  expect(await page.getByTestId('host-winrm-auth').textContent()).toBe('NTLM');
  expect(await page.getByTestId('host-address').textContent()).toBe(`CORP\\ops on 127.0.0.1:${closedPort}`);
  expect(await page.locator('#host-winrmAuth').inputValue()).toBe('ntlm');
  expect(await page.getByTestId('reset-host-key').textContent()).toBe('Reset certificate pin');
  await screenshot('host-winrm');

  await page.goto(`${stack.config.webUrl}/hosts`);
  await page.locator('[data-testid="host-filters"] select[name="transport"]').selectOption('winrm');
  await page.waitForURL(/\/hosts\?transport=winrm$/);
  await expect.poll(() => page.getByTestId('host-row').count()).toBe(1);
  const row = page.locator(`[data-testid="host-row"][data-host-id="${WIN}"]`);
  expect(await row.getAttribute('data-transport')).toBe('winrm');
  expect(await row.getByTestId('transport-badge').textContent()).toBe('WinRM');
  expect(await row.getByTestId('host-state').getAttribute('data-state')).toBe('unreachable');
  expect(await row.getByTestId('host-key-pinned').getAttribute('data-pinned')).toBe('false');

  expect((await stack.api(`/api/v1/hosts/${WIN}`, { method: 'DELETE' })).status).toBe(204);
});

test('without JavaScript the filters still work and the route action rejects what the browser would have', async ({ stack, browser, adminSession, credentialId }) => {
  const getHost = (id: string) => getHostOf(stack, id);
  const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1280, height: 900 }, storageState: adminSession });
  const page = await context.newPage();
  await page.goto(`${stack.config.webUrl}/hosts`);
  await page.locator('[data-testid="host-filters"] select[name="transport"]').selectOption('agent');
  await page.locator('[data-testid="host-filters"] button[type="submit"]').click();
  await page.waitForURL(/\/hosts\?.*transport=agent/);
  expect(await page.locator('[data-testid="host-row"]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-transport')))).toEqual(['agent']);

  await page.goto(`${stack.config.webUrl}/hosts/new`);
  await page.locator('#host-id').fill('no-js-host');
  await page.locator('#host-address').fill('127.0.0.1');
  await page.locator('#host-port').fill('0');
  await page.locator('#host-username').fill('ops');
  await page.locator('#host-credentialId').selectOption(credentialId);
  await page.getByTestId('save-host').click();
  await page.waitForLoadState();
  expect(await page.locator('[data-field-error="port"]').textContent()).toBe('a port number from 1 to 65535');
  expect(await page.locator('#host-address').inputValue()).toBe('127.0.0.1');
  expect((await getHost('no-js-host')).status).toBe(404);
  await context.close();
});

test('the install page shows the environment file only after "Show secrets"', async ({ stack, page, screenshot }) => {
  await page.goto(`${stack.config.webUrl}/hosts`);
  await page.getByTestId('install-agent').click();
  await page.waitForURL(/\/hosts\/install$/);
  await expect.poll(() => page.getByTestId('secrets-hidden').count()).toBe(1);
  expect(await page.getByTestId('agent-env-file').count()).toBe(0);
  expect(await page.locator('[data-setting="DRYDOCK_AGENT_REGISTRATION_SECRET"]').textContent()).toContain('hidden');
  expect(await page.content()).not.toContain(REGISTRATION_SECRET);
  const unit = (await page.getByTestId('systemd-unit').textContent()) ?? '';
  for (const line of ['ExecStart=/usr/bin/node /opt/drydock/agent/src/main.ts', 'EnvironmentFile=/etc/drydock/agent.env', 'Restart=always']) expect(unit).toContain(line);

  await page.getByTestId('toggle-secrets').click();
  await expect.poll(() => page.getByTestId('agent-env-file').count()).toBe(1);
  const envFile = (await page.getByTestId('agent-env-file').textContent()) ?? '';
  expect(envFile).toContain(`DRYDOCK_AGENT_REGISTRATION_SECRET=${REGISTRATION_SECRET}\n`);
  expect(envFile).toContain('DRYDOCK_AGENT_HOST=<host-name>\n');

  await page.locator('#agent-host').fill('db-staging-2');
  await page.locator('#agent-tags').fill('linux, db');
  await page.getByRole('button', { name: 'Fill in' }).click();
  await expect.poll(() => page.getByTestId('agent-env-file').textContent()).toContain('DRYDOCK_AGENT_HOST=db-staging-2\n');
  expect(await page.getByTestId('agent-env-file').textContent()).toContain('DRYDOCK_AGENT_TAGS=linux,db\n');
  await screenshot('hosts-install');

  await page.getByTestId('toggle-secrets').click();
  await expect.poll(() => page.getByTestId('agent-env-file').count()).toBe(0);
  expect(await page.content()).not.toContain(REGISTRATION_SECRET);
});

test('the install page gives a Windows host its PowerShell script once it is named and secrets are shown', async ({ stack, page, screenshot }) => {
  await page.goto(`${stack.config.webUrl}/hosts/install`);
  await page.getByTestId('install-os-windows').click();
  await page.waitForURL(/\/hosts\/install\?os=windows$/);
  await expect.poll(() => page.getByTestId('windows-script-needs-host').count()).toBe(1);
  expect(await page.getByTestId('windows-install-command').textContent()).toBe('powershell.exe -NoProfile -ExecutionPolicy Bypass -File .\\install-agent.ps1');

  await page.locator('#agent-host').fill('win-build-1');
  await page.locator('#agent-tags').fill('windows, build');
  await page.getByRole('button', { name: 'Fill in' }).click();
  await page.waitForURL(/host=win-build-1/);
  // Naming the host keeps the Windows instructions, and the secret stays out of the page until asked for.
  expect(new URL(page.url()).searchParams.get('os')).toBe('windows');
  await expect.poll(() => page.getByTestId('secrets-hidden').count()).toBe(1);
  expect(await page.getByTestId('windows-install-script').count()).toBe(0);
  expect(await page.content()).not.toContain(REGISTRATION_SECRET);

  await page.getByTestId('toggle-secrets').click();
  await expect.poll(() => page.getByTestId('windows-install-script').count()).toBe(1);
  const script = (await page.getByTestId('windows-install-script').textContent()) ?? '';
  expect(script).toContain(`'DRYDOCK_AGENT_REGISTRATION_SECRET=${REGISTRATION_SECRET}'`);
  expect(script).toContain(`'  "server_id": "win-build-1",'`);
  expect(script).toContain(`'    "windows",'`);
  expect(script).toContain("$ServiceName = 'DrydockAgent'");
  expect(await page.getByTestId('windows-script-download').getAttribute('download')).toBe('install-agent.ps1');
  await screenshot('hosts-install-windows', { fullPage: false });

  await page.getByTestId('toggle-secrets').click();
  await expect.poll(() => page.getByTestId('windows-install-script').count()).toBe(0);
  expect(await page.content()).not.toContain(REGISTRATION_SECRET);
});
