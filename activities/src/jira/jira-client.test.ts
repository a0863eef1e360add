import { createHash } from 'node:crypto';
import { openAsBlob } from 'node:fs';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { peakLiveMemory } from '../../../tests/support/live-memory.ts';
import { type JiraDeployment, type JiraDouble, type JiraDoubleProject, type JiraDoubleUser, parseJql, startJiraDouble } from '../../../tests/support/jira-double.ts';
import { createJiraClient, fingerprintLabel, type JiraConnection, type JiraIssueDraft, jqlString } from './jira-client.ts';
import { JiraError } from './jira-error.ts';

const PROJECTS: JiraDoubleProject[] = [
  {
    key: 'OPS',
    id: '10000',
    name: 'Operations',
    issueTypes: [
      { id: '1', name: 'Bug' },
      { id: '3', name: 'Task' },
      { id: '4', name: 'Incident', required: [{ key: 'customfield_10010', name: 'Customer impact' }] },
    ],
    components: ['api', 'web', 'database'],
  },
];
const ALICE_TOKEN = 'ATATT3xFfGF0-alice-api-token';
const ALICE_PAT = 'NjA5ODc2NTQzMjEw-alice-personal-access-token';
const USERS: JiraDoubleUser[] = [
  { name: 'alice', displayName: 'Alice Ops', email: 'alice@example.com', apiToken: ALICE_TOKEN, personalAccessToken: ALICE_PAT, permissions: { OPS: ['BROWSE_PROJECTS', 'CREATE_ISSUES', 'CREATE_ATTACHMENTS'] } },
  { name: 'viewer', displayName: 'Vic Viewer', email: 'vic@example.com', apiToken: 'vic-token', personalAccessToken: 'vic-pat', permissions: { OPS: ['BROWSE_PROJECTS', 'CREATE_ISSUES'] } },
];

function connection(double: JiraDouble, who: 'alice' | 'viewer' = 'alice', secret?: string): JiraConnection {
  const user = USERS.find((u) => u.name === who)!;
  return double.deployment === 'cloud'
    ? { deployment: 'cloud', url: double.url, email: user.email!, apiToken: secret ?? user.apiToken! }
    : { deployment: 'data_center', url: double.url, personalAccessToken: secret ?? user.personalAccessToken! };
}

const STDERR = 'psql: error: connection to server at "db-1" (10.0.0.5), port 5432 failed\n{noformat} and *bold* [link|x] {code} $(x)\nexit status 2';
function draft(overrides: Partial<JiraIssueDraft> = {}): JiraIssueDraft {
  return {
    project: 'OPS',
    issueType: 'Bug',
    summary: 'deploy-db failed on db-1: exit code 2\n(second line)',
    description: {
      error: 'the script exited with code 2',
      stderrTail: STDERR,
      facts: [
        ['Script', 'deploy-db at 3f2a9c1e'],
        ['Host', 'db-1'],
      ],
      links: [
        { text: 'Run 0195f3c2', url: 'https://drydock.example.test/runs/0195f3c2' },
        { text: 'Temporal Web', url: 'https://temporal.example.test/namespaces/default/workflows/run%2F0195f3c2/history' },
      ],
    },
    labels: ['database', 'needs review'],
    components: ['database'],
    fingerprint: { scriptId: 'deploy-db', hostId: 'db-1' },
    ...overrides,
  };
}

async function expectJiraError(promise: Promise<unknown>): Promise<JiraError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(JiraError);
  return err as JiraError;
}

