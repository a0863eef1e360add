import { spawn } from 'node:child_process';
import { access, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test as baseTest } from 'vitest';
import { encodeInvocation, READY_MARKER, REMOTE_COMMAND, type RemoteInvocation, WRAPPER_SCRIPT } from './remote-wrapper.ts';
import { killLeftover, processRunning } from './sshd-fixtures.ts';

// The wrapper runs under whatever /bin/sh the host has; here it runs directly under each shell that can be one.
const SHELLS = [
  ['dash', ['/usr/bin/dash']],
  ['bash', ['/usr/bin/bash']],
  ['bash in POSIX mode', ['/usr/bin/bash', '--posix']],
] as const;

const test = baseTest.extend('scratch', async ({}, { onCleanup }) => {
  const dir = await mkdtemp(join(tmpdir(), 'drydock-ssh-wrapper-'));
  await mkdir(join(dir, 'work'));
  onCleanup(async () => {
    await killLeftover(join(dir, 'background.pid'));
    await rm(dir, { recursive: true, force: true });
  });
  return dir;
});

interface Outcome {
  stdout: string;
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Runs the wrapper under `shell` with `invocation` on stdin; `closeStdinWhen` decides when stdin closes (default: never). */
function runWrapper(shell: readonly string[], invocation: RemoteInvocation, closeStdinWhen?: (stdout: string) => boolean): Promise<Outcome> {
  const [command, ...args] = shell;
  const child = spawn(command!, [...args, '-c', WRAPPER_SCRIPT, 'drydock-ssh'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    if (closeStdinWhen?.(stdout)) child.stdin.end();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin.write(encodeInvocation(invocation));
  return new Promise((resolve) => {
    const done = () => {
      child.stdin.destroy();
      resolve({ stdout, stderr, code: child.exitCode, signal: child.signalCode });
    };
    child.once('close', done);
    // A process that escaped the group would hold the pipes open forever: the wrapper's exit is what counts.
    child.once('exit', () => setTimeout(() => {
      child.stdout.destroy();
      child.stderr.destroy();
      done();
    }, 2_000).unref());
  });
}

async function loginUmask(shell: readonly string[]): Promise<string> {
  const [command, ...args] = shell;
  const child = spawn(command!, [...args, '-c', 'umask'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  await new Promise((resolve) => child.once('close', resolve));
  return out.trim();
}

const exists = (path: string) => access(path).then(() => true, () => false);

describe('the remote wrapper', () => {
  test('is one fixed line the login shell passes on intact', () => {
    expect(WRAPPER_SCRIPT).not.toMatch(/['\\\n]/);
    expect(REMOTE_COMMAND).toBe(`exec /bin/sh -c '${WRAPPER_SCRIPT}' drydock-ssh`);
  });

  for (const [name, shell] of SHELLS) {
    test(`under ${name}, delivers values verbatim and executes none of them`, async ({ scratch }) => {
      const marker = join(scratch, 'pwned');
      const value = `it's "q" $(touch ${marker}) \`touch ${marker}\`; touch ${marker}\n\ttab  two spaces \\ \\0101 %s %b é\n\n`;
      const script = 'echo "$DRYDOCK_PARAM_V $1" > /dev/null; pwd > "$DRYDOCK_PARAM_DIR/cwd"; exit 7\n';
      const outcome = await runWrapper(shell, {
        workDirBase: join(scratch, 'work'),
        env: { DRYDOCK_PARAM_V: value, DRYDOCK_PARAM_DIR: scratch },
        script: { extension: '.sh', content: `${script}# ${value}` },
        argv: ['/bin/sh', null, value],
      });

      expect(outcome).toMatchObject({ code: 7, signal: null, stdout: `${READY_MARKER}\n`, stderr: `${READY_MARKER}\n` });
      expect(await exists(marker)).toBe(false);
      const cwd = (await readFile(join(scratch, 'cwd'), 'utf8')).trim();
      expect(cwd.startsWith(join(scratch, 'work', 'drydock-ssh.'))).toBe(true);
      expect(await readdir(join(scratch, 'work'))).toEqual([]);
    });

    test(`under ${name}, writes the script byte for byte and passes env and argv exactly`, async ({ scratch }) => {
      const value = `$(id) \`id\`; '"\n\\n\\0101 🚀`;
      const content = `#!/bin/sh\n# ${value}\ncat "$0" > "$DRYDOCK_PARAM_OUT/script"\nprintf "%s" "$DRYDOCK_PARAM_V" > "$DRYDOCK_PARAM_OUT/env"\nprintf "%s" "$1" > "$DRYDOCK_PARAM_OUT/arg"\nprintf "%s:%s" "$#" "$2" > "$DRYDOCK_PARAM_OUT/rest"\numask > "$DRYDOCK_PARAM_OUT/umask"\n`;
      const outcome = await runWrapper(shell, {
        workDirBase: join(scratch, 'work'),
        env: { DRYDOCK_PARAM_V: value, DRYDOCK_PARAM_OUT: scratch },
        script: { extension: '.sh', content },
        argv: ['/bin/sh', null, value, ''],
      });

      expect(outcome.code).toBe(0);
      expect(await readFile(join(scratch, 'script'), 'utf8')).toBe(content);
      expect(await readFile(join(scratch, 'env'), 'utf8')).toBe(value);
      expect(await readFile(join(scratch, 'arg'), 'utf8')).toBe(value);
      expect(await readFile(join(scratch, 'rest'), 'utf8')).toBe('2:');
      // The wrapper keeps its files private, but the script gets the login's umask, as it would on the agent.
      expect((await readFile(join(scratch, 'umask'), 'utf8')).trim()).toBe(await loginUmask(shell));
    });

    test(`under ${name}, kills the process group when stdin closes`, async ({ scratch }) => {
      const pidFile = join(scratch, 'background.pid');
      const outcome = await runWrapper(
        shell,
        {
          workDirBase: join(scratch, 'work'),
          env: { DRYDOCK_PARAM_PID_FILE: pidFile },
          script: { extension: '.sh', content: 'sleep 300 &\necho $! > "$DRYDOCK_PARAM_PID_FILE"\necho started\nwait\n' },
          argv: ['/bin/sh', null],
        },
        (stdout) => stdout.includes('started\n'),
      );

      expect(outcome).toMatchObject({ code: null, signal: 'SIGTERM' });
      const pid = Number(await readFile(pidFile, 'utf8'));
      await expect.poll(() => processRunning(pid)).toBe(false);
      expect(await readdir(join(scratch, 'work'))).toEqual([]);
    });
  }

  test('reports what it cannot run, on stderr, instead of READY', async ({ scratch }) => {
    const outcome = await runWrapper(['/usr/bin/dash'], { workDirBase: join(scratch, 'work'), env: {}, script: null, argv: ['no-such-tool'] });
    expect(outcome.code).toBe(125);
    expect(outcome.stdout).toBe('');
    expect(outcome.stderr).toMatch(/^DRYDOCK-SSH FAILED no-such-tool is not installed or not on the PATH of \S+\n$/);
    expect(await readdir(join(scratch, 'work'))).toEqual([]);
  });
});
