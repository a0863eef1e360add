import { CONTAINS_READ_LIMIT } from '../operations/file-validation.ts';
import { BODY_READ_LIMIT } from '../operations/service-health.ts';
import { WINDOWS_INVENTORY_FRAGMENT } from '../operations/inventory-answers.ts';

/**
 * The fixed PowerShell programs that host operations and capture run on a WinRM host. Each is sent as the
 * script of the PowerShell wrapper (powershell-wrapper.ts): base64 in the job document on stdin, written to a
 * file in a fresh temp directory and run as `& $file`, so the WinRM command line stays the wrapper's constant.
 * Inputs are DRYDOCK_OP_* variables in the same document; no value is ever part of a program's text.
 *
 * A program reports facts as lines `<tag> <key> <value>` on stdout, the tag being a random word the client chose
 * (DRYDOCK_OP_TAG). Free text (messages, names) goes base64 under a key ending in 64, so a line break or a
 * console code page cannot split or garble a fact. Written for Windows PowerShell 5.1 (.NET Framework 4.6+).
 *
 * These programs have not run on Windows here: no Windows host is reachable from this repository's tests. The
 * tests check what is sent and how documented answers are read (winrm-operations.test.ts).
 */

const HEAD = `$ErrorActionPreference = 'Stop'
$t = $env:DRYDOCK_OP_TAG
function Say([string]$key, [string]$value) { [Console]::Out.WriteLine($t + ' ' + $key + ' ' + $value) }
function Say64([string]$key, [string]$value) { Say $key ([Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes([string]$value))) }
function Value([string]$name) { [Environment]::GetEnvironmentVariable('DRYDOCK_OP_' + $name) }
function ReadHead([IO.Stream]$stream, [int]$count) {
  $buffer = New-Object byte[] $count; $length = 0
  while ($length -lt $count) { $read = $stream.Read($buffer, $length, $count - $length); if ($read -le 0) { break }; $length += $read }
  ,@($buffer, $length)
}`;

/**
 * shell_command: argv from DRYDOCK_OP_ARG_<i> (not the script's own arguments, which PowerShell could take for
 * parameter names), looked up as a program with Get-Command in the working directory, and started with
 * System.Diagnostics.Process: its arguments quoted as CommandLineToArgvW splits them back, its environment
 * PATH, HOME, LANG, TZ, SystemRoot, PATHEXT, TEMP and TMP with the operation's variables over them, as an agent
 * on Windows gives it. `<tag> start` marks where the program's own output begins.
 */
export const SHELL_COMMAND_PROGRAM = `${HEAD}
function Quote([string]$a) {
  if ($a.Length -gt 0 -and $a -notmatch '[\\s"]') { return $a }
  $sb = New-Object Text.StringBuilder; [void]$sb.Append('"'); $n = 0
  foreach ($c in $a.ToCharArray()) {
    if ($c -eq [char]92) { $n++; continue }
    if ($c -eq [char]34) { [void]$sb.Append([char]92, 2 * $n + 1) } elseif ($n -gt 0) { [void]$sb.Append([char]92, $n) }
    [void]$sb.Append($c); $n = 0
  }
  if ($n -gt 0) { [void]$sb.Append([char]92, 2 * $n) }
  [void]$sb.Append('"'); $sb.ToString()
}
$argv = @(for ($i = 0; $i -lt [int](Value 'ARGC'); $i++) { [string](Value ('ARG_' + $i)) })
$cwd = Value 'CWD'
if ($null -ne $cwd) {
  if (-not (Test-Path -LiteralPath $cwd -PathType Container)) { Say 'nocwd' ''; exit 125 }
  Set-Location -LiteralPath $cwd
}
$cwd = (Get-Location).ProviderPath
$command = Get-Command -Name ([Management.Automation.WildcardPattern]::Escape($argv[0])) -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
if ($null -eq $command) { Say 'noprogram' ''; exit 127 }
$rest = @($argv | Select-Object -Skip 1)
if ($command.Path -match '[.](bat|cmd)$' -and @($rest | Where-Object { $_ -match '[%!^&|<>()"\\r\\n]' }).Count -gt 0) { Say 'batch' ''; exit 125 }
$psi = New-Object Diagnostics.ProcessStartInfo
$psi.FileName = $command.Path
$psi.Arguments = @($rest | ForEach-Object { Quote $_ }) -join ' '
$psi.UseShellExecute = $false
$psi.WorkingDirectory = $cwd
$psi.EnvironmentVariables.Clear()
foreach ($name in 'PATH', 'HOME', 'LANG', 'TZ', 'SystemRoot', 'PATHEXT', 'TEMP', 'TMP') {
  $v = [Environment]::GetEnvironmentVariable($name)
  if ($null -ne $v) { $psi.EnvironmentVariables[$name] = $v }
}
for ($i = 0; $i -lt [int](Value 'ENVS'); $i++) { $psi.EnvironmentVariables[[string](Value ('ENV_NAME_' + $i))] = [string](Value ('ENV_VALUE_' + $i)) }
Say 'start' ''
$process = [Diagnostics.Process]::Start($psi)
$process.WaitForExit()
exit $process.ExitCode
`;

