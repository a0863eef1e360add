import { describe, expect, test } from 'vitest';
import { fetchFailure, type FetchTarget } from './git-error.ts';
import { gitInvocation, redact, runGit } from './git-process.ts';
import { parseRemote, remoteAccess } from './git-remote.ts';

describe('parseRemote', () => {
  test('tells the transports apart and names ssh hosts with their port', () => {
    expect(parseRemote('https://github.com/team/catalog.git')).toMatchObject({ transport: 'http', origin: 'https://github.com/' });
    expect(parseRemote('http://127.0.0.1:8080/catalog.git')).toMatchObject({ transport: 'http', origin: 'http://127.0.0.1:8080/' });
    expect(parseRemote('ssh://git@bitbucket.org:7999/team/catalog.git')).toMatchObject({ transport: 'ssh', hostPort: 'bitbucket.org:7999' });
    expect(parseRemote('ssh://git@gitlab.com/team/catalog.git')).toMatchObject({ transport: 'ssh', hostPort: 'gitlab.com:22' });
    expect(parseRemote('git@github.com:team/catalog.git')).toMatchObject({ transport: 'ssh', hostPort: 'github.com:22' });
    expect(parseRemote('git://127.0.0.1:9418/catalog.git')).toMatchObject({ transport: 'git' });
    expect(parseRemote('file:///srv/git/catalog.git')).toMatchObject({ transport: 'file', localPath: '/srv/git/catalog.git' });
    expect(parseRemote('/srv/git/catalog.git')).toMatchObject({ transport: 'file', localPath: '/srv/git/catalog.git' });
  });

  test('refuses URLs that carry a password, look like options, or are relative', () => {
    expect(() => parseRemote('https://bot:hunter2@github.com/team/catalog.git')).toThrow(/contains a password: store it as an https_token credential/);
    expect(() => parseRemote('-uhttps://evil')).toThrow(/not a valid repository URL/);
    expect(() => parseRemote('catalogs/team')).toThrow(/is not supported/);
  });
});

