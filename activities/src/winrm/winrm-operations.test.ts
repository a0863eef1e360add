import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test as baseTest } from 'vitest';
import type { Operation, OperationResult } from '@drydock/core/operations';
import { operationRefusal } from '@drydock/core/operations';
import type { AgentScriptJob, EnvironmentSnapshot } from '@drydock/core/run-contract';
import { agentScriptJob } from '@drydock/core/testing';
import type { StoreCaptured } from '../central-capture.ts';
import { runOperation } from '../operations/run-operation.ts';
import { FILE_VALIDATION_PROGRAM, HTTP_PROGRAM, SHELL_COMMAND_PROGRAM, SNAPSHOT_PROGRAM, WINDOWS_SERVICE_PROGRAM } from './operation-programs.ts';
import { WRAPPER_ARGUMENTS, WRAPPER_COMMAND, type WinrmInvocation } from './powershell-wrapper.ts';
import { captureOverWinrm, windowsFacts, windowsSnapshot } from './winrm-capture.ts';
import { selfSignedCertificate, type FakeWinrm, startFakeWinrm } from './winrm-fake-server.ts';
import { type RunWinrmInvocation, winrmOperations } from './winrm-operations.ts';
import type { WinrmTarget } from './winrm-transport.ts';

// No Windows host runs here, so the PowerShell programs never ran on Windows. These tests check what is sent
// (through the fake WS-Man server, which records it) and how the programs' documented answers are judged.

const USER = 'drydock';
const PASSWORD = 'Pa55-w0rd!';
const WHERE = 'drydock@win-1:5986';

const test = baseTest.extend('winrm', async ({}, { onCleanup }): Promise<FakeWinrm> => {
  const dir = await mkdtemp(join(tmpdir(), 'drydock-winrmops-'));
  const fake = await startFakeWinrm({ dir, certificate: await selfSignedCertificate(dir, 'host'), auth: 'basic', username: USER, password: PASSWORD, env: process.env });
  onCleanup(async () => {
    await fake.stop();
    await rm(dir, { recursive: true, force: true });
  });
  return fake;
});

/**
 * A Windows host as the programs describe it: `answer` gets each invocation (the program and its inputs, decoded
 * as the wrapper would) and says which fact lines and other output it prints, and with which exit code.
 */
function host(answer: (invocation: WinrmInvocation) => { facts?: [string, string][]; output?: string[]; exitCode?: number; timedOut?: boolean }) {
  const seen: WinrmInvocation[] = [];
  const run: RunWinrmInvocation = async (invocation, context) => {
    seen.push(invocation);
    const tag = invocation.env.DRYDOCK_OP_TAG!;
    const said = answer(invocation);
    for (const [key, value] of said.facts ?? []) context.onLine({ stream: 'stdout', line: `${tag} ${key} ${value}`, ts: new Date() });
    for (const line of said.output ?? []) context.onLine({ stream: 'stdout', line, ts: new Date() });
    return {
      certFingerprint: 'AB:CD',
      exit: { exitCode: said.timedOut ? null : (said.exitCode ?? 0), signal: null, timedOut: said.timedOut ?? false, cancelled: false, durationMs: 5, stderrTail: '' },
    };
  };
  return { seen, execute: winrmOperations({ target: {} as WinrmTarget, where: WHERE, run }) };
}

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

function over(execute: ReturnType<typeof host>['execute'], op: Operation): Promise<OperationResult> {
  return runOperation(op, { signal: new AbortController().signal, secrets: {}, execute });
}

