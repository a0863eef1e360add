import { INVENTORY_NAME } from '@drydock/core/manifest';
import type { PackageFact, PackageSource, ServiceFact, ServiceManager } from '@drydock/core/run-contract';

/**
 * How the packages and services a manifest names are read, wherever the snapshot is taken: the argv of each
 * tool, and how its answer becomes a PackageFact or ServiceFact. The agent runs the tools itself; over SSH a
 * fixed sh program runs the same argv and sends back their output; on Windows one PowerShell fragment (agent
 * and WinRM alike) reads the uninstall keys and Get-Service.
 */

/** Each lookup gets this long; a package manager that hangs costs one name, not the snapshot. */
export const LOOKUP_TIMEOUT_SECONDS = 5;
/** All lookups of one snapshot together; the names left when it runs out are reported as not looked up. */
export const INVENTORY_BUDGET_SECONDS = 20;

export const NO_PACKAGE_MANAGER = 'no package manager Drydock reads on this host (dpkg-query, rpm or /lib/apk/db/installed)';
export const NO_SERVICE_MANAGER = 'no systemd on this host (it was not booted with systemd as init), nor OpenRC';
export const NOT_LOOKED_UP = `not looked up: the snapshot's ${INVENTORY_BUDGET_SECONDS} s for packages and services ran out`;
/** Where the apk database is; read as a file, since `apk` has no stable one-package query across versions. */
export const APK_DATABASE = '/lib/apk/db/installed';
/** sd_booted(3): this directory exists only while systemd is the init system. */
export const SYSTEMD_RUNTIME_DIR = '/run/systemd/system';
/** OpenRC makes this directory once it has booted the host. */
export const OPENRC_RUNTIME_DIR = '/run/openrc';

/** What one tool said: its exit code (null when it was killed), its output lines, and whether it ran out of time. */
export interface ToolAnswer {
  code: number | null;
  stdout: string[];
  stderr: string[];
  timedOut: boolean;
}

export type PackageAnswer = { version: string } | { missing: string };

/** The tools a Linux host is asked, in order; the first that has the package installed wins. */
export const PACKAGE_TOOLS = ['dpkg', 'rpm', 'apk'] as const satisfies readonly PackageSource[];
export type PackageTool = (typeof PACKAGE_TOOLS)[number];

/** dpkg-query's status too: a removed package that kept its configuration still has a version. */
export const DPKG_FORMAT = '${db:Status-Status}\\t${Version}\\n';
export const RPM_FORMAT = '%{VERSION}-%{RELEASE}\\n';

/** The argv of a package lookup; the name is one element, after `--` where the tool takes it (rpm's is checked by INVENTORY_NAME). */
export function packageArgv(tool: Exclude<PackageTool, 'apk'>, name: string): [string, ...string[]] {
  return tool === 'dpkg' ? ['dpkg-query', '-W', `-f=${DPKG_FORMAT}`, '--', name] : ['rpm', '-q', '--qf', RPM_FORMAT, name];
}

/** The argv of a service lookup; rc-service takes no `--`, and a name cannot start with `-` (INVENTORY_NAME). */
export function serviceArgv(manager: Exclude<ServiceManager, 'windows'>, name: string): [string, ...string[]] {
  return manager === 'systemd' ? ['systemctl', 'show', '--no-pager', '-p', 'LoadState', '-p', 'ActiveState', '--', name] : ['rc-service', name, 'status'];
}

/** Whether a name may reach a tool: the manifest schema's rule, checked again where the tool runs. */
export function inventoryNameAllowed(name: string): boolean {
  return INVENTORY_NAME.test(name);
}

export const REFUSED_NAME = 'not looked up: names are letters, digits and . + _ - @ :, starting with a letter or digit';

const TOOL_NAME: Record<PackageTool | Exclude<ServiceManager, 'windows'>, string> = { dpkg: 'dpkg-query', rpm: 'rpm', apk: 'apk', systemd: 'systemctl', openrc: 'rc-service' };

function firstLine(lines: readonly string[]): string | undefined {
  return lines.map((l) => l.trim()).find((l) => l !== '');
}

/** Why a tool said nothing useful: it ran out of time, or its first complaint, or its exit code. */
function failure(tool: keyof typeof TOOL_NAME, answer: ToolAnswer): string {
  if (answer.timedOut) return `${TOOL_NAME[tool]} gave no answer within ${LOOKUP_TIMEOUT_SECONDS} s`;
  // OpenRC's messages start with its " * " bullet.
  const said = (firstLine(answer.stderr) ?? firstLine(answer.stdout))?.replace(/^\* /, '');
  if (said) return said.startsWith(`${TOOL_NAME[tool]}:`) ? said : `${TOOL_NAME[tool]}: ${said}`;
  return `${TOOL_NAME[tool]} ended with ${answer.code === null ? 'a signal' : `exit code ${answer.code}`}`;
}

