import { paramEnvName } from '@drydock/core/job-data';
import { psString } from '@drydock/core/powershell-literal';
import { paramText, REPRODUCE_INTERPRETERS, type ReproduceInput, reproducePlan } from './reproduce-input.ts';
import { windowsCommandLine } from './windows-command-line.ts';

/** The variables a Windows agent keeps from its own environment for a script (WINDOWS_INHERITED_ENV in agent/src/script-runner.ts). */
const WINDOWS_INHERITED = [
  'PATH', 'PATHEXT', 'SystemRoot', 'SystemDrive', 'windir', 'ComSpec', 'TEMP', 'TMP', 'USERPROFILE', 'USERNAME', 'USERDOMAIN',
  'COMPUTERNAME', 'APPDATA', 'LOCALAPPDATA', 'ProgramData', 'ProgramFiles', 'ProgramFiles(x86)', 'ProgramW6432', 'CommonProgramFiles',
  'PSModulePath', 'NUMBER_OF_PROCESSORS', 'PROCESSOR_ARCHITECTURE', 'OS', 'TZ', 'LANG',
];
const POSIX_INHERITED = ['PATH', 'HOME', 'USER', 'LOGNAME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'SHELL'];

const list = (names: readonly string[]) => `@(${names.map((n) => psString(n)).join(', ')})`;

/**
 * `reproduce.ps1`, for Windows PowerShell 5.1 and PowerShell 7: the same two modes as reproduce.sh. `api` posts the
 * run with Invoke-RestMethod; `local` starts the script through ProcessStartInfo with the command line a Windows
 * agent gives it (so PowerShell's own argument passing, which drops embedded quotes in 5.1, never touches a value)
 * and the agent's environment. Every value is a single-quoted literal or [char] codes (psString): nothing in one is
 * ever expanded. Secrets are read from `DRYDOCK_PARAM_<NAME>`.
 */
export function reproducePowerShellScript(input: ReproduceInput): string {
  const plan = reproducePlan(input);
  const { run } = input;
  const what = run.source === 'script' ? `script ${run.entryId} at version ${run.version}` : `action ${run.entryId} (its current revision)`;
  const secretVars = plan.secrets.map(paramEnvName);
  const lines: string[] = [
    `# Reproduces Drydock run ${run.id}: ${what}, first run on host ${run.hostId}, with the same parameters.`,
    '#',
    '#   .\\reproduce.ps1 api [HOST]   starts it through the Drydock API on HOST (default: the same host). Reads $env:DRYDOCK_URL',
    `#                                (default: ${input.apiUrl}) and $env:DRYDOCK_TOKEN when your Drydock asks for a token.`,
    '#   .\\reproduce.ps1 local        runs it here as the agent runs it: a fresh working directory, the agent\'s environment,',
    '#                                every parameter as DRYDOCK_PARAM_<NAME> and the non-secret ones as --name=value.',
    '#',
    secretVars.length > 0 ? `# The bundle holds no secret values: set ${secretVars.map((v) => `$env:${v}`).join(', ')} first.` : '# The run had no secret parameters.',
    '[CmdletBinding()]',
    'param(',
    '  [Parameter(Position = 0)][string]$Mode,',
    `  [Parameter(Position = 1)][string]$HostId = ${psString(run.hostId)}`,
    ')',
    "$ErrorActionPreference = 'Stop'",
    '',
    `$ApiUrl = ${psString(input.apiUrl)}`,
    `$Secrets = ${list(secretVars)}`,
    '$RunVariables = [ordered]@{',
    ...plan.runVariables.map(([name, value]) => `  ${psString(name)} = ${psString(value)}`),
    '}',
    '$Parameters = [ordered]@{',
    ...plan.values.map(([name, value]) => `  ${psString(paramEnvName(name))} = ${psString(paramText(value), `parameter ${name}`)}`),
    '}',
    `$BodyHead = ${psString(`${plan.bodyHead},"hostId":`)}`,
    `$BodyParams = ${psString(`,"params":{${plan.paramsJson}`, 'the parameters')}`,
    `$SecretMembers = [ordered]@{`,
    ...plan.secrets.map((name, i) => `  ${psString(paramEnvName(name))} = ${psString(`${i === 0 && plan.paramsJson === '' ? '' : ','}${JSON.stringify(name)}:`)}`),
    '}',
    '',
    'function Assert-Secrets {',
    '  $missing = @($Secrets | Where-Object { $null -eq [Environment]::GetEnvironmentVariable($_) })',
    '  if ($missing.Count -gt 0) {',
    "    [Console]::Error.WriteLine('reproduce.ps1: the bundle holds no secret values; set these variables first: ' + ($missing -join ', '))",
    '    exit 2',
    '  }',
    '}',
    '',
    'function Invoke-Api {',
    '  Assert-Secrets',
    '  $url = $ApiUrl',
    '  if ($env:DRYDOCK_URL) { $url = $env:DRYDOCK_URL }',
    "  $url = $url.TrimEnd('/')",
    '  $body = $BodyHead + (ConvertTo-Json -InputObject $HostId -Compress) + $BodyParams',
    '  foreach ($name in $SecretMembers.Keys) {',
    '    $body += $SecretMembers[$name] + (ConvertTo-Json -InputObject ([Environment]::GetEnvironmentVariable($name)) -Compress)',
    '  }',
    "  $body += '}}'",
    '  $headers = @{}',
    "  if ($env:DRYDOCK_TOKEN) { $headers['Authorization'] = 'Bearer ' + $env:DRYDOCK_TOKEN }",
    '  try {',
    "    $run = Invoke-RestMethod -Method Post -Uri ($url + '/api/v1/runs') -Headers $headers -ContentType 'application/json; charset=utf-8' -Body ([Text.Encoding]::UTF8.GetBytes($body))",
    '  } catch {',
    '    $said = $_.Exception.Message',
    '    if ($_.ErrorDetails -and $_.ErrorDetails.Message) { $said = $_.ErrorDetails.Message }',
    "    [Console]::Error.WriteLine('reproduce.ps1: Drydock at ' + $url + ' refused the run: ' + $said)",
    '    exit 1',
    '  }',
    '  $run | ConvertTo-Json -Depth 10',
    '}',
    '',
    'function Invoke-Local {',
  ];
  const local = plan.local;
  if (local.kind === 'none') {
    lines.push(`  [Console]::Error.WriteLine(${psString(`reproduce.ps1: ${local.reason}`)})`, '  exit 2');
  } else {
    let windows: { file: string; head: string; tail: string };
    let posix: { file: string; head: string; tail: string };
    let scriptName = '';
    if (local.kind === 'script') {
      const w = REPRODUCE_INTERPRETERS.windows[local.interpreter];
      const p = REPRODUCE_INTERPRETERS.posix[local.interpreter];
      scriptName = `script${w.extension}`;
      const tail = windowsCommandLine(local.argv);
      windows = { file: w.command, head: windowsCommandLine(w.args), tail };
      posix = { file: p.command, head: windowsCommandLine(p.args), tail };
    } else {
      const [command = '', ...rest] = local.words;
      windows = posix = { file: command, head: windowsCommandLine(rest), tail: '' };
    }
    lines.push(
      '  Assert-Secrets',
      "  $work = Join-Path ([IO.Path]::GetTempPath()) ('drydock-reproduce-' + [Guid]::NewGuid().ToString('N'))",
      '  New-Item -ItemType Directory -Path $work | Out-Null',
      "  [Console]::Error.WriteLine('reproduce.ps1: running in ' + $work)",
      // PowerShell 5.1 has no $IsWindows; only PowerShell 7 runs elsewhere.
      "  $onWindows = ($PSVersionTable.PSEdition -ne 'Core') -or $IsWindows",
      '  $psi = New-Object System.Diagnostics.ProcessStartInfo',
      '  if ($onWindows) {',
      `    $psi.FileName = ${psString(windows.file)}`,
      `    $head = ${psString(windows.head, 'the command line')}`,
      `    $tail = ${psString(windows.tail, 'the command line')}`,
      `    $inherited = ${list(WINDOWS_INHERITED)}`,
      '  } else {',
      `    $psi.FileName = ${psString(posix.file)}`,
      `    $head = ${psString(posix.head, 'the command line')}`,
      `    $tail = ${psString(posix.tail, 'the command line')}`,
      `    $inherited = ${list(POSIX_INHERITED)}`,
      '  }',
    );
    if (local.kind === 'script') {
      lines.push(
        `  $scriptFile = Join-Path $work ${psString(scriptName)}`,
        `  Copy-Item -LiteralPath (Join-Path $PSScriptRoot ${psString(local.scriptFile)}) -Destination $scriptFile`,
        // A Windows path holds no quote and this one ends in the file name, so quotes around it are its whole quoting.
        "  $psi.Arguments = ($head + ' \"' + $scriptFile + '\" ' + $tail).Trim()",
      );
    } else {
      lines.push('  $psi.Arguments = $head');
    }
    lines.push(
      '  $psi.UseShellExecute = $false',
      '  $psi.WorkingDirectory = $work',
      '  $kept = [ordered]@{}',
      '  foreach ($name in @($inherited + $Secrets)) {',
      '    $value = [Environment]::GetEnvironmentVariable($name)',
      '    if ($null -ne $value) { $kept[$name] = $value }',
      '  }',
      '  $psi.EnvironmentVariables.Clear()',
      '  foreach ($name in $kept.Keys) { $psi.EnvironmentVariables[$name] = $kept[$name] }',
      '  foreach ($name in $RunVariables.Keys) { $psi.EnvironmentVariables[$name] = $RunVariables[$name] }',
      '  foreach ($name in $Parameters.Keys) { $psi.EnvironmentVariables[$name] = $Parameters[$name] }',
      '  $process = [Diagnostics.Process]::Start($psi)',
      '  $process.WaitForExit()',
      '  exit $process.ExitCode',
    );
  }
  lines.push(
    '}',
    '',
    'switch ($Mode) {',
    "  'api' { Invoke-Api }",
    "  'local' { Invoke-Local }",
    '  default {',
    `    [Console]::Error.WriteLine(${psString(lines.slice(0, 8).map((l) => l.replace(/^# ?/, '')).join('\n'))})`,
    '    exit 2',
    '  }',
    '}',
    '',
  );
  return lines.join('\r\n');
}
