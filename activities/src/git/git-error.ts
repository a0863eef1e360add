import { ReasonError } from '@drydock/core/errors';

export type GitErrorReason = 'unreachable' | 'auth' | 'branch_missing' | 'not_a_repository' | 'timeout' | 'other';

/** A git operation failed; `message` says what to do about it and never carries a credential. */
export class GitError extends ReasonError<GitErrorReason> {}

/** What a fetch failure message needs to name the remote; `hostPort` only for ssh remotes. */
export interface FetchTarget {
  display: string;
  branch: string;
  hostPort?: string;
  knownHostsFile: string;
}

const HOST_KEY_CHANGED = /REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for .* has changed/;
const HOST_KEY_FAILED = /Host key verification failed/;
const KEY_UNUSABLE = /Load key .*: (invalid format|incorrect passphrase|error in libcrypto)|bad permissions/;
const AUTH_FAILED =
  /Permission denied \(|Authentication failed|could not read (Username|Password)|terminal prompts disabled|returned error: 40[13]|HTTP Basic: Access denied|Invalid username or password/i;
const BRANCH_MISSING = /couldn't find remote ref/;
const NOT_A_REPOSITORY =
  /does not appear to be a git repository|repository '.*' not found|not found: did you run git update-server-info|access denied or repository not exported|Repository not found|returned error: 404|not a git repository/i;
const UNREACHABLE =
  /Could not resolve host|Could not resolve hostname|Failed to connect|Connection refused|Connection timed out|timed out|Network is unreachable|No route to host|unable to connect to|Connection reset|Connection closed by|kex_exchange_identification|SSL certificate problem|unable to access|errno=/i;
const NOISE = /^(Warning: Permanently added|Please make sure you have the correct access rights|and the repository exists\.|Could not read from remote repository\.)/;

/** Maps the (already redacted) stderr of a failed `git fetch` to an error a user can act on. */
export function fetchFailure(stderr: string, target: FetchTarget): GitError {
  const { display, branch, hostPort, knownHostsFile } = target;
  const host = hostPort ?? display;
  if (HOST_KEY_CHANGED.test(stderr)) {
    return new GitError(
      'auth',
      `host key for ${host} changed since it was pinned in ${knownHostsFile}: if the server's key was replaced on purpose, remove its line from that file and fetch again`,
    );
  }
  if (HOST_KEY_FAILED.test(stderr)) return new GitError('auth', `host key verification failed for ${host}: check ${knownHostsFile}`);
  if (KEY_UNUSABLE.test(stderr)) {
    return new GitError('auth', `the SSH private key for ${display} could not be loaded: use an unencrypted OpenSSH private key`);
  }
  if (AUTH_FAILED.test(stderr)) return new GitError('auth', `authentication failed for ${display}: check the credential`);
  if (/detected dubious ownership/.test(stderr)) {
    return new GitError('other', `git will not read ${display}: it is owned by another user; make it owned by the user Drydock runs as, or serve it over ssh`);
  }
  if (BRANCH_MISSING.test(stderr)) return new GitError('branch_missing', `branch ${branch} not found in ${display}`);
  if (NOT_A_REPOSITORY.test(stderr)) {
    return new GitError('not_a_repository', `no git repository at ${display}: check the URL (and that the credential can see the repository)`);
  }
  if (UNREACHABLE.test(stderr)) return new GitError('unreachable', `repository ${display} is unreachable: ${unreachableReason(stderr)}`);
  return new GitError('other', `fetching ${display} failed: ${lastLine(stderr)}`);
}

/** Maps the stderr of a failed read in a mirror; `sha` is the revision the read asked for. */
export function readFailure(stderr: string, mirrorDir: string, sha: string): GitError {
  if (/not a git repository/i.test(stderr)) {
    return new GitError('not_a_repository', `${mirrorDir} is not a git mirror: fetch the repository first`);
  }
  if (/bad object|bad revision|unknown revision|Not a valid object name|not a tree object|ambiguous argument|invalid object name/i.test(stderr)) {
    return new GitError('other', `commit ${sha} is not in the mirror ${mirrorDir}: fetch the repository again`);
  }
  return new GitError('other', `reading ${sha} from the mirror ${mirrorDir} failed: ${lastLine(stderr)}`);
}

function lines(stderr: string): string[] {
  return stderr
    .split(/\r?\n|\r/)
    .map((line) => line.trim().replace(/^(fatal|error|remote): /, ''))
    .filter((line) => line !== '' && !NOISE.test(line) && !/^@+$/.test(line));
}

function lastLine(stderr: string): string {
  return lines(stderr).at(-1) ?? 'git gave no reason';
}

function unreachableReason(stderr: string): string {
  const all = lines(stderr);
  const index = all.findIndex((line) => UNREACHABLE.test(line));
  const line = all[index];
  if (line === undefined) return lastLine(stderr);
  const accessed = /^unable to access '[^']*': (.*)$/.exec(line);
  if (accessed?.[1]) return accessed[1];
  const errno = /errno=(.*)$/.exec(all.slice(index).join(' '));
  if (/^unable to connect to/.test(line) && errno?.[1]) return `${line.replace(/:$/, '')}: ${errno[1]}`;
  return line;
}