describe('what an operation sends over WinRM', () => {
  test('the wrapper’s constant command line, the fixed program as its script, and every input as a variable in the job document', async ({ winrm }) => {
    const hostile = `C:\\data\\"$(Remove-Item C:\\)" & del /q * ; 'x' %PATH% \`n`;
    const target: WinrmTarget = { host: '127.0.0.1', port: winrm.port, https: true, username: USER, password: PASSWORD, auth: 'basic', certFingerprint: null };
    const ops: [Operation, string][] = [
      [{ type: 'file_validation', path: hostile, checks: ['exists', `contains:${hostile}`] }, FILE_VALIDATION_PROGRAM],
      [{ type: 'shell_command', command: ['robocopy.exe', hostile], working_directory: hostile, environment: { APP_MODE: hostile } }, SHELL_COMMAND_PROGRAM],
      [{ type: 'service_health', windows_service: { name: 'W32Time', expect: 'Running' } }, WINDOWS_SERVICE_PROGRAM],
      [{ type: 'service_health', http: { url: 'http://localhost:8080/health?q=%22x%22' } }, HTTP_PROGRAM],
    ];
    for (const [op, program] of ops) {
      // The fake runs a script body with bash, not PowerShell: the check fails, and what was sent is what counts here.
      await runOperation(op, { signal: new AbortController().signal, secrets: {}, execute: winrmOperations({ target, where: WHERE }) });
      const command = winrm.commands.at(-1)!;
      expect(command.command).toBe(WRAPPER_COMMAND);
      expect(command.args).toEqual(WRAPPER_ARGUMENTS);
      const document = JSON.parse(command.stdin.toString('utf8')) as { v: number; env: { n: string; v: string }[]; script: string; argv: string[] };
      expect(Buffer.from(document.script, 'base64').toString('utf8')).toBe(program);
      expect(document.argv).toEqual([]);
      const env = Object.fromEntries(document.env.map(({ n, v }) => [n, Buffer.from(v, 'base64').toString('utf8')]));
      expect(Object.keys(env).every((n) => /^DRYDOCK_OP_[A-Z0-9_]+$/.test(n))).toBe(true);
      expect(env.DRYDOCK_OP_TAG).toMatch(/^[0-9a-f]{16}$/);
      if (op.type === 'file_validation') expect(env).toMatchObject({ DRYDOCK_OP_PATH: hostile, DRYDOCK_OP_NEEDLES: '1', DRYDOCK_OP_NEEDLE_0: hostile });
      if (op.type === 'shell_command') {
        expect(env).toMatchObject({ DRYDOCK_OP_ARGC: '2', DRYDOCK_OP_ARG_0: 'robocopy.exe', DRYDOCK_OP_ARG_1: hostile, DRYDOCK_OP_CWD: hostile });
        expect(env).toMatchObject({ DRYDOCK_OP_ENVS: '1', DRYDOCK_OP_ENV_NAME_0: 'APP_MODE', DRYDOCK_OP_ENV_VALUE_0: hostile });
      }
      if (op.type === 'service_health' && op.http) expect(env).toMatchObject({ DRYDOCK_OP_URL: 'http://localhost:8080/health?q=%22x%22', DRYDOCK_OP_METHOD: 'GET' });
      // No value is in the programs' text or on the command line.
      expect(JSON.stringify(winrm.requests.map((r) => r.xml))).not.toContain('Remove-Item C:');
    }
  });

  test('database_query is refused before a run starts, and by the executor if one arrives', async () => {
    const op: Operation = { type: 'database_query', engine: 'postgresql', connection: { host: 'db', database: 'app', user: 'app' }, query: 'SELECT 1' };
    expect(operationRefusal(op, 'winrm', 'win-1')).toBe(
      'database_query does not run over WinRM (a WinRM shell cannot carry a database connection); run it on win-1 through an agent, or over SSH from a host that reaches the database',
    );
    expect(operationRefusal({ type: 'service_health', systemd: { unit: 'nginx.service', expect: 'active' } }, 'winrm', 'win-1')).toMatch(/^systemd checks run on Linux hosts/);
    expect(operationRefusal({ type: 'file_validation', path: 'C:\\x', checks: ['exists'] }, 'winrm', 'win-1')).toBeNull();
    const { seen, execute } = host(() => ({}));
    const result = await over(execute, op);
    expect(result.ok).toBe(false);
    expect(result.checks[0]!.detail).toMatch(/^database_query does not run over WinRM/);
    expect(seen).toEqual([]);
  });
});

