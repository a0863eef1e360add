import { readFileSync } from 'node:fs';
import { win32 } from 'node:path';
import { z } from 'zod';
import { AGENT_SETTINGS, AgentConfigSchema, type AgentConfigFile } from '../agent-config.ts';
import { psHereString, psString } from './powershell-literal.ts';

export const WINDOWS_DEFAULTS = {
  installDir: 'C:\\Program Files\\Drydock\\agent',
  dataDir: 'C:\\ProgramData\\Drydock\\agent',
  nodePath: 'C:\\Program Files\\nodejs\\node.exe',
  serviceName: 'DrydockAgent',
} as const;

export const INSTALL_SCRIPT_NAME = 'install-agent.ps1';
/** What an operator types in an elevated prompt, in the folder the script was saved to. */
export const INSTALL_COMMAND = `powershell.exe -NoProfile -ExecutionPolicy Bypass -File .\\${INSTALL_SCRIPT_NAME}`;
export const UNINSTALL_COMMAND = `${INSTALL_COMMAND} -Uninstall`;
/** The oldest Node that runs the agent's TypeScript without a build step (the repository's engines field). */
const MIN_NODE_VERSION = '22.22.0';
const HOST_EXE = 'DrydockAgentService.exe';

/** Settings the script sets itself, from the options named after them. */
type OwnKeys = 'server_id' | 'backend_url' | 'registration_secret' | 'tags';

export interface WindowsInstallOptions {
  /** The Drydock API the agent talks to (backend_url). */
  apiUrl: string;
  /** Goes to the env file, never the config file. */
  registrationSecret: string;
  /** The host's id and name in Drydock (server_id). */
  hostName: string;
  tags?: string[];
  /** Variables the agent reads from its environment only, such as DRYDOCK_CODEC_KEY: they go to the env file. */
  environment?: Record<string, string>;
  /** Any other config-file setting, by the keys agent/src/agent-config.ts reads. A token goes to the env file. */
  settings?: Omit<AgentConfigFile, OwnKeys>;
  /** Where the Drydock checkout is (with `npm ci` run in it) and where the service host is compiled to. */
  installDir?: string;
  /** Config file, env file, state file, logs and the default temp_dir. */
  dataDir?: string;
  nodePath?: string;
  serviceName?: string;
}

export class WindowsInstallError extends Error {}

let hostSource: string | undefined;
/** The C# of the service host, embedded in the script, which compiles it on the host. */
export function serviceHostSource(): string {
  hostSource ??= readFileSync(new URL('./service-host.cs', import.meta.url), 'utf8');
  return hostSource;
}

const envOf = (key: string) => AGENT_SETTINGS.find((s) => s.key === key)!.env;

