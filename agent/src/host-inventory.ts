import { execFile, type ExecFileException } from 'node:child_process';
import { access, readFile } from 'node:fs/promises';
import type { JobCapture, PackageFact, ServiceFact } from '@drydock/core/run-contract';
import { APK_DATABASE, apkVersion, INVENTORY_BUDGET_SECONDS, inventoryNameAllowed, LOOKUP_TIMEOUT_SECONDS, NO_SERVICE_MANAGER, NOT_LOOKED_UP, OPENRC_RUNTIME_DIR, PACKAGE_TOOLS, packageArgv, packageFact, type PackageTool, readDpkg, readRpm, REFUSED_NAME, serviceArgv, serviceFact, SYSTEMD_RUNTIME_DIR, type ToolAnswer, unrecorded, WINDOWS_INVENTORY_FRAGMENT, windowsInventory, windowsInventoryEnv } from '@drydock/activities/operations';

export type Inventory = { packages: PackageFact[]; services: ServiceFact[] };
type Argv = [string, ...string[]];

/** Where the lookups happen; tests pass their own to see what a Windows agent would start. */
export interface InventoryHost {
  platform: NodeJS.Platform;
  /** Runs argv without a shell; null when the program is not installed. */
  run(argv: Argv, options: { env: Record<string, string>; timeoutMs: number; signal: AbortSignal }): Promise<ToolAnswer | null>;
  exists(path: string): Promise<boolean>;
  /** A file's text; null when there is none. */
  readText(path: string): Promise<string | null>;
}

function lines(text: string): string[] {
  return text.split(/\r?\n/).filter((l, i, all) => l !== '' || i < all.length - 1);
}

/** This machine. */
export const localInventoryHost: InventoryHost = {
  platform: process.platform,
  run: ([command, ...args], { env, timeoutMs, signal }) =>
    new Promise((resolve) => {
      execFile(command, args, { env, timeout: timeoutMs, signal, maxBuffer: 1024 * 1024, windowsHide: true }, (err: ExecFileException | null, stdout, stderr) => {
        if (err?.code === 'ENOENT') return resolve(null);
        if (signal.aborted) return resolve({ code: null, stdout: [], stderr: ['capture was stopped'], timedOut: false });
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout: lines(stdout), stderr: lines(stderr), timedOut: Boolean(err?.killed) });
      });
    }),
  exists: (path) => access(path).then(() => true, () => false),
  readText: (path) => readFile(path, 'utf8').catch(() => null),
};

/** What powershell.exe runs on a Windows agent: the shared fragment, its result as base64 of UTF-8 JSON (no console code page in the way). */
export const WINDOWS_INVENTORY_PROGRAM = `$ErrorActionPreference = 'Stop'
${WINDOWS_INVENTORY_FRAGMENT}
[Console]::Out.Write([Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes(($drydockInventory | ConvertTo-Json -Depth 4 -Compress))))
`;

/** `powershell.exe -EncodedCommand`: the program is UTF-16LE base64 on the command line, the names only in the environment. */
export function windowsInventoryArgv(): Argv {
  return ['powershell.exe', '-NoLogo', '-NoProfile', '-NonInteractive', '-EncodedCommand', Buffer.from(WINDOWS_INVENTORY_PROGRAM, 'utf16le').toString('base64')];
}

async function windowsHostInventory(capture: Pick<JobCapture, 'packages' | 'services'>, env: Record<string, string>, signal: AbortSignal, host: InventoryHost): Promise<Inventory> {
  const answer = await host.run(windowsInventoryArgv(), { env: { ...env, ...windowsInventoryEnv(capture) }, timeoutMs: INVENTORY_BUDGET_SECONDS * 1000, signal });
  if (answer === null) return unrecorded(capture, "not looked up: powershell.exe is not on the agent's PATH");
  if (answer.timedOut) return unrecorded(capture, `not looked up: powershell.exe gave no answer within ${INVENTORY_BUDGET_SECONDS} s`);
  try {
    return windowsInventory(JSON.parse(Buffer.from(answer.stdout.join('').trim(), 'base64').toString('utf8').replace(/^\uFEFF/, '')), capture);
  } catch {
    const said = answer.stderr.map((l) => l.trim()).find((l) => l !== '' && !l.startsWith('#< CLIXML'));
    return unrecorded(capture, `not looked up: powershell.exe ended with exit code ${answer.code ?? 'none'}${said ? `: ${said}` : ''}`);
  }
}

