import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { NO_PACKAGE_MANAGER, REFUSED_NAME, type ToolAnswer } from '@drydock/activities/operations';
import { describe, expect, test } from 'vitest';
import { hostInventory, type InventoryHost, localInventoryHost, WINDOWS_INVENTORY_PROGRAM } from './host-inventory.ts';

const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', DRYDOCK_PARAM_TOKEN: 'x' };
const signal = () => new AbortController().signal;

interface Started {
  argv: string[];
  env: Record<string, string>;
}

/** A host that records what would be started and answers as the test says; nothing runs. */
function fakeHost(platform: NodeJS.Platform, answer: (argv: string[]) => ToolAnswer | null, files: { exists?: string[]; text?: Record<string, string> } = {}) {
  const started: Started[] = [];
  const host: InventoryHost = {
    platform,
    run: async (argv, options) => {
      started.push({ argv, env: options.env });
      return answer(argv);
    },
    exists: async (path) => (files.exists ?? []).includes(path),
    readText: async (path) => files.text?.[path] ?? null,
  };
  return { host, started };
}

describe('packages and services on this Linux host (Debian, no systemd)', () => {
  test('an installed package has its dpkg version; a missing one is null with dpkg-query’s reason', async () => {
    const bash = execFileSync('dpkg-query', ['-W', '-f=${Version}', 'bash'], { encoding: 'utf8' });
    const inventory = await hostInventory({ packages: ['bash', 'coreutils', 'no-such-package-xyz'] }, env, signal());
    expect(inventory.packages).toEqual([
      { name: 'bash', version: bash, source: 'dpkg' },
      { name: 'coreutils', version: expect.stringMatching(/^\d/), source: 'dpkg' },
      { name: 'no-such-package-xyz', version: null, source: 'dpkg', error: 'dpkg-query: no packages found matching no-such-package-xyz' },
    ]);
  });

  test('a service has no state, and the reason says there is no systemd', async () => {
    const inventory = await hostInventory({ services: ['ssh'] }, env, signal());
    if (existsSync('/run/systemd/system')) expect(inventory.services[0]).toMatchObject({ name: 'ssh', manager: 'systemd' });
    else expect(inventory.services).toEqual([{ name: 'ssh', state: null, manager: null, error: 'no systemd on this host (it was not booted with systemd as init), nor OpenRC' }]);
  });

  test('a name that could be an option or a pattern never reaches a tool', async () => {
    const { host, started } = fakeHost('linux', () => ({ code: 0, stdout: ['installed\t1'], stderr: [], timedOut: false }));
    const inventory = await hostInventory({ packages: ['-a', 'bash*'], services: ['--all'] }, env, signal(), host);
    expect(started).toEqual([]);
    expect(inventory.packages.map((p) => p.error)).toEqual([REFUSED_NAME, REFUSED_NAME]);
    expect(inventory.services[0]!.error).toBe(REFUSED_NAME);
    expect(localInventoryHost.platform).toBe(process.platform);
  });
});

