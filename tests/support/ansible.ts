import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { SshdFleet } from './sshd-fleet.ts';

const exec = promisify(execFile);

/** Ansible's version line, or undefined when `ansible` is not on PATH. */
export async function ansibleVersion(): Promise<string | undefined> {
  try {
    const { stdout } = await exec('ansible', ['--version']);
    return stdout.split('\n')[0]?.trim();
  } catch {
    return undefined;
  }
}

/**
 * Ansible for the comparison: the one on PATH, else Debian's package installed with apt-get (as root),
 * else an error saying how to get it. CI does not run benchmarks, so CI does not install it.
 */
export async function ensureAnsible(log: (line: string) => void = console.log): Promise<string> {
  const found = await ansibleVersion();
  if (found) return found;
  if (process.getuid?.() !== 0) {
    throw new Error('the SSH comparison needs Ansible: run `sudo apt-get install -y ansible` (or put `ansible` on PATH) and run the benchmark again');
  }
  log('Ansible is not installed; installing Debian\'s package (apt-get install -y --no-install-recommends ansible), about a minute');
  const t = performance.now();
  const install = () =>
    new Promise<number | null>((resolve) => {
      const child = spawn('apt-get', ['install', '-y', '-q', '--no-install-recommends', 'ansible'], {
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      child.once('error', () => resolve(null));
      child.once('exit', resolve);
    });
  if ((await install()) !== 0) {
    // A fresh machine may have no package lists yet.
    await exec('apt-get', ['update', '-q']).catch(() => {});
    if ((await install()) !== 0) throw new Error('apt-get install ansible failed; install Ansible by hand (`apt-get install -y ansible`) and run the benchmark again');
  }
  const version = await ansibleVersion();
  if (!version) throw new Error('apt-get installed ansible but `ansible` is not on PATH');
  log(`installed ${version} in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  return version;
}

/**
 * An INI inventory of the fleet's hosts: its own port per host, the fleet's key and user. The Python
 * interpreter is named so Ansible skips discovering it, one round trip per host a tuned setup also saves.
 */
export async function writeInventory(fleet: SshdFleet, file: string): Promise<void> {
  const lines = [
    '[fleet]',
    ...fleet.hosts.map((h) => `${h.id} ansible_host=${fleet.address} ansible_port=${h.port}`),
    '',
    '[fleet:vars]',
    `ansible_user=${fleet.username}`,
    `ansible_ssh_private_key_file=${fleet.privateKeyPath}`,
    'ansible_python_interpreter=/usr/bin/python3',
    // Host key checking off, and nothing written to the user's known_hosts.
    "ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null'",
    '',
  ];
  await writeFile(file, lines.join('\n'));
}

export interface AnsibleOutcome {
  ms: number;
  ok: number;
  failed: number;
  unreachable: number;
  output: string;
}

/**
 * `ansible all -i <inventory> -m shell -a <command> -f <forks>`, timed from spawn to exit. Each call gets
 * its own SSH control directory, so no connection survives from an earlier call: every run starts cold.
 */
export async function runAnsible(
  inventory: string,
  options: { command: string; forks: number; pipelining?: boolean; /** Ansible's --limit pattern. */ limit?: string },
): Promise<AnsibleOutcome> {
  const controlDir = await mkdtemp(join(tmpdir(), 'drydock-ansible-cp-'));
  try {
    const t = performance.now();
    const output = await new Promise<string>((resolve, reject) => {
      const args = ['all', '-i', inventory, '-m', 'shell', '-a', options.command, '-f', String(options.forks), '--one-line', ...(options.limit ? ['--limit', options.limit] : [])];
      const child = spawn('ansible', args, {
        env: {
          ...process.env,
          ANSIBLE_HOST_KEY_CHECKING: 'False',
          ANSIBLE_SSH_CONTROL_PATH_DIR: controlDir,
          ANSIBLE_NOCOLOR: '1',
          ANSIBLE_PIPELINING: options.pipelining ? 'True' : 'False',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let text = '';
      child.stdout.on('data', (c: Buffer) => (text += c.toString()));
      child.stderr.on('data', (c: Buffer) => (text += c.toString()));
      child.once('error', reject);
      // Exit code 2 or 4 means some hosts failed or were unreachable; the counts say which.
      child.once('exit', () => resolve(text));
    });
    const ms = performance.now() - t;
    const count = (re: RegExp) => output.split('\n').filter((l) => re.test(l)).length;
    return { ms, ok: count(/ \| (CHANGED|SUCCESS) \|/), failed: count(/ \| FAILED[!]? \|/), unreachable: count(/ \| UNREACHABLE!/), output };
  } finally {
    // Control masters left behind idle out by themselves after ControlPersist (60 s); the next call cannot find them.
    await rm(controlDir, { recursive: true, force: true });
  }
}