/** `dpkg-query -W -f='${db:Status-Status}\t${Version}\n'`: one line per architecture the name matches. */
export function readDpkg(name: string, answer: ToolAnswer): PackageAnswer {
  if (answer.timedOut) return { missing: failure('dpkg', answer) };
  const rows = answer.stdout.filter((l) => l.includes('\t')).map((l) => l.split('\t') as [string, string]);
  const installed = rows.find(([status, version]) => status === 'installed' && version.trim() !== '');
  if (installed) return { version: installed[1].trim() };
  if (rows.length > 0) return { missing: `dpkg-query: ${name} is not installed (its status is ${rows[0]![0] || 'unknown'})` };
  return { missing: failure('dpkg', answer) };
}

/** `rpm -q --qf '%{VERSION}-%{RELEASE}\n'`: a version line, or "package <name> is not installed" with exit code 1. */
export function readRpm(answer: ToolAnswer): PackageAnswer {
  const version = firstLine(answer.stdout);
  if (answer.code === 0 && version && !/\s/.test(version)) return { version };
  return { missing: failure('rpm', answer) };
}

/** The V: of the stanza whose P: is the name, in apk's installed database (apk-tools 2 and 3 alike). */
export function apkVersion(database: string, name: string): PackageAnswer {
  let mine = false;
  for (const line of database.split('\n')) {
    if (line === '') mine = false;
    else if (line.startsWith('P:')) mine = line.slice(2) === name;
    else if (mine && line.startsWith('V:')) return { version: line.slice(2).trim() };
  }
  return { missing: `apk: ${name} is not installed` };
}

/** The V: the snapshot program's awk found in the apk database: a version line, or nothing when it is not installed. */
export function readApkLookup(name: string, answer: ToolAnswer): PackageAnswer {
  const version = firstLine(answer.stdout);
  if (version) return { version };
  return answer.code === 0 ? { missing: `apk: ${name} is not installed` } : { missing: failure('apk', answer) };
}

/**
 * One package from what each present tool said, in PACKAGE_TOOLS order: the first version found, else null
 * with every tool's reason; null with NO_PACKAGE_MANAGER when the host has none of them.
 */
export function packageFact(name: string, answers: readonly { tool: PackageTool; answer: PackageAnswer }[]): PackageFact {
  const found = answers.find((a) => 'version' in a.answer);
  if (found && 'version' in found.answer) return { name, version: found.answer.version, source: found.tool };
  if (answers.length === 0) return { name, version: null, source: null, error: NO_PACKAGE_MANAGER };
  return { name, version: null, source: answers[0]!.tool, error: answers.map((a) => ('missing' in a.answer ? a.answer.missing : '')).join('; ') };
}

/** `systemctl show -p LoadState -p ActiveState`: `Key=value` lines, in systemd's order. */
export function readSystemctlShow(name: string, answer: ToolAnswer): ServiceFact {
  const props = new Map(answer.stdout.filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).trim()]));
  const state = props.get('ActiveState');
  if (answer.timedOut || answer.code !== 0 || !state) return { name, state: null, manager: 'systemd', error: failure('systemd', answer) };
  if (props.get('LoadState') === 'not-found') return { name, state: null, manager: 'systemd', error: `systemd has no unit ${name}` };
  return { name, state, manager: 'systemd' };
}

/** `rc-service <name> status`: ` * status: started` (or stopped, crashed, …); a missing service is a complaint on stderr. */
export function readRcStatus(name: string, answer: ToolAnswer): ServiceFact {
  const status = answer.timedOut ? null : /status:\s*([A-Za-z]+)/.exec([...answer.stdout, ...answer.stderr].join('\n'));
  if (status) return { name, state: status[1]!, manager: 'openrc' };
  return { name, state: null, manager: 'openrc', error: failure('openrc', answer) };
}

export function serviceFact(name: string, manager: Exclude<ServiceManager, 'windows'>, answer: ToolAnswer): ServiceFact {
  return manager === 'systemd' ? readSystemctlShow(name, answer) : readRcStatus(name, answer);
}

/** Names that cannot be looked up where the snapshot is taken (a container), each with the reason. */
export function unrecorded(capture: { packages?: string[]; services?: string[] }, reason: string): { packages: PackageFact[]; services: ServiceFact[] } {
  return {
    packages: (capture.packages ?? []).map((name) => ({ name, version: null, source: null, error: reason })),
    services: (capture.services ?? []).map((name) => ({ name, state: null, manager: null, error: reason })),
  };
}

