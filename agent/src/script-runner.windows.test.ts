import { spawn, type SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentScriptJob } from '@drydock/core/run-contract';
import { agentScriptJob } from '@drydock/core/testing';
import { afterEach, describe, expect, test as baseTest, vi } from 'vitest';
import { reapOrphans, runScriptProcess, type ScriptLine, scriptEnvironment, scriptInvocation, type Spawner } from './script-runner.ts';

const job = agentScriptJob;
const realKill = process.kill.bind(process);

interface Call {
  command: string;
  args: readonly string[];
  options: SpawnOptions;
}

interface WindowsHost {
  dir: string;
  workDir: string;
  /** Everything the runner asked to start, taskkill included. */
  calls: Call[];
  taskkills(): string[][];
  /** Pid of the process that stood in for the script. */
  scriptPid(): number;
  /**
   * Runs `j` as the agent on Windows would. The script's command is recorded and a real `sh -c standIn` runs
   * in its place; taskkill is recorded and ends that stand-in's group, as `/T /F` would end its tree.
   */
  run(j: AgentScriptJob, standIn: string, options?: { signal?: AbortSignal; onLine?: (l: ScriptLine) => void }): Promise<{ exit: Awaited<ReturnType<typeof runScriptProcess>>; lines: ScriptLine[] }>;
}