describe('what a Windows host answers, judged as on an agent', () => {
  test('shell_command: the program’s output and exit code; a missing program or directory in the agent’s words', async () => {
    const ok = await over(host(() => ({ facts: [['start', '']], output: ['copied 3 files'], exitCode: 0 })).execute, { type: 'shell_command', command: ['robocopy.exe', 'a', 'b'] });
    expect(ok).toMatchObject({ ok: true, value: 0, checks: [{ name: 'exit code', ok: true, detail: 'exited with code 0' }] });
    expect(ok.output).toEqual(['$ robocopy.exe a b', 'copied 3 files', 'exited with code 0']);
    const failed = await over(host(() => ({ facts: [['start', '']], exitCode: 8 })).execute, { type: 'shell_command', command: ['robocopy.exe'] });
    expect(failed.checks[0]).toEqual({ name: 'exit code', ok: false, detail: 'exited with code 8, expected 0' });
    const missing = await over(host(() => ({ facts: [['noprogram', '']], exitCode: 127 })).execute, { type: 'shell_command', command: ['nope.exe'] });
    expect(missing.checks[0]!.detail).toBe('could not start nope.exe: no such program on PATH');
    const nowhere = await over(host(() => ({ facts: [['nocwd', '']], exitCode: 125 })).execute, { type: 'shell_command', command: ['cmd.exe'], working_directory: 'D:\\nope' });
    expect(nowhere.checks[0]!.detail).toBe('working directory D:\\nope does not exist or is not a directory');
    const slow = await over(host(() => ({ facts: [['start', '']], timedOut: true })).execute, { type: 'shell_command', command: ['ping.exe'], timeout_seconds: 2 });
    expect(slow.checks[0]!.detail).toBe('timed out after 2 s; process group killed');
  });

  test('file_validation: Get-Item’s facts, an opened file, a ReadOnly attribute, a text found', async () => {
    const { execute } = host(() => ({
      facts: [
        ['user64', b64('LAB\\deployer')],
        ['admin', 'False'],
        ['stat', `file|${3 * 1024 * 1024}|${Date.now() - 60_000}`],
        ['readable', 'yes'],
        ['writable', 'no'],
        ['writable64', b64('the file has the ReadOnly attribute')],
        ['length', String(3 * 1024 * 1024)],
        ['found', '0 yes'],
      ],
    }));
    const result = await over(execute, { type: 'file_validation', path: 'D:\\backup\\db.bak', checks: ['exists', 'readable', 'writable', 'size_gt_mb:2', 'modified_within:1h', 'contains:BACKUP'] });
    expect(result.checks.map((c) => [c.name, c.ok, c.detail])).toEqual([
      ['exists', true, 'exists (a regular file, 3.0 MB)'],
      ['readable', true, 'readable by the WinRM user LAB\\deployer'],
      ['writable', false, 'not writable by the WinRM user LAB\\deployer: the file has the ReadOnly attribute'],
      ['size_gt_mb:2', true, 'size 3.0 MB (3145728 bytes) > 2 MB'],
      ['modified_within:1h', true, expect.stringMatching(/^modified 60 s ago/)],
      ['contains:BACKUP', true, 'contains "BACKUP"'],
    ]);
    const missing = await over(host(() => ({ facts: [['user64', b64('LAB\\deployer')], ['missing', 'absent']] })).execute, { type: 'file_validation', path: 'D:\\nope', checks: ['exists'] });
    expect(missing.checks[0]!.detail).toBe('file does not exist');
  });

  test('service_health: the service controller’s Status, or Win32 error 1060 for a service that is not installed', async () => {
    const running = await over(host(() => ({ facts: [['state', 'Running']] })).execute, { type: 'service_health', windows_service: { name: 'W32Time', expect: 'Running' } });
    expect(running).toMatchObject({ ok: true, value: 'Running', checks: [{ name: 'state', ok: true, detail: 'W32Time is Running' }] });
    const stopped = await over(host(() => ({ facts: [['state', 'Stopped']] })).execute, { type: 'service_health', windows_service: { name: 'W32Time', expect: 'Running' } });
    expect(stopped.checks[0]!.detail).toBe('W32Time is Stopped, expected Running');
    // The text .NET gives InvalidOperationException for a missing service, around Win32Exception 1060.
    const missing = await over(
      host(() => ({ facts: [['error', '1060'], ['message64', b64("Exception getting \"Status\": \"Service Nope was not found on computer '.'.\"")]] })).execute,
      { type: 'service_health', windows_service: { name: 'Nope', expect: 'Running' } },
    );
    expect(missing.checks[0]!.detail).toBe('no service named Nope is installed (give its service name, not its display name)');
  });

  test('service_health over HTTP: the status and body from the host; WebException statuses in the agent’s words', async () => {
    const ok = await over(
      host(() => ({ facts: [['status', '200'], ['reason64', b64('OK')], ['body', b64('status: healthy\n')], ['bodyend', '']] })).execute,
      { type: 'service_health', http: { url: 'http://localhost:8080/health', expect_body_contains: 'healthy' } },
    );
    expect(ok).toMatchObject({ ok: true, value: 200, checks: [{ detail: '200 OK' }, { detail: 'body (16 bytes) contains "healthy"' }] });
    const moved = await over(host(() => ({ facts: [['status', '301'], ['reason64', b64('Moved Permanently')], ['location64', b64('/v2/health')]] })).execute, {
      type: 'service_health',
      http: { url: 'http://localhost:8080/health' },
    });
    expect(moved.checks[0]!.detail).toBe(
      '301 Moved Permanently: redirects to http://localhost:8080/v2/health, which is not followed; expected 200 (point the check at the final URL, or expect 301)',
    );
    const refused = await over(
      host(() => ({ facts: [['fail', 'ConnectFailure ConnectionRefused'], ['message64', b64('Unable to connect to the remote server')]] })).execute,
      { type: 'service_health', http: { url: 'http://localhost:8080/health' } },
    );
    expect(refused.checks[0]!.detail).toBe('cannot connect to localhost:8080: connection refused');
    const unknown = await over(host(() => ({ facts: [['fail', 'NameResolutionFailure -'], ['message64', b64('The remote name could not be resolved')]] })).execute, {
      type: 'service_health',
      http: { url: 'https://nowhere.invalid/' },
    });
    expect(unknown.checks[0]!.detail).toBe('cannot connect to nowhere.invalid: host name not found');
    const timeout = await over(host(() => ({ facts: [['fail', 'Timeout -'], ['message64', b64('The operation has timed out')]] })).execute, {
      type: 'service_health',
      http: { url: 'http://localhost:8080/slow', timeout_seconds: 3 },
    });
    expect(timeout.checks[0]!.detail).toBe('no response within 3 s');
  });
});

