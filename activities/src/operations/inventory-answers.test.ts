import { describe, expect, test } from 'vitest';
import {
  apkVersion,
  NO_PACKAGE_MANAGER,
  packageArgv,
  packageFact,
  readApkLookup,
  readDpkg,
  readRcStatus,
  readRpm,
  readSystemctlShow,
  REFUSED_NAME,
  serviceArgv,
  type ToolAnswer,
  windowsInventory,
  windowsInventoryEnv,
} from './inventory-answers.ts';

// How each tool's documented answer reads; the agent and the SSH snapshot judge their answers with these.

function answer(code: number | null, stdout: string[] = [], stderr: string[] = [], timedOut = false): ToolAnswer {
  return { code, stdout, stderr, timedOut };
}

describe('package answers', () => {
  test('each name is one argv element, after -- where the tool takes it', () => {
    expect(packageArgv('dpkg', 'libc6:amd64')).toEqual(['dpkg-query', '-W', '-f=${db:Status-Status}\\t${Version}\\n', '--', 'libc6:amd64']);
    expect(packageArgv('rpm', 'openssl')).toEqual(['rpm', '-q', '--qf', '%{VERSION}-%{RELEASE}\\n', 'openssl']);
    expect(serviceArgv('systemd', 'getty@tty1')).toEqual(['systemctl', 'show', '--no-pager', '-p', 'LoadState', '-p', 'ActiveState', '--', 'getty@tty1']);
    expect(serviceArgv('openrc', 'sshd')).toEqual(['rc-service', 'sshd', 'status']);
  });

  test('dpkg-query: the installed version; a removed package that kept its configuration is not installed', () => {
    expect(readDpkg('openssl', answer(0, ['installed\t3.0.15-1~deb12u1']))).toEqual({ version: '3.0.15-1~deb12u1' });
    expect(readDpkg('libc6', answer(0, ['not-installed\t', 'installed\t2.36-9+deb12u9']))).toEqual({ version: '2.36-9+deb12u9' });
    expect(readDpkg('nginx', answer(0, ['config-files\t1.22.1-9']))).toEqual({ missing: 'dpkg-query: nginx is not installed (its status is config-files)' });
    expect(readDpkg('nope', answer(1, [], ['dpkg-query: no packages found matching nope']))).toEqual({ missing: 'dpkg-query: no packages found matching nope' });
    expect(readDpkg('slow', answer(null, [], [], true))).toEqual({ missing: 'dpkg-query gave no answer within 5 s' });
  });

  test('rpm: the version-release line; "package … is not installed" otherwise', () => {
    expect(readRpm(answer(0, ['3.0.7-27.el9']))).toEqual({ version: '3.0.7-27.el9' });
    expect(readRpm(answer(1, ['package postgresql-15 is not installed']))).toEqual({ missing: 'rpm: package postgresql-15 is not installed' });
  });

  test('apk: the V: of the stanza whose P: is the name', () => {
    const db = 'C:Q1abc=\nP:musl\nV:1.2.4-r2\nA:x86_64\n\nC:Q1def=\nP:busybox\nV:1.36.1-r5\nA:x86_64\n';
    expect(apkVersion(db, 'busybox')).toEqual({ version: '1.36.1-r5' });
    expect(apkVersion(db, 'bash')).toEqual({ missing: 'apk: bash is not installed' });
    expect(readApkLookup('musl', answer(0, ['1.2.4-r2']))).toEqual({ version: '1.2.4-r2' });
    expect(readApkLookup('bash', answer(0))).toEqual({ missing: 'apk: bash is not installed' });
  });

  test('the first tool that has it wins; otherwise every reason, and none without a package manager', () => {
    expect(packageFact('openssl', [{ tool: 'dpkg', answer: { missing: 'dpkg-query: no packages found matching openssl' } }, { tool: 'rpm', answer: { version: '3.0.7-27.el9' } }])).toEqual({
      name: 'openssl',
      version: '3.0.7-27.el9',
      source: 'rpm',
    });
    expect(packageFact('x', [{ tool: 'dpkg', answer: { missing: 'dpkg-query: no packages found matching x' } }, { tool: 'rpm', answer: { missing: 'rpm: package x is not installed' } }])).toEqual({
      name: 'x',
      version: null,
      source: 'dpkg',
      error: 'dpkg-query: no packages found matching x; rpm: package x is not installed',
    });
    expect(packageFact('x', [])).toEqual({ name: 'x', version: null, source: null, error: NO_PACKAGE_MANAGER });
  });
});

