/**
 * The fixed PowerShell program a WinRM run starts, and the job document that feeds it over stdin.
 *
 * The WinRM command line is the same for every job: `powershell.exe ... -EncodedCommand <WRAPPER_SCRIPT>`,
 * so no value is ever spliced into it. The job travels as one JSON document on the command's stdin (WS-Man
 * Send, ended with End="true"); every value in it is base64 of its UTF-8 bytes, so the document is plain
 * ASCII whatever the console code page, and no string can be taken for a date or a number by ConvertFrom-Json:
 *
 *   { "v": 1,
 *     "env": [{ "n": "DRYDOCK_PARAM_NAME", "v": <base64> }, ...],   exported for the script (names checked)
 *     "script": <base64> | null,                                      a PowerShell script's text, or null
 *     "argv": [<base64>, ...] }                                       the script's arguments, or the command
 *
 * With a script, the wrapper writes it to script.ps1 (UTF-8 with BOM, which Windows PowerShell 5.1 needs for
 * non-ASCII text) in a new directory under the user's temp directory and runs `& $file @argv` in-process, so
 * each argument arrives as a .NET string, never re-parsed. With a command, argv[0] is looked up with
 * Get-Command: a cmdlet or function is run with `& $command @rest`; a program is started with
 * System.Diagnostics.Process and an argument string quoted by the rules CommandLineToArgvW parses back
 * (PowerShell 5.1's own native-argument passing mangles embedded quotes), and a batch file is refused when an
 * argument holds characters cmd.exe would interpret.
 *
 * Before the script starts, the wrapper prints READY_MARKER on stdout and on stderr: what comes before it is
 * PowerShell's own (such as progress records). A failure before that point prints FAILED_MARKER and the reason
 * on stderr and exits 125. The exit code is the script's `exit N` (or the last native command's), 1 when it
 * throws a terminating error; for a command, the program's exit code, or 1 when a cmdlet wrote an error.
 */

export const READY_MARKER = 'DRYDOCK-WINRM READY';
export const FAILED_MARKER = 'DRYDOCK-WINRM FAILED ';
export const ENV_NAME = /^DRYDOCK_[A-Z0-9_]+$/;

