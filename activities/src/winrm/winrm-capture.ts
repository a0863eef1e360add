import { maskEnvironment } from '@drydock/core/job-data';
import { type AgentScriptJob, type EnvironmentSnapshot, ENVIRONMENT_SNAPSHOT_NAME, type JobCapture } from '@drydock/core/run-contract';
import { captureBudget, type CentralCaptureOptions, DRYDOCK_VERSION } from '../central-capture.ts';
import { windowsInventory, windowsInventoryEnv } from '../operations/inventory-answers.ts';
import { SNAPSHOT_PROGRAM } from './operation-programs.ts';
import { type RunWinrmInvocation, runWinrmProgram, type WinrmProgramRun } from './winrm-operations.ts';

const SNAPSHOT_SECONDS = 60;
const MB = 1024 * 1024;

/** What SNAPSHOT_PROGRAM sends, as ConvertTo-Json writes it (numbers of CIM's uint64 come as numbers). */
export interface WindowsFacts {
  hostname?: string;
  caption?: string;
  version?: string;
  architecture?: string;
  uptimeSeconds?: number;
  totalKb?: number;
  freeKb?: number;
  logicalProcessors?: number;
  cpuModel?: string | null;
  disk?: { path: string; totalBytes: number; freeBytes: number } | null;
  powershell?: string;
  environment?: Record<string, string>;
  /** WINDOWS_INVENTORY_FRAGMENT's entries, read by windowsInventory. */
  packages?: unknown;
  services?: unknown;
}

/** %PROCESSOR_ARCHITECTURE% as Node's os.arch() and os.machine() say it on Windows. */
const ARCH: Record<string, { arch: string; machine: string }> = {
  AMD64: { arch: 'x64', machine: 'x86_64' },
  ARM64: { arch: 'arm64', machine: 'arm64' },
  x86: { arch: 'ia32', machine: 'i686' },
};

/** The facts of the snapshot program: its one JSON document, sent in base64 pieces. */
export function windowsFacts(run: WinrmProgramRun): WindowsFacts {
  const b64 = run.facts
    .filter(([key]) => key === 'json')
    .map(([, value]) => value)
    .join('');
  if (b64 === '') throw new Error('the host sent no snapshot');
  return JSON.parse(Buffer.from(b64, 'base64').toString('utf8').replace(/^\uFEFF/, '')) as WindowsFacts;
}

/**
 * The agent's EnvironmentSnapshot, from what a Windows host reported: `os` as Node on Windows names it
 * (Windows_NT, win32, the version as release, the edition as version), no distribution and no load average
 * (Windows has neither, and an agent there reports none), `agent` naming this worker, which took it.
 */
export function windowsSnapshot(facts: WindowsFacts, job: AgentScriptJob, scriptEnv: Record<string, string>, capture: Pick<JobCapture, 'packages' | 'services'> = {}): EnvironmentSnapshot {
  const arch = ARCH[facts.architecture ?? ''] ?? { arch: (facts.architecture ?? '').toLowerCase(), machine: (facts.architecture ?? '').toLowerCase() };
  const login: Record<string, string> = {};
  for (const [name, value] of Object.entries(facts.environment ?? {})) if (!name.toUpperCase().startsWith('DRYDOCK_OP_')) login[name] = value;
  const disk = facts.disk;
  return {
    capturedAt: new Date().toISOString(),
    host: {
      hostname: facts.hostname ?? '',
      os: { type: 'Windows_NT', platform: 'win32', release: facts.version ?? '', version: facts.caption ?? '', arch: arch.arch, machine: arch.machine },
      distribution: null,
      uptimeSeconds: facts.uptimeSeconds ?? 0,
      loadAverage: [0, 0, 0],
      cpus: { count: facts.logicalProcessors ?? 0, model: facts.cpuModel ?? null },
      memory: { totalMb: Math.round((facts.totalKb ?? 0) / 1024), freeMb: Math.round((facts.freeKb ?? 0) / 1024) },
    },
    disk: disk
      ? { path: disk.path, totalMb: Math.round(disk.totalBytes / MB), freeMb: Math.round(disk.freeBytes / MB), usedMb: Math.round((disk.totalBytes - disk.freeBytes) / MB) }
      : null,
    interpreter:
      job.interpreter === 'powershell' ? { name: 'powershell', command: 'powershell.exe', version: facts.powershell ? `Windows PowerShell ${facts.powershell}` : null } : null,
    environment: maskEnvironment(job, { ...login, ...scriptEnv }),
    agent: { version: DRYDOCK_VERSION, node: process.version },
    ...windowsInventory(facts, capture),
  };
}

export interface WinrmCaptureOptions extends CentralCaptureOptions {
  run: RunWinrmInvocation;
}

/**
 * Capture after an attempt on a WinRM host: the environment snapshot, gathered there by a fixed program. Files
 * are not captured: the wrapper removes the run's directory as the script ends, and a WinRM shell has no file
 * transfer of its own, so the log says so.
 */
export async function captureOverWinrm(o: WinrmCaptureOptions): Promise<void> {
  const budget = captureBudget(o.limits, o.log);
  if (o.capture.environment_snapshot) {
    try {
      const run = await runWinrmProgram(
        o.run,
        { program: SNAPSHOT_PROGRAM, env: { DRYDOCK_OP_DISK: o.job.operation === null ? '1' : '', ...windowsInventoryEnv(o.capture) }, timeoutSeconds: SNAPSHOT_SECONDS, what: 'the environment snapshot' },
        o.signal,
      );
      if (run.exit.cancelled || run.exit.timedOut) throw new Error(run.exit.cancelled ? 'capture was stopped' : `the host gave no answer within ${SNAPSHOT_SECONDS} s`);
      const content = new TextEncoder().encode(`${JSON.stringify(windowsSnapshot(windowsFacts(run), o.job, o.scriptEnv, o.capture), null, 2)}\n`);
      if (budget.admits(content.byteLength, 'environment snapshot')) {
        await budget.store('environment snapshot', () => o.store({ name: ENVIRONMENT_SNAPSHOT_NAME, kind: 'environment', contentType: 'application/json', content }));
      }
    } catch (err) {
      o.log(`environment snapshot not captured: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (o.capture.artifacts.length > 0) {
    o.log(
      `artifacts not captured over WinRM: the run's directory is removed as the script ends and a WinRM shell has no file transfer; run the script through an agent on the host to capture ${o.capture.artifacts.join(', ')}`,
    );
  }
  budget.summary(o.attempt);
}