describe('remoteAccess', () => {
  test('gives ssh a pinned known-hosts file, batch mode and only the given key', () => {
    const remote = parseRemote('git@github.com:team/catalog.git');
    const { env, secrets } = remoteAccess(
      remote,
      { kind: 'ssh_key', privateKey: 'unused here' },
      { knownHostsFile: '/var/lib/drydock state/known_hosts', keyFile: '/tmp/drydock-git-key-x/id' },
    );
    expect(env.GIT_SSH_COMMAND).toBe(
      'ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new -o ' +
        `'UserKnownHostsFile="/var/lib/drydock state/known_hosts"' -o HashKnownHosts=no -o ConnectTimeout=30 ` +
        '-i /tmp/drydock-git-key-x/id -o IdentitiesOnly=yes -o IdentityAgent=none',
    );
    expect(env).not.toHaveProperty('GIT_CONFIG_COUNT');
    expect(secrets).toEqual([]);
  });

  test('refuses a credential that does not fit the URL', () => {
    expect(() => remoteAccess(parseRemote('git@github.com:team/catalog.git'), { kind: 'https_token', token: 't' }, { knownHostsFile: '/k' })).toThrow(
      'an https_token credential needs an https:// URL, not git@github.com:team/catalog.git',
    );
    expect(() => remoteAccess(parseRemote('https://github.com/team/catalog.git'), { kind: 'ssh_key', privateKey: 'k' }, { knownHostsFile: '/k' })).toThrow(
      /an ssh_key credential needs an ssh URL/,
    );
  });

  test('never puts the credential on the command line git runs with', () => {
    const remote = parseRemote('https://bitbucket.org/team/catalog.git');
    const auth = { kind: 'https_token', username: 'x-token-auth', token: 'ATBB-very-secret' } as const;
    const access = remoteAccess(remote, auth, { knownHostsFile: '/k' });
    const { argv, env } = gitInvocation({ gitDir: '/m', args: ['fetch', remote.url], baseEnv: {}, extraEnv: access.env });
    expect(argv).toEqual([
      '--git-dir=/m',
      '-c', 'credential.helper=',
      '-c', 'core.askPass=',
      '-c', 'gc.autoDetach=false',
      '-c', 'maintenance.autoDetach=false',
      'fetch', 'https://bitbucket.org/team/catalog.git',
    ]);
    expect(env.GIT_CONFIG_VALUE_0).toBe(`Authorization: Basic ${Buffer.from('x-token-auth:ATBB-very-secret').toString('base64')}`);
    expect(env).toMatchObject({ GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', LC_ALL: 'C' });
  });
});

describe('redaction', () => {
  test('cuts secrets out of what git prints', async () => {
    const secret = 'tok-0123456789';
    const result = await runGit({ args: ['ls-remote', `http://127.0.0.1:1/${secret}.git`], secrets: [secret], timeoutMs: 30_000 });
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain('http://127.0.0.1:1/***.git');
    expect(result.stderr).not.toContain(secret);
    expect(redact('a tok b tok', ['tok', ''])).toBe('a *** b ***');
  });
});

describe('fetchFailure', () => {
  const https: FetchTarget = { display: 'https://host/x.git', branch: 'release', knownHostsFile: '/k' };
  const ssh: FetchTarget = { display: 'ssh://git@host:2222/x.git', branch: 'main', hostPort: 'host:2222', knownHostsFile: '/state/known_hosts' };

  test.each([
    [https, "fatal: could not read Username for 'https://host': terminal prompts disabled\n", 'auth', 'authentication failed for https://host/x.git: check the credential'],
    [https, 'remote: HTTP Basic: Access denied\nfatal: Authentication failed for \'https://host/x.git/\'\n', 'auth', 'authentication failed for https://host/x.git: check the credential'],
    [https, "fatal: unable to access 'https://host/x.git/': The requested URL returned error: 403\n", 'auth', 'authentication failed for https://host/x.git: check the credential'],
    [https, "fatal: repository 'https://host/x.git/' not found\n", 'not_a_repository', 'no git repository at https://host/x.git: check the URL (and that the credential can see the repository)'],
    [https, 'fatal: couldn\'t find remote ref refs/heads/release\n', 'branch_missing', 'branch release not found in https://host/x.git'],
    [https, "fatal: unable to access 'https://host/x.git/': Could not resolve host: host\n", 'unreachable', 'repository https://host/x.git is unreachable: Could not resolve host: host'],
    [
      { display: '/srv/git/catalog.git', branch: 'main', knownHostsFile: '/k' },
      "fatal: detected dubious ownership in repository at '/srv/git/catalog.git'\nTo add an exception for this directory, call:\n\n\tgit config --global --add safe.directory /srv/git/catalog.git\nfatal: Could not read from remote repository.\n",
      'other',
      'git will not read /srv/git/catalog.git: it is owned by another user; make it owned by the user Drydock runs as, or serve it over ssh',
    ],
    [https, 'fatal: the remote end hung up unexpectedly\n', 'other', 'fetching https://host/x.git failed: the remote end hung up unexpectedly'],
    [ssh, 'git@host: Permission denied (publickey).\r\nfatal: Could not read from remote repository.\n\nPlease make sure you have the correct access rights\nand the repository exists.\n', 'auth', 'authentication failed for ssh://git@host:2222/x.git: check the credential'],
    [ssh, '@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\r\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\r\nHost key verification failed.\r\n', 'auth', "host key for host:2222 changed since it was pinned in /state/known_hosts: if the server's key was replaced on purpose, remove its line from that file and fetch again"],
    [ssh, 'Load key "/tmp/drydock-git-key-1/id": invalid format\r\ngit@host: Permission denied (publickey).\r\n', 'auth', 'the SSH private key for ssh://git@host:2222/x.git could not be loaded: use an unencrypted OpenSSH private key'],
    [ssh, 'ssh: connect to host host port 2222: Connection timed out\r\nfatal: Could not read from remote repository.\n', 'unreachable', 'repository ssh://git@host:2222/x.git is unreachable: ssh: connect to host host port 2222: Connection timed out'],
  ] as const)('maps %#', (target, stderr, reason, message) => {
    const err = fetchFailure(stderr, target);
    expect(err.reason).toBe(reason);
    expect(err.message).toBe(message);
  });
});
