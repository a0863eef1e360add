import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@drydock/core';
import { describe, expect, test as baseTest } from 'vitest';
import { AgentConfigError, agentPolls, type AgentSettings, loadAgentSettings } from './agent-config.ts';

interface Files {
  dir: string;
  write(name: string, text: string, mode?: number): Promise<string>;
}

const test = baseTest.extend('files', async ({}, { onCleanup }): Promise<Files> => {
  const dir = await mkdtemp(join(tmpdir(), 'drydock-agent-config-'));
  onCleanup(() => rm(dir, { recursive: true, force: true }));
  return {
    dir,
    async write(name, text, mode = 0o600) {
      const file = join(dir, name);
      await writeFile(file, text);
      await chmod(file, mode);
      return file;
    },
  };
});

async function load(env: Record<string, string>): Promise<{ settings: AgentSettings; notes: string[] }> {
  return loadAgentSettings(loadConfig({ DRYDOCK_DATA_DIR: '/var/lib/drydock', ...env }));
}

async function failure(env: Record<string, string>): Promise<string> {
  try {
    await load(env);
  } catch (err) {
    if (err instanceof AgentConfigError) return err.message;
    throw err;
  }
  throw new Error('expected the settings to be refused');
}

const FULL_YAML = `
server_id: db-staging-1
backend_url: https://drydock.example.com/
token: dda_issued_by_an_admin
registration_secret: a-registration-secret-0123
tags: [linux, db]
temporal_address: temporal.example.com:7233
temporal_namespace: staging
state_file: /var/lib/drydock-agent/state.json
max_concurrent_jobs: 3
default_timeout: 120
temp_dir: /var/tmp/drydock
log_level: warn
heartbeat_interval: 5
token_rotation_hours: 24
allowed_commands: [bash, sh, /usr/bin/python3]
forbidden_paths: [/etc/shadow, /root]
resource_limits:
  cpu_seconds: 60
  memory_mb: 512
  max_execution_seconds: 900
  max_processes: 64
`;

