import { copyFile, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentScriptJob } from '@drydock/core/run-contract';
import { describe, expect, test as baseTest } from 'vitest';
import { checkJob, type JobPolicy, JobRefusedError, jobTimeout } from './job-policy.ts';
import { resolveCommand } from './script-runner.ts';
import { agentScriptJob } from '@drydock/core/testing';

const job = agentScriptJob;

function policy(overrides: Partial<JobPolicy> = {}): JobPolicy {
  return { forbiddenPaths: [], defaultTimeoutSeconds: 300, sourceOf: () => '/etc/drydock/agent.yaml', ...overrides };
}

interface Sandbox {
  dir: string;
  workDir: string;
  refusal(job: AgentScriptJob, policy: JobPolicy): Promise<string | undefined>;
}

const test = baseTest.extend('sandbox', async ({}, { onCleanup }): Promise<Sandbox> => {
  const dir = await mkdtemp(join(tmpdir(), 'drydock-policy-'));
  onCleanup(() => rm(dir, { recursive: true, force: true }));
  const workDir = join(dir, 'agent', 'work', 'run-1-1');
  return {
    dir,
    workDir,
    async refusal(j, p) {
      try {
        await checkJob(j, p, workDir);
        return undefined;
      } catch (err) {
        if (err instanceof JobRefusedError) return err.message;
        throw err;
      }
    },
  };
});

describe('allowed_commands', () => {
  test('refuses a script whose interpreter is not listed, naming it and the rule', async ({ sandbox }) => {
    const message = await sandbox.refusal(job({ interpreter: 'bash' }), policy({ allowedCommands: ['sh'] }));
    expect(message).toBe(
      "refused: script scripts/echo-params.sh runs bash, which is not in this agent's allowed_commands (sh; from /etc/drydock/agent.yaml); run it on a host that allows bash, or ask this host's operator to add it",
    );
  });

  test('lets a listed interpreter run, by name or by its path', async ({ sandbox }) => {
    expect(await sandbox.refusal(job({ interpreter: 'sh', scriptPath: 'scripts/true.sh' }), policy({ allowedCommands: ['sh'] }))).toBeUndefined();
    expect(await sandbox.refusal(job({ interpreter: 'python', scriptPath: 'scripts/info.py' }), policy({ allowedCommands: ['python3'] }))).toBeUndefined();
    const bash = (await resolveCommand('bash', sandbox.dir))!;
    expect(await sandbox.refusal(job({ interpreter: 'bash' }), policy({ allowedCommands: [bash] }))).toBeUndefined();
  });

  test("checks a command template's first word as PATH resolves it", async ({ sandbox }) => {
    const template = 'cat {{file}}';
    expect(await sandbox.refusal(job({ interpreter: null, scriptPath: null, commandTemplate: template, params: { file: 'a.txt' } }), policy({ allowedCommands: ['cat'] }))).toBeUndefined();
    expect(await sandbox.refusal(job({ interpreter: null, scriptPath: null, commandTemplate: template, params: { file: 'a.txt' } }), policy({ allowedCommands: ['sh'] }))).toMatch(
      /^refused: the command template runs cat, which is not in this agent's allowed_commands \(sh; from/,
    );
    // A path to the very file `cat` finds on PATH is the same command, however it is spelled.
    const cat = (await resolveCommand('cat', sandbox.dir))!;
    expect(await sandbox.refusal(job({ interpreter: null, scriptPath: null, commandTemplate: `${cat} notes.txt` }), policy({ allowedCommands: ['cat'] }))).toBeUndefined();
  });

  test('refuses another file that merely carries an allowed name', async ({ sandbox }) => {
    const impostor = join(sandbox.dir, 'bin', 'cat');
    await mkdir(join(sandbox.dir, 'bin'));
    await copyFile((await resolveCommand('bash', sandbox.dir))!, impostor);
    const message = await sandbox.refusal(job({ interpreter: null, scriptPath: null, commandTemplate: '{{tool}} -c id', params: { tool: impostor } }), policy({ allowedCommands: ['cat'] }));
    expect(message).toContain(`the command template runs ${impostor} (${impostor}), which is not in this agent's allowed_commands (cat;`);
  });

  test('without a list, any command runs', async ({ sandbox }) => {
    expect(await sandbox.refusal(job({ interpreter: 'bash' }), policy())).toBeUndefined();
  });
});

