import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import type { AgentScriptJob } from '@drydock/core/run-contract';
import { describe, expect, test as baseTest } from 'vitest';
import { createAgentActivities } from './activities.ts';
import type { AgentSettings } from './agent-config.ts';
import { type JobPolicy, jobPolicy } from './job-policy.ts';
import { locatePrlimit } from './resource-limits.ts';
import { agentScriptJob } from '@drydock/core/testing';

function job(overrides: Partial<AgentScriptJob> = {}): AgentScriptJob {
  return agentScriptJob({ ...{ runId: 'run-1', scriptId: 'probe', scriptPath: 'scripts/probe.sh' }, ...overrides });
}

interface Outcome {
  failure?: ApplicationFailure;
  lines: { stream: string; line: string }[];
}

interface Host {
  dir: string;
  /** Runs one attempt of `job` as the agent's runScript activity would, on real processes. */
  run(job: AgentScriptJob, policy?: Partial<JobPolicy>): Promise<Outcome>;
}

const test = baseTest.extend('host', async ({}, { onCleanup }): Promise<Host> => {
  const dir = await mkdtemp(join(tmpdir(), 'drydock-activity-'));
  onCleanup(() => rm(dir, { recursive: true, force: true }));
  return {
    dir,
    async run(j, policy = {}) {
      const lines: Outcome['lines'] = [];
      const activities = createAgentActivities({
        hostId: 'local',
        workDir: join(dir, 'work'),
        logSink: () => ({ push: (l) => void lines.push({ stream: l.stream, line: l.line }), close: async () => {} }),
        policy: { forbiddenPaths: [], defaultTimeoutSeconds: 300, sourceOf: () => '/etc/drydock/agent.yaml', ...policy },
      });
      try {
        // The failures are what the tests look at; the SDK need not print them too.
        await new MockActivityEnvironment({ attempt: 1 }, { logger: new DefaultLogger('ERROR') }).run(activities.runScript, j);
        return { lines };
      } catch (err) {
        if (err instanceof ApplicationFailure) return { failure: err, lines };
        throw err;
      }
    },
  };
});

const system = (o: Outcome) => o.lines.filter((l) => l.stream === 'system').map((l) => l.line);

describe('a job this agent refuses', () => {
  test('fails at once, not to be retried, with the reason in the log and as the error; nothing runs', async ({ host }) => {
    const marker = join(host.dir, 'ran');
    const outcome = await host.run(job({ interpreter: 'bash', content: `touch ${marker}\n` }), { allowedCommands: ['sh'] });
    const reason = "refused: script scripts/probe.sh runs bash, which is not in this agent's allowed_commands (sh; from /etc/drydock/agent.yaml); run it on a host that allows bash, or ask this host's operator to add it";
    expect(outcome.failure).toMatchObject({ type: 'TransportError', nonRetryable: true, message: reason });
    expect(system(outcome).at(-1)).toBe(reason);
    expect(existsSync(marker)).toBe(false);
  });

  test('a forbidden path in a parameter is refused before the script starts', async ({ host }) => {
    const marker = join(host.dir, 'ran');
    const outcome = await host.run(job({ params: { file: '/etc/shadow' }, content: `touch ${marker}\n` }), { forbiddenPaths: ['/etc/shadow'] });
    expect(outcome.failure?.message).toBe(
      'refused: parameter "file" names /etc/shadow, under /etc/shadow, which this agent forbids (forbidden_paths, from /etc/drydock/agent.yaml); nothing ran',
    );
    expect(existsSync(marker)).toBe(false);
  });
});

