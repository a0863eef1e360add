import { describe, expect, test } from 'vitest';
import { AgentConfigSchema } from '../agent-config.ts';
import {
  INSTALL_COMMAND,
  renderWindowsInstallScript,
  serviceHostSource,
  type WindowsInstallOptions,
  WindowsInstallError,
  windowsInstallOptions,
} from './install-script.ts';
import { evaluateString, segments } from './powershell-tokens.test-support.ts';

const SECRET = 'reg-secret-0123456789abcdef';

const BASIC: WindowsInstallOptions = {
  apiUrl: 'https://drydock.example.com',
  registrationSecret: SECRET,
  hostName: 'win-build-1',
  tags: ['windows', 'build'],
  environment: { DRYDOCK_CODEC_KEY: 'codec-key-base64==', DRYDOCK_CODEC_KEY_ID: 'k1' },
  settings: {
    temporal_address: 'temporal.example.com:7233',
    temporal_namespace: 'default',
    max_concurrent_jobs: 3,
    default_timeout: 600,
    log_level: 'debug',
    heartbeat_interval: 5,
    token_rotation_hours: 24,
    allowed_commands: ['powershell', 'cmd'],
    forbidden_paths: ['C:\\Windows\\System32\\config', 'D:\\secrets'],
    resource_limits: { cpu_seconds: 600, memory_mb: 2048, max_execution_seconds: 3600, max_processes: 64 },
  },
};

/** A marker in every hostile value: it must never reach the script outside a string. */
const MARK = 'PWNED';
const HOSTILE: WindowsInstallOptions = {
  apiUrl: `https://drydock.example.com/x'$(${MARK}1)\``,
  registrationSecret: `'; ${MARK}2 \u2019; $(${MARK}3) \`n "${MARK}4" \u2018`,
  hostName: 'evil-host',
  tags: [`it's ${MARK}5`, `\u2019$(${MARK}6)`, `\u0451; ${MARK}7`],
  environment: { DRYDOCK_CODEC_KEY: `\u201C$(${MARK}8)\u201D'` },
  installDir: `C:\\Program Files\\Dry'dock $(${MARK}9)`,
  dataDir: `C:\\ProgramData\\Dry\u2019dock \`${MARK}10`,
  nodePath: `C:\\node's\\${MARK}11\\node.exe`,
  settings: {
    temporal_address: 'temporal.example.com:7233',
    allowed_commands: [`pwsh'${MARK}12`],
    forbidden_paths: [`C:\\it's ${MARK}13`],
    temp_dir: `D:\\work \u2018${MARK}14\u2019`,
  },
};

/** The value assigned to `$name` in the script (or given as its parameter's default). */
function assigned(script: string, name: string): string {
  const line = script.split('\r\n').find((l) => l.startsWith(`$${name} = `) || l.startsWith(`  [string]$${name} = `));
  if (!line) throw new Error(`no $${name} in the script`);
  return evaluateString(line.slice(line.indexOf(' = ') + 3));
}

/** The lines of `$name = @( … )`, one string each. */
function arrayLines(script: string, name: string): string[] {
  const lines = script.split('\r\n');
  const start = lines.indexOf(`$${name} = @(`);
  if (start === -1) throw new Error(`no $${name} array in the script`);
  const end = lines.indexOf(')', start);
  return lines.slice(start + 1, end).map((l) => evaluateString(l));
}
const envLines = (script: string) => arrayLines(script, 'AgentEnv');
const configText = (script: string) => arrayLines(script, 'AgentConfig').join('\n');