const test = baseTest.extend('win', async ({}, { onCleanup }): Promise<WindowsHost> => {
  const dir = await mkdtemp(join(tmpdir(), 'drydock-win-runner-'));
  const calls: Call[] = [];
  let standInPid = 0;
  onCleanup(async () => {
    try {
      if (standInPid) realKill(-standInPid, 'SIGKILL');
    } catch {
      // already gone
    }
    await rm(dir, { recursive: true, force: true });
  });
  const workDir = join(dir, 'work', 'run-1-1');
  let standIn = '';
  const spawner: Spawner = (command, args, options) => {
    calls.push({ command, args, options });
    if (command === 'taskkill') {
      const pid = Number(args[args.indexOf('/PID') + 1]);
      try {
        realKill(-pid, 'SIGKILL');
      } catch {
        // nothing left to end
      }
      return spawn('true');
    }
    const child = spawn('sh', ['-c', standIn], { cwd: options.cwd, env: { PATH: process.env.PATH }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    standInPid = child.pid ?? 0;
    return child;
  };
  return {
    dir,
    workDir,
    calls,
    taskkills: () => calls.filter((c) => c.command === 'taskkill').map((c) => [...c.args]),
    scriptPid: () => standInPid,
    async run(j, script, options = {}) {
      standIn = script;
      const lines: ScriptLine[] = [];
      const exit = await runScriptProcess({
        job: j,
        workDir,
        extraEnv: {},
        signal: options.signal ?? new AbortController().signal,
        onLine: (line) => {
          lines.push(line);
          options.onLine?.(line);
        },
        platform: 'win32',
        spawn: spawner,
      });
      return { exit, lines };
    },
  };
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('on Windows', () => {
  test('a PowerShell script runs under powershell.exe with the execution policy bypassed, hidden, in no new console', async ({ win }) => {
    const { exit, lines } = await win.run(job({ interpreter: 'powershell', params: { name: 'web' }, content: 'Write-Output hi\n' }), 'echo hi');
    expect(exit).toMatchObject({ exitCode: 0, timedOut: false, cancelled: false });
    expect(lines.map((l) => l.line)).toEqual(['hi']);
    const [call] = win.calls;
    expect(call?.command).toBe('powershell.exe');
    expect(call?.args).toEqual(['-NoLogo', '-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-File', join(win.workDir, 'script.ps1'), '--name=web']);
    expect(call?.options).toMatchObject({ cwd: win.workDir, windowsHide: true });
    expect(call?.options.detached).toBeUndefined();
    // A script that ended by itself leaves nothing to end: no taskkill, which could only hit a reused pid.
    expect(win.taskkills()).toEqual([]);
  });

  test('cancel ends the whole tree with taskkill /T /F /PID <script pid>, at once and only once', async ({ win }) => {
    const groupKills = vi.spyOn(process, 'kill');
    const controller = new AbortController();
    const run = win.run(job({ interpreter: 'powershell', content: 'Start-Sleep 30\n' }), 'echo started; sleep 30', {
      signal: controller.signal,
      onLine: (l) => l.line === 'started' && controller.abort(),
    });
    const { exit } = await run;
    expect(exit.cancelled).toBe(true);
    expect(win.taskkills()).toEqual([['/T', '/F', '/PID', String(win.scriptPid())]]);
    // No POSIX process-group signal: a negative pid means nothing on Windows.
    expect(groupKills.mock.calls.filter(([pid]) => pid < 0)).toEqual([]);
  });

  test('a timeout ends the tree at once: Windows has no SIGTERM grace period to give', async ({ win }) => {
    const { exit } = await win.run(job({ interpreter: 'powershell', content: 'Start-Sleep 30\n', timeoutSeconds: 1 }), 'sleep 30');
    expect(exit.timedOut).toBe(true);
    expect(exit.durationMs).toBeLessThan(2_900);
    expect(win.taskkills()).toEqual([['/T', '/F', '/PID', String(win.scriptPid())]]);
  });

  test('records the script pid with its program name, for the next agent to end only that program', async ({ win }) => {
    let recorded = '';
    await win.run(job({ interpreter: 'powershell', content: '' }), 'echo started; sleep 0.2', {
      onLine: () => void readFile(join(win.workDir, '.drydock-pgid'), 'utf8').then((t) => (recorded = t)),
    });
    await vi.waitFor(() => expect(recorded).toBe(`${process.pid} ${win.scriptPid()} powershell.exe`));
  });

  test('when a process the script left behind holds its output open, the run still ends, and says so', async ({ win }) => {
    const { exit, lines } = await win.run(job({ interpreter: 'powershell', content: '' }), 'sleep 30 & echo done');
    expect(exit.exitCode).toBe(0);
    expect(lines.map((l) => l.line)).toEqual([
      'done',
      "the script exited, but a process it started still holds its output open and may still be running: on Windows the agent ends a script's processes only while the script runs",
    ]);
    expect(existsSync(win.workDir)).toBe(false);
  });

  test("a restarted agent ends a dead agent's script by pid, only while that pid is still the script's program", async ({ win }) => {
    const dead = spawn('true');
    await new Promise((r) => dead.once('exit', r));
    const root = join(win.dir, 'work');
    await mkdir(join(root, 'run-a-1'), { recursive: true });
    await writeFile(join(root, 'run-a-1', '.drydock-pgid'), `${dead.pid} 4242 powershell.exe`);
    await mkdir(join(root, 'run-b-1'), { recursive: true });
    await writeFile(join(root, 'run-b-1', '.drydock-pgid'), `${dead.pid} 4343 python.exe`);
    const calls: string[][] = [];
    const spawner: Spawner = (command, args) => {
      calls.push([command, ...args]);
      // taskkill's own exit codes: 0 ended it, 128 found no such process.
      return spawn('sh', ['-c', args.includes('4242') ? 'exit 0' : 'exit 128']);
    };
    const reaped = await reapOrphans(root, { platform: 'win32', spawn: spawner });
    expect(calls.sort()).toEqual([
      ['taskkill', '/T', '/F', '/FI', 'IMAGENAME eq powershell.exe', '/PID', '4242'],
      ['taskkill', '/T', '/F', '/FI', 'IMAGENAME eq python.exe', '/PID', '4343'],
    ]);
    expect(reaped.map((r) => ({ pid: r.pgid, killed: r.killed })).sort((a, b) => a.pid! - b.pid!)).toEqual([
      { pid: 4242, killed: true },
      { pid: 4343, killed: false },
    ]);
    expect(existsSync(join(root, 'run-a-1'))).toBe(false);
  });
});

describe('the environment and command line on Windows', () => {
  test('passes the variables Windows programs need, whatever their case, and still not the agent token', () => {
    const base = { Path: 'C:\\Windows\\system32', SYSTEMROOT: 'C:\\Windows', PSModulePath: 'C:\\Modules', USERPROFILE: 'C:\\Users\\agent', DRYDOCK_AGENT_TOKEN: 'dda_x', HOME: '/nope' };
    const env = scriptEnvironment(job({ params: { n: 1 } }), { DRYDOCK_RUN_ID: 'r' }, base, 'win32');
    expect(env).toEqual({
      PATH: 'C:\\Windows\\system32',
      SystemRoot: 'C:\\Windows',
      PSModulePath: 'C:\\Modules',
      USERPROFILE: 'C:\\Users\\agent',
      DRYDOCK_RUN_ID: 'r',
      DRYDOCK_PARAM_N: '1',
    });
  });

  test('runs python as python, the name the Windows installer puts on PATH', () => {
    expect(scriptInvocation(job({ interpreter: 'python' }), 'C:\\w\\script.py', {}, {}, 'win32')).toMatchObject({ command: 'python', argv: ['C:\\w\\script.py'] });
  });
});