describe('resource limits on Windows', () => {
  const settings = {
    allowedCommands: undefined,
    forbiddenPaths: [],
    defaultTimeoutSeconds: 300,
    limits: { cpuSeconds: 600, memoryMb: 2048, maxExecutionSeconds: 3600, maxProcesses: 64 },
    sourceOf: () => 'C:\\ProgramData\\Drydock\\agent\\agent.json',
  } as unknown as AgentSettings;

  test('the limits Windows cannot enforce are named once at the top of every run’s log', async ({ host }) => {
    const policy = jobPolicy(settings, undefined, 'win32');
    expect(policy.limits).toBeUndefined();
    const outcome = await host.run(job({ interpreter: 'sh', content: 'echo ran\n' }), policy);
    const line =
      'not enforced on Windows: resource_limits.cpu_seconds = 600 (from C:\\ProgramData\\Drydock\\agent\\agent.json), resource_limits.memory_mb = 2048 (from C:\\ProgramData\\Drydock\\agent\\agent.json), ' +
      'resource_limits.max_processes = 64 (from C:\\ProgramData\\Drydock\\agent\\agent.json); this script runs without those limits. Only resource_limits.max_execution_seconds applies there; ' +
      "remove the others from this agent's settings to silence this line";
    expect(system(outcome).filter((l) => l.startsWith('not enforced on Windows'))).toEqual([line]);
    expect(outcome.lines.find((l) => l.stream === 'stdout')?.line).toBe('ran');
  });

  test('says nothing when only max_execution_seconds is set, and nothing on Linux', () => {
    expect(jobPolicy({ ...settings, limits: { maxExecutionSeconds: 60 } }, undefined, 'win32').notEnforced).toBeUndefined();
    expect(jobPolicy(settings, '/usr/bin/prlimit', 'linux')).not.toHaveProperty('notEnforced');
  });
});

describe('resource limits, set by prlimit on the script’s processes', () => {
  test('a script that burns CPU past cpu_seconds is killed by SIGXCPU, and the run says why', async ({ host }) => {
    const prlimit = await locatePrlimit();
    const outcome = await host.run(job({ content: 'echo burning\nwhile :; do :; done\n' }), { limits: { prlimit, cpuSeconds: 1 } });
    expect(outcome.failure).toMatchObject({ type: 'ScriptFailed', message: 'killed by SIGXCPU' });
    expect(system(outcome)).toContain('the script used up its CPU time limit of 1 s and was killed by SIGXCPU (resource_limits.cpu_seconds = 1, from /etc/drydock/agent.yaml)');
  });

  test('a script that allocates past memory_mb fails, and the run says why', async ({ host }) => {
    const prlimit = await locatePrlimit();
    const content = 'print("allocating", flush=True)\nblock = bytearray(400 * 1024 * 1024)\nprint("never printed")\n';
    const outcome = await host.run(job({ interpreter: 'python', scriptPath: 'scripts/hog.py', content }), { limits: { prlimit, memoryMb: 128 } });
    expect(outcome.failure?.type).toBe('ScriptFailed');
    expect(outcome.failure?.message).toBe('exited with code 1');
    const lines = outcome.lines.map((l) => l.line);
    expect(lines).toContain('allocating');
    expect(lines).toContain('MemoryError');
    expect(lines).not.toContain('never printed');
    expect(system(outcome)).toContain(
      'the script could not get more memory: this agent limits each of its processes to 128 MB of address space (resource_limits.memory_mb = 128, from /etc/drydock/agent.yaml)',
    );
  });

  test('the kernel holds the script to every configured limit', async ({ host }) => {
    const prlimit = await locatePrlimit();
    const outcome = await host.run(job({ content: 'grep -E "^Max (cpu time|address space|processes) " /proc/$$/limits\n' }), {
      limits: { prlimit, cpuSeconds: 7, memoryMb: 512, maxProcesses: 321 },
    });
    expect(outcome.failure).toBeUndefined();
    const limits = outcome.lines.filter((l) => l.stream === 'stdout').map((l) => l.line.split(/\s{2,}/).slice(0, 3));
    expect(limits).toEqual([
      ['Max cpu time', '7', '9'],
      ['Max processes', '321', '321'],
      ['Max address space', String(512 * 1024 * 1024), String(512 * 1024 * 1024)],
    ]);
  });

  test('max_execution_seconds cuts a longer timeout short, and the log says so', async ({ host }) => {
    const outcome = await host.run(job({ timeoutSeconds: 300, content: 'echo started\nsleep 60\n' }), { maxExecutionSeconds: 1 });
    expect(outcome.failure).toMatchObject({ type: 'ScriptTimedOut', message: 'timed out after 1 s' });
    expect(system(outcome)).toContain("timeout lowered from 300 s to 1 s by this agent's resource_limits.max_execution_seconds (from /etc/drydock/agent.yaml)");
  });

  test('a prlimit that cannot be run is a clear error, not a silent run without limits', async ({ host }) => {
    const missing = join(host.dir, 'prlimit');
    await expect(locatePrlimit(missing)).rejects.toThrow(`resource_limits need prlimit from util-linux, and ${missing} could not be run`);
  });
});
