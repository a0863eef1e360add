import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stopProcess, waitForPort } from '../git/git-fixtures.ts';

const exec = promisify(execFile);

/** Test support: throwaway OpenSSH servers on loopback ports, with keys made for the test. */

export interface KeyPair {
  privateKey: string;
  /** "type base64", without the comment: the form a pinned host key takes. */
  publicKey: string;
}

export async function keyPair(file: string): Promise<KeyPair> {
  await exec('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'drydock-test', '-f', file]);
  const [type, base64] = (await readFile(`${file}.pub`, 'utf8')).trim().split(/\s+/);
  return { privateKey: await readFile(file, 'utf8'), publicKey: `${type} ${base64}` };
}

export interface SshdOptions {
  /** Holds authorized_keys and the log; sshd writes nothing else there. */
  dir: string;
  port: number;
  hostKeyFile: string;
  /** Names the log and pid files, `<dir>/<name>.log`; default `sshd-<port>`. */
  name?: string;
  /** More `-o` settings, such as AllowTcpForwarding=no. */
  settings?: string[];
}

export interface Sshd {
  port: number;
  logFile: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export async function startSshd(options: SshdOptions): Promise<Sshd> {
  // sshd insists on its privilege separation directory, which a systemd unit would otherwise create.
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const name = options.name ?? `sshd-${options.port}`;
  const logFile = join(options.dir, `${name}.log`);
  const settings = [
    'ListenAddress=127.0.0.1',
    `AuthorizedKeysFile=${join(options.dir, 'authorized_keys')}`,
    'StrictModes=no',
    'PasswordAuthentication=yes',
    'KbdInteractiveAuthentication=no',
    'UsePAM=no',
    `PidFile=${join(options.dir, `${name}.pid`)}`,
    'LogLevel=VERBOSE',
    // Capture fetches artifacts over SFTP, as from any stock sshd.
    'Subsystem=sftp internal-sftp',
    ...(options.settings ?? []),
  ];
  const child = spawn(
    '/usr/sbin/sshd',
    ['-D', '-f', '/dev/null', '-E', logFile, '-p', String(options.port), '-h', options.hostKeyFile, ...settings.flatMap((s) => ['-o', s])],
    { stdio: 'ignore' },
  );
  await waitForPort(options.port, child, 'sshd');
  return { port: options.port, logFile, process: child, stop: () => stopProcess(child) };
}

/** Whether a process is still running (a zombie awaiting its reaper is not). */
export async function processRunning(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** After a failed test: kills the background `sleep` whose pid a script wrote to `pidFile`, if it outlived the run. */
export async function killLeftover(pidFile: string): Promise<void> {
  const pid = Number(await readFile(pidFile, 'utf8').catch(() => ''));
  if (!Number.isInteger(pid) || pid <= 0 || !(await processRunning(pid))) return;
  const command = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (command.startsWith('sleep\0')) process.kill(pid, 'SIGKILL');
}

/** Kills the sshd processes serving `sshd`'s open sessions, as if the host dropped the connections. */
export async function dropSessions(sshd: Sshd): Promise<void> {
  const parents = new Map<number, { ppid: number; comm: string }>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => null);
    if (stat === null) continue;
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    parents.set(Number(entry), { ppid, comm });
  }
  const servesSession = (pid: number): boolean => {
    for (let p = parents.get(pid)?.ppid; p !== undefined && p > 1; p = parents.get(p)?.ppid) if (p === sshd.process.pid) return true;
    return false;
  };
  for (const [pid, { comm }] of parents) if (comm === 'sshd' && servesSession(pid)) process.kill(pid, 'SIGKILL');
}
