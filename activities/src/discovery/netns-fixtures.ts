import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/**
 * Test support: a network namespace with a veth pair to this one, on a /24 of 10.231.0.0/16 that nothing on
 * this machine uses. The namespace end holds the test's "hosts" (as many addresses as asked); this end holds
 * `.1`. Servers started in it (real sshd, the fake WinRM server) listen on the namespace's addresses only.
 */
export interface TestNetwork {
  namespace: string;
  /** `10.231.<n>` */
  prefix: string;
  /** The address on this side of the veth pair. */
  gateway: string;
  /** The addresses inside the namespace. */
  hosts: string[];
  /** Starts a process inside the namespace; it is killed by `remove`. */
  spawn(command: string, args: string[]): ChildProcess;
  remove(): Promise<void>;
}

async function ip(...args: string[]): Promise<string> {
  return (await exec('ip', args)).stdout;
}

/**
 * Creates the namespace, or fails saying why: making namespaces needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN),
 * which CI has; a test that cannot make one fails rather than skipping, so a scan is never left untested.
 */
export async function createTestNetwork(hostCount: number): Promise<TestNetwork> {
  if (process.getuid?.() !== 0) {
    throw new Error('the discovery tests create network namespaces (ip netns add), which needs root: run them as root, as CI does');
  }
  const used = await ip('-4', '-o', 'addr', 'show');
  const free = Array.from({ length: 254 }, (_, i) => i + 1).filter((n) => !used.includes(`10.231.${n}.`));
  if (free.length === 0) throw new Error('every 10.231.<n>.0/24 is in use on this machine: remove stale test namespaces (ip netns list)');
  const prefix = `10.231.${free[randomBytes(1)[0]! % free.length]}`;
  const id = randomBytes(3).toString('hex');
  const namespace = `drydock-scan-${id}`;
  const [outside, inside] = [`dds${id}a`, `dds${id}b`];
  const hosts = Array.from({ length: hostCount }, (_, i) => `${prefix}.${i + 2}`);
  const children: ChildProcess[] = [];
  const remove = async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((resolve) => c.once('exit', resolve)) : undefined)));
    await ip('netns', 'del', namespace).catch(() => undefined);
    await ip('link', 'del', outside).catch(() => undefined);
  };
  try {
    await ip('netns', 'add', namespace);
  } catch (err) {
    throw new Error(`ip netns add failed, so the discovery tests cannot make their network: ${(err as { stderr?: string }).stderr?.trim() || (err as Error).message}. They need root with CAP_SYS_ADMIN and CAP_NET_ADMIN, as CI has`, { cause: err });
  }
  try {
    await ip('link', 'add', outside, 'type', 'veth', 'peer', 'name', inside);
    await ip('link', 'set', inside, 'netns', namespace);
    await ip('addr', 'add', `${prefix}.1/24`, 'dev', outside);
    await ip('link', 'set', outside, 'up');
    for (const host of hosts) await ip('-n', namespace, 'addr', 'add', `${host}/24`, 'dev', inside);
    await ip('-n', namespace, 'link', 'set', inside, 'up');
    await ip('-n', namespace, 'link', 'set', 'lo', 'up');
  } catch (err) {
    await remove();
    throw err;
  }
  return {
    namespace,
    prefix,
    gateway: `${prefix}.1`,
    hosts,
    spawn(command, args) {
      const child = spawn('ip', ['netns', 'exec', namespace, command, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      return child;
    },
    remove,
  };
}

/** Waits until `address:port` accepts a connection (from this namespace, through the veth pair). */
export async function waitForListener(address: string, port: number, child: ChildProcess, what: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${what} exited before it listened on ${address}:${port}`);
    const accepted = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: address, port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (accepted) return;
    if (attempt > 400) throw new Error(`${what} did not listen on ${address}:${port}`);
    await delay(50);
  }
}

/** A real sshd inside the namespace, on `address:22`, with the given host key. */
export async function startSshdIn(network: TestNetwork, address: string, dir: string, hostKeyFile: string): Promise<{ logFile: string }> {
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const logFile = join(dir, `sshd-${address}.log`);
  const settings = [`ListenAddress=${address}`, 'PasswordAuthentication=no', 'KbdInteractiveAuthentication=no', 'UsePAM=no', `PidFile=${join(dir, `sshd-${address}.pid`)}`, 'LogLevel=VERBOSE'];
  const child = network.spawn('/usr/sbin/sshd', ['-D', '-f', '/dev/null', '-E', logFile, '-p', '22', '-h', hostKeyFile, ...settings.flatMap((s) => ['-o', s])]);
  await waitForListener(address, 22, child, 'sshd');
  return { logFile };
}

const FAKE_WINRM_MAIN = fileURLToPath(new URL('../winrm/winrm-fake-server.main.ts', import.meta.url));

/** The fake WinRM server inside the namespace on `address`, 5985 (HTTP) and 5986 (HTTPS); returns its certificate's fingerprint. */
export async function startFakeWinrmIn(network: TestNetwork, address: string, dir: string): Promise<{ fingerprint: string }> {
  const spec = { dir, host: address, listeners: [{ port: 5985, protocol: 'http' }, { port: 5986, protocol: 'https' }] };
  const child = network.spawn(process.execPath, [FAKE_WINRM_MAIN, JSON.stringify(spec)]);
  let output = '';
  let errors = '';
  child.stderr!.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  const ready = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const line = output.split('\n').find((l) => l.startsWith('READY '));
      if (line) resolve(line.slice('READY '.length));
    });
    child.once('exit', (code) => reject(new Error(`the fake WinRM server exited (${code}) before it was ready: ${errors.trim()}`)));
  });
  await waitForListener(address, 5986, child, 'the fake WinRM server');
  return JSON.parse(ready) as { fingerprint: string };
}