/** Capture of attempt 1 of `job` through `run`, storing with `store`. */
function captureFor(run: RunWinrmInvocation, job: AgentScriptJob, store: StoreCaptured, log: (line: string) => void = () => {}) {
  return captureOverWinrm({ run, job, capture: job.capture!, attempt: 1, scriptEnv: {}, limits: { maxFileBytes: 1024 * 1024, maxRunBytes: 1024 * 1024 }, store, log, signal: new AbortController().signal });
}

describe('capture over WinRM', () => {
  // Shaped as SNAPSHOT_PROGRAM builds it from Win32_OperatingSystem and Win32_Processor on Windows Server 2019.
  const facts = {
    hostname: 'WIN-UAT-1',
    caption: 'Microsoft Windows Server 2019 Datacenter',
    version: '10.0.17763',
    architecture: 'AMD64',
    uptimeSeconds: 86_400,
    totalKb: 8_388_608,
    freeKb: 4_194_304,
    logicalProcessors: 4,
    cpuModel: 'Intel(R) Xeon(R) Platinum 8272CL CPU @ 2.60GHz',
    disk: { path: 'C:\\Users\\deployer\\AppData\\Local\\Temp\\', totalBytes: 136_365_211_648, freeBytes: 100_000_000_000 },
    powershell: '5.1.17763.1852',
    environment: { Path: 'C:\\Windows\\system32', DRYDOCK_OP_TAG: 'x', API_TOKEN: 'tok-1' },
  };

  test('the snapshot has the agent’s shape, with secrets masked', () => {
    const job = agentScriptJob({ interpreter: 'powershell', params: { api_key: 'k-1' }, secretNames: ['api_key'] });
    const snapshot = windowsSnapshot(facts, job, { DRYDOCK_RUN_ID: 'run-1', DRYDOCK_PARAM_API_KEY: 'k-1' });
    expect(snapshot.host).toMatchObject({
      hostname: 'WIN-UAT-1',
      os: { type: 'Windows_NT', platform: 'win32', release: '10.0.17763', version: 'Microsoft Windows Server 2019 Datacenter', arch: 'x64', machine: 'x86_64' },
      distribution: null,
      cpus: { count: 4 },
      memory: { totalMb: 8192, freeMb: 4096 },
    });
    expect(snapshot.disk).toMatchObject({ totalMb: 130048, freeMb: 95367, usedMb: 34681 });
    expect(snapshot.interpreter).toEqual({ name: 'powershell', command: 'powershell.exe', version: 'Windows PowerShell 5.1.17763.1852' });
    expect(snapshot.environment).toEqual({ API_TOKEN: '••••••', DRYDOCK_PARAM_API_KEY: '••••••', DRYDOCK_RUN_ID: 'run-1', Path: 'C:\\Windows\\system32' });
    expect(snapshot).toMatchObject({ packages: [], services: [] });
  });

  test('the packages and services asked for go as variables, and come back in the snapshot', async () => {
    const withInventory = {
      ...facts,
      environment: { ...facts.environment, DRYDOCK_OP_PACKAGES: 'Git\nPostgreSQL' },
      packages: [{ name: 'Git', found: true, version: '2.47.1' }, { name: 'PostgreSQL', found: false }],
      services: { name: 'W32Time', state: 'Running' },
    };
    const json = b64(JSON.stringify(withInventory));
    let sent: Record<string, string> = {};
    const run: RunWinrmInvocation = async (invocation, context) => {
      sent = invocation.env;
      context.onLine({ stream: 'stdout', line: `${invocation.env.DRYDOCK_OP_TAG} json ${json}`, ts: new Date() });
      return { certFingerprint: 'AB', exit: { exitCode: 0, signal: null, timedOut: false, cancelled: false, durationMs: 1, stderrTail: '' } };
    };
    const job = agentScriptJob({ interpreter: 'powershell', capture: { environment_snapshot: true, artifacts: [], packages: ['Git', 'PostgreSQL'], services: ['W32Time'] } });
    const stored: Uint8Array[] = [];
    await captureFor(run, job, async (file) => {
      stored.push(file.content);
      return { size: file.content.byteLength, sha256: 'f'.repeat(64) };
    });
    expect(sent).toMatchObject({ DRYDOCK_OP_PACKAGES: 'Git\nPostgreSQL', DRYDOCK_OP_SERVICES: 'W32Time' });
    expect(SNAPSHOT_PROGRAM).not.toContain('PostgreSQL');
    const snapshot = JSON.parse(Buffer.from(stored[0]!).toString()) as EnvironmentSnapshot;
    expect(snapshot.packages).toEqual([
      { name: 'Git', version: '2.47.1', source: 'windows' },
      { name: 'PostgreSQL', version: null, source: 'windows', error: 'no uninstall entry has the DisplayName or key name PostgreSQL' },
    ]);
    expect(snapshot.services).toEqual([{ name: 'W32Time', state: 'Running', manager: 'windows' }]);
    expect(Object.keys(snapshot.environment).some((n) => n.startsWith('DRYDOCK_OP_'))).toBe(false);
  });

  test('the snapshot is stored; artifacts are not, and the log says why', async () => {
    const json = b64(JSON.stringify(facts));
    const run: RunWinrmInvocation = async (invocation, context) => {
      expect(invocation.script).toBe(SNAPSHOT_PROGRAM);
      for (let at = 0; at < json.length; at += 100) context.onLine({ stream: 'stdout', line: `${invocation.env.DRYDOCK_OP_TAG} json ${json.slice(at, at + 100)}`, ts: new Date() });
      return { certFingerprint: 'AB', exit: { exitCode: 0, signal: null, timedOut: false, cancelled: false, durationMs: 1, stderrTail: '' } };
    };
    const stored: string[] = [];
    const lines: string[] = [];
    const job = agentScriptJob({ interpreter: 'powershell', capture: { environment_snapshot: true, artifacts: ['out/*.log'] } });
    await captureFor(
      run,
      job,
      async (file) => {
        stored.push(file.name);
        expect(windowsFacts({ facts: [['json', json]], exit: { exitCode: 0, signal: null, timedOut: false, cancelled: false, durationMs: 1, stderrTail: '' } }).hostname).toBe('WIN-UAT-1');
        return { size: file.content.byteLength, sha256: 'f'.repeat(64) };
      },
      (line) => lines.push(line),
    );
    expect(stored).toEqual(['drydock-environment.json']);
    expect(lines[0]).toMatch(/^captured environment snapshot \(.+, sha256 ffffffffffff\)$/);
    expect(lines[1]).toBe(
      "artifacts not captured over WinRM: the run's directory is removed as the script ends and a WinRM shell has no file transfer; run the script through an agent on the host to capture out/*.log",
    );
  });
});


