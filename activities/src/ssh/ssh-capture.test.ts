import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test as baseTest } from 'vitest';
import { freePort } from '@drydock/core';
import type { AgentScriptJob, EnvironmentSnapshot } from '@drydock/core/run-contract';
import { agentScriptJob } from '@drydock/core/testing';
import { NO_SERVICE_MANAGER, NOT_LOOKED_UP, REFUSED_NAME } from '../operations/inventory-answers.ts';
import { type CapturedContent, captureOverSsh, type SshCaptureOptions, inventoryEnv, inventoryFromFacts, removeWorkDir } from './ssh-capture.ts';
import { openSession, type SshSession } from './ssh-connection.ts';
import { runJobInSession } from './ssh-transport.ts';
import { keyPair, type Sshd, startSshd } from './sshd-fixtures.ts';

// Capture after a script on a real OpenSSH server: the snapshot gathered there, the files fetched over SFTP.

const MB = 1024 * 1024;

interface Host {
  dir: string;
  session: SshSession;
  where: string;
  sshd: Sshd;
  target: Parameters<typeof runJobInSession>[1]['target'];
}

const test = baseTest.extend('host', { scope: 'file' }, async ({}, { onCleanup }): Promise<Host> => {
  const dir = await mkdtemp(join(tmpdir(), 'drydock-sshcap-'));
  await chmod(dir, 0o755);
  const client = await keyPair(join(dir, 'client'));
  await keyPair(join(dir, 'host'));
  await writeFile(join(dir, 'authorized_keys'), `${client.publicKey}\n`);
  const sshd = await startSshd({ dir, port: await freePort(), hostKeyFile: join(dir, 'host') });
  const target = { host: '127.0.0.1', port: sshd.port, username: 'root', auth: { kind: 'ssh_key' as const, privateKey: client.privateKey }, knownHostKey: null };
  const session = await openSession(target, new AbortController().signal);
  onCleanup(async () => {
    session.close();
    await sshd.stop();
    await rm(dir, { recursive: true, force: true });
  });
  return { dir, session, where: `root@127.0.0.1:${sshd.port}`, sshd, target };
});

const SCRIPT = `set -e
mkdir -p out/deep
echo "report of $DRYDOCK_RUN_ID" > out/report.txt
echo nested > out/deep/nested.log
head -c ${3 * MB} /dev/zero > out/big.bin
echo hidden > out/.hidden.txt
ln -s /etc/passwd out/escape.txt
ln -s report.txt out/alias.txt
ln -s missing.txt out/dangling.txt
ln -s / out/root
mkfifo out/pipe.txt
echo "token is $DRYDOCK_PARAM_API_TOKEN"
`;

/** Capture of attempt 1 of `job` on the test's host. */
function captureOn(host: Host, job: AgentScriptJob, o: Pick<SshCaptureOptions, 'workDir' | 'scriptEnv' | 'limits' | 'store' | 'log'>) {
  return captureOverSsh({ session: host.session, where: host.where, job, capture: job.capture!, attempt: 1, signal: new AbortController().signal, ...o });
}

async function runAndCapture(host: Host, globs: string[], limits = { maxFileBytes: 2 * MB, maxRunBytes: 200 * MB }) {
  const job = agentScriptJob({
    content: SCRIPT,
    params: { api_token: 'cap-secret-1234' },
    secretNames: ['api_token'],
    capture: { environment_snapshot: true, artifacts: globs, packages: ['bash', 'no-such-package-xyz', 'libc6:amd64'], services: ['ssh'] },
  });
  const exit = await runJobInSession(host.session, { target: host.target, job, onLine: () => {}, signal: new AbortController().signal, workDirBase: host.dir, keepWorkDir: true });
  expect(exit.exitCode).toBe(0);
  expect(exit.workDir).toMatch(new RegExp(`^${host.dir}/drydock-ssh\\.`));
  const stored: CapturedContent[] = [];
  const lines: string[] = [];
  await captureOn(host, job, {
    workDir: exit.workDir,
    scriptEnv: { DRYDOCK_RUN_ID: 'run-1', DRYDOCK_PARAM_API_TOKEN: 'cap-secret-1234' },
    limits,
    store: async (file) => {
      stored.push(file);
      return { size: file.content.byteLength, sha256: createHash('sha256').update(file.content).digest('hex') };
    },
    log: (line) => lines.push(line),
  });
  return { workDir: exit.workDir!, stored, lines };
}

