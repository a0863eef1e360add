import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test as baseTest } from 'vitest';
import { OperationSchema } from '@drydock/core/operations';
import { renderOperation } from '@drydock/core/operations';
import { runOperation } from './run-operation.ts';

const node = process.execPath;
const test = baseTest.extend('dir', async ({}, { onCleanup }) => {
  const dir = await mkdtemp(join(tmpdir(), 'drydock-shell-op-'));
  onCleanup(() => rm(dir, { recursive: true, force: true }));
  return dir;
});

function run(command: string[], extra: { timeout_seconds?: number; working_directory?: string; environment?: Record<string, string> } = {}, signal = new AbortController().signal) {
  return runOperation({ type: 'shell_command', command, ...extra }, { signal, secrets: {} });
}

/** The state letter of /proc/<pid>/stat (R, S, Z, …), or null once the process is gone. PID 1 here never reaps, so a killed orphan stays Z. */
async function processState(pid: number): Promise<string | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? null;
  } catch {
    return null;
  }
}

describe('shell_command', () => {
  test('exit code 0 passes, and the output lines reach onLine and the result', async () => {
    const lines: string[] = [];
    const result = await runOperation(
      { type: 'shell_command', command: [node, '-e', 'console.log("one"); console.error("two")'] },
      { signal: new AbortController().signal, secrets: {}, onLine: (l) => lines.push(l) },
    );
    expect(result.ok).toBe(true);
    expect(result.value).toBe(0);
    expect(result.checks).toEqual([{ name: 'exit code', ok: true, detail: 'exited with code 0' }]);
    expect(lines).toContain('one');
    expect(lines).toContain('two');
    expect(result.output).toEqual(lines);
  });

  test('any other exit code fails, and says which', async () => {
    const result = await run([node, '-e', 'process.exit(3)']);
    expect(result.ok).toBe(false);
    expect(result.value).toBe(3);
    expect(result.checks).toEqual([{ name: 'exit code', ok: false, detail: 'exited with code 3, expected 0' }]);
  });

  test('argv reaches the program verbatim: no shell expands, splits or joins anything', async ({ dir }) => {
    const marker = join(dir, 'pwned');
    const words = [`$(touch ${marker})`, `; touch ${marker}`, '`id`', 'a b', '*', '"quoted"', "it's", '| cat', `> ${marker}`, '', '\\n', '%PATH%'];
    const op = OperationSchema.parse({ type: 'shell_command', command: [node, '-e', 'console.log(JSON.stringify(process.argv.slice(1)))', ...words, '{{value}}'] });
    const result = await runOperation(renderOperation(op, { value: `$(touch ${marker}) && rm -rf ${dir}` }), { signal: new AbortController().signal, secrets: {} });
    expect(result.ok).toBe(true);
    expect(JSON.parse(result.output[1]!)).toEqual([...words, `$(touch ${marker}) && rm -rf ${dir}`]);
    await expect(readFile(marker)).rejects.toThrow(/ENOENT/);
  });

  test('the environment is PATH, HOME, LANG and TZ from the host, with the operation’s own over them', async () => {
    const result = await runOperation(
      { type: 'shell_command', command: [node, '-e', 'console.log(JSON.stringify(process.env))'], environment: { HOME: '/srv/app', APP_MODE: 'check' } },
      {
        signal: new AbortController().signal,
        secrets: {},
        hostEnvironment: { PATH: '/usr/bin:/bin', HOME: '/root', LANG: 'C.UTF-8', TZ: 'UTC', DRYDOCK_AGENT_TOKEN: 'agent-token', AWS_SECRET_ACCESS_KEY: 'x' },
      },
    );
    expect(JSON.parse(result.output[1]!)).toEqual({ PATH: '/usr/bin:/bin', HOME: '/srv/app', LANG: 'C.UTF-8', TZ: 'UTC', APP_MODE: 'check' });
  });

  test('it runs in working_directory, and a missing one is a clear failure', async ({ dir }) => {
    const here = await run([node, '-e', 'console.log(process.cwd())'], { working_directory: dir });
    expect(here.output[1]).toBe(dir);
    const missing = await run(['true'], { working_directory: join(dir, 'nope') });
    expect(missing.checks).toEqual([{ name: 'exit code', ok: false, detail: `working directory ${join(dir, 'nope')} does not exist or is not a directory` }]);
  });

  test('a program that is not installed fails with a result, not a crash', async () => {
    const result = await run(['drydock-no-such-program', '--version']);
    expect(result.ok).toBe(false);
    expect(result.checks).toEqual([{ name: 'exit code', ok: false, detail: 'could not start drydock-no-such-program: no such program on PATH' }]);
  });

  test('a timeout kills the process group and says so', async () => {
    const result = await run([node, '-e', 'setInterval(() => {}, 1000)'], { timeout_seconds: 1 });
    expect(result.ok).toBe(false);
    expect(result.value).toBeNull();
    expect(result.checks).toEqual([{ name: 'exit code', ok: false, detail: 'timed out after 1 s; process group killed' }]);
  });

  test('abort kills the whole process group, background children included', async () => {
    const controller = new AbortController();
    let background: number | undefined;
    const result = await runOperation(
      { type: 'shell_command', command: ['sh', '-c', 'sleep 300 & echo "background $!"; wait'] },
      {
        signal: controller.signal,
        secrets: {},
        onLine: (line) => {
          const pid = /^background (\d+)$/.exec(line)?.[1];
          if (pid) {
            background = Number(pid);
            controller.abort();
          }
        },
      },
    );
    expect(result.checks).toEqual([{ name: 'exit code', ok: false, detail: 'cancelled; process group killed' }]);
    expect(background).toBeGreaterThan(1);
    await expect.poll(() => processState(background!)).toSatisfy((state) => state === null || state === 'Z');
  });

  test('secret values are masked in every line and detail', async () => {
    const lines: string[] = [];
    const result = await runOperation(
      { type: 'shell_command', command: [node, '-e', 'console.log("token=" + process.argv[1]); process.exit(2)', 's3cr3t-t0ken'] },
      { signal: new AbortController().signal, secrets: { api_token: 's3cr3t-t0ken' }, onLine: (l) => lines.push(l) },
    );
    expect(JSON.stringify(result)).not.toContain('s3cr3t-t0ken');
    expect(lines.join('\n')).not.toContain('s3cr3t-t0ken');
    expect(result.output).toContain('token=••••••');
  });
});