describe('service answers', () => {
  test('systemctl show: the ActiveState of a loaded unit; a unit systemd does not know has none', () => {
    expect(readSystemctlShow('nginx', answer(0, ['LoadState=loaded', 'ActiveState=active']))).toEqual({ name: 'nginx', state: 'active', manager: 'systemd' });
    expect(readSystemctlShow('pg', answer(0, ['LoadState=loaded', 'ActiveState=failed']))).toEqual({ name: 'pg', state: 'failed', manager: 'systemd' });
    expect(readSystemctlShow('nope', answer(0, ['LoadState=not-found', 'ActiveState=inactive']))).toEqual({ name: 'nope', state: null, manager: 'systemd', error: 'systemd has no unit nope' });
    expect(readSystemctlShow('x', answer(1, [], ['Failed to connect to bus: No such file or directory']))).toEqual({
      name: 'x',
      state: null,
      manager: 'systemd',
      error: 'systemctl: Failed to connect to bus: No such file or directory',
    });
  });

  test('rc-service status: the word after "status:"; a missing service is its complaint', () => {
    expect(readRcStatus('sshd', answer(0, [' * status: started']))).toEqual({ name: 'sshd', state: 'started', manager: 'openrc' });
    expect(readRcStatus('crond', answer(3, [' * status: stopped']))).toEqual({ name: 'crond', state: 'stopped', manager: 'openrc' });
    expect(readRcStatus('nope', answer(1, [], [" * rc-service: service `nope' does not exist"]))).toEqual({
      name: 'nope',
      state: null,
      manager: 'openrc',
      error: "rc-service: service `nope' does not exist",
    });
  });
});

describe('Windows answers (as ConvertTo-Json writes $drydockInventory; not run on Windows here)', () => {
  test('the names travel as variables, one a line; a name the schema refuses is not sent', () => {
    expect(windowsInventoryEnv({ packages: ['Git', '7-Zip', 'a b'], services: ['W32Time'] })).toEqual({ DRYDOCK_OP_PACKAGES: 'Git\n7-Zip', DRYDOCK_OP_SERVICES: 'W32Time' });
  });

  test('every name asked, in order: a version, an entry without one, none; a state, Get-Service’s message', () => {
    const doc = {
      packages: [
        { name: 'Git', found: true, version: '2.47.1' },
        { name: '7-Zip', found: true, version: '' },
        { name: 'PostgreSQL', found: false },
      ],
      services: [
        { name: 'W32Time', state: 'Running' },
        { name: 'nosuch', error: "Cannot find any service with service name 'nosuch'." },
      ],
    };
    expect(windowsInventory(doc, { packages: ['Git', '7-Zip', 'PostgreSQL', 'a b', 'Missing'], services: ['W32Time', 'nosuch'] })).toEqual({
      packages: [
        { name: 'Git', version: '2.47.1', source: 'windows' },
        { name: '7-Zip', version: null, source: 'windows', error: 'its uninstall entry gives no DisplayVersion' },
        { name: 'PostgreSQL', version: null, source: 'windows', error: 'no uninstall entry has the DisplayName or key name PostgreSQL' },
        { name: 'a b', version: null, source: null, error: REFUSED_NAME },
        { name: 'Missing', version: null, source: 'windows', error: 'the host did not report it' },
      ],
      services: [
        { name: 'W32Time', state: 'Running', manager: 'windows' },
        { name: 'nosuch', state: null, manager: 'windows', error: "Cannot find any service with service name 'nosuch'." },
      ],
    });
  });

  test('a lone entry written as an object, not an array, still reads', () => {
    expect(windowsInventory({ packages: { name: 'Git', found: true, version: '2.47.1' }, services: [] }, { packages: ['Git'] }).packages).toEqual([{ name: 'Git', version: '2.47.1', source: 'windows' }]);
  });
});