describe('renderWindowsInstallScript', () => {
  test('writes every config key with the given values, in the format the agent reads', () => {
    const script = renderWindowsInstallScript(BASIC);
    const config = JSON.parse(configText(script)) as Record<string, unknown>;
    expect(config).toEqual({
      server_id: 'win-build-1',
      backend_url: 'https://drydock.example.com',
      tags: ['windows', 'build'],
      ...BASIC.settings,
      state_file: 'C:\\ProgramData\\Drydock\\agent\\state.json',
      temp_dir: 'C:\\ProgramData\\Drydock\\agent\\work',
    });
    // Only keys agent-config.ts knows, and no secret: those go to the env file.
    for (const key of Object.keys(config)) expect(Object.keys(AgentConfigSchema.shape)).toContain(key);
    expect(configText(script)).not.toContain(SECRET);
    expect(assigned(script, 'ConfigFile')).toBe('C:\\ProgramData\\Drydock\\agent\\agent.json');
  });

  test('puts the registration secret, the token and the environment in the env file', () => {
    const script = renderWindowsInstallScript({ ...BASIC, settings: { ...BASIC.settings, token: 'dda_issued-token' } });
    expect(envLines(script)).toEqual([
      'DRYDOCK_AGENT_CONFIG=C:\\ProgramData\\Drydock\\agent\\agent.json',
      'DRYDOCK_DATA_DIR=C:\\ProgramData\\Drydock\\agent',
      `DRYDOCK_AGENT_REGISTRATION_SECRET=${SECRET}`,
      'DRYDOCK_AGENT_TOKEN=dda_issued-token',
      'DRYDOCK_CODEC_KEY=codec-key-base64==',
      'DRYDOCK_CODEC_KEY_ID=k1',
    ]);
    expect(JSON.parse(configText(script))).not.toHaveProperty('token');
  });

  test('uses the default directories, node.exe and service name', () => {
    const script = renderWindowsInstallScript(BASIC);
    expect(assigned(script, 'ServiceName')).toBe('DrydockAgent');
    expect(assigned(script, 'InstallDir')).toBe('C:\\Program Files\\Drydock\\agent');
    expect(assigned(script, 'DataDir')).toBe('C:\\ProgramData\\Drydock\\agent');
    expect(assigned(script, 'NodePath')).toBe('C:\\Program Files\\nodejs\\node.exe');
    expect(assigned(script, 'LogFile')).toBe('C:\\ProgramData\\Drydock\\agent\\logs\\agent.log');
    expect(assigned(script, 'AgentEntry')).toBe('C:\\Program Files\\Drydock\\agent\\agent\\src\\main.ts');
    expect(assigned(script, 'HostExe')).toBe('C:\\Program Files\\Drydock\\agent\\DrydockAgentService.exe');
    // The service host's options (service-host.cs), each path in double quotes for the SCM's command line.
    expect(script).toContain(
      `$BinaryPath = '"' + $HostExe + '" --service-name ' + $ServiceName + ' --node "' + $NodePath + '" --entry "' + $AgentEntry + '" --env-file "' + $EnvFile + '" --log "' + $LogFile + '" --workdir "' + $InstallDir + '"'`,
    );
  });

  test('never lets a value out of a string: quotes, $(), backticks, smart quotes and newlines stay data', () => {
    const script = renderWindowsInstallScript(HOSTILE);
    const parts = segments(script);
    const outside = parts.filter((p) => p.kind !== 'single').map((p) => p.text).join('\n');
    expect(outside).not.toContain(MARK);
    // Each value is read back whole.
    expect(assigned(script, 'InstallDir')).toBe(HOSTILE.installDir);
    expect(assigned(script, 'DataDir')).toBe(HOSTILE.dataDir);
    expect(assigned(script, 'NodePath')).toBe(HOSTILE.nodePath);
    expect(assigned(script, 'WorkDir')).toBe(HOSTILE.settings!.temp_dir);
    expect(envLines(script)).toContain(`DRYDOCK_AGENT_REGISTRATION_SECRET=${HOSTILE.registrationSecret}`);
    expect(envLines(script)).toContain(`DRYDOCK_CODEC_KEY=${HOSTILE.environment!.DRYDOCK_CODEC_KEY}`);
    const config = JSON.parse(configText(script)) as Record<string, unknown>;
    expect(config).toMatchObject({ backend_url: HOSTILE.apiUrl, tags: HOSTILE.tags, allowed_commands: HOSTILE.settings!.allowed_commands });
    for (let n = 1; n <= 14; n++) expect(script).toContain(`${MARK}${n}`);
  });

  test('is plain ASCII, so Windows PowerShell reads it the same with or without a byte order mark', () => {
    expect(renderWindowsInstallScript(HOSTILE)).toMatch(/^[\x20-\x7E\r\n]*$/);
  });

  test('refuses the script until elevated, with what to do', () => {
    const script = renderWindowsInstallScript(BASIC);
    expect(script).toContain('IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)');
    expect(script).toContain('this script must run as Administrator: open Windows PowerShell with "Run as administrator" and run it again.');
    // Before it changes anything: the check comes ahead of the uninstall branch and every install step.
    expect(script.indexOf('IsInRole')).toBeLessThan(script.indexOf('if ($Uninstall)'));
    expect(script.indexOf('IsInRole')).toBeLessThan(script.indexOf('New-Item -ItemType Directory'));
  });

  test('restricts the data directory, the config file and the env file to SYSTEM and Administrators', () => {
    const script = renderWindowsInstallScript(BASIC);
    expect(script).toContain("'icacls.exe' (@($Path, '/inheritance:r', '/grant:r') + $Grants)");
    expect(script).toContain("$DirGrants = @('*S-1-5-18:(OI)(CI)F', '*S-1-5-32-544:(OI)(CI)F')");
    expect(script).toContain("$FileGrants = @('*S-1-5-18:F', '*S-1-5-32-544:F')");
    for (const line of ['Protect-Path $DataDir $DirGrants', 'Protect-Path $ConfigFile $FileGrants', 'Protect-Path $EnvFile $FileGrants']) expect(script).toContain(line);
    // The directory is locked down before the secrets are written into it.
    expect(script.indexOf('Protect-Path $DataDir $DirGrants')).toBeLessThan(script.indexOf('[IO.File]::WriteAllText($EnvFile'));
  });

  test('registers an automatic service with restart-on-failure actions', () => {
    const script = renderWindowsInstallScript(BASIC);
    expect(script).toContain('New-Service -Name $ServiceName -BinaryPathName $BinaryPath -DisplayName $DisplayName -Description $Description -StartupType Automatic');
    expect(script).toContain("@('failure', $ServiceName, 'reset=', '86400', 'actions=', 'restart/5000/restart/30000/restart/60000')");
    expect(script).toContain("@('failureflag', $ServiceName, '1')");
    expect(script).toContain('Start-Service -Name $ServiceName');
  });

  test('on a second run updates the same service and restarts it rather than failing on New-Service', () => {
    const script = renderWindowsInstallScript(BASIC);
    const update = script.indexOf('if ($null -ne $existing) {');
    const create = script.indexOf('New-Service');
    expect(update).toBeGreaterThan(-1);
    expect(script).toContain("Invoke-CimMethod -InputObject $existing -MethodName Change -Arguments @{ PathName = $BinaryPath; DisplayName = $DisplayName; StartMode = 'Automatic' }");
    expect(create).toBeGreaterThan(update);
    // Stopped before the host .exe is replaced and the files rewritten, started again after.
    expect(script.indexOf('\r\nStop-AgentService')).toBeLessThan(script.indexOf('Copy-Item -LiteralPath $built -Destination $HostExe -Force'));
    expect(script.lastIndexOf('Start-Service')).toBeGreaterThan(script.indexOf('[IO.File]::WriteAllText($ConfigFile'));
    expect(script).toContain('New-Item -ItemType Directory -Force');
  });

  test('compiles the embedded service host with Add-Type to a console .exe', () => {
    const script = renderWindowsInstallScript(BASIC);
    const here = segments(script).find((s) => s.kind === 'here');
    expect(here?.text).toBe(serviceHostSource().replace(/\r?\n$/, '').replace(/\r?\n/g, '\r\n'));
    expect(script).not.toMatch(/[^\r]\n/);
    expect(script).toContain(
      "Add-Type -TypeDefinition $ServiceHostSource -Language CSharp -ReferencedAssemblies 'System.ServiceProcess' -OutputAssembly $built -OutputType ConsoleApplication",
    );
    expect(script).toContain('if ($PSVersionTable.PSVersion.Major -ne 5) {');
  });

  test('-Uninstall stops and deletes the service and removes the host and the data, then exits', () => {
    const script = renderWindowsInstallScript(BASIC);
    const start = script.indexOf('if ($Uninstall) {');
    const block = script.slice(start, script.indexOf('\r\n}\r\n', start));
    expect(script).toContain('  [switch]$Uninstall,');
    for (const line of [
      'Stop-AgentService',
      "'sc.exe' @('delete', $ServiceName)",
      'Remove-Item -LiteralPath $HostExe -Force',
      'Remove-Item -LiteralPath $DataDir -Recurse -Force',
      'exit 0',
    ]) {
      expect(block).toContain(line);
    }
    // Before the checks for node and the checkout: removing needs neither.
    expect(start).toBeLessThan(script.indexOf('Test-Path -LiteralPath $NodePath'));
  });

  test('refuses options the agent would refuse, listing each', () => {
    const bad = () =>
      renderWindowsInstallScript({
        ...BASIC,
        hostName: 'Not A Host',
        registrationSecret: 'short',
        dataDir: 'relative\\dir',
        environment: { DRYDOCK_API_URL: 'https://x', 'BAD NAME': 'x', DRYDOCK_CODEC_KEY: 'two\nlines' },
        settings: { max_concurrent_jobs: 0, forbidden_paths: ['/etc/shadow'] },
      });
    expect(bad).toThrow(WindowsInstallError);
    const message = (() => {
      try {
        bad();
        return '';
      } catch (err) {
        return (err as Error).message;
      }
    })();
    for (const part of [
      'server_id: must be the host name in lower case',
      'registration_secret: must be the registration secret the Drydock UI shows',
      'dataDir: must be an absolute Windows path with a drive letter',
      'max_concurrent_jobs:',
      'forbidden_paths.0: must be an absolute Windows path',
      'environment.DRYDOCK_API_URL: give it as the config-file setting backend_url instead',
      'environment.BAD NAME: a variable name is letters, digits and "_"',
      'DRYDOCK_CODEC_KEY: must not contain a line break',
    ]) {
      expect(message).toContain(part);
    }
  });

  test('takes the variables of the install page, numbers and lists as the agent reads them', () => {
    const options = windowsInstallOptions({
      DRYDOCK_API_URL: 'https://drydock.example.com',
      TEMPORAL_ADDRESS: 'temporal.example.com:7233',
      TEMPORAL_NAMESPACE: 'default',
      DRYDOCK_AGENT_REGISTRATION_SECRET: SECRET,
      DRYDOCK_AGENT_HOST: 'win-build-1',
      DRYDOCK_AGENT_TAGS: 'windows, build',
      DRYDOCK_AGENT_MAX_CONCURRENT_JOBS: '8',
      DRYDOCK_AGENT_CPU_SECONDS: '60',
      DRYDOCK_CODEC_KEY: 'codec-key',
      DRYDOCK_CODEC_KEY_ID: '',
    });
    expect(options).toEqual({
      apiUrl: 'https://drydock.example.com',
      registrationSecret: SECRET,
      hostName: 'win-build-1',
      tags: ['windows', 'build'],
      settings: { temporal_address: 'temporal.example.com:7233', temporal_namespace: 'default', max_concurrent_jobs: '8', resource_limits: { cpu_seconds: '60' } },
      environment: { DRYDOCK_CODEC_KEY: 'codec-key' },
    });
    const script = renderWindowsInstallScript(options);
    expect(JSON.parse(configText(script))).toMatchObject({ max_concurrent_jobs: 8, resource_limits: { cpu_seconds: 60 }, tags: ['windows', 'build'] });
    expect(envLines(script)).toContain('DRYDOCK_CODEC_KEY=codec-key');
  });

  test('tells the operator how to run it', () => {
    expect(INSTALL_COMMAND).toBe('powershell.exe -NoProfile -ExecutionPolicy Bypass -File .\\install-agent.ps1');
    expect(renderWindowsInstallScript(BASIC)).toContain(`#   ${INSTALL_COMMAND}`);
  });
});