function windowsPath(path: string, what: string, problems: string[]): string {
  if (!win32.isAbsolute(path) || !/^[A-Za-z]:\\/.test(win32.normalize(path))) {
    problems.push(`${what}: must be an absolute Windows path with a drive letter, such as ${WINDOWS_DEFAULTS.dataDir}`);
  }
  // A path in the service's command line is wrapped in double quotes, which a Windows path cannot contain anyway.
  if (/["\r\n]/.test(path)) problems.push(`${what}: must not contain a double quote or a line break`);
  return win32.normalize(path).replace(/\\+$/, '');
}

const windowsAbsolute = z.string().refine((p) => /^[A-Za-z]:\\/.test(win32.normalize(p)), {
  error: `must be an absolute Windows path with a drive letter, such as ${WINDOWS_DEFAULTS.dataDir}`,
});
/**
 * The agent's own schema, with its paths checked as Windows paths: its check follows the platform it runs on,
 * and this runs wherever the page does. Secrets are left out: they go to the env file.
 */
const WindowsConfigSchema = AgentConfigSchema.omit({ registration_secret: true, token: true }).extend({
  state_file: windowsAbsolute.optional(),
  temp_dir: windowsAbsolute.optional(),
  forbidden_paths: z.array(windowsAbsolute).min(1, { error: 'must name at least one path; leave the setting out to have no list' }).optional(),
});

/** The config file's lines, as ASCII JSON: \u escapes keep each line one plain literal in the script. */
function asciiJsonLines(value: unknown): string[] {
  return JSON.stringify(value, null, 2)
    .replace(/[^\x20-\x7E\n]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    .split('\n');
}

/** What the script writes, checked against the agent's own schema first: a script that installs a config the agent refuses is no use. */
export function windowsInstallFiles(options: WindowsInstallOptions) {
  const problems: string[] = [];
  const installDir = windowsPath(options.installDir ?? WINDOWS_DEFAULTS.installDir, 'installDir', problems);
  const dataDir = windowsPath(options.dataDir ?? WINDOWS_DEFAULTS.dataDir, 'dataDir', problems);
  const nodePath = windowsPath(options.nodePath ?? WINDOWS_DEFAULTS.nodePath, 'nodePath', problems);
  const serviceName = options.serviceName ?? WINDOWS_DEFAULTS.serviceName;
  if (!/^[A-Za-z][A-Za-z0-9_-]{0,79}$/.test(serviceName)) problems.push('serviceName: must be letters, digits, "_" and "-", starting with a letter');

  const { token, ...settings } = options.settings ?? {};
  const config: AgentConfigFile = {
    server_id: options.hostName,
    backend_url: options.apiUrl,
    ...(options.tags && options.tags.length > 0 ? { tags: options.tags } : {}),
    ...settings,
    state_file: settings.state_file ?? win32.join(dataDir, 'state.json'),
    temp_dir: settings.temp_dir ?? win32.join(dataDir, 'work'),
  };
  const parsed = WindowsConfigSchema.safeParse(config);
  if (!parsed.success) for (const i of parsed.error.issues) problems.push(`${i.path.map(String).join('.') || 'settings'}: ${i.message}`);
  // As the agent will read them: "4" from an environment variable becomes 4.
  const checked = parsed.success ? (parsed.data as AgentConfigFile) : config;

  const secrets: Record<string, string> = { registration_secret: options.registrationSecret, ...(token === undefined ? {} : { token }) };
  for (const [key, value] of Object.entries(secrets)) {
    const check = AgentConfigSchema.shape[key as 'token' | 'registration_secret'].safeParse(value);
    if (!check.success) problems.push(`${key}: ${check.error.issues[0]!.message}`);
  }
  const env: [string, string][] = [
    ['DRYDOCK_AGENT_CONFIG', win32.join(dataDir, 'agent.json')],
    // Anything the agent keeps outside its state file lands here rather than under Program Files.
    ['DRYDOCK_DATA_DIR', dataDir],
    ...Object.entries(secrets).map(([key, value]): [string, string] => [envOf(key), value]),
  ];
  for (const [name, value] of Object.entries(options.environment ?? {})) {
    const setting = AGENT_SETTINGS.find((s) => s.env === name);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) problems.push(`environment.${name}: a variable name is letters, digits and "_"`);
    else if (setting) problems.push(`environment.${name}: give it as the config-file setting ${setting.key} instead`);
    else if (env.some(([n]) => n === name)) problems.push(`environment.${name}: the script sets it itself`);
    env.push([name, value]);
  }
  for (const [name, value] of env) if (/[\r\n\0]/.test(value)) problems.push(`${name}: must not contain a line break`);
  if (problems.length > 0) throw new WindowsInstallError(`cannot write the Windows install script; fix these:\n${problems.map((p) => `  ${p}`).join('\n')}`);

  const envFile = win32.join(dataDir, 'agent.env');
  const logFile = win32.join(dataDir, 'logs', 'agent.log');
  const hostExe = win32.join(installDir, HOST_EXE);
  const entry = win32.join(installDir, 'agent', 'src', 'main.ts');
  return {
    serviceName,
    installDir,
    dataDir,
    nodePath,
    configFile: win32.join(dataDir, 'agent.json'),
    config: checked,
    configLines: asciiJsonLines(checked),
    envFile,
    env,
    logFile,
    workDir: config.temp_dir!,
    hostExe,
    entry,
  };
}

/**
 * Options from the variables an agent's environment file takes (what GET /api/v1/agents/install gives the
 * install page): a variable that stands for a config-file key becomes that setting, any other goes to
 * `environment`. Empty values are left out, as an unset variable would be.
 */
export function windowsInstallOptions(vars: Record<string, string>): WindowsInstallOptions {
  const own: Record<string, keyof WindowsInstallOptions> = {
    DRYDOCK_API_URL: 'apiUrl',
    DRYDOCK_AGENT_REGISTRATION_SECRET: 'registrationSecret',
    DRYDOCK_AGENT_HOST: 'hostName',
  };
  const options: WindowsInstallOptions = { apiUrl: '', registrationSecret: '', hostName: '' };
  const settings: Record<string, unknown> = {};
  const environment: Record<string, string> = {};
  for (const [name, value] of Object.entries(vars)) {
    if (value === '') continue;
    const setting = AGENT_SETTINGS.find((s) => s.env === name);
    if (own[name]) (options as unknown as Record<string, string>)[own[name]] = value;
    else if (name === 'DRYDOCK_AGENT_TAGS') options.tags = value.split(',').map((t) => t.trim()).filter(Boolean);
    else if (setting) {
      const [head, tail] = setting.key.split('.') as [string, string | undefined];
      if (tail === undefined) settings[head] = value;
      else ((settings[head] ??= {}) as Record<string, unknown>)[tail] = value;
    } else environment[name] = value;
  }
  if (Object.keys(settings).length > 0) options.settings = settings as WindowsInstallOptions['settings'];
  if (Object.keys(environment).length > 0) options.environment = environment;
  return options;
}

/**
 * `install-agent.ps1` for one host: run as Administrator in Windows PowerShell 5.1, it installs the agent as a
 * Windows service (again: updates its settings and restarts it; with -Uninstall: removes it). Every rendered
 * value is a single-quoted literal (or ASCII [char] codes), so nothing in a value is ever run.
 */
export function renderWindowsInstallScript(options: WindowsInstallOptions): string {
  const f = windowsInstallFiles(options);
  const q = (value: string, what: string) => psString(value, what);
  const lines = [
    `# ${INSTALL_SCRIPT_NAME}: the Drydock agent for host ${f.config.server_id}, as the Windows service ${f.serviceName}.`,
    '# It holds the registration secret: keep it private, and delete it once the host shows online in Drydock.',
    '# In Windows PowerShell 5.1, as Administrator, from the folder it is saved in:',
    `#   ${INSTALL_COMMAND}`,
    '# Run it again to change the settings (it restarts the service); add -Uninstall to remove the service and its data.',
    '[CmdletBinding()]',
    'param(',
    '  [switch]$Uninstall,',
    '  # Where node.exe is, if not where Drydock was told.',
    `  [string]$NodePath = ${q(f.nodePath, 'nodePath')}`,
    ')',
    '',
    'Set-StrictMode -Version 3.0',
    "$ErrorActionPreference = 'Stop'",
    '',
    `$ServiceName = ${q(f.serviceName, 'the service name')}`,
    `$DisplayName = 'Drydock agent'`,
    `$Description = ${q(`Runs Drydock scripts on this host (host ${f.config.server_id} at ${f.config.backend_url}).`, 'the description')}`,
    `$InstallDir = ${q(f.installDir, 'installDir')}`,
    `$DataDir = ${q(f.dataDir, 'dataDir')}`,
    `$AgentEntry = ${q(f.entry, 'the agent entry')}`,
    `$HostExe = ${q(f.hostExe, 'the service host')}`,
    `$ConfigFile = ${q(f.configFile, 'the config file')}`,
    `$EnvFile = ${q(f.envFile, 'the env file')}`,
    `$LogFile = ${q(f.logFile, 'the log file')}`,
    `$WorkDir = ${q(f.workDir, 'temp_dir')}`,
    `$MinNodeVersion = [version]${q(MIN_NODE_VERSION, 'the Node version')}`,
    '',
    '# The agent config file (agent/README.md, "Config file"); the agent reads it once, at start.',
    '$AgentConfig = @(',
    ...f.configLines.map((line) => `  ${q(line, 'the config file')}`),
    ')',
    '',
    '# NAME=value lines the service host puts in the agent\'s environment; the secrets live here.',
    '$AgentEnv = @(',
    ...f.env.map(([name, value]) => `  ${q(`${name}=${value}`, name)}`),
    ')',
    '',
    ...SCRIPT_BODY,
    '',
    '$ServiceHostSource = ' + psHereString(serviceHostSource(), 'service-host.cs'),
    '',
    ...SCRIPT_INSTALL,
    '',
  ];
  // CRLF throughout, the here-string's lines included: what Notepad and Windows PowerShell expect.
  return lines.join('\n').replace(/\r?\n/g, '\r\n');
}

/** The fixed part: helpers, checks and -Uninstall. No rendered value appears below, only the variables above. */
const SCRIPT_BODY = [
  'function Fail([string]$Message) {',
  "  Write-Host ('install-agent.ps1: ' + $Message) -ForegroundColor Red",
  '  exit 1',
  '}',
  '',
  'function Invoke-Native([string]$What, [string]$Exe, [string[]]$Arguments) {',
  "  # Windows PowerShell 5.1 turns a native command's stderr into errors, which 'Stop' would throw on.",
  "  $ErrorActionPreference = 'Continue'",
  '  $output = & $Exe @Arguments 2>&1 | ForEach-Object { $_.ToString() }',
  "  if ($LASTEXITCODE -ne 0) { Fail ($What + ' failed (' + $Exe + ' exit code ' + $LASTEXITCODE + '): ' + ($output -join ' ')) }",
  '}',
  '',
  '# SIDs, not names: SYSTEM and Administrators have other names on a Windows in another language.',
  "$DirGrants = @('*S-1-5-18:(OI)(CI)F', '*S-1-5-32-544:(OI)(CI)F')",
  "$FileGrants = @('*S-1-5-18:F', '*S-1-5-32-544:F')",
  'function Protect-Path([string]$Path, [string[]]$Grants) {',
  "  Invoke-Native ('restricting ' + $Path + ' to SYSTEM and Administrators') 'icacls.exe' (@($Path, '/inheritance:r', '/grant:r') + $Grants)",
  '}',
  '',
  'function Stop-AgentService {',
  '  $service = Get-Service -Name $ServiceName -ErrorAction SilentlyContinue',
  "  if ($null -eq $service -or $service.Status -eq 'Stopped') { return }",
  "  Write-Host ('stopping the service ' + $ServiceName)",
  '  Stop-Service -Name $ServiceName -Force',
  '  try {',
  "    $service.WaitForStatus('Stopped', [TimeSpan]::FromSeconds(30))",
  '  } catch {',
  "    Fail ('the service ' + $ServiceName + ' did not stop within 30 s; stop it in services.msc (or end DrydockAgentService.exe) and run this script again')",
  '  }',
  '}',
  '',
  '$principal = New-Object Security.Principal.WindowsPrincipal([Security.Principal.WindowsIdentity]::GetCurrent())',
  'if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {',
  "  Fail 'this script must run as Administrator: open Windows PowerShell with \"Run as administrator\" and run it again.'",
  '}',
  '',
  'if ($Uninstall) {',
  '  Stop-AgentService',
  '  if (Get-Service -Name $ServiceName -ErrorAction SilentlyContinue) {',
  "    Invoke-Native ('removing the service ' + $ServiceName) 'sc.exe' @('delete', $ServiceName)",
  '  }',
  '  if (Test-Path -LiteralPath $HostExe) { Remove-Item -LiteralPath $HostExe -Force }',
  '  # The config, the env file with the secret, the state file with the token, the logs and the work directory.',
  '  if (Test-Path -LiteralPath $DataDir) { Remove-Item -LiteralPath $DataDir -Recurse -Force }',
  '  if (Test-Path -LiteralPath $WorkDir) { Remove-Item -LiteralPath $WorkDir -Recurse -Force }',
  "  Write-Host ('removed the service ' + $ServiceName + ', ' + $HostExe + ' and ' + $DataDir + '.')",
  "  Write-Host ('The Drydock checkout in ' + $InstallDir + ' is left as it was. The host stays in Drydock until an admin revokes its agent or deletes it.')",
  '  exit 0',
  '}',
  '',
  'if ($PSVersionTable.PSVersion.Major -ne 5) {',
  "  Fail ('run this script with Windows PowerShell 5.1 (powershell.exe), not PowerShell ' + $PSVersionTable.PSVersion + ': only Windows PowerShell can compile the service host to an .exe.')",
  '}',
  'if (-not (Test-Path -LiteralPath $NodePath -PathType Leaf)) {',
  "  Fail ('no node.exe at ' + $NodePath + ': install Node.js ' + $MinNodeVersion + ' or later, or give the path of your node.exe: -NodePath D:\\tools\\node\\node.exe')",
  '}',
  "$nodeVersion = [version]((& $NodePath --version) -replace '^v', '')",
  'if ($nodeVersion -lt $MinNodeVersion) {',
  "  Fail ($NodePath + ' is Node.js ' + $nodeVersion + '; the agent needs ' + $MinNodeVersion + ' or later.')",
  '}',
  "if (-not (Test-Path -LiteralPath $AgentEntry) -or -not (Test-Path -LiteralPath (Join-Path $InstallDir 'node_modules'))) {",
  "  Fail ('no Drydock checkout with its dependencies in ' + $InstallDir + ': copy the Drydock repository there and run npm ci in it, then run this script again.')",
  '}',
];

const SCRIPT_INSTALL = [
  '# The service command line: the host, and where it finds node, the agent, its variables and its log.',
  "$BinaryPath = '\"' + $HostExe + '\" --service-name ' + $ServiceName + ' --node \"' + $NodePath + '\" --entry \"' + $AgentEntry + '\" --env-file \"' + $EnvFile + '\" --log \"' + $LogFile + '\" --workdir \"' + $InstallDir + '\"'",
  '',
  '# Compiled before anything changes: if it fails, an installed service keeps running as it was.',
  "$built = Join-Path ([IO.Path]::GetTempPath()) ('DrydockAgentService-' + [guid]::NewGuid().ToString('N') + '.exe')",
  'try {',
  "  Add-Type -TypeDefinition $ServiceHostSource -Language CSharp -ReferencedAssemblies 'System.ServiceProcess' -OutputAssembly $built -OutputType ConsoleApplication",
  '} catch {',
  "  Fail ('could not compile the service host: ' + $_.Exception.Message)",
  '}',
  '',
  '# The data directory first, so the files written into it never have the wider ACL of ProgramData.',
  'foreach ($dir in @($DataDir, (Split-Path -Parent $LogFile), $WorkDir)) {',
  '  New-Item -ItemType Directory -Force -Path $dir | Out-Null',
  '}',
  'Protect-Path $DataDir $DirGrants',
  'Protect-Path $WorkDir $DirGrants',
  '',
  '$existing = Get-CimInstance -ClassName Win32_Service -Filter ("Name=\'{0}\'" -f $ServiceName)',
  'Stop-AgentService',
  'Copy-Item -LiteralPath $built -Destination $HostExe -Force',
  'Remove-Item -LiteralPath $built -Force',
  '',
  '# UTF-8 without a byte order mark: JSON.parse in the agent refuses one.',
  '$utf8 = New-Object System.Text.UTF8Encoding -ArgumentList $false',
  "[IO.File]::WriteAllText($ConfigFile, (($AgentConfig -join \"`r`n\") + \"`r`n\"), $utf8)",
  "[IO.File]::WriteAllText($EnvFile, (($AgentEnv -join \"`r`n\") + \"`r`n\"), $utf8)",
  'Protect-Path $ConfigFile $FileGrants',
  'Protect-Path $EnvFile $FileGrants',
  '',
  'if ($null -ne $existing) {',
  "  # Installed before: the same service, pointed at this script's settings (Set-Service cannot change the command line in 5.1).",
  "  $change = Invoke-CimMethod -InputObject $existing -MethodName Change -Arguments @{ PathName = $BinaryPath; DisplayName = $DisplayName; StartMode = 'Automatic' }",
  "  if ($change.ReturnValue -ne 0) { Fail ('could not update the service ' + $ServiceName + ' (Win32_Service.Change returned ' + $change.ReturnValue + ')') }",
  '  Set-Service -Name $ServiceName -Description $Description',
  "  Write-Host ('updated the service ' + $ServiceName)",
  '} else {',
  '  New-Service -Name $ServiceName -BinaryPathName $BinaryPath -DisplayName $DisplayName -Description $Description -StartupType Automatic | Out-Null',
  "  Write-Host ('created the service ' + $ServiceName)",
  '}',
  '# The SCM restarts the service host if it dies; the host itself restarts node, and stops for good on exit codes 77 and 78.',
  "Invoke-Native 'setting the failure actions' 'sc.exe' @('failure', $ServiceName, 'reset=', '86400', 'actions=', 'restart/5000/restart/30000/restart/60000')",
  "Invoke-Native 'setting the failure flag' 'sc.exe' @('failureflag', $ServiceName, '1')",
  '',
  'Start-Service -Name $ServiceName',
  'try {',
  "  (Get-Service -Name $ServiceName).WaitForStatus('Running', [TimeSpan]::FromSeconds(30))",
  '} catch {',
  "  Fail ('the service ' + $ServiceName + ' did not start within 30 s; see ' + $LogFile + ' and the System event log.')",
  '}',
  "Write-Host ('the service ' + $ServiceName + ' is running. Its log: Get-Content -Wait -Tail 20 ' + $LogFile)",
  "Write-Host 'Within 10 s of registering, the host shows as online on the Hosts page in Drydock.'",
];
