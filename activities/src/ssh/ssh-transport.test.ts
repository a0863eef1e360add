import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { access, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test as baseTest } from 'vitest';
import { freePort } from '@drydock/core';
import type { ParamValues } from '@drydock/core/manifest';
import type { AgentScriptJob } from '@drydock/core/run-contract';
import { dropSessions, type KeyPair, keyPair, killLeftover, processRunning, type Sshd, startSshd } from './sshd-fixtures.ts';
import { runOverSsh, type RunOverSshOptions, SshError, type SshTarget } from './ssh-transport.ts';
import { type Collecting, collectLines, decode, failure as transportFailure, hostile, transportJob } from '../transport/transport-fixtures.ts';

interface Lab {
  dir: string;
  client: KeyPair;
  stranger: KeyPair;
  hostKeyFiles: { main: string; impostor: string; bastion: string };
  hostKeys: { main: string; impostor: string; bastion: string };
}

const test = baseTest
  .extend('lab', { scope: 'file' }, async ({}, { onCleanup }): Promise<Lab> => {
    const dir = await mkdtemp(join(tmpdir(), 'drydock-ssh-'));
    onCleanup(() => rm(dir, { recursive: true, force: true }));
    const client = await keyPair(join(dir, 'client'));
    const stranger = await keyPair(join(dir, 'stranger'));
    const hostKeyFiles = { main: join(dir, 'host-main'), impostor: join(dir, 'host-impostor'), bastion: join(dir, 'host-bastion') };
    const [main, impostor, bastion] = await Promise.all([keyPair(hostKeyFiles.main), keyPair(hostKeyFiles.impostor), keyPair(hostKeyFiles.bastion)]);
    await writeFile(join(dir, 'authorized_keys'), `${client.publicKey}\n`);
    return { dir, client, stranger, hostKeyFiles, hostKeys: { main: main!.publicKey, impostor: impostor!.publicKey, bastion: bastion!.publicKey } };
  })
  .extend('sshd', { scope: 'file' }, async ({ lab }, { onCleanup }): Promise<Sshd> => {
    const sshd = await startSshd({ dir: lab.dir, port: await freePort(), hostKeyFile: lab.hostKeyFiles.main });
    onCleanup(() => sshd.stop());
    return sshd;
  })
  .extend('scratch', async ({ lab }, { onCleanup }) => {
    const dir = await mkdtemp(join(lab.dir, 'scratch-'));
    await mkdir(join(dir, 'work'));
    onCleanup(async () => {
      await killLeftover(join(dir, 'background.pid'));
      await rm(dir, { recursive: true, force: true });
    });
    return dir;
  });

function target(lab: Lab, port: number, extra: Partial<SshTarget> = {}): SshTarget {
  return { host: '127.0.0.1', port, username: 'root', auth: { kind: 'ssh_key', privateKey: lab.client.privateKey }, knownHostKey: null, ...extra };
}

const scriptJob = (content: string, params: ParamValues = {}, extra: Partial<AgentScriptJob> = {}) => transportJob(content, params, { interpreter: 'bash', ...extra });

function run(options: Omit<RunOverSshOptions, 'onLine' | 'signal'> & Collecting) {
  return collectLines(options, (signal, onLine) => runOverSsh({ ...options, signal, onLine }));
}

const failure = (promise: Promise<unknown>) => transportFailure(promise, SshError);

const exists = (path: string) => access(path).then(() => true, () => false);

