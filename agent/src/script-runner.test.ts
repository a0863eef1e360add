import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentScriptJob } from '@drydock/core/run-contract';
import { SECRET_MASK } from '@drydock/core/manifest';
import { afterEach, describe, expect, test as baseTest, vi } from 'vitest';
import { paramEnvName, runScriptProcess, type ScriptExit, type ScriptLine, scriptInvocation, secretMasker } from './script-runner.ts';
import { agentScriptJob } from '@drydock/core/testing';

const job = agentScriptJob;

/** Running, as opposed to gone or a zombie waiting for an init that may never reap it (as in this container). */
function alive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

interface Run {
  exit: ScriptExit;
  lines: ScriptLine[];
  stdout: string[];
  stderr: string[];
}

interface Sandbox {
  dir: string;
  workDir: string;
  run(job: AgentScriptJob, options?: { extraEnv?: Record<string, string>; signal?: AbortSignal; onLine?: (line: ScriptLine) => void }): Promise<Run>;
}

const test = baseTest.extend('sandbox', async ({}, { onCleanup }): Promise<Sandbox> => {
  const dir = await mkdtemp(join(tmpdir(), 'drydock-runner-'));
  onCleanup(() => rm(dir, { recursive: true, force: true }));
  const workDir = join(dir, 'work');
  return {
    dir,
    workDir,
    async run(j, options = {}) {
      const lines: ScriptLine[] = [];
      const exit = await runScriptProcess({
        job: j,
        workDir,
        extraEnv: options.extraEnv ?? {},
        signal: options.signal ?? new AbortController().signal,
        onLine: (line) => {
          lines.push(line);
          options.onLine?.(line);
        },
      });
      const of = (stream: string) => lines.filter((l) => l.stream === stream).map((l) => l.line);
      return { exit, lines, stdout: of('stdout'), stderr: of('stderr') };
    },
  };
});

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('paramEnvName', () => {
  test('is the parameter name in upper case behind DRYDOCK_PARAM_', () => {
    expect(paramEnvName('service_name')).toBe('DRYDOCK_PARAM_SERVICE_NAME');
  });
});

describe('scriptInvocation', () => {
  const base = { PATH: '/usr/bin:/bin', HOME: '/home/agent', LANG: 'C.UTF-8', DRYDOCK_CODEC_KEY: 'agent-key', DRYDOCK_AGENT_TOKEN: 'dda_abc' };

  test('passes every parameter as an environment variable and the non-secret ones as --name=value', () => {
    const inv = scriptInvocation(
      job({ params: { service: 'nginx', count: 3, dry_run: false, token: 's3cr3t' }, secretNames: ['token'] }),
      '/work/script.sh',
      base,
      {},
    );
    expect(inv.argv).toEqual(['/work/script.sh', '--service=nginx', '--count=3', '--dry_run=false']);
    expect(inv.env).toMatchObject({
      DRYDOCK_PARAM_SERVICE: 'nginx',
      DRYDOCK_PARAM_COUNT: '3',
      DRYDOCK_PARAM_DRY_RUN: 'false',
      DRYDOCK_PARAM_TOKEN: 's3cr3t',
    });
  });

  test('hands the script only the allowed part of the agent environment, plus the extra variables', () => {
    const inv = scriptInvocation(job({ params: { service: 'nginx' } }), '/work/script.sh', base, { DRYDOCK_RUN_ID: 'run-1' });
    expect(inv.env).toEqual({
      PATH: '/usr/bin:/bin',
      HOME: '/home/agent',
      LANG: 'C.UTF-8',
      DRYDOCK_RUN_ID: 'run-1',
      DRYDOCK_PARAM_SERVICE: 'nginx',
    });
  });

  test.each([
    ['bash', 'bash'],
    ['sh', 'sh'],
    ['python', 'python3'],
    ['node', process.execPath],
  ] as const)('runs %s scripts with %s', (interpreter, command) => {
    expect(scriptInvocation(job({ interpreter }), '/work/script', base, {}).command).toBe(command);
  });
});

describe('secretMasker', () => {
  test('masks every secret value wherever it appears, and nothing else', () => {
    const mask = secretMasker(job({ params: { service: 'nginx', token: 'tok-123', password: 'hunter2' }, secretNames: ['token', 'password'] }));
    expect(mask('nginx login tok-123:hunter2 (tok-123)')).toBe(`nginx login ${SECRET_MASK}:${SECRET_MASK} (${SECRET_MASK})`);
  });

  test('masks the longer secret first when one contains another', () => {
    const mask = secretMasker(job({ params: { short: 'abc', long: 'abcdef' }, secretNames: ['short', 'long'] }));
    expect(mask('abcdef abc')).toBe(`${SECRET_MASK} ${SECRET_MASK}`);
  });

  test('leaves lines alone when there is no secret or the secret is empty', () => {
    expect(secretMasker(job({ params: { service: 'nginx' } }))('nginx')).toBe('nginx');
    expect(secretMasker(job({ params: { token: '' }, secretNames: ['token'] }))('nothing to hide')).toBe('nothing to hide');
  });
});