let dir: string;
let bundlePath: string;
let bundleSha: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jira-'));
  bundlePath = join(dir, 'run-0195f3c2.tar.gz');
  const bytes = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7919) % 251));
  await writeFile(bundlePath, bytes);
  bundleSha = createHash('sha256').update(bytes).digest('hex');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe.each<JiraDeployment>(['cloud', 'data_center'])('Jira %s', (deployment) => {
  let double: JiraDouble;
  const waits: number[] = [];
  const client = (who: 'alice' | 'viewer' = 'alice', secret?: string) => createJiraClient(connection(double, who, secret), { sleep: async (ms) => void waits.push(ms) });
  const v = deployment === 'cloud' ? '3' : '2';

  beforeEach(async () => {
    await double?.close();
    double = await startJiraDouble({ deployment, projects: PROJECTS, users: USERS });
    waits.length = 0;
  });
  afterAll(async () => {
    await double.close();
  });

  test('test connection: the server, its kind and the signed-in account; a wrong token, kind or URL says which', async () => {
    const good = await client().testConnection();
    expect(good).toMatchObject({ ok: true, user: { displayName: 'Alice Ops' }, server: { deploymentType: deployment === 'cloud' ? 'Cloud' : 'Server' } });
    expect(double.requests.map((r) => `${r.path} ${r.auth ?? '-'}`)).toEqual([`/rest/api/${v}/serverInfo ${deployment === 'cloud' ? 'Basic' : 'Bearer'}`, `/rest/api/${v}/myself ${deployment === 'cloud' ? 'Basic' : 'Bearer'}`]);

    const bad = await client('alice', 'not-the-token').testConnection();
    expect(bad.ok).toBe(false);
    expect(bad.checks[1]).toMatchObject({ name: 'credentials', ok: false });
    expect(bad.checks[1]!.detail).toContain(deployment === 'cloud' ? 'refused the email alice@example.com and its API token (401)' : 'refused the personal access token (401)');
    expect(bad.checks[1]!.detail).not.toContain('not-the-token');

    const other: JiraConnection =
      deployment === 'cloud' ? { deployment: 'data_center', url: double.url, personalAccessToken: ALICE_PAT } : { deployment: 'cloud', url: double.url, email: 'alice@example.com', apiToken: ALICE_TOKEN };
    const wrongKind = await createJiraClient(other).testConnection();
    expect(wrongKind.checks[0]!.ok).toBe(false);
    expect(wrongKind.checks[0]!.detail).toMatch(/but the connection is for Jira (Cloud|Data Center): choose the other kind/);
  });

  test('files an issue with the description, labels, components and the bundle attached; reads back its key, status and URL', async () => {
    const jira = client();
    const filed = await jira.fileIssue(draft(), { filename: 'run-0195f3c2.tar.gz', file: await openAsBlob(bundlePath), mimeType: 'application/gzip' });
    expect(filed.issue).toMatchObject({ key: 'OPS-1', url: `${double.url}/browse/OPS-1`, summary: 'deploy-db failed on db-1: exit code 2 (second line)' });
    expect(filed.attachment).toEqual({ status: 'attached', attachment: { id: expect.any(String), filename: 'run-0195f3c2.tar.gz', size: 300_000 } });

    const stored = double.issues.get('OPS-1')!;
    expect(stored.labels).toEqual(['database', 'needs-review', fingerprintLabel({ scriptId: 'deploy-db', hostId: 'db-1' })]);
    expect(stored.components).toEqual(['database']);
    expect(stored.attachments).toEqual([{ id: expect.any(String), filename: 'run-0195f3c2.tar.gz', mimeType: 'application/gzip', size: 300_000, sha256: bundleSha }]);
    if (deployment === 'cloud') {
      // The double accepted it against the ADF JSON schema; the stderr tail is one code block, verbatim.
      const doc = stored.description as { content: { type: string; content?: { text?: string; marks?: { type: string; attrs?: { href?: string } }[] }[] }[] };
      expect(doc.content.find((n) => n.type === 'codeBlock')?.content?.[0]?.text).toBe(STDERR);
      const links = doc.content.filter((n) => n.type === 'bulletList').at(-1) as unknown as { content: { content: { content: { marks: { attrs: { href: string } }[] }[] }[] }[] };
      expect(links.content.map((item) => item.content[0]!.content[0]!.marks[0]!.attrs.href)).toEqual(draft().description.links.map((l) => l.url));
    } else {
      const text = stored.description as string;
      expect(text).toContain(`h3. Last lines of stderr\n\n{noformat}\n${STDERR.replace('{noformat}', '{noformat\u200B}')}\n{noformat}`);
      expect(text).toContain('* [Run 0195f3c2|https://drydock.example.test/runs/0195f3c2]');
      expect(text).toContain('* *Script:* deploy\\-db at 3f2a9c1e');
    }
    const upload = double.requests.find((r) => r.path.endsWith('/attachments'))!;
    expect(upload).toMatchObject({ status: 200, atlassianToken: 'no-check', auth: deployment === 'cloud' ? 'Basic' : 'Bearer' });

    double.transition('OPS-1', 'In Progress', 'indeterminate');
    expect(await jira.getIssue('ops-1')).toMatchObject({ key: 'OPS-1', status: { name: 'In Progress', category: 'indeterminate' }, url: `${double.url}/browse/OPS-1` });
  });

  test('what Jira would refuse is refused before anything is created, in Jira\'s words where Jira says it', async () => {
    const jira = client();
    const noComponent = await expectJiraError(jira.fileIssue(draft({ components: ['databse'] })));
    expect(noComponent.message).toBe('project OPS has no component "databse"; it has "api", "web", "database"');
    const required = await expectJiraError(jira.fileIssue(draft({ issueType: 'Incident' })));
    expect(required.message).toContain('Jira requires "Customer impact" (customfield_10010) for a Incident in OPS, which Drydock does not fill');
    const noType = await expectJiraError(jira.fileIssue(draft({ issueType: 'Story' })));
    expect(noType.message).toBe('project OPS has no issue type "Story"; it has Bug, Task, Incident');
    const noProject = await expectJiraError(jira.fileIssue(draft({ project: 'NOPE' })));
    expect(noProject).toMatchObject({ reason: 'not_found', status: 404 });
    expect(noProject.message).toContain("No project could be found with key 'NOPE'.");

    double.attachmentSettings = { enabled: true, uploadLimit: 1_000 };
    const tooBig = await expectJiraError(jira.fileIssue(draft(), { filename: 'b.tar.gz', file: await openAsBlob(bundlePath) }));
    expect(tooBig).toMatchObject({ reason: 'attachment_refused' });
    expect(tooBig.message).toBe("b.tar.gz is 300000 bytes, over Jira's attachment limit of 1000 bytes: lower the bundle's limits or file the issue without it");
    double.attachmentSettings = { enabled: true, uploadLimit: 10_000_000 };
    const cannotAttach = await expectJiraError(client('viewer').fileIssue(draft(), { filename: 'b.tar.gz', file: await openAsBlob(bundlePath) }));
    expect(cannotAttach.message).toBe('the Jira account may not add attachments in OPS: ask a Jira administrator for the CREATE_ATTACHMENTS permission');

    expect(double.issues.size).toBe(0);
    expect(double.requests.filter((r) => r.method === 'POST')).toEqual([]);

    // Sent anyway, Jira's own errors come back per field.
    const direct = await expectJiraError(jira.createIssue(draft({ components: ['databse'], issueType: 'Incident', summary: '' })));
    expect(direct).toMatchObject({ reason: 'rejected', status: 400, fields: { components: "Component name 'databse' is not valid", customfield_10010: 'Customer impact is required.', summary: 'You must specify a summary of the issue.' } });
    expect(direct.message).toContain(`Jira at ${double.url} refused the new issue in OPS (HTTP 400): `);
  });

  test('an attachment that fails after the issue exists is retried; one that keeps failing is reported with the issue, which is kept', async () => {
    const jira = client();
    double.fail({ method: 'POST', path: /\/attachments$/, status: 503 });
    const retried = await jira.fileIssue(draft(), { filename: 'run.tar.gz', file: await openAsBlob(bundlePath) });
    expect(retried.attachment.status).toBe('attached');
    expect(waits).toEqual([1_000]);
    expect(double.issues.get('OPS-1')!.attachments).toHaveLength(1);

    double.fail({ method: 'POST', path: /\/attachments$/, status: 429, headers: { 'retry-after': '7' }, body: { errorMessages: ['Rate limit exceeded.'], errors: {} } });
    const limited = await jira.fileIssue(draft(), { filename: 'run.tar.gz', file: await openAsBlob(bundlePath) });
    expect(limited.attachment.status).toBe('attached');
    expect(waits).toEqual([1_000, 7_000]);
    double.fail({ method: 'POST', path: /\/attachments$/, status: 429, headers: { 'retry-after': '3600' } });
    const tooLong = await jira.fileIssue(draft(), { filename: 'run.tar.gz', file: await openAsBlob(bundlePath) });
    expect(tooLong.attachment).toMatchObject({ status: 'failed', attempts: 1 });
    expect(waits).toEqual([1_000, 7_000]);

    double.fail({ method: 'POST', path: /\/attachments$/, drop: true, times: 3 });
    const failed = await jira.fileIssue(draft(), { filename: 'run.tar.gz', file: await openAsBlob(bundlePath) });
    expect(failed.issue.key).toBe('OPS-4');
    expect(failed.attachment).toEqual({
      status: 'failed',
      attempts: 3,
      message: expect.stringMatching(new RegExp(`^OPS-4 was created \\(${double.url}/browse/OPS-4\\), but the bundle could not be attached after 3 attempts: Jira at ${double.url} cannot be reached for the attachment run\\.tar\\.gz to OPS-4: .+\\. Attach it to OPS-4 again from the run, or by hand$`)),
    });
    expect(double.issues.get('OPS-4')!.attachments).toEqual([]);

    double.fail({ method: 'POST', path: /\/attachments$/, status: 403, body: { errorMessages: ['You do not have permission to create attachments for this issue.'], errors: {} } });
    const refused = await jira.fileIssue(draft(), { filename: 'run.tar.gz', file: await openAsBlob(bundlePath) });
    expect(refused.attachment).toMatchObject({ status: 'failed', attempts: 1 });
    expect((refused.attachment as { message: string }).message).toContain('(403): You do not have permission to create attachments for this issue.');
  });

  test('links a run to an existing issue, once however often it is asked; a missing or malformed key is refused', async () => {
    const jira = client();
    await jira.createIssue(draft());
    const link = { runId: '0195f3c2', url: 'https://drydock.example.test/runs/0195f3c2', title: 'Drydock run 0195f3c2', summary: 'deploy-db on db-1: failed' };
    expect(await jira.linkRun('OPS-1', link)).toMatchObject({ key: 'OPS-1', status: { category: 'new' } });
    await jira.linkRun('OPS-1', { ...link, resolved: true });
    expect(double.issues.get('OPS-1')!.remoteLinks).toEqual([
      { id: 1, globalId: 'drydock:run:0195f3c2', application: { type: 'io.drydock', name: 'Drydock' }, relationship: 'Drydock run', object: { url: link.url, title: link.title, summary: link.summary, status: { resolved: true } } },
    ]);
    const missing = await expectJiraError(jira.linkRun('OPS-999', link));
    expect(missing).toMatchObject({ reason: 'not_found', status: 404 });
    expect(missing.message).toBe(`Jira at ${double.url} found nothing for issue OPS-999 (404): Issue does not exist or you do not have permission to see it.`);
    const before = double.requests.length;
    for (const key of ['OPS 12', '../myself', 'OPS-1/remotelink', '12']) {
      expect(await expectJiraError(jira.linkRun(key, link))).toMatchObject({ reason: 'invalid_input' });
    }
    expect(double.requests.length).toBe(before);
  });

  test('finds the open issue of a script and host, and none once it is done or for another host', async () => {
    const jira = client();
    const fingerprint = { scriptId: 'deploy-db', hostId: 'db-1' };
    expect(await jira.findOpenIssue(fingerprint, 'OPS')).toBeNull();
    await jira.createIssue(draft());
    await jira.createIssue(draft({ fingerprint: { scriptId: 'deploy-db', hostId: 'db-2' } }));
    expect(await jira.findOpenIssue(fingerprint, 'OPS')).toMatchObject({ key: 'OPS-1', status: { category: 'new' } });
    expect(await jira.findOpenIssue(fingerprint)).toMatchObject({ key: 'OPS-1' });
    double.transition('OPS-1', 'Done', 'done');
    expect(await jira.findOpenIssue(fingerprint, 'OPS')).toBeNull();
    await jira.createIssue(draft());
    expect(await jira.findOpenIssue(fingerprint, 'OPS')).toMatchObject({ key: 'OPS-3' });
    const search = double.requests.filter((r) => r.path.includes('/search'));
    expect(search.every((r) => r.path === (deployment === 'cloud' ? '/rest/api/3/search/jql' : '/rest/api/2/search') && r.status === 200)).toBe(true);
  });

  test('a wrong token or an unreachable Jira is a clear error that never holds the token', async () => {
    const secret = 'leaky-secret-token-value-123';
    const err = await expectJiraError(client('alice', secret).getIssue('OPS-1'));
    expect(err).toMatchObject({ reason: 'bad_credentials', status: 401, retryable: false });
    for (const text of [err.message, err.stack ?? '', JSON.stringify(err), inspect(err, { depth: 20 })]) expect(text).not.toContain(secret);

    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const down = createJiraClient({ ...connection(double, 'alice', secret), url: `http://127.0.0.1:${port}` });
    const unreachable = await expectJiraError(down.getIssue('OPS-1'));
    expect(unreachable).toMatchObject({ reason: 'unreachable', retryable: true });
    expect(unreachable.message).toMatch(new RegExp(`^Jira at http://127\\.0\\.0\\.1:${port} cannot be reached for issue OPS-1: ECONNREFUSED`));
    expect(inspect(unreachable, { depth: 20 })).not.toContain(secret);
    const report = await down.testConnection();
    expect(report.checks).toEqual([{ name: 'server', ok: false, detail: expect.stringContaining('cannot be reached for serverInfo') }]);
  });
});