describe('running a script over ssh', () => {
  test('passes parameters verbatim as environment and argv, masks secrets, and leaves no files behind', async ({ lab, sshd, scratch }) => {
    const marker = join(scratch, 'pwned');
    const note = hostile(marker);
    const script = [
      'for name in NOTE COUNT FLAGS TOKEN; do v="DRYDOCK_PARAM_$name"; printf "env %s %s\\n" "$name" "$(printf "%s" "${!v}" | base64 -w0)"; done',
      'for a in "$@"; do printf "arg %s\\n" "$(printf "%s" "$a" | base64 -w0)"; done',
      'printf "cwd %s\\n" "$PWD"',
      'printf "run %s %s\\n" "$DRYDOCK_RUN_ID" "$DRYDOCK_SCRIPT_ID"',
      'echo "token is $DRYDOCK_PARAM_TOKEN"',
      'echo "token again: $DRYDOCK_PARAM_TOKEN" >&2',
    ].join('\n');
    const params = { note, count: 3, flags: ['a b', 'c;d'], token: 's3cr3t-$(touch x)' };

    const result = await run({
      target: target(lab, sshd.port),
      job: scriptJob(script, params, { secretNames: ['token'] }),
      workDirBase: join(scratch, 'work'),
    });

    expect(result.exit).toMatchObject({ exitCode: 0, signal: null, timedOut: false, cancelled: false });
    const fields = (prefix: string) => result.stdout.filter((l) => l.startsWith(`${prefix} `)).map((l) => l.split(' ').slice(1));
    expect(Object.fromEntries(fields('env').map(([name, b64]) => [name, decode(b64)]))).toEqual({
      NOTE: note,
      COUNT: '3',
      FLAGS: 'a b,c;d',
      TOKEN: 's3cr3t-$(touch x)',
    });
    expect(fields('arg').map(([b64]) => decode(b64))).toEqual([`--note=${note}`, '--count=3', '--flags=a b,c;d']);
    expect(result.stdout).toContain('run run-1 script-1');
    expect(result.stdout).toContain('token is ••••••');
    expect(result.stderr).toContain('token again: ••••••');
    expect(result.lines.map((l) => l.line).join('\n')).not.toContain('s3cr3t');

    const cwd = fields('cwd')[0]?.join(' ') ?? '';
    expect(cwd.startsWith(join(scratch, 'work', 'drydock-ssh.'))).toBe(true);
    expect(await exists(marker)).toBe(false);
    expect(await readdir(join(scratch, 'work'))).toEqual([]);
    expect(result.hostKey).toBe(lab.hostKeys.main);
    expect(result.jumpHostKey).toBeNull();
  });

  test('keeps what the login shell prints before the script out of its output', async ({ lab, scratch }) => {
    const rc = join(scratch, 'noisy-rc.sh');
    await writeFile(rc, 'echo "Welcome to the test host"\nprintf "no newline here"\necho "rc warning" >&2\n');
    // bash, root's login shell here, sources $BASH_ENV before running the command: like a chatty ~/.bashrc.
    const noisy = await startSshd({ dir: lab.dir, port: await freePort(), hostKeyFile: lab.hostKeyFiles.main, name: 'noisy', settings: [`SetEnv=BASH_ENV=${rc}`] });
    try {
      const result = await run({ target: target(lab, noisy.port), job: scriptJob('echo "script says hi"\necho "script complains" >&2\n', {}, { interpreter: 'sh' }) });
      expect(result.stdout).toEqual(['script says hi']);
      expect(result.stderr).toEqual(['script complains']);
      expect(result.exit.stderrTail).toBe('script complains');
      const system = result.lines.filter((l) => l.stream === 'system').map((l) => l.line);
      expect(system).toEqual(
        expect.arrayContaining([
          `127.0.0.1:${noisy.port} login shell: Welcome to the test host`,
          `127.0.0.1:${noisy.port} login shell: no newline here`,
          `127.0.0.1:${noisy.port} login shell: rc warning`,
        ]),
      );
    } finally {
      await noisy.stop();
    }
  });

  test('reports the exit code and the last 20 lines of stderr', async ({ lab, sshd, scratch }) => {
    const result = await run({
      target: target(lab, sshd.port),
      job: scriptJob('for i in $(seq 1 25); do echo "problem $i" >&2; done\necho finished\nexit 3\n'),
      workDirBase: join(scratch, 'work'),
    });

    expect(result.exit).toMatchObject({ exitCode: 3, signal: null, timedOut: false, cancelled: false });
    expect(result.stdout).toEqual(['finished']);
    expect(result.stderr).toHaveLength(25);
    expect(result.exit.stderrTail).toBe(Array.from({ length: 20 }, (_, i) => `problem ${i + 6}`).join('\n'));
  });

  test('runs a command template as argv, with values that stay single words', async ({ lab, sshd, scratch }) => {
    const marker = join(scratch, 'pwned');
    const result = await run({
      target: target(lab, sshd.port),
      job: scriptJob('', { greeting: `hello; touch ${marker}`, name: `$(touch ${marker}) and \`touch ${marker}\`` }, {
        interpreter: null,
        scriptPath: null,
        content: null,
        commandTemplate: `printf '%s|%s\\n' {{greeting}} "dear {{name}}"`,
      }),
      workDirBase: join(scratch, 'work'),
    });

    expect(result.exit).toMatchObject({ exitCode: 0, signal: null, timedOut: false, cancelled: false });
    expect(result.stdout).toEqual([`hello; touch ${marker}|dear $(touch ${marker}) and \`touch ${marker}\``]);
    expect(await exists(marker)).toBe(false);
    expect(await readdir(join(scratch, 'work'))).toEqual([]);
  });

  test('fails to start a command the host does not have, without showing secrets', async ({ lab, sshd, scratch }) => {
    const err = await failure(
      run({
        target: target(lab, sshd.port),
        job: scriptJob('', { token: 'hunter2' }, { interpreter: null, content: null, commandTemplate: 'no-such-tool-{{token}} --check', secretNames: ['token'] }),
        workDirBase: join(scratch, 'work'),
      }),
    );
    expect(err.reason).toBe('other');
    expect(err.message).toBe(`could not start the script on 127.0.0.1:${sshd.port}: no-such-tool-•••••• is not installed or not on the PATH of root`);
    expect(await readdir(join(scratch, 'work'))).toEqual([]);
  });
});