describe('capture over SSH', () => {
  test('takes the snapshot and the matching files, refuses escaping links and oversized files naming the limit, and removes the directory', async ({ host }) => {
    const { workDir, stored, lines } = await runAndCapture(host, ['out/*.txt', 'out/**/*.log', 'out/big.bin', 'out/root', 'out/pipe.txt', 'out/*.csv']);
    expect(stored.map((f) => [f.name, f.kind])).toEqual([
      ['drydock-environment.json', 'environment'],
      ['out/alias.txt', 'artifact'],
      ['out/deep/nested.log', 'artifact'],
      ['out/report.txt', 'artifact'],
    ]);
    expect(Buffer.from(stored.find((f) => f.name === 'out/alias.txt')!.content).toString()).toBe('report of run-1\n');
    expect(stored.find((f) => f.name === 'out/report.txt')!.contentType).toBe('text/plain; charset=utf-8');
    expect(lines).toContain('artifact out/escape.txt not captured: it leads outside the run\'s work directory (a symlink to /etc/passwd)');
    expect(lines).toContain('artifact out/root not captured: it leads outside the run\'s work directory (a symlink to /)');
    expect(lines).toContain('artifact out/dangling.txt not captured: it is a symlink to nothing');
    expect(lines).toContain('artifact out/pipe.txt not captured: it is not a regular file');
    expect(lines).toContain('artifact out/big.bin not captured: 3 MB is over the per-file limit of 2 MB (DRYDOCK_ARTIFACT_MAX_FILE_MB)');
    expect(lines).toContain('artifact glob out/*.csv matched no file');
    expect(lines.some((l) => l.includes('.hidden.txt'))).toBe(false);
    expect(lines.at(-1)).toMatch(/^captured 4 files \(.+\) from attempt 1$/);

    const snapshot = JSON.parse(Buffer.from(stored[0]!.content).toString()) as EnvironmentSnapshot;
    expect(snapshot.host.os).toMatchObject({ type: 'Linux', platform: 'linux', arch: process.arch });
    expect(snapshot.host.os.release).not.toBe('');
    expect(snapshot.host.distribution?.ID).toBe('debian');
    expect(snapshot.host.cpus.count).toBeGreaterThan(0);
    expect(snapshot.host.memory.totalMb).toBeGreaterThan(0);
    expect(snapshot.disk).toMatchObject({ path: workDir, totalMb: expect.any(Number) });
    expect(snapshot.disk!.totalMb).toBeGreaterThan(0);
    expect(snapshot.interpreter).toMatchObject({ name: 'bash', command: 'bash', version: expect.stringContaining('bash') });
    expect(snapshot.environment).toMatchObject({ DRYDOCK_RUN_ID: 'run-1', DRYDOCK_PARAM_API_TOKEN: '••••••' });
    expect(snapshot.environment.PATH).toBeTruthy();
    expect(Object.keys(snapshot.environment).filter((n) => n.startsWith('DRYDOCK_OP_'))).toEqual([]);
    expect(JSON.stringify(snapshot)).not.toContain('cap-secret-1234');
    // The sshd fixture is this Debian machine: dpkg-query answers, and it was not booted with systemd.
    const bash = execFileSync('dpkg-query', ['-W', '-f=${Version}', 'bash'], { encoding: 'utf8' });
    expect(snapshot.packages).toEqual([
      { name: 'bash', version: bash, source: 'dpkg' },
      { name: 'no-such-package-xyz', version: null, source: 'dpkg', error: 'dpkg-query: no packages found matching no-such-package-xyz' },
      process.arch === 'x64' ? { name: 'libc6:amd64', version: expect.stringMatching(/^2\./), source: 'dpkg' } : expect.objectContaining({ name: 'libc6:amd64' }),
    ]);
    expect(snapshot.services).toEqual([{ name: 'ssh', state: null, manager: null, error: NO_SERVICE_MANAGER }]);
    expect(Object.keys(snapshot.environment).filter((n) => n === 'DRYDOCK_NAME' || n === 'LC_ALL')).toEqual([]);

    expect(existsSync(workDir)).toBe(true);
    const removed: string[] = [];
    await removeWorkDir(host.session, host.where, workDir, (line) => removed.push(line));
    expect(removed).toEqual([]);
    expect(existsSync(workDir)).toBe(false);
  });

  test('the per-run limit counts everything the attempt kept, the snapshot included', async ({ host }) => {
    const { stored, lines, workDir } = await runAndCapture(host, ['out/big.bin', 'out/report.txt'], { maxFileBytes: 50 * MB, maxRunBytes: 3 * MB });
    expect(stored.map((f) => f.name)).toEqual(['drydock-environment.json', 'out/report.txt']);
    expect(lines).toContainEqual(expect.stringMatching(/^artifact out\/big\.bin not captured: 3 MB more would bring this attempt's captures to .+, over the per-run limit of 3 MB \(DRYDOCK_ARTIFACT_MAX_RUN_MB\)$/));
    await removeWorkDir(host.session, host.where, workDir, () => {});
  });

  test('a work directory of a host operation is none, and the clean-up leaves anything else alone', async ({ host }) => {
    const lines: string[] = [];
    const job = agentScriptJob({ operation: { type: 'file_validation', path: '/etc/hostname', checks: ['exists'] }, interpreter: null, content: null, capture: { environment_snapshot: false, artifacts: ['*.log'] } });
    await captureOn(host, job, { workDir: null, scriptEnv: {}, limits: { maxFileBytes: MB, maxRunBytes: MB }, store: async () => ({ size: 0, sha256: '' }), log: (line) => lines.push(line) });
    expect(lines).toEqual(['no artifacts captured: a host operation has no work directory to take files from']);

    const keep = join(host.dir, 'not-a-run-dir');
    await writeFile(keep, 'x');
    const said: string[] = [];
    await removeWorkDir(host.session, host.where, keep, (line) => said.push(line));
    expect(existsSync(keep)).toBe(true);
    expect(said[0]).toMatch(/^could not remove the run's work directory/);
  });
});

describe('packages and services from the snapshot program’s facts', () => {
  const exit = { exitCode: 0, signal: null, timedOut: false, cancelled: false, durationMs: 1, stderrTail: '', workDir: null };

  test('names go as numbered variables; one the schema refuses is not sent', () => {
    expect(inventoryEnv({ packages: ['openssl', '$(reboot)', 'nginx'], services: [] })).toEqual({
      DRYDOCK_OP_PACKAGES: '2',
      DRYDOCK_OP_PACKAGE_0: 'openssl',
      DRYDOCK_OP_PACKAGE_1: 'nginx',
      DRYDOCK_OP_SERVICES: '0',
    });
  });

  test('on an RPM host with systemd: rpm’s answers and systemctl show’s, judged as on an agent', () => {
    const facts: [string, string][] = [
      ['pkg-tools', 'rpm'],
      ['pkg-out', '0 rpm 3.0.7-27.el9'],
      ['pkg-rc', '0 rpm 0'],
      ['pkg-out', '1 rpm package nginx is not installed'],
      ['pkg-rc', '1 rpm 1'],
      ['pkg-late', '2'],
      ['svc-manager', 'systemd'],
      ['svc-out', '0 systemd LoadState=loaded'],
      ['svc-out', '0 systemd ActiveState=active'],
      ['svc-rc', '0 systemd 0'],
      ['svc-rc', '1 systemd 124'],
    ];
    expect(inventoryFromFacts({ facts, exit }, { packages: ['openssl', '-rf', 'nginx', 'curl'], services: ['sshd', 'postgresql'] })).toEqual({
      packages: [
        { name: 'openssl', version: '3.0.7-27.el9', source: 'rpm' },
        { name: '-rf', version: null, source: null, error: REFUSED_NAME },
        { name: 'nginx', version: null, source: 'rpm', error: 'rpm: package nginx is not installed' },
        { name: 'curl', version: null, source: null, error: NOT_LOOKED_UP },
      ],
      services: [
        { name: 'sshd', state: 'active', manager: 'systemd' },
        { name: 'postgresql', state: null, manager: 'systemd', error: 'systemctl gave no answer within 5 s' },
      ],
    });
  });
});