describe('loadAgentSettings', () => {
  test('reads every setting from a YAML config file', async ({ files }) => {
    const file = await files.write('agent.yaml', FULL_YAML);
    const { settings, notes } = await load({ DRYDOCK_AGENT_CONFIG: file });
    expect(settings).toMatchObject({
      hostName: 'db-staging-1',
      apiUrl: 'https://drydock.example.com',
      token: 'dda_issued_by_an_admin',
      registrationSecret: 'a-registration-secret-0123',
      tags: ['linux', 'db'],
      temporalAddress: 'temporal.example.com:7233',
      temporalNamespace: 'staging',
      stateFile: '/var/lib/drydock-agent/state.json',
      maxConcurrentJobs: 3,
      defaultTimeoutSeconds: 120,
      workDir: '/var/tmp/drydock',
      logLevel: 'warn',
      heartbeatIntervalMs: 5_000,
      tokenRotationMs: 24 * 3_600_000,
      allowedCommands: ['bash', 'sh', '/usr/bin/python3'],
      forbiddenPaths: ['/etc/shadow', '/root'],
      limits: { cpuSeconds: 60, memoryMb: 512, maxExecutionSeconds: 900, maxProcesses: 64 },
    });
    expect(settings.sourceOf('allowed_commands')).toBe(file);
    expect(settings.sourceOf('resource_limits.cpu_seconds')).toBe(file);
    expect(notes).toEqual([]);
  });

  test('reads a JSON config file the same way', async ({ files }) => {
    const file = await files.write('agent.json', JSON.stringify({ server_id: 'web-1', allowed_commands: ['sh'], resource_limits: { memory_mb: 256 } }));
    const { settings } = await load({ DRYDOCK_AGENT_CONFIG: file });
    expect(settings).toMatchObject({ hostName: 'web-1', allowedCommands: ['sh'], limits: { memoryMb: 256 } });
  });

  test('without a config file, runs on the environment and the defaults', async () => {
    const { settings, notes } = await load({});
    expect(settings).toMatchObject({
      hostName: 'local',
      apiUrl: 'http://127.0.0.1:3001',
      tags: [],
      temporalAddress: '127.0.0.1:7233',
      stateFile: '/var/lib/drydock/agents/local.json',
      maxConcurrentJobs: 8,
      defaultTimeoutSeconds: 300,
      workDir: join(tmpdir(), 'drydock-agent', 'local'),
      logLevel: 'info',
      heartbeatIntervalMs: 10_000,
      forbiddenPaths: [],
      limits: {},
    });
    expect(settings.allowedCommands).toBeUndefined();
    expect(settings.token).toBeUndefined();
    expect(settings.sourceOf('allowed_commands')).toBe('the default');
    expect(notes).toEqual([]);
  });

  test('an environment variable wins over the file, and the agent says so', async ({ files }) => {
    const file = await files.write('agent.yaml', FULL_YAML);
    const { settings, notes } = await load({
      DRYDOCK_AGENT_CONFIG: file,
      DRYDOCK_AGENT_HOST: 'db-staging-2',
      DRYDOCK_AGENT_ALLOWED_COMMANDS: 'sh, python3',
      DRYDOCK_AGENT_CPU_SECONDS: '30',
      DRYDOCK_AGENT_HEARTBEAT_INTERVAL: '1',
      // The same value as the file: nothing is overridden, nothing to say.
      DRYDOCK_AGENT_MAX_CONCURRENT_JOBS: '3',
    });
    expect(settings).toMatchObject({
      hostName: 'db-staging-2',
      allowedCommands: ['sh', 'python3'],
      heartbeatIntervalMs: 1_000,
      maxConcurrentJobs: 3,
      // One limit from the environment, the others still from the file.
      limits: { cpuSeconds: 30, memoryMb: 512, maxExecutionSeconds: 900, maxProcesses: 64 },
    });
    expect(settings.sourceOf('allowed_commands')).toBe('DRYDOCK_AGENT_ALLOWED_COMMANDS');
    expect(settings.sourceOf('resource_limits.memory_mb')).toBe(file);
    expect(notes.sort()).toEqual(
      [
        `DRYDOCK_AGENT_HOST from the environment overrides server_id in ${file}`,
        `DRYDOCK_AGENT_ALLOWED_COMMANDS from the environment overrides allowed_commands in ${file}`,
        `DRYDOCK_AGENT_CPU_SECONDS from the environment overrides resource_limits.cpu_seconds in ${file}`,
        `DRYDOCK_AGENT_HEARTBEAT_INTERVAL from the environment overrides heartbeat_interval in ${file}`,
      ].sort(),
    );
  });

  test('an error names the file, the key and what the value must be', async ({ files }) => {
    const file = await files.write('agent.yaml', 'server_id: Web_1\nresource_limits:\n  memory_mb: lots\n  cpu_seconds: 1.5\nheartbeat_interval: 60\n');
    const message = await failure({ DRYDOCK_AGENT_CONFIG: file });
    expect(message).toMatch(/^the agent's settings are invalid; fix these and start it again:/);
    expect(message).toContain(`${file}: server_id: must be the host name in lower case`);
    expect(message).toContain(`${file}: resource_limits.memory_mb: must be a whole number of megabytes of address space, at least 16`);
    expect(message).toContain(`${file}: resource_limits.cpu_seconds: must be a whole number of seconds (of CPU time per process)`);
    expect(message).toContain(`${file}: heartbeat_interval: must be at most 25 seconds: the hosts list shows an agent offline after 30 s without a heartbeat`);
  });

  test('an unknown key is an error that lists the keys there are', async ({ files }) => {
    const file = await files.write('agent.yaml', 'alowed_commands: [sh]\nresource_limits:\n  memory: 100\n');
    const message = await failure({ DRYDOCK_AGENT_CONFIG: file });
    expect(message).toContain(`${file}: alowed_commands: not a setting the agent knows; the top-level keys are server_id, backend_url,`);
    expect(message).toContain(`${file}: resource_limits.memory: not a setting the agent knows; the resource_limits keys are cpu_seconds, memory_mb, max_execution_seconds, max_processes`);
  });

  test('an invalid environment variable is named as such', async () => {
    const message = await failure({ DRYDOCK_AGENT_CPU_SECONDS: 'abc', DRYDOCK_AGENT_FORBIDDEN_PATHS: 'etc/shadow' });
    expect(message).toContain('DRYDOCK_AGENT_CPU_SECONDS: must be a whole number of seconds (of CPU time per process), from 1 to 604800');
    expect(message).toContain('DRYDOCK_AGENT_FORBIDDEN_PATHS: must be an absolute path (a file or directory jobs may not name)');
  });

  test('an empty allowed_commands is refused rather than read as "nothing may run"', async ({ files }) => {
    const file = await files.write('agent.yaml', 'allowed_commands: []\n');
    expect(await failure({ DRYDOCK_AGENT_CONFIG: file })).toContain(`${file}: allowed_commands: must name at least one command; leave the setting out to have no list`);
  });

  test('a missing file and a file that is not YAML say which file and how to fix it', async ({ files }) => {
    const missing = join(files.dir, 'nope.yaml');
    expect(await failure({ DRYDOCK_AGENT_CONFIG: missing })).toBe(
      `agent config file ${missing} (DRYDOCK_AGENT_CONFIG) does not exist; fix the path, or unset DRYDOCK_AGENT_CONFIG to run on environment variables alone`,
    );
    const broken = await files.write('broken.yaml', 'server_id: web-1\nallowed_commands: [sh\n');
    expect(await failure({ DRYDOCK_AGENT_CONFIG: broken })).toMatch(new RegExp(`^agent config file ${broken} is not valid YAML at line \\d+, column \\d+: `));
    const list = await files.write('list.yaml', '- sh\n- bash\n');
    expect(await failure({ DRYDOCK_AGENT_CONFIG: list })).toContain('must hold a mapping of settings');
  });

  test('a temp_dir under a forbidden path is refused: every job would name it', async ({ files }) => {
    const file = await files.write('agent.yaml', 'temp_dir: /srv/agent/tmp\nforbidden_paths: [/srv]\n');
    expect(await failure({ DRYDOCK_AGENT_CONFIG: file })).toContain(`temp_dir /srv/agent/tmp (from ${file}) is under forbidden path /srv`);
  });

  test('warns when a file holding a token can be read by others', async ({ files }) => {
    const file = await files.write('agent.yaml', 'token: dda_secret_token\n', 0o644);
    const { notes } = await load({ DRYDOCK_AGENT_CONFIG: file });
    expect(notes).toEqual([`${file} holds token but others can read it (mode 644); run chmod 600 ${file}`]);
  });
});

describe('agentPolls', () => {
  test('one poll per four job slots, at least two, never more than the slots', () => {
    expect([1, 2, 8, 9, 20, 1000].map(agentPolls)).toEqual([1, 2, 2, 3, 5, 250]);
  });
});