describe('stopping a script over ssh', () => {
  test('a timeout kills the script and the background process it started', async ({ lab, sshd, scratch }) => {
    const pidFile = join(scratch, 'background.pid');
    const result = await run({
      target: target(lab, sshd.port),
      job: scriptJob('sleep 300 &\necho $! > "$DRYDOCK_PARAM_PID_FILE"\necho started\nwait\n', { pid_file: pidFile }, { timeoutSeconds: 1 }),
      workDirBase: join(scratch, 'work'),
    });

    expect(result.exit).toMatchObject({ exitCode: null, signal: 'SIGTERM', timedOut: true, cancelled: false });
    expect(result.stdout).toEqual(['started']);
    expect(result.stderr).toEqual([]);
    const pid = Number(await readFile(pidFile, 'utf8'));
    await expect.poll(() => processRunning(pid)).toBe(false);
    expect(await readdir(join(scratch, 'work'))).toEqual([]);
  });

  test('cancelling kills the whole process group, with SIGKILL when it ignores SIGTERM', async ({ lab, sshd, scratch }) => {
    const pidFile = join(scratch, 'background.pid');
    const controller = new AbortController();
    const result = await run({
      target: target(lab, sshd.port),
      job: scriptJob("trap '' TERM\nsleep 300 &\necho $! > \"$DRYDOCK_PARAM_PID_FILE\"\necho started\nwait\n", { pid_file: pidFile }),
      workDirBase: join(scratch, 'work'),
      signal: controller.signal,
      onLine: (line) => {
        if (line.line === 'started') controller.abort();
      },
    });

    expect(result.exit).toMatchObject({ exitCode: null, signal: 'SIGKILL', timedOut: false, cancelled: true });
    const pid = Number(await readFile(pidFile, 'utf8'));
    await expect.poll(() => processRunning(pid)).toBe(false);
    expect(await readdir(join(scratch, 'work'))).toEqual([]);
  });

  test('a dropped connection fails the run as unreachable, and the host ends the script', async ({ lab, scratch }) => {
    const host = await startSshd({ dir: lab.dir, port: await freePort(), hostKeyFile: lab.hostKeyFiles.main, name: 'dropping' });
    try {
      const pidFile = join(scratch, 'background.pid');
      const err = await failure(
        run({
          target: target(lab, host.port),
          job: scriptJob('sleep 300 &\necho $! > "$DRYDOCK_PARAM_PID_FILE"\necho started\nwait\n', { pid_file: pidFile }),
          workDirBase: join(scratch, 'work'),
          onLine: (line) => {
            if (line.line === 'started') void dropSessions(host);
          },
        }),
      );
      expect(err.reason).toBe('unreachable');
      expect(err.message).toMatch(new RegExp(`^lost the connection to 127\\.0\\.0\\.1:${host.port} while the script ran`));
      const pid = Number(await readFile(pidFile, 'utf8'));
      await expect.poll(() => processRunning(pid)).toBe(false);
      await expect.poll(() => readdir(join(scratch, 'work'))).toEqual([]);
    } finally {
      await host.stop();
    }
  });

  test('cancelling before the connection is made rejects with the reason and runs nothing', async ({ lab, sshd, scratch }) => {
    const marker = join(scratch, 'ran');
    const controller = new AbortController();
    const reason = new Error('the run was cancelled');
    controller.abort(reason);
    const outcome = run({ target: target(lab, sshd.port), job: scriptJob(`touch ${marker}`), signal: controller.signal });
    await expect(outcome).rejects.toBe(reason);
    expect(await exists(marker)).toBe(false);
  });
});