async function linuxHostInventory(capture: Pick<JobCapture, 'packages' | 'services'>, env: Record<string, string>, signal: AbortSignal, host: InventoryHost): Promise<Inventory> {
  const deadline = Date.now() + INVENTORY_BUDGET_SECONDS * 1000;
  const late = () => signal.aborted || Date.now() > deadline;
  // English, unpaged answers, with the script's PATH: the agent's own variables (its token) stay out.
  const toolEnv = { PATH: env.PATH ?? '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin', LC_ALL: 'C', SYSTEMD_PAGER: '' };
  const options = { env: toolEnv, timeoutMs: LOOKUP_TIMEOUT_SECONDS * 1000, signal };
  const absent = new Set<PackageTool>();
  let apkDatabase: string | null | undefined;

  const packages: PackageFact[] = [];
  for (const name of capture.packages ?? []) {
    if (!inventoryNameAllowed(name)) {
      packages.push({ name, version: null, source: null, error: REFUSED_NAME });
      continue;
    }
    if (late()) {
      packages.push({ name, version: null, source: null, error: NOT_LOOKED_UP });
      continue;
    }
    const answers: Parameters<typeof packageFact>[1][number][] = [];
    for (const tool of PACKAGE_TOOLS) {
      if (absent.has(tool)) continue;
      if (tool === 'apk') {
        if (apkDatabase === undefined) apkDatabase = await host.readText(APK_DATABASE);
        if (apkDatabase === null) absent.add(tool);
        else answers.push({ tool, answer: apkVersion(apkDatabase, name) });
        continue;
      }
      const answer = await host.run(packageArgv(tool, name), options);
      if (answer === null) absent.add(tool);
      else answers.push({ tool, answer: tool === 'dpkg' ? readDpkg(name, answer) : readRpm(answer) });
    }
    packages.push(packageFact(name, answers));
  }

  const names = capture.services ?? [];
  const manager = names.length === 0 ? null : (await host.exists(SYSTEMD_RUNTIME_DIR)) ? 'systemd' : (await host.exists(OPENRC_RUNTIME_DIR)) ? 'openrc' : null;
  const services: ServiceFact[] = [];
  for (const name of names) {
    if (!inventoryNameAllowed(name)) services.push({ name, state: null, manager: null, error: REFUSED_NAME });
    else if (manager === null) services.push({ name, state: null, manager: null, error: NO_SERVICE_MANAGER });
    else if (late()) services.push({ name, state: null, manager, error: NOT_LOOKED_UP });
    else {
      const argv = serviceArgv(manager, name);
      const answer = await host.run(argv, options);
      services.push(answer === null ? { name, state: null, manager, error: `${argv[0]} is not on the agent's PATH` } : serviceFact(name, manager, answer));
    }
  }
  return { packages, services };
}

/**
 * The versions of the packages and the states of the services a manifest names, on the host the agent runs on:
 * dpkg-query, rpm or the apk database and systemctl or rc-service on Linux, one powershell.exe on Windows. Each
 * name is one argv element or one line of a variable, never part of a shell string. Never throws: a name that
 * could not be looked up has null and the reason.
 */
export async function hostInventory(
  capture: Pick<JobCapture, 'packages' | 'services'>,
  env: Record<string, string>,
  signal: AbortSignal,
  host: InventoryHost = localInventoryHost,
): Promise<Inventory> {
  if ((capture.packages ?? []).length === 0 && (capture.services ?? []).length === 0) return { packages: [], services: [] };
  return host.platform === 'win32' ? windowsHostInventory(capture, env, signal, host) : linuxHostInventory(capture, env, signal, host);
}