/**
 * file_validation: Get-Item of DRYDOCK_OP_PATH as the WinRM user. Readable and writable are tried, not computed
 * from ACLs: a file is opened for reading, or for writing without truncating it (the ReadOnly attribute says no
 * first); a directory is listed, or given a file that deletes itself on close. `contains:` texts
 * (DRYDOCK_OP_NEEDLE_<i>) are looked for in the first CONTAINS_READ_LIMIT bytes, byte for byte (Latin-1 maps each
 * byte to one character, and each text is UTF-8 encoded the same way).
 */
export const FILE_VALIDATION_PROGRAM = `${HEAD}
$p = Value 'PATH'
$identity = [Security.Principal.WindowsIdentity]::GetCurrent()
Say64 'user64' $identity.Name
Say 'admin' ([string](New-Object Security.Principal.WindowsPrincipal $identity).IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator))
try { $item = Get-Item -LiteralPath $p -Force }
catch [Management.Automation.ItemNotFoundException] { Say 'missing' 'absent'; exit 0 }
catch [UnauthorizedAccessException] { Say 'missing' 'denied'; exit 0 }
catch { Say64 'missing64' $_.Exception.Message; exit 0 }
$directory = [bool]$item.PSIsContainer
$size = if ($directory) { 0 } else { $item.Length }
Say 'stat' ((@('file', 'directory')[[int]$directory]) + '|' + $size + '|' + ([DateTimeOffset]$item.LastWriteTimeUtc).ToUnixTimeMilliseconds())
try {
  if ($directory) { [void][IO.Directory]::EnumerateFileSystemEntries($p).GetEnumerator().MoveNext() }
  else { ([IO.File]::Open($p, 'Open', 'Read', 'ReadWrite, Delete')).Close() }
  Say 'readable' 'yes'
} catch { Say 'readable' 'no'; Say64 'readable64' $_.Exception.Message }
try {
  if ($directory) { ([IO.File]::Create((Join-Path $p ('.drydock-write-check-' + [Guid]::NewGuid().ToString('N'))), 1, [IO.FileOptions]::DeleteOnClose)).Close() }
  elseif ($item.IsReadOnly) { throw 'the file has the ReadOnly attribute' }
  else { ([IO.File]::Open($p, 'Open', 'Write', 'ReadWrite, Delete')).Close() }
  Say 'writable' 'yes'
} catch { Say 'writable' 'no'; Say64 'writable64' $_.Exception.Message }
$needles = [int](Value 'NEEDLES')
if ($needles -gt 0 -and -not $directory) {
  try {
    $stream = [IO.File]::Open($p, 'Open', 'Read', 'ReadWrite, Delete')
    try { $head = ReadHead $stream ${CONTAINS_READ_LIMIT + 1} } finally { $stream.Close() }
    Say 'length' $head[1]
    $latin = [Text.Encoding]::GetEncoding(28591)
    $text = $latin.GetString($head[0], 0, [Math]::Min($head[1], ${CONTAINS_READ_LIMIT}))
    for ($i = 0; $i -lt $needles; $i++) {
      $needle = $latin.GetString([Text.Encoding]::UTF8.GetBytes([string](Value ('NEEDLE_' + $i))))
      Say 'found' ([string]$i + ' ' + @('no', 'yes')[[int]($text.IndexOf($needle, [StringComparison]::Ordinal) -ge 0)])
    }
  } catch { Say64 'unreadable64' $_.Exception.Message }
}
exit 0
`;

/**
 * service_health over HTTP: one request with .NET's HttpWebRequest from the host, redirects not followed, at most
 * BODY_READ_LIMIT + 1 bytes of the body read (Invoke-WebRequest follows or throws on a 3xx and reads every byte,
 * differently in 5.1 and 7). A request without a response reports WebException.Status and the socket error.
 */