describe('host keys', () => {
  test('a first connection returns the key to pin; a different key on the same port is refused before authenticating', async ({ lab }) => {
    const port = await freePort();
    let sshd = await startSshd({ dir: lab.dir, port, hostKeyFile: lab.hostKeyFiles.main, name: 'genuine' });
    try {
      const first = await run({ target: target(lab, port), job: scriptJob('echo hello') });
      expect(first.hostKey).toBe(lab.hostKeys.main);
      const pinned = await run({ target: target(lab, port, { knownHostKey: first.hostKey }), job: scriptJob('echo again') });
      expect(pinned.stdout).toEqual(['again']);

      await sshd.stop();
      sshd = await startSshd({ dir: lab.dir, port, hostKeyFile: lab.hostKeyFiles.impostor, name: 'impostor' });
      const marker = join(lab.dir, 'ran');
      const err = await failure(run({ target: target(lab, port, { knownHostKey: first.hostKey }), job: scriptJob(`touch ${marker}`) }));
      expect(err.reason).toBe('host_key_changed');
      expect(err.message).toMatch(new RegExp(`^host key for 127\\.0\\.0\\.1:${port} changed since it was pinned: it now presents ssh-ed25519 SHA256:`));
      expect(await exists(marker)).toBe(false);
      // The impostor never saw an authentication attempt, so it learnt nothing about the credential.
      expect(await readFile(sshd.logFile, 'utf8')).not.toMatch(/publickey|Accepted|Failed/);
    } finally {
      await sshd.stop();
    }
  });
});

