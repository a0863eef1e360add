import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ActivityCancellationDetails, ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import type { LogBatchBody } from '@drydock/core/api-schemas';
import type { AgentActivities, AgentScriptJob } from '@drydock/core/run-contract';
import { describe, expect, test as baseTest, vi } from 'vitest';
import { createAgentActivities } from './activities.ts';
import type { AgentSettings } from './agent-config.ts';
import { AttemptJournal } from './attempt-journal.ts';
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

type StoredLine = LogBatchBody['lines'][number] & { attempt: number };

interface Host {
  dir: string;
  workDir: string;
  journal: AttemptJournal;
  /** The log lines the API stand-in stored, by run, in order, each once. */
  stored(runId: string): StoredLine[];
  /** While true the API stand-in answers 503, as the API does while its database is away. */
  away: boolean;
  activities(policy?: Partial<JobPolicy>): AgentActivities;
  /** Runs one attempt of `job` as the agent's runScript activity would, on real processes. */
  run(job: AgentScriptJob, policy?: Partial<JobPolicy>): Promise<Outcome>;
}

const quiet = () => new MockActivityEnvironment({ attempt: 1 }, { logger: new DefaultLogger('ERROR') });

const test = baseTest.extend('host', async ({}, { onCleanup }): Promise<Host> => {
  const dir = await mkdtemp(join(tmpdir(), 'drydock-activity-'));
  const lines = new Map<string, StoredLine>();
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (host.away) return void res.writeHead(503).end();
    const runId = /^\/api\/v1\/agent\/runs\/([^/]+)\/logs$/.exec(req.url ?? '')?.[1];
    if (!runId) return void res.writeHead(404).end();
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as LogBatchBody;
    // Stored by (run, attempt, seq), as the API does: a batch sent twice is kept once.
    for (const l of body.lines) lines.set(`${runId}/${body.attempt}/${String(l.seq).padStart(6, '0')}`, { ...l, attempt: body.attempt });
    res.writeHead(204).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });
  const apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const journal = new AttemptJournal({ dir: join(dir, 'journal'), shipping: { apiUrl, token: 'dda_test', flushIntervalMs: 10 }, log: { info() {}, warn() {} } });
  const workDir = join(dir, 'work');
  const host: Host = {
    dir,
    workDir,
    journal,
    away: false,
    stored: (runId) =>
      [...lines.entries()]
        .filter(([key]) => key.startsWith(`${runId}/`))
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([, l]) => l),
    activities: (policy = {}) =>
      createAgentActivities({
        hostId: 'local',
        workDir,
        journal,
        heartbeatIntervalMs: 100,
        policy: { forbiddenPaths: [], defaultTimeoutSeconds: 300, sourceOf: () => '/etc/drydock/agent.yaml', ...policy },
      }),
    async run(j, policy = {}) {
      try {
        // The failures are what the tests look at; the SDK need not print them too.
        await quiet().run(host.activities(policy).runScript, j);
        return { lines: host.stored(j.runId) };
      } catch (err) {
        if (err instanceof ApplicationFailure) return { failure: err, lines: host.stored(j.runId) };
        throw err;
      }
    },
  };
  return host;
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

describe('the work directory of an attempt', () => {
  const left = async (host: Host) => (existsSync(host.workDir) ? await readdir(host.workDir) : []);

  test('is gone after a script that ran, failed or timed out', async ({ host }) => {
    await host.run(job({ runId: 'run-ok', content: 'echo x > kept.txt\n' }));
    await host.run(job({ runId: 'run-failed', content: 'echo x > kept.txt\nexit 3\n' }));
    const timedOut = await host.run(job({ runId: 'run-slow', timeoutSeconds: 1, content: 'echo x > kept.txt\nsleep 30\n' }));
    expect(timedOut.failure?.type).toBe('ScriptTimedOut');
    expect(await left(host)).toEqual([]);
  });

  test('is gone when the start fails: a refusal, a process that cannot be spawned, a capture that fails', async ({ host }) => {
    const refused = await host.run(job({ runId: 'run-refused', interpreter: 'bash', content: 'true\n' }), { allowedCommands: ['sh'] });
    expect(refused.failure?.message).toMatch(/^refused: /);
    // A NUL byte in a value makes spawn throw at once, after the script file was written.
    const unspawnable = await host.run(job({ runId: 'run-nul', params: { name: 'a\u0000b' }, content: 'true\n' }));
    expect(unspawnable.failure).toMatchObject({ type: 'TransportError' });
    const missing = await host.run(job({ runId: 'run-missing', interpreter: null, scriptPath: null, content: null, commandTemplate: 'no-such-command-drydock --x' }));
    expect(missing.failure?.message).toMatch(/could not start no-such-command-drydock/);
    // Capture without an uploader: the run succeeds, the log says nothing was captured, the directory still goes.
    const captured = await host.run(job({ runId: 'run-capture', content: 'mkdir out; echo x > out/a.txt\n', capture: { environment_snapshot: false, artifacts: ['out/*'] } }));
    expect(captured.failure).toBeUndefined();
    expect(captured.lines.map((l) => l.line)).toContain('nothing captured: this agent was started without an artifact uploader');
    expect(await left(host)).toEqual([]);
  });
});