describe('on other Linux hosts (tools answering as documented)', () => {
  test('without dpkg-query, rpm answers; the apk database is read when there is one; tools get C locale and the script’s PATH only', async () => {
    const { host, started } = fakeHost(
      'linux',
      (argv) => (argv[0] === 'rpm' ? (argv.at(-1) === 'openssl' ? { code: 0, stdout: ['3.0.7-27.el9'], stderr: [], timedOut: false } : { code: 1, stdout: [`package ${argv.at(-1)} is not installed`], stderr: [], timedOut: false }) : null),
      { text: { '/lib/apk/db/installed': 'P:musl\nV:1.2.4-r2\n' } },
    );
    const inventory = await hostInventory({ packages: ['openssl', 'musl', 'nginx'] }, env, signal(), host);
    expect(inventory.packages).toEqual([
      { name: 'openssl', version: '3.0.7-27.el9', source: 'rpm' },
      { name: 'musl', version: '1.2.4-r2', source: 'apk' },
      { name: 'nginx', version: null, source: 'rpm', error: 'rpm: package nginx is not installed; apk: nginx is not installed' },
    ]);
    // dpkg-query was not found at the first name, so it is not tried again.
    expect(started.map((s) => s.argv[0])).toEqual(['dpkg-query', 'rpm', 'rpm', 'rpm']);
    expect(started[1]).toEqual({ argv: ['rpm', '-q', '--qf', '%{VERSION}-%{RELEASE}\\n', 'openssl'], env: { PATH: env.PATH, LC_ALL: 'C', SYSTEMD_PAGER: '' } });
  });

  test('no package manager at all says so', async () => {
    const { host } = fakeHost('linux', () => null);
    expect((await hostInventory({ packages: ['bash'] }, env, signal(), host)).packages).toEqual([{ name: 'bash', version: null, source: null, error: NO_PACKAGE_MANAGER }]);
  });

  test('with systemd booted, systemctl show of each unit; OpenRC where it booted instead', async () => {
    const systemd = fakeHost('linux', (argv) => ({ code: 0, stdout: argv.at(-1) === 'nginx' ? ['LoadState=loaded', 'ActiveState=active'] : ['LoadState=not-found', 'ActiveState=inactive'], stderr: [], timedOut: false }), {
      exists: ['/run/systemd/system'],
    });
    expect((await hostInventory({ services: ['nginx', 'postgresql'] }, env, signal(), systemd.host)).services).toEqual([
      { name: 'nginx', state: 'active', manager: 'systemd' },
      { name: 'postgresql', state: null, manager: 'systemd', error: 'systemd has no unit postgresql' },
    ]);
    expect(systemd.started[0]!.argv).toEqual(['systemctl', 'show', '--no-pager', '-p', 'LoadState', '-p', 'ActiveState', '--', 'nginx']);

    const openrc = fakeHost('linux', () => ({ code: 0, stdout: [' * status: started'], stderr: [], timedOut: false }), { exists: ['/run/openrc'] });
    expect((await hostInventory({ services: ['sshd'] }, env, signal(), openrc.host)).services).toEqual([{ name: 'sshd', state: 'started', manager: 'openrc' }]);
    expect(openrc.started[0]!.argv).toEqual(['rc-service', 'sshd', 'status']);
  });
});

describe('on a Windows agent (injected platform; not run on Windows here)', () => {
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64');

  test('one powershell.exe with a fixed encoded program; the names travel only in its environment', async () => {
    const { host, started } = fakeHost('win32', () => ({
      code: 0,
      stdout: [b64({ packages: [{ name: 'Git', found: true, version: '2.47.1' }, { name: 'PostgreSQL 16', found: false }], services: { name: 'W32Time', state: 'Running' } })],
      stderr: [],
      timedOut: false,
    }));
    const inventory = await hostInventory({ packages: ['Git', 'no;such&name'], services: ['W32Time'] }, { Path: 'C:\\Windows\\system32', SystemRoot: 'C:\\Windows' }, signal(), host);
    expect(started).toHaveLength(1);
    const [{ argv, env: given }] = started as [Started];
    expect(argv.slice(0, 5)).toEqual(['powershell.exe', '-NoLogo', '-NoProfile', '-NonInteractive', '-EncodedCommand']);
    expect(argv).toHaveLength(6);
    expect(Buffer.from(argv[5]!, 'base64').toString('utf16le')).toBe(WINDOWS_INVENTORY_PROGRAM);
    expect(WINDOWS_INVENTORY_PROGRAM).not.toContain('Git');
    expect(given).toEqual({ Path: 'C:\\Windows\\system32', SystemRoot: 'C:\\Windows', DRYDOCK_OP_PACKAGES: 'Git', DRYDOCK_OP_SERVICES: 'W32Time' });
    expect(inventory).toEqual({
      packages: [
        { name: 'Git', version: '2.47.1', source: 'windows' },
        { name: 'no;such&name', version: null, source: null, error: REFUSED_NAME },
      ],
      services: [{ name: 'W32Time', state: 'Running', manager: 'windows' }],
    });
  });

  test('powershell.exe missing, slow or failing: every name null with the reason', async () => {
    const missing = fakeHost('win32', () => null);
    expect((await hostInventory({ packages: ['Git'], services: ['W32Time'] }, {}, signal(), missing.host)).services).toEqual([
      { name: 'W32Time', state: null, manager: null, error: "not looked up: powershell.exe is not on the agent's PATH" },
    ]);
    const failing = fakeHost('win32', () => ({ code: 1, stdout: [], stderr: ['#< CLIXML', 'Get-ChildItem : Access is denied'], timedOut: false }));
    expect((await hostInventory({ packages: ['Git'] }, {}, signal(), failing.host)).packages).toEqual([
      { name: 'Git', version: null, source: null, error: 'not looked up: powershell.exe ended with exit code 1: Get-ChildItem : Access is denied' },
    ]);
  });
});