const WRAPPER_LINES = [
  "$ErrorActionPreference = 'Stop'",
  "$ProgressPreference = 'SilentlyContinue'",
  '$dir = $null; $started = $false; $code = 1',
  `function Fail([string]$why) { [Console]::Error.WriteLine('${FAILED_MARKER}' + $why); exit 125 }`,
  'function Text($b64) { [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String([string]$b64)) }',
  'function Quote([string]$a) {',
  '  if ($a.Length -gt 0 -and $a -notmatch \'[\\s"]\') { return $a }',
  "  $sb = New-Object Text.StringBuilder; [void]$sb.Append('\"'); $n = 0",
  '  foreach ($c in $a.ToCharArray()) {',
  '    if ($c -eq [char]92) { $n++; continue }',
  '    if ($c -eq [char]34) { [void]$sb.Append([char]92, 2 * $n + 1) } elseif ($n -gt 0) { [void]$sb.Append([char]92, $n) }',
  '    [void]$sb.Append($c); $n = 0',
  '  }',
  '  if ($n -gt 0) { [void]$sb.Append([char]92, 2 * $n) }',
  "  [void]$sb.Append('\"'); $sb.ToString()",
  '}',
  'try {',
  '  try { [Console]::OutputEncoding = New-Object Text.UTF8Encoding $false } catch { }',
  "  try { $job = [Console]::In.ReadToEnd() | ConvertFrom-Json } catch { Fail 'the job document on stdin is not valid JSON' }",
  "  if ($job.v -ne 1) { Fail 'unknown job framing; the client and this wrapper disagree' }",
  '  foreach ($var in @($job.env)) {',
  "    if ([string]$var.n -cnotmatch '^DRYDOCK_[A-Z0-9_]+$') { Fail ('refused variable ' + $var.n) }",
  "    [Environment]::SetEnvironmentVariable([string]$var.n, (Text $var.v), 'Process')",
  '  }',
  '  $argv = @(@($job.argv) | ForEach-Object { Text $_ })',
  '  $native = $false',
  '  if ($null -eq $job.script) {',
  "    if ($argv.Count -eq 0) { Fail 'nothing to run' }",
  '    $target = Get-Command -Name ([Management.Automation.WildcardPattern]::Escape($argv[0])) -ErrorAction SilentlyContinue | Select-Object -First 1',
  "    if ($null -eq $target) { Fail ($argv[0] + ' is not installed or not on the PATH of ' + [Environment]::UserName) }",
  '    $argv = @($argv | Select-Object -Skip 1)',
  "    $native = $target.CommandType -eq 'Application'",
  "    if ($native -and $target.Path -match '[.](bat|cmd)$' -and @($argv | Where-Object { $_ -match '[%!^&|<>()\"\\r\\n]' }).Count -gt 0) {",
  "      Fail ($target.Name + ' is a batch file, and cmd.exe would interpret characters in its arguments')",
  '    }',
  '  }',
  "  $dir = Join-Path ([IO.Path]::GetTempPath()) ('drydock-winrm-' + [Guid]::NewGuid().ToString('N'))",
  '  [void](New-Item -ItemType Directory -Path $dir)',
  '  Set-Location -LiteralPath $dir; [Environment]::CurrentDirectory = $dir',
  '  if ($null -ne $job.script) {',
  "    $target = Join-Path $dir 'script.ps1'",
  '    [IO.File]::WriteAllText($target, (Text $job.script), (New-Object Text.UTF8Encoding $true))',
  '  }',
  `  [Console]::Out.WriteLine('${READY_MARKER}'); [Console]::Error.WriteLine('${READY_MARKER}'); $started = $true`,
  "  $ErrorActionPreference = 'Continue'",
  '  if ($native) {',
  '    $psi = New-Object Diagnostics.ProcessStartInfo',
  '    $psi.FileName = $target.Path',
  "    $psi.Arguments = @($argv | ForEach-Object { Quote $_ }) -join ' '",
  '    $psi.UseShellExecute = $false',
  '    $psi.WorkingDirectory = $dir',
  '    $process = [Diagnostics.Process]::Start($psi); $process.WaitForExit(); $code = $process.ExitCode',
  '  } else {',
  '    $global:LASTEXITCODE = 0; $script:wroteError = $false',
  '    try {',
  '      & $target @argv 2>&1 | ForEach-Object {',
  '        if ($_ -is [Management.Automation.ErrorRecord]) { $script:wroteError = $true; [Console]::Error.WriteLine($_.ToString()) } else { $_ }',
  '      } | Out-Default',
  '      $code = if ($null -ne $job.script) { $global:LASTEXITCODE } elseif ($script:wroteError) { 1 } else { 0 }',
  '    } catch { [Console]::Error.WriteLine($_.ToString()); $code = 1 }',
  '  }',
  '} catch {',
  '  if (-not $started) { Fail $_.ToString() }',
  '  [Console]::Error.WriteLine($_.ToString()); $code = 1',
  '} finally {',
  '  if ($dir) { Set-Location -LiteralPath ([IO.Path]::GetTempPath()); Remove-Item -LiteralPath $dir -Recurse -Force -ErrorAction SilentlyContinue }',
  '}',
  'exit $code',
];

/** The wrapper: a PowerShell program that is the same for every job. */
export const WRAPPER_SCRIPT = WRAPPER_LINES.join('\n');

/** What the WS-Man Command runs: a constant, whatever the job. */
export const WRAPPER_COMMAND = 'powershell.exe';
export const WRAPPER_ARGUMENTS: readonly string[] = [
  '-NoLogo',
  '-NoProfile',
  '-NonInteractive',
  '-ExecutionPolicy',
  'Bypass',
  '-EncodedCommand',
  Buffer.from(WRAPPER_SCRIPT, 'utf16le').toString('base64'),
];

export interface WinrmInvocation {
  env: Record<string, string>;
  /** A PowerShell script's text, or null to run argv as a command. */
  script: string | null;
  argv: string[];
}

/** The stdin the wrapper reads; callers have checked names against ENV_NAME and values for NUL bytes. */
export function encodeJobDocument(invocation: WinrmInvocation): Buffer {
  const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
  return Buffer.from(
    JSON.stringify({
      v: 1,
      env: Object.entries(invocation.env).map(([n, v]) => ({ n, v: b64(v) })),
      script: invocation.script === null ? null : b64(invocation.script),
      argv: invocation.argv.map(b64),
    }),
    'utf8',
  );
}