/**
 * The Windows lookups, for the agent (run by powershell.exe) and for WinRM (inside the snapshot program). Names
 * come from DRYDOCK_OP_PACKAGES and DRYDOCK_OP_SERVICES, one a line, never from the program's text. A package is
 * an uninstall key (HKLM, its WOW6432Node view, HKCU) whose DisplayName or key name is the name, in any case;
 * a service is Get-Service of the exact name (INVENTORY_NAME holds no wildcard). Leaves `$drydockInventory`.
 * Not run on Windows here: no Windows host is reachable from this repository's tests.
 */
export const WINDOWS_INVENTORY_FRAGMENT = `$drydockPackageNames = @(([string]$env:DRYDOCK_OP_PACKAGES) -split "\`n" | Where-Object { $_ -ne '' })
$drydockServiceNames = @(([string]$env:DRYDOCK_OP_SERVICES) -split "\`n" | Where-Object { $_ -ne '' })
$drydockUninstall = New-Object System.Collections.ArrayList
if ($drydockPackageNames.Count -gt 0) {
  foreach ($root in 'HKLM:\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall', 'HKLM:\\Software\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall', 'HKCU:\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall') {
    foreach ($key in @(Get-ChildItem -LiteralPath $root -ErrorAction SilentlyContinue)) {
      [void]$drydockUninstall.Add(@{ key = [string]$key.PSChildName; name = [string]$key.GetValue('DisplayName'); version = [string]$key.GetValue('DisplayVersion') })
    }
  }
}
$drydockInventory = @{
  packages = @(foreach ($n in $drydockPackageNames) {
    $hit = @($drydockUninstall | Where-Object { $_.name -eq $n -or $_.key -eq $n }) | Select-Object -First 1
    if ($null -eq $hit) { @{ name = $n; found = $false } } else { @{ name = $n; found = $true; version = $hit.version } }
  })
  services = @(foreach ($n in $drydockServiceNames) {
    try { @{ name = $n; state = [string](Get-Service -Name $n -ErrorAction Stop).Status } }
    catch { @{ name = $n; error = [string]$_.Exception.Message } }
  })
}`;

/** The variables WINDOWS_INVENTORY_FRAGMENT reads its names from. */
export function windowsInventoryEnv(capture: { packages?: string[]; services?: string[] }): Record<string, string> {
  return { DRYDOCK_OP_PACKAGES: (capture.packages ?? []).filter(inventoryNameAllowed).join('\n'), DRYDOCK_OP_SERVICES: (capture.services ?? []).filter(inventoryNameAllowed).join('\n') };
}

function entries(value: unknown): Record<string, unknown>[] {
  // ConvertTo-Json writes a lone element of a pipeline as an object, not a one-element array.
  const list = Array.isArray(value) ? value : value && typeof value === 'object' ? [value] : [];
  return list.filter((e): e is Record<string, unknown> => e !== null && typeof e === 'object');
}

/** `$drydockInventory` as ConvertTo-Json wrote it, for every name asked, in the order asked. */
export function windowsInventory(document: unknown, capture: { packages?: string[]; services?: string[] }): { packages: PackageFact[]; services: ServiceFact[] } {
  const doc = (document && typeof document === 'object' ? document : {}) as { packages?: unknown; services?: unknown };
  const packages = entries(doc.packages);
  const services = entries(doc.services);
  const unreported = 'the host did not report it';
  return {
    packages: (capture.packages ?? []).map((name): PackageFact => {
      if (!inventoryNameAllowed(name)) return { name, version: null, source: null, error: REFUSED_NAME };
      const e = packages.find((p) => p.name === name);
      if (!e) return { name, version: null, source: 'windows', error: unreported };
      if (e.found !== true) return { name, version: null, source: 'windows', error: `no uninstall entry has the DisplayName or key name ${name}` };
      const version = typeof e.version === 'string' ? e.version.trim() : '';
      return version ? { name, version, source: 'windows' } : { name, version: null, source: 'windows', error: 'its uninstall entry gives no DisplayVersion' };
    }),
    services: (capture.services ?? []).map((name): ServiceFact => {
      if (!inventoryNameAllowed(name)) return { name, state: null, manager: null, error: REFUSED_NAME };
      const e = services.find((s) => s.name === name);
      if (!e) return { name, state: null, manager: 'windows', error: unreported };
      if (typeof e.state === 'string' && e.state !== '') return { name, state: e.state, manager: 'windows' };
      return { name, state: null, manager: 'windows', error: typeof e.error === 'string' && e.error.trim() !== '' ? e.error.trim() : 'Get-Service gave no status' };
    }),
  };
}