describe('runScriptProcess', () => {
  test.for(['bash', 'sh'] as const)('%s: hostile parameter values arrive verbatim and execute nothing', async (interpreter, { sandbox }) => {
    const marker = join(sandbox.dir, 'pwned');
    const victim = join(sandbox.dir, 'victim');
    await mkdir(victim);
    const values = [
      `$(touch ${marker})`,
      `\`touch ${marker}\``,
      `'; touch ${marker}; echo '`,
      `"; touch ${marker}; echo "`,
      `first line\ntouch ${marker}`,
      `;rm -rf ${victim}; touch ${marker}`,
      `$HOME && touch ${marker} || * ?`,
    ];
    const params = Object.fromEntries(values.map((v, i) => [`p${i}`, v]));
    const content = `printf '%s\\n' ${values.map((_, i) => `"$${paramEnvName(`p${i}`)}"`).join(' ')}\nprintf '%s\\n' "$@"\n`;

    const { exit, stdout } = await sandbox.run(job({ interpreter, params, content }));

    expect(exit.exitCode).toBe(0);
    expect(stdout.join('\n')).toBe([...values, ...values.map((v, i) => `--p${i}=${v}`)].join('\n'));
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(victim)).toBe(true);
  });

  test('gives secrets to the script by environment only, and masks them in its output', async ({ sandbox }) => {
    const secret = 'sk-live-4f9a2c7e1b';
    const out = join(sandbox.dir, 'out');
    await mkdir(out);
    const content = [
      `printf '%s' "$DRYDOCK_PARAM_TOKEN" > "$OUT/token"`,
      `printf '%s\\n' "$@" > "$OUT/argv"`,
      `tr -d '\\0' < /proc/$$/cmdline > "$OUT/cmdline"`,
      `echo "using token $DRYDOCK_PARAM_TOKEN for $DRYDOCK_PARAM_SERVICE"`,
      `echo "auth failed for $DRYDOCK_PARAM_TOKEN" >&2`,
      'exit 1',
    ].join('\n');

    const { exit, stdout, stderr } = await sandbox.run(
      job({ params: { service: 'nginx', token: secret }, secretNames: ['token'], content }),
      { extraEnv: { OUT: out } },
    );

    expect(await readFile(join(out, 'token'), 'utf8')).toBe(secret);
    expect(await readFile(join(out, 'argv'), 'utf8')).toBe('--service=nginx\n');
    expect(await readFile(join(out, 'cmdline'), 'utf8')).not.toContain(secret);
    expect(stdout).toEqual([`using token ${SECRET_MASK} for nginx`]);
    expect(stderr).toEqual([`auth failed for ${SECRET_MASK}`]);
    expect(exit.stderrTail).not.toContain(secret);
  });

  test("keeps the agent's own environment away from the script", async ({ sandbox }) => {
    vi.stubEnv('DRYDOCK_CODEC_KEY', 'agent-codec-key-do-not-leak');
    vi.stubEnv('DRYDOCK_AGENT_TOKEN', 'dda_agent_token_do_not_leak');
    const { stdout } = await sandbox.run(job({ content: 'env\npwd\n' }), { extraEnv: { DRYDOCK_RUN_ID: 'run-1' } });

    expect(stdout.join('\n')).not.toContain('do_not_leak');
    expect(stdout.join('\n')).not.toContain('do-not-leak');
    expect(stdout).toContain('DRYDOCK_RUN_ID=run-1');
    expect(stdout).toContain(`PATH=${process.env.PATH}`);
    expect(stdout.at(-1)).toBe(sandbox.workDir);
  });

  test('splits stdout and stderr into lines, including a last line without a newline', async ({ sandbox }) => {
    const content = `printf 'one\\n\\ntwo\\r\\nthree'\nprintf 'warn 1\\nwarn 2' >&2\n`;
    const { exit, stdout, stderr } = await sandbox.run(job({ content }));
    expect(stdout).toEqual(['one', '', 'two', 'three']);
    expect(stderr).toEqual(['warn 1', 'warn 2']);
    expect(exit.stderrTail).toBe('warn 1\nwarn 2');
  });

  test('masks a multi-line secret (a PEM key) line by line, however the script prints it', async ({ sandbox }) => {
    const pem = ['-----BEGIN PRIVATE KEY-----', 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7', 'k3Jv0Q2bW5uXo0sXyq8s1n3Kx4e9u2T0aZ', '-----END PRIVATE KEY-----'].join('\n');
    const content = [
      'printf "%s\\n" "$DRYDOCK_PARAM_KEY"',
      'printf "key: %s\\n" "$DRYDOCK_PARAM_KEY" | sed -n 2p >&2',
      'printf "%s" "$DRYDOCK_PARAM_KEY" | tr "\\n" " "; echo',
      'exit 3',
    ].join('\n');
    const { exit, stdout, stderr } = await sandbox.run(job({ params: { key: pem }, secretNames: ['key'], content }));

    const shown = [...stdout, ...stderr, exit.stderrTail].join('\n');
    for (const line of pem.split('\n')) expect(shown).not.toContain(line);
    expect(shown).not.toContain('MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcw');
    expect(stdout.slice(0, 4)).toEqual([SECRET_MASK, SECRET_MASK, SECRET_MASK, SECRET_MASK]);
    expect(stderr).toEqual([SECRET_MASK]);
    expect(stdout[4]).toBe(`${SECRET_MASK} ${SECRET_MASK} ${SECRET_MASK} ${SECRET_MASK}`);
  });

  test('masks a secret in a long line before cutting it, also where the cut falls inside the secret', async ({ sandbox }) => {
    const secret = `s3cr3t-${'q'.repeat(60)}-end`;
    // The secret starts 20 characters before the cut; one line goes on far past it, another ends with it.
    const x = `"$(head -c 16364 /dev/zero | tr '\\0' x)"`;
    const content = [
      `printf '%s' ${x}; printf '%s' "$DRYDOCK_PARAM_TOKEN"; head -c 50000 /dev/zero | tr '\\0' y; echo`,
      `{ printf '%s' ${x}; printf '%s\\n' "$DRYDOCK_PARAM_TOKEN"; } >&2`,
      'echo after',
    ].join('\n');
    const { stdout, stderr } = await sandbox.run(job({ params: { token: secret }, secretNames: ['token'], content }));

    const shown = (line: string | undefined) => line?.replace(/^x{16364}/, '<x>').replace(/y+/, (ys) => `<${ys.length}y>`);
    expect(stdout.map(shown)).toEqual([`<x>${SECRET_MASK}<${16_384 - 16_364 - SECRET_MASK.length}y>… [line cut at 16384 characters]`, 'after']);
    expect(stderr.map(shown)).toEqual([`<x>${SECRET_MASK}`]);
    expect([...stdout, ...stderr].join('')).not.toContain('s3cr3t');
  });

  test('cuts a very long line and says so', async ({ sandbox }) => {
    const { stdout } = await sandbox.run(job({ content: `head -c 40000 /dev/zero | tr '\\0' x\necho\necho after\n` }));
    expect(stdout).toEqual([expect.stringMatching(/^x{16384}… \[line cut at 16384 characters\]$/), 'after']);
  });

  test('reports the exit code and removes its working directory', async ({ sandbox }) => {
    const { exit } = await sandbox.run(job({ content: 'echo failing >&2\nexit 3\n' }));
    expect(exit).toMatchObject({ exitCode: 3, signal: null, timedOut: false, cancelled: false, stderrTail: 'failing' });
    expect(existsSync(sandbox.workDir)).toBe(false);
  });

  test('ends background processes the script left behind, even ones that ignore SIGTERM', async ({ sandbox }) => {
    const { exit, stdout } = await sandbox.run(job({ content: "(trap '' TERM; exec sleep 300) &\necho $!\nexit 0\n" }));
    expect(exit.exitCode).toBe(0);
    const pid = Number(stdout[0]);
    await vi.waitFor(() => expect(alive(pid)).toBe(false));
  });

  test('on timeout kills the whole process group', async ({ sandbox }) => {
    const { exit, stdout } = await sandbox.run(job({ timeoutSeconds: 1, content: 'sleep 300 &\necho $!\nwait\n' }));
    expect(exit).toMatchObject({ timedOut: true, cancelled: false, exitCode: null, signal: 'SIGTERM' });
    const pid = Number(stdout[0]);
    expect(pid).toBeGreaterThan(0);
    await vi.waitFor(() => expect(alive(pid)).toBe(false));
  });

  test('on timeout kills a script that ignores SIGTERM', async ({ sandbox }) => {
    const { exit, stdout } = await sandbox.run(job({ timeoutSeconds: 1, content: "trap '' TERM\nsleep 300 &\necho $!\nwait\n" }));
    expect(exit).toMatchObject({ timedOut: true, signal: 'SIGKILL' });
    await vi.waitFor(() => expect(alive(Number(stdout[0]))).toBe(false));
  });

  test('on abort kills the whole process group and reports cancelled', async ({ sandbox }) => {
    const controller = new AbortController();
    const { exit, stdout } = await sandbox.run(job({ content: 'sleep 300 &\necho $!\nwait\n' }), {
      signal: controller.signal,
      onLine: () => controller.abort(),
    });
    expect(exit).toMatchObject({ cancelled: true, timedOut: false, exitCode: null });
    await vi.waitFor(() => expect(alive(Number(stdout[0]))).toBe(false));
  });

  test('a run whose signal is already aborted is cancelled at once', async ({ sandbox }) => {
    const { exit } = await sandbox.run(job({ content: 'sleep 300\n' }), { signal: AbortSignal.abort() });
    expect(exit).toMatchObject({ cancelled: true, timedOut: false, exitCode: null });
  });

  test('an interpreter that is not installed gives an error naming the command and the script', async ({ sandbox }) => {
    vi.stubEnv('PATH', sandbox.dir);
    const run = sandbox.run(job({ interpreter: 'python', scriptPath: 'scripts/system-info.py', content: 'print("hi")\n' }));
    await expect(run).rejects.toThrow(/^could not start python3 for scripts\/system-info\.py: .*ENOENT/);
    expect(existsSync(sandbox.workDir)).toBe(false);
  });
});
