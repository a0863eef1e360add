import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile as readDiskFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, test as baseTest } from 'vitest';
import { freePort } from '@drydock/core';
import { createSourceRepository, stopProcess, waitForPort } from './git-fixtures.ts';
import { fetchMirror, GitError, type MirrorOptions, readFile } from './git-repository.ts';

const exec = promisify(execFile);

interface SshHost {
  dir: string;
  port: number;
  url: string;
  privateKey: string;
  /** Base64 of the public host key the first sshd presents. */
  hostKey: string;
  /** Replaces the running sshd with one on the same port that presents a different host key. */
  replaceHostKey(): Promise<void>;
}

async function keyPair(file: string): Promise<{ privateKey: string; publicKey: string }> {
  await exec('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'drydock-test', '-f', file]);
  return { privateKey: await readDiskFile(file, 'utf8'), publicKey: await readDiskFile(`${file}.pub`, 'utf8') };
}

async function startSshd(dir: string, port: number, hostKeyFile: string): Promise<ChildProcess> {
  const sshd = spawn(
    '/usr/sbin/sshd',
    [
      '-D', '-e',
      '-f', join(dir, 'sshd_config'),
      '-p', String(port),
      '-h', hostKeyFile,
      '-o', 'ListenAddress=127.0.0.1',
      '-o', `AuthorizedKeysFile=${join(dir, 'authorized_keys')}`,
      '-o', 'StrictModes=no',
      '-o', 'PasswordAuthentication=no',
      '-o', 'KbdInteractiveAuthentication=no',
      '-o', 'UsePAM=no',
      '-o', `PidFile=${join(dir, 'sshd.pid')}`,
    ],
    { stdio: 'ignore' },
  );
  await waitForPort(port, sshd, 'sshd');
  return sshd;
}

const test = baseTest
  .extend('tmp', async ({}, { onCleanup }) => {
    const dir = await mkdtemp(join(tmpdir(), 'drydock-git-ssh-'));
    onCleanup(() => rm(dir, { recursive: true, force: true }));
    return dir;
  })
  .extend('ssh', async ({ tmp }, { onCleanup }): Promise<SshHost> => {
    const source = await createSourceRepository(join(tmp, 'remote'));
    await source.write({ 'manifests/deploy.yaml': 'id: deploy\n' });
    await source.commit('Add deploy');
    await source.push();

    const dir = join(tmp, 'sshd');
    await mkdir(dir);
    const client = await keyPair(join(dir, 'client'));
    const first = await keyPair(join(dir, 'host-first'));
    await keyPair(join(dir, 'host-second'));
    await writeFile(join(dir, 'authorized_keys'), client.publicKey);
    await writeFile(join(dir, 'sshd_config'), '');
    // sshd insists on its privilege separation directory, which a systemd unit would otherwise create.
    await mkdir('/run/sshd', { recursive: true, mode: 0o755 });

    const port = await freePort();
    let sshd = await startSshd(dir, port, join(dir, 'host-first'));
    onCleanup(() => stopProcess(sshd));
    return {
      dir,
      port,
      url: `ssh://root@127.0.0.1:${port}${source.bareDir}`,
      privateKey: client.privateKey,
      hostKey: first.publicKey.split(' ')[1] ?? '',
      async replaceHostKey() {
        await stopProcess(sshd);
        sshd = await startSshd(dir, port, join(dir, 'host-second'));
      },
    };
  });

function options(tmp: string, ssh: SshHost, extra: Partial<MirrorOptions> = {}): MirrorOptions {
  return {
    url: ssh.url,
    branch: 'main',
    mirrorDir: join(tmp, 'mirror'),
    knownHostsFile: join(tmp, 'state', 'known_hosts'),
    auth: { kind: 'ssh_key', privateKey: ssh.privateKey },
    ...extra,
  };
}

async function keyDirs(): Promise<string[]> {
  return (await readdir(tmpdir())).filter((name) => name.startsWith('drydock-git-key-'));
}

describe('a repository over ssh', () => {
  test('is mirrored with a private key, pins the host key, and removes the key file', async ({ tmp, ssh }) => {
    const before = await keyDirs();
    const { headSha } = await fetchMirror(options(tmp, ssh));
    expect(await readFile(join(tmp, 'mirror'), headSha, 'manifests/deploy.yaml')).toEqual({ content: 'id: deploy\n', type: 'file' });

    const pinned = await readDiskFile(join(tmp, 'state', 'known_hosts'), 'utf8');
    expect(pinned.trim()).toBe(`[127.0.0.1]:${ssh.port} ssh-ed25519 ${ssh.hostKey}`);
    expect(await keyDirs()).toEqual(before);

    await expect(fetchMirror(options(tmp, ssh))).resolves.toEqual({ headSha });
  });

  test('accepts a pasted key with CRLF line ends and no final newline', async ({ tmp, ssh }) => {
    const pasted = ssh.privateKey.trim().replace(/\n/g, '\r\n');
    await expect(fetchMirror(options(tmp, ssh, { auth: { kind: 'ssh_key', privateKey: pasted } }))).resolves.toHaveProperty('headSha');
  });

  test('fails with reason auth for a key the server does not know', async ({ tmp, ssh }) => {
    const stranger = await keyPair(join(tmp, 'stranger'));
    const err = await fetchMirror(options(tmp, ssh, { auth: { kind: 'ssh_key', privateKey: stranger.privateKey } })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GitError);
    expect((err as GitError).reason).toBe('auth');
    expect((err as GitError).message).toBe(`authentication failed for ${ssh.url}: check the credential`);
  });

  test('refuses a host whose key changed since it was pinned, and keeps the mirror readable', async ({ tmp, ssh }) => {
    const { headSha } = await fetchMirror(options(tmp, ssh));
    await ssh.replaceHostKey();

    const err = await fetchMirror(options(tmp, ssh)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GitError);
    expect((err as GitError).reason).toBe('auth');
    expect((err as GitError).message).toBe(
      `host key for 127.0.0.1:${ssh.port} changed since it was pinned in ${join(tmp, 'state', 'known_hosts')}: ` +
        "if the server's key was replaced on purpose, remove its line from that file and fetch again",
    );
    expect(await readFile(join(tmp, 'mirror'), headSha, 'manifests/deploy.yaml')).toEqual({ content: 'id: deploy\n', type: 'file' });
    expect(await readDiskFile(join(tmp, 'state', 'known_hosts'), 'utf8')).toContain(ssh.hostKey);
  });
});
