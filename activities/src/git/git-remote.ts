import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GitError } from './git-error.ts';

export type GitAuth =
  | { kind: 'https_token'; username?: string; token: string }
  | { kind: 'ssh_key'; privateKey: string; passphrase?: never };

/** A repository URL as Drydock reaches it. `display` is safe to show; `hostPort` names an ssh host as users write it. */
export interface Remote {
  url: string;
  display: string;
  transport: 'http' | 'ssh' | 'git' | 'file';
  /** For http: the scheme, host and port the credential is scoped to, e.g. `https://host:8443/`. */
  origin?: string;
  hostPort?: string;
  localPath?: string;
}

const SCP_LIKE = /^(?:[^@/:]+@)?(\[[^\]]+\]|[^:/]+):(.*)$/;

export function parseRemote(url: string): Remote {
  const invalid = (why: string) => new GitError('other', `repository URL ${JSON.stringify(url)} ${why}`);
  if (url.startsWith('-') || /[\s\0]/.test(url.trim()) || url.trim() === '') throw invalid('is not a valid repository URL');
  if (/^https?:\/\//i.test(url)) {
    const parsed = parseUrl(url, invalid);
    if (parsed.password) throw invalid('contains a password: store it as an https_token credential instead');
    return { url, display: url, transport: 'http', origin: `${parsed.protocol}//${parsed.host}/` };
  }
  if (/^(ssh|git\+ssh|ssh\+git):\/\//i.test(url)) {
    const parsed = parseUrl(url, invalid);
    if (parsed.password) throw invalid('contains a password: use an ssh_key credential instead');
    return { url, display: url, transport: 'ssh', hostPort: `${parsed.hostname}:${parsed.port || '22'}` };
  }
  if (/^git:\/\//i.test(url)) return { url, display: url, transport: 'git' };
  if (/^file:\/\//i.test(url)) return { url, display: url, transport: 'file', localPath: fileURLToPath(parseUrl(url, invalid)) };
  if (isAbsolute(url)) return { url, display: url, transport: 'file', localPath: url };
  const scp = SCP_LIKE.exec(url);
  if (scp?.[1] && scp[2] !== undefined) return { url, display: url, transport: 'ssh', hostPort: `${scp[1]}:22` };
  throw invalid('is not supported: use https://, ssh://, user@host:path, git://, file:// or an absolute path');
}

function parseUrl(url: string, invalid: (why: string) => GitError): URL {
  try {
    return new URL(url);
  } catch {
    throw invalid('is not a valid URL');
  }
}

/** Environment and secrets for one git process that talks to `remote`. */
export interface RemoteAccess {
  env: Record<string, string>;
  /** Strings to cut from anything git prints before it reaches a message or a log. */
  secrets: string[];
}

/**
 * Pure: how a credential reaches git. Secrets go only into the environment (never argv, where `ps` shows
 * them); the key itself is a file whose path is `keyFile`.
 */
export function remoteAccess(remote: Remote, auth: GitAuth | undefined, files: { knownHostsFile: string; keyFile?: string }): RemoteAccess {
  const env: Record<string, string> = {};
  const secrets: string[] = [];
  if (auth?.kind === 'https_token') {
    if (remote.transport !== 'http' || !remote.origin) {
      throw new GitError('auth', `an https_token credential needs an https:// URL, not ${remote.display}`);
    }
    const basic = Buffer.from(`${auth.username ?? 'x-access-token'}:${auth.token}`, 'utf8').toString('base64');
    // Scoped to the repository's origin so a redirect to another host does not receive it.
    env.GIT_CONFIG_COUNT = '1';
    env.GIT_CONFIG_KEY_0 = `http.${remote.origin}.extraHeader`;
    env.GIT_CONFIG_VALUE_0 = `Authorization: Basic ${basic}`;
    secrets.push(auth.token, basic);
  }
  if (auth?.kind === 'ssh_key' && remote.transport !== 'ssh') {
    throw new GitError('auth', `an ssh_key credential needs an ssh URL (ssh://… or user@host:path), not ${remote.display}`);
  }
  if (remote.transport === 'ssh') {
    const ssh = [
      'ssh',
      '-o', 'BatchMode=yes',
      '-o', 'StrictHostKeyChecking=accept-new',
      '-o', `UserKnownHostsFile=${sshPath(files.knownHostsFile)}`,
      '-o', 'HashKnownHosts=no',
      '-o', 'ConnectTimeout=30',
    ];
    if (auth?.kind === 'ssh_key') {
      if (!files.keyFile) throw new Error('an ssh_key credential needs its key file');
      ssh.push('-i', files.keyFile.replace(/%/g, '%%'), '-o', 'IdentitiesOnly=yes', '-o', 'IdentityAgent=none');
    }
    env.GIT_SSH_COMMAND = ssh.map(shellQuote).join(' ');
    env.GIT_SSH_VARIANT = 'ssh';
  }
  return { env, secrets };
}

/** Writes what `remoteAccess` needs to disk (a private key file, the known-hosts directory); `dispose` removes the key. */
export async function openRemoteAccess(
  remote: Remote,
  auth: GitAuth | undefined,
  knownHostsFile: string,
): Promise<RemoteAccess & { dispose: () => Promise<void> }> {
  let keyDir: string | undefined;
  const dispose = async () => {
    if (keyDir) await rm(keyDir, { recursive: true, force: true });
  };
  try {
    let keyFile: string | undefined;
    if (remote.transport === 'ssh') await mkdir(dirname(knownHostsFile), { recursive: true });
    if (auth?.kind === 'ssh_key' && remote.transport === 'ssh') {
      keyDir = await mkdtemp(join(tmpdir(), 'drydock-git-key-'));
      keyFile = join(keyDir, 'id');
      // OpenSSH refuses keys without a final newline or with CRLF line ends, both common after a paste.
      await writeFile(keyFile, `${auth.privateKey.replace(/\r\n?/g, '\n').trim()}\n`, { mode: 0o600 });
      await chmod(keyFile, 0o600);
    }
    return { ...remoteAccess(remote, auth, { knownHostsFile, keyFile }), dispose };
  } catch (err) {
    await dispose();
    throw err;
  }
}

/** ssh expands `%` tokens in file options and splits UserKnownHostsFile on spaces unless quoted. */
function sshPath(path: string): string {
  const escaped = path.replace(/%/g, '%%');
  return /\s/.test(escaped) ? `"${escaped}"` : escaped;
}

function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
