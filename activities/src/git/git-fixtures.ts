import { type ChildProcess, execFile } from 'node:child_process';
import { chmod, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** Test support: a real bare repository (`bareDir`) and a working clone that commits and pushes to it. */
export interface SourceRepository {
  bareDir: string;
  workDir: string;
  write(files: Record<string, string | { content: string; executable?: boolean; symlinkTo?: string }>): Promise<void>;
  commit(message: string, author?: { name: string; email: string }): Promise<string>;
  push(options?: { force?: boolean }): Promise<void>;
  git(...args: string[]): Promise<string>;
}

const QUIET = ['-c', 'commit.gpgsign=false', '-c', 'core.hooksPath=/dev/null', '-c', 'init.defaultBranch=main', '-c', 'protocol.file.allow=always'];

export async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await exec('git', [...QUIET, ...args], { cwd, maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

export async function createSourceRepository(root: string, name = 'catalog.git'): Promise<SourceRepository> {
  const bareDir = join(root, name);
  const workDir = join(root, `${name}-work`);
  await mkdir(root, { recursive: true });
  await git(root, 'init', '--quiet', '--bare', '--initial-branch=main', bareDir);
  await git(root, 'init', '--quiet', '--initial-branch=main', workDir);
  await git(workDir, 'remote', 'add', 'origin', bareDir);
  return {
    bareDir,
    workDir,
    async write(files) {
      for (const [path, spec] of Object.entries(files)) {
        const file = join(workDir, path);
        await mkdir(dirname(file), { recursive: true });
        await rm(file, { force: true });
        if (typeof spec === 'string') {
          await writeFile(file, spec);
        } else if (spec.symlinkTo !== undefined) {
          await symlink(spec.symlinkTo, file);
        } else {
          await writeFile(file, spec.content);
          await chmod(file, spec.executable ? 0o755 : 0o644);
        }
      }
    },
    async commit(message, author = { name: 'Ada Lovelace', email: 'ada@example.com' }) {
      await git(workDir, 'add', '--all');
      await git(workDir, '-c', `user.name=${author.name}`, '-c', `user.email=${author.email}`, 'commit', '--quiet', '--allow-empty', '-m', message);
      return (await git(workDir, 'rev-parse', 'HEAD')).trim();
    },
    async push(options = {}) {
      await git(workDir, 'push', '--quiet', ...(options.force ? ['--force'] : []), 'origin', 'HEAD:refs/heads/main');
    },
    git: (...args) => git(workDir, ...args),
  };
}

/** Resolves once something accepts TCP connections on 127.0.0.1:`port`; fails if `child` exits first. */
export async function waitForPort(port: number, child: ChildProcess, what: string): Promise<void> {
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${what} exited before it listened on port ${port}`);
    const accepted = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (accepted) return;
    await delay(50);
  }
}

export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  await exited;
}