describe('forbidden_paths', () => {
  const rule = 'forbidden_paths, from /etc/drydock/agent.yaml';

  test('refuses a parameter that names a forbidden path, naming the parameter, the path and the rule', async ({ sandbox }) => {
    const message = await sandbox.refusal(job({ params: { file: '/etc/shadow' } }), policy({ forbiddenPaths: ['/etc'] }));
    expect(message).toBe(`refused: parameter "file" names /etc/shadow, under /etc, which this agent forbids (${rule}); nothing ran`);
  });

  test('sees through .. and through symlinks to where the path really leads', async ({ sandbox }) => {
    const secrets = join(sandbox.dir, 'secrets');
    await mkdir(secrets);
    await symlink(secrets, join(sandbox.dir, 'innocent'));
    const p = policy({ forbiddenPaths: [secrets] });

    const dotted = await sandbox.refusal(job({ params: { file: `${sandbox.dir}/public/../secrets/key.pem` } }), p);
    expect(dotted).toBe(`refused: parameter "file" names ${sandbox.dir}/public/../secrets/key.pem, which resolves to ${secrets}/key.pem, under ${secrets}, which this agent forbids (${rule}); nothing ran`);

    const linked = await sandbox.refusal(job({ params: { file: join(sandbox.dir, 'innocent', 'key.pem') } }), p);
    expect(linked).toContain(`which resolves to ${secrets}/key.pem, under ${secrets}`);

    // Relative to the script's working directory, where the script would open it.
    const relative = await sandbox.refusal(job({ params: { file: '../../../secrets/id_rsa' } }), p);
    expect(relative).toContain(`names ../../../secrets/id_rsa, which resolves to ${secrets}/id_rsa, under ${secrets}`);
  });

  test('finds a path inside a longer value, a list or an option', async ({ sandbox }) => {
    const p = policy({ forbiddenPaths: ['/root'] });
    expect(await sandbox.refusal(job({ params: { args: '--config=/root/.ssh/config --verbose' } }), p)).toContain('parameter "args" names /root/.ssh/config, under /root');
    expect(await sandbox.refusal(job({ params: { files: ['notes.txt', '/root/.bashrc'] } }), p)).toContain('parameter "files" names /root/.bashrc, under /root');
    expect(await sandbox.refusal(job({ params: { path: '/usr/local/bin:/root/bin' } }), p)).toContain('names /root/bin, under /root');
  });

  test('expands ~ to the home directory', async ({ sandbox }) => {
    const home = homedir();
    expect(await sandbox.refusal(job({ params: { file: '~/.ssh/id_rsa' } }), policy({ forbiddenPaths: [home] }))).toContain(`which resolves to ${join(home, '.ssh/id_rsa')}, under ${home}`);
  });

  test('never repeats the value of a secret parameter', async ({ sandbox }) => {
    const message = await sandbox.refusal(job({ params: { token: 's3cr3t:/etc/../etc/passwd' }, secretNames: ['token'] }), policy({ forbiddenPaths: ['/etc'] }));
    expect(message).toBe(`refused: secret parameter "token" names a path under /etc, which this agent forbids (${rule}); nothing ran`);
  });

  test('checks the words of a command template too', async ({ sandbox }) => {
    const message = await sandbox.refusal(job({ interpreter: null, scriptPath: null, commandTemplate: 'cat /etc/shadow' }), policy({ forbiddenPaths: ['/etc/shadow'] }));
    expect(message).toBe(`refused: word 2 of the command template names /etc/shadow, under /etc/shadow, which this agent forbids (${rule}); nothing ran`);
  });

  test('lets values through that name nothing forbidden', async ({ sandbox }) => {
    const p = policy({ forbiddenPaths: ['/etc/shadow', '/root'] });
    const params = { file: '/etc/hostname', note: 'a/b, 50/50 and /rooted', count: 3, on: true, service: 'nginx' };
    expect(await sandbox.refusal(job({ params }), p)).toBeUndefined();
  });
});