describe('Jira connection edge cases', () => {
  let page: Server;
  let pageUrl: string;
  beforeAll(async () => {
    // An intranet page, or a proxy's login form: something answers, but not Jira.
    page = createServer((req, res) => {
      if (req.url?.startsWith('/jira/')) res.writeHead(302, { location: 'https://sso.example.test/login' }).end();
      else res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>Welcome to the intranet</body></html>');
    });
    await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
    pageUrl = `http://127.0.0.1:${(page.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => page.close(resolve));
  });

  test('a URL that is not Jira, or redirects to a sign-in page, is named as a wrong URL', async () => {
    const notJira = await createJiraClient({ deployment: 'cloud', url: pageUrl, email: 'a@example.com', apiToken: 't' }).testConnection();
    expect(notJira.checks[0]).toEqual({ name: 'server', ok: false, detail: `${pageUrl} answered, but not as Jira's REST API: check the URL` });
    const redirected = await expectJiraError(createJiraClient({ deployment: 'data_center', url: `${pageUrl}/jira`, personalAccessToken: 't' }).getIssue('OPS-1'));
    expect(redirected).toMatchObject({ reason: 'wrong_url', status: 302 });
    expect(redirected.message).toBe(`Jira at ${pageUrl}/jira answered issue OPS-1 with a redirect to https://sso.example.test/login: give Drydock Jira's base URL (the address its pages are under)`);
    expect(() => createJiraClient({ deployment: 'cloud', url: 'example.atlassian.net', email: 'a', apiToken: 'b' })).toThrow('"example.atlassian.net" is not a URL');
  });

  test('JQL values survive quotes and backslashes, as the double parses JQL', () => {
    for (const value of ['plain', 'with "quotes"', 'back\\slash\\', '\\"', "it's", 'AND labels = "x"']) {
      expect(parseJql(`labels = ${jqlString(value)} AND statusCategory != Done`).clauses[0]!.value).toBe(value);
    }
  });

  // Writing, hashing and uploading 160 MiB, with a full collection every 250 ms to sample memory, takes a minute on a busy machine.
  test('a large bundle is attached from disk as it is sent: memory does not grow with it', { timeout: 180_000 }, async () => {
    const double = await startJiraDouble({ deployment: 'cloud', projects: PROJECTS, users: USERS, attachments: { enabled: true, uploadLimit: 512 * 1024 * 1024 } });
    try {
      const file = join(dir, 'large.tar.gz');
      const fh = await open(file, 'w');
      const block = Buffer.alloc(1024 * 1024, 0x5a);
      const hash = createHash('sha256');
      for (let i = 0; i < 160; i++) {
        block.writeUInt32LE(i, 0);
        hash.update(block);
        await fh.write(block);
      }
      await fh.close();
      const jira = createJiraClient(connection(double));
      await jira.createIssue(draft());
      const blob = await openAsBlob(file);
      const { result: added, peakBytes } = await peakLiveMemory(() => jira.attach('OPS-1', { filename: 'large.tar.gz', file: blob }), 250);
      expect(added.size).toBe(160 * 1024 * 1024);
      expect(double.issues.get('OPS-1')!.attachments[0]!.sha256).toBe(hash.digest('hex'));
      // The double reads the upload in the same process, so this bounds both ends of the wire.
      // Measured at 46 to 48 MiB on some runs (the socket's and the double's buffers at full speed): well under the file's 160.
      expect(peakBytes).toBeLessThan(64 * 1024 * 1024);
    } finally {
      await double.close();
    }
  });
});