describe('connection failures', () => {
  test('a key the server does not accept fails with reason auth', async ({ lab, sshd }) => {
    const err = await failure(run({ target: target(lab, sshd.port, { auth: { kind: 'ssh_key', privateKey: lab.stranger.privateKey } }), job: scriptJob('true') }));
    expect(err.reason).toBe('auth');
    expect(err.message).toBe(`authentication as root failed on 127.0.0.1:${sshd.port}: check the credential, and that its public key is in ~root/.ssh/authorized_keys`);
  });

  test('a wrong password fails with reason auth and does not repeat the password', async ({ lab, sshd }) => {
    const err = await failure(run({ target: target(lab, sshd.port, { auth: { kind: 'password', password: 'not-the-password' } }), job: scriptJob('true') }));
    expect(err.reason).toBe('auth');
    expect(err.message).not.toContain('not-the-password');
  });

  test('a closed port fails with reason unreachable', async ({ lab }) => {
    const port = await freePort();
    const err = await failure(run({ target: target(lab, port), job: scriptJob('true') }));
    expect(err.reason).toBe('unreachable');
    expect(err.message).toBe(`127.0.0.1:${port} is unreachable: connection refused (is sshd running on that port?)`);
  });

  test('a port that accepts but never speaks SSH fails with reason timeout', async ({ lab }) => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;
    try {
      const err = await failure(run({ target: target(lab, port, { connectTimeoutMs: 1_000 }), job: scriptJob('true') }));
      expect(err.reason).toBe('timeout');
      expect(err.message).toBe(`127.0.0.1:${port} did not complete the SSH handshake within 1 s: check the host, the port and any firewall in between`);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

describe('through a bastion', () => {
  test('reaches the target through the bastion and returns both host keys', async ({ lab, sshd, scratch }) => {
    const bastion = await startSshd({ dir: lab.dir, port: await freePort(), hostKeyFile: lab.hostKeyFiles.bastion, name: 'bastion' });
    try {
      const jump = { ...target(lab, bastion.port) };
      const result = await run({ target: target(lab, sshd.port, { jump }), job: scriptJob('echo "through $DRYDOCK_RUN_ID"'), workDirBase: join(scratch, 'work') });
      expect(result.stdout).toEqual(['through run-1']);
      expect(result.exit.exitCode).toBe(0);
      expect(result.hostKey).toBe(lab.hostKeys.main);
      expect(result.jumpHostKey).toBe(lab.hostKeys.bastion);

      const pinned = await run({
        target: target(lab, sshd.port, { knownHostKey: lab.hostKeys.main, jump: { ...jump, knownHostKey: lab.hostKeys.bastion } }),
        job: scriptJob('echo pinned'),
      });
      expect(pinned.stdout).toEqual(['pinned']);

      const closed = await freePort();
      const err = await failure(run({ target: target(lab, closed, { jump }), job: scriptJob('true') }));
      expect(err.reason).toBe('unreachable');
      expect(err.message).toMatch(new RegExp(`^127\\.0\\.0\\.1:${closed} is unreachable from bastion 127\\.0\\.0\\.1:${bastion.port}: `));
    } finally {
      await bastion.stop();
    }
  });

  test('a bastion that does not forward connections is named in the error', async ({ lab, sshd }) => {
    const bastion = await startSshd({ dir: lab.dir, port: await freePort(), hostKeyFile: lab.hostKeyFiles.bastion, name: 'closed-bastion', settings: ['AllowTcpForwarding=no'] });
    try {
      const err = await failure(run({ target: target(lab, sshd.port, { jump: target(lab, bastion.port) }), job: scriptJob('true') }));
      expect(err.reason).toBe('other');
      expect(err.message).toMatch(new RegExp(`^bastion 127\\.0\\.0\\.1:${bastion.port} refuses to forward connections to 127\\.0\\.0\\.1:${sshd.port} `));
    } finally {
      await bastion.stop();
    }
  });

  test('a changed bastion host key is refused and named', async ({ lab, sshd }) => {
    const bastion = await startSshd({ dir: lab.dir, port: await freePort(), hostKeyFile: lab.hostKeyFiles.impostor, name: 'impostor-bastion' });
    try {
      const err = await failure(
        run({ target: target(lab, sshd.port, { jump: target(lab, bastion.port, { knownHostKey: lab.hostKeys.bastion }) }), job: scriptJob('true') }),
      );
      expect(err.reason).toBe('host_key_changed');
      expect(err.message).toMatch(new RegExp(`^host key for bastion 127\\.0\\.0\\.1:${bastion.port} changed since it was pinned`));
    } finally {
      await bastion.stop();
    }
  });
});