describe('an attempt Temporal lost sight of', () => {
  const runId = '0190f5c2-0000-7000-8000-0000000000aa';

  test('goes on when Temporal gives the activity up (not found), and recoverAttempt waits for it and tells its outcome', async ({ host }) => {
    const activities = host.activities();
    const env = quiet();
    const running = env.run(activities.runScript, job({ runId, attempt: 1, content: 'for i in 1 2 3; do echo "tick $i"; sleep 0.5; done\n' }));
    await vi.waitFor(() => expect(host.stored(runId).map((l) => l.line)).toContain('tick 1'), { timeout: 10_000 });
    // What the SDK does when a heartbeat answer says the server no longer knows the activity.
    env.cancel('NOT_FOUND', new ActivityCancellationDetails({ notFound: true }));
    const answer = await quiet().run(activities.recoverAttempt, { runId, attempt: 1 });
    expect(answer).toMatchObject({ state: 'succeeded', result: { attempt: 1, exitCode: 0 } });
    // The activity ends with the same result, which the server no longer takes: the answer above is what counts.
    expect(await running).toMatchObject({ attempt: 1, exitCode: 0 });
    const lines = host.stored(runId);
    expect(lines.map((l) => l.seq)).toEqual(lines.map((_, i) => i));
    expect(lines.filter((l) => l.line.startsWith('tick')).map((l) => l.line)).toEqual(['tick 1', 'tick 2', 'tick 3']);
    expect(lines.at(-1)?.line).toMatch(/^exited with code 0 after/);
  });

  test('a user cancel still stops the script', async ({ host }) => {
    const env = quiet();
    const running = env.run(host.activities().runScript, job({ runId, attempt: 1, content: 'echo started\nsleep 30\n' }));
    await vi.waitFor(() => expect(host.stored(runId).map((l) => l.line)).toContain('started'), { timeout: 10_000 });
    env.cancel('CANCELLED', new ActivityCancellationDetails({ cancelRequested: true }));
    await expect(running).rejects.toBeInstanceOf(CancelledFailure);
    expect(host.stored(runId).at(-1)?.line).toMatch(/^cancelled after .* process group killed$/);
  });

  test('that finished while the API was away: its outcome and lines stay on disk, and the answer comes once the lines are stored', async ({ host }) => {
    const activities = host.activities();
    host.away = true;
    const env = quiet();
    const running = env.run(activities.runScript, job({ runId, attempt: 2, content: 'echo one\necho two\nexit 4\n' }));
    const outcome = join(host.journal.dir, `${runId}-2`, 'outcome.json');
    await vi.waitFor(() => expect(existsSync(outcome)).toBe(true), { timeout: 10_000 });
    expect(JSON.parse(await readFile(outcome, 'utf8'))).toMatchObject({ state: 'failed', failure: { type: 'ScriptFailed', message: 'exited with code 4' } });
    expect(host.stored(runId)).toEqual([]);
    // Temporal times the attempt out meanwhile; the API comes back; the workflow asks.
    env.cancel('TIMED_OUT', new ActivityCancellationDetails({ timedOut: true }));
    const asked = quiet().run(activities.recoverAttempt, { runId, attempt: 2 });
    host.away = false;
    expect(await asked).toMatchObject({ state: 'failed', failure: { type: 'ScriptFailed', message: 'exited with code 4', details: { exitCode: 4, attempt: 2 } } });
    await running.catch(() => {});
    const lines = host.stored(runId);
    expect(lines.map((l) => l.line)).toEqual(['attempt 2 on host local: bash scripts/probe.sh', 'one', 'two', expect.stringMatching(/^exited with code 4 after/)]);
  });

  test('run by an agent process that died: its lines are delivered, the log says so, and the answer is unknown', async ({ host }) => {
    // What a killed predecessor left in the journal: its record and two lines, the first of them stored.
    const dir = join(host.journal.dir, `${runId}-1`);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'attempt.json'), JSON.stringify({ runId, attempt: 1, pid: 999_999_999, startedAt: new Date().toISOString() }));
    const spooled = [
      { seq: 0, stream: 'system', ts: new Date().toISOString(), line: 'attempt 1 on host local: bash scripts/probe.sh' },
      { seq: 1, stream: 'stdout', ts: new Date().toISOString(), line: 'tick 1' },
    ];
    // The last line was cut in the middle when the process died.
    await writeFile(join(dir, 'lines.jsonl'), `${spooled.map((l) => JSON.stringify(l)).join('\n')}\n{"seq":2,"str`);
    await writeFile(join(dir, 'delivered.json'), JSON.stringify({ offset: JSON.stringify(spooled[0]).length + 1 }));

    // The next agent process starts: it sends what its predecessor could not, before anyone asks.
    const resumed = await host.journal.resume();
    expect(resumed.map((r) => [r.runId, r.attempt])).toEqual([[runId, 1]]);
    await Promise.all(resumed.map((r) => r.delivered));
    expect(host.stored(runId).map((l) => l.line)).toEqual(['tick 1']);

    const activities = host.activities();
    const answer = await quiet().run(activities.recoverAttempt, { runId, attempt: 1 });
    expect(answer).toEqual({ state: 'unknown', reason: 'the agent process that ran attempt 1 (pid 999999999) ended before the attempt did' });
    expect(host.stored(runId).map((l) => [l.seq, l.line])).toEqual([
      [1, 'tick 1'],
      [2, 'the agent process that ran attempt 1 (pid 999999999) ended before the attempt did; its script was ended'],
    ]);
    // Asked again (Temporal retried the question), the same answer, and nothing more in the log.
    expect(await quiet().run(activities.recoverAttempt, { runId, attempt: 1 })).toEqual(answer);
    expect(host.stored(runId)).toHaveLength(2);
  });

  test('that reaches the agent only after the question: the question waits for it, up to the heartbeat timeout', async ({ host }) => {
    const activities = host.activities();
    const asking = new MockActivityEnvironment({ attempt: 1, heartbeatTimeoutMs: 10_000 }, { logger: new DefaultLogger('ERROR') }).run(activities.recoverAttempt, { runId, attempt: 4 });
    // A busy agent starts the task a moment later than Temporal handed it over.
    await new Promise((r) => setTimeout(r, 300));
    const late = quiet().run(activities.runScript, job({ runId, attempt: 4, content: 'echo late but fine\n' }));
    expect(await asking).toMatchObject({ state: 'succeeded', result: { attempt: 4, exitCode: 0 } });
    await late;
  });

  test('that this agent never saw: unknown; should its task come after all, the script is not started', async ({ host }) => {
    const activities = host.activities();
    const asked = new MockActivityEnvironment({ attempt: 1, heartbeatTimeoutMs: 300 }, { logger: new DefaultLogger('ERROR') });
    expect(await asked.run(activities.recoverAttempt, { runId, attempt: 3 })).toEqual({
      state: 'unknown',
      reason: `this agent has no record of attempt 3 of run ${runId}`,
    });
    const marker = join(host.dir, 'ran');
    await expect(quiet().run(activities.runScript, job({ runId, attempt: 3, content: `touch ${marker}\n` }))).rejects.toMatchObject({
      type: 'TransportError',
      message: `attempt 3 of run ${runId} reached this agent after the run gave it up; it was not started`,
    });
    expect(existsSync(marker)).toBe(false);
  });
});