describe('forbidden_paths on Windows', () => {
  const rule = 'forbidden_paths, from C:\\ProgramData\\Drydock\\agent\\agent.json';
  const windows = policy({ forbiddenPaths: ['C:\\Windows\\System32\\config', 'D:\\secrets'], platform: 'win32', sourceOf: () => 'C:\\ProgramData\\Drydock\\agent\\agent.json' });
  const refusal = async (params: AgentScriptJob['params'], workDir = 'C:\\Windows\\Temp\\drydock\\run-1-1') => {
    try {
      await checkJob(job({ interpreter: 'powershell', params }), windows, workDir);
      return undefined;
    } catch (err) {
      if (err instanceof JobRefusedError) return err.message;
      throw err;
    }
  };

  test('reads drive letters and backslashes as paths, and ignores case as NTFS does', async () => {
    expect(await refusal({ hive: 'c:\\windows\\system32\\CONFIG\\SAM' })).toBe(
      `refused: parameter "hive" names c:\\windows\\system32\\CONFIG\\SAM, under C:\\Windows\\System32\\config, which this agent forbids (${rule}); nothing ran`,
    );
    expect(await refusal({ args: '--out=D:\\secrets\\dump.txt -Verbose' })).toContain('names D:\\secrets\\dump.txt, under D:\\secrets');
    expect(await refusal({ file: 'D:/secrets/key.pem' })).toContain('under D:\\secrets');
  });

  test('resolves a relative path from the job’s working directory, .. included', async () => {
    expect(await refusal({ file: '..\\..\\..\\System32\\config\\SYSTEM' })).toContain(
      'names ..\\..\\..\\System32\\config\\SYSTEM, which resolves to C:\\Windows\\System32\\config\\SYSTEM, under C:\\Windows\\System32\\config',
    );
  });

  test('lets other paths through, including ones that only share a prefix', async () => {
    expect(await refusal({ file: 'C:\\Windows\\System32\\configuration.txt', other: 'D:\\secrets-public\\a.txt', url: 'https://example.com/a' })).toBeUndefined();
  });
});

describe('host operations', () => {
  test('a shell_command is held to allowed_commands and forbidden_paths like a command template', async ({ sandbox }) => {
    const op = (command: string[]) => job({ interpreter: null, scriptPath: null, operation: { type: 'shell_command', command } });
    expect(await sandbox.refusal(op(['cat', 'notes.txt']), policy({ allowedCommands: ['cat'] }))).toBeUndefined();
    expect(await sandbox.refusal(op(['cat', 'notes.txt']), policy({ allowedCommands: ['sh'] }))).toMatch(
      /^refused: the shell_command operation runs cat, which is not in this agent's allowed_commands \(sh; from/,
    );
    expect(await sandbox.refusal(op(['cat', '/etc/shadow']), policy({ forbiddenPaths: ['/etc'] }))).toBe(
      'refused: word 2 of the shell_command names /etc/shadow, under /etc, which this agent forbids (forbidden_paths, from /etc/drydock/agent.yaml); nothing ran',
    );
  });

  test('a file_validation may not look at a forbidden path, even one a parameter completes', async ({ sandbox }) => {
    const check = job({ interpreter: null, scriptPath: null, params: { name: 'shadow' }, operation: { type: 'file_validation', path: '/etc/{{name}}', checks: ['exists'] } });
    expect(await sandbox.refusal(check, policy({ forbiddenPaths: ['/etc/shadow'] }))).toBe(
      'refused: the path of the file_validation names /etc/shadow, under /etc/shadow, which this agent forbids (forbidden_paths, from /etc/drydock/agent.yaml); nothing ran',
    );
    // An operation runs inside the agent: allowed_commands has nothing to say about it.
    expect(await sandbox.refusal(check, policy({ allowedCommands: ['sh'] }))).toBeUndefined();
  });
});

describe('jobTimeout', () => {
  test('is the job’s own timeout, capped by max_execution_seconds', () => {
    expect(jobTimeout(job({ timeoutSeconds: 30 }), policy())).toEqual({ seconds: 30 });
    expect(jobTimeout(job({ timeoutSeconds: 30 }), policy({ maxExecutionSeconds: 60 }))).toEqual({ seconds: 30 });
    expect(jobTimeout(job({ timeoutSeconds: 600 }), policy({ maxExecutionSeconds: 60 }))).toEqual({
      seconds: 60,
      note: "timeout lowered from 600 s to 60 s by this agent's resource_limits.max_execution_seconds (from /etc/drydock/agent.yaml)",
    });
  });

  test('falls back to default_timeout for a job that carries none', () => {
    expect(jobTimeout(job({ timeoutSeconds: 0 }), policy({ defaultTimeoutSeconds: 120 }))).toEqual({
      seconds: 120,
      note: "the job carries no timeout; this agent's default_timeout of 120 s applies",
    });
  });
});