export const HTTP_PROGRAM = `${HEAD}
try { [Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12 } catch { }
$timeout = [int]([double](Value 'TIMEOUT') * 1000)
try {
  $request = [Net.WebRequest]::Create((Value 'URL'))
  $request.Method = Value 'METHOD'
  $request.AllowAutoRedirect = $false
  $request.Timeout = $timeout
  $request.ReadWriteTimeout = $timeout
  $request.UserAgent = 'drydock-operation'
  try { $response = $request.GetResponse() }
  catch [Net.WebException] {
    $response = $_.Exception.Response
    if ($null -eq $response) {
      $socket = $_.Exception.InnerException
      while ($null -ne $socket -and -not ($socket -is [Net.Sockets.SocketException])) { $socket = $socket.InnerException }
      Say 'fail' ([string]$_.Exception.Status + ' ' + $(if ($null -ne $socket) { [string]$socket.SocketErrorCode } else { '-' }))
      Say64 'message64' $_.Exception.Message
      exit 0
    }
  }
  Say 'status' ([string][int]$response.StatusCode)
  Say64 'reason64' $response.StatusDescription
  $location = $response.Headers['Location']
  if ($location) { Say64 'location64' $location }
  if (Value 'BODY') {
    try {
      $head = ReadHead $response.GetResponseStream() ${BODY_READ_LIMIT + 1}
      $b64 = [Convert]::ToBase64String($head[0], 0, $head[1])
      for ($i = 0; $i -lt $b64.Length; $i += 12000) { Say 'body' $b64.Substring($i, [Math]::Min(12000, $b64.Length - $i)) }
      Say 'bodyend' ''
    } catch { Say64 'bodyerror64' $_.Exception.Message }
  }
  $response.Close()
} catch { Say64 'error64' $_.Exception.Message }
exit 0
`;

/**
 * service_health of a Windows service: the ServiceController that Get-Service returns, for exactly the name
 * given (Get-Service -Name would take [ and * for wildcards). Reports its Status (Running, Stopped, …) or the
 * Win32 error code of the failure: 1060 when no such service is installed, 5 when access is denied.
 */
export const WINDOWS_SERVICE_PROGRAM = `${HEAD}
Add-Type -AssemblyName System.ServiceProcess
$service = New-Object System.ServiceProcess.ServiceController (Value 'SERVICE')
try { Say 'state' ([string]$service.Status) }
catch {
  $win32 = $_.Exception
  while ($null -ne $win32 -and -not ($win32 -is [ComponentModel.Win32Exception])) { $win32 = $win32.InnerException }
  Say 'error' $(if ($null -ne $win32) { [string]$win32.NativeErrorCode } else { '-' })
  Say64 'message64' $_.Exception.Message
}
exit 0
`;

/**
 * The environment snapshot: Win32_OperatingSystem and Win32_Processor (CIM), with DRYDOCK_OP_DISK the drive of the
 * temp directory (where the wrapper ran the script), the PowerShell version, the session's variables, and the
 * packages and services DRYDOCK_OP_PACKAGES and DRYDOCK_OP_SERVICES name (WINDOWS_INVENTORY_FRAGMENT), as one
 * JSON document in base64.
 */
export const SNAPSHOT_PROGRAM = `${HEAD}
$os = Get-CimInstance Win32_OperatingSystem
$cpus = @(Get-CimInstance Win32_Processor)
$disk = $null
if (Value 'DISK') {
  $temp = [IO.Path]::GetTempPath()
  $drive = New-Object IO.DriveInfo ([IO.Path]::GetPathRoot($temp))
  $disk = @{ path = $temp; totalBytes = $drive.TotalSize; freeBytes = $drive.AvailableFreeSpace }
}
$variables = @{}
foreach ($entry in [Environment]::GetEnvironmentVariables().GetEnumerator()) { $variables[[string]$entry.Key] = [string]$entry.Value }
${WINDOWS_INVENTORY_FRAGMENT}
$document = @{
  hostname = $env:COMPUTERNAME
  caption = $os.Caption
  version = $os.Version
  architecture = $env:PROCESSOR_ARCHITECTURE
  uptimeSeconds = [int]((Get-Date) - $os.LastBootUpTime).TotalSeconds
  totalKb = $os.TotalVisibleMemorySize
  freeKb = $os.FreePhysicalMemory
  logicalProcessors = (($cpus | Measure-Object -Property NumberOfLogicalProcessors -Sum).Sum)
  cpuModel = $(if ($cpus.Count -gt 0) { $cpus[0].Name } else { $null })
  disk = $disk
  powershell = $PSVersionTable.PSVersion.ToString()
  environment = $variables
  packages = $drydockInventory.packages
  services = $drydockInventory.services
}
$b64 = [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes(($document | ConvertTo-Json -Depth 4 -Compress)))
for ($i = 0; $i -lt $b64.Length; $i += 12000) { Say 'json' $b64.Substring($i, [Math]::Min(12000, $b64.Length - $i)) }
exit 0
`;
