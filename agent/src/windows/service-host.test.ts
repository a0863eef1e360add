import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const run = promisify(execFile);
const SOURCE = fileURLToPath(new URL('./service-host.cs', import.meta.url));
const MCS = '/usr/bin/mcs';
const MONO = '/usr/bin/mono';

/**
 * The service host install-agent.ps1 compiles on Windows, compiled here by Mono's mcs at C# 5, the language
 * of Windows PowerShell 5.1's Add-Type, and run in its console mode, which drives node the way the service does.
 */
describe('service-host.cs', () => {
  let dir: string;
  let exe: string;

  beforeAll(async () => {
    if (!existsSync(MCS) || !existsSync(MONO)) {
      throw new Error('mcs and mono are needed to compile the Windows service host: apt-get install -y mono-mcs libmono-system-serviceprocess4.0-cil (.ci/run installs them)');
    }
    dir = await mkdtemp(join(tmpdir(), 'drydock-service-host-'));
    exe = join(dir, 'DrydockAgentService.exe');
    await run(MCS, ['-langversion:5', '-warnaserror', '-r:System.ServiceProcess.dll', `-out:${exe}`, SOURCE]);
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Runs the host in console mode over a stand-in agent that exits with each of `codes` in turn. */
  async function supervise(codes: number[], node = process.execPath) {
    const work = await mkdtemp(join(dir, 'run-'));
    const agent = join(work, 'agent.mjs');
    await writeFile(
      agent,
      `import { readFileSync, writeFileSync } from 'node:fs';
const codes = ${JSON.stringify(codes)};
let n = 0;
try { n = Number(readFileSync('starts', 'utf8')); } catch {}
writeFileSync('starts', String(n + 1));
console.log('start ' + (n + 1) + ': secret=' + process.env.DRYDOCK_AGENT_REGISTRATION_SECRET + ' config=' + process.env.DRYDOCK_AGENT_CONFIG);
console.error('exiting with ' + codes[n]);
process.exit(codes[n]);
`,
    );
    const envFile = join(work, 'agent.env');
    await writeFile(envFile, "# written by install-agent.ps1\r\nDRYDOCK_AGENT_CONFIG=C:\\ProgramData\\Drydock\\agent\\agent.json\r\n\r\nDRYDOCK_AGENT_REGISTRATION_SECRET=it's=$(x) `n\r\n");
    const log = join(work, 'logs', 'agent.log');
    const args = [exe, '--console', '--service-name', 'DrydockAgent', '--node', node, '--entry', agent, '--env-file', envFile, '--log', log, '--workdir', work];
    const exit = await run(MONO, args, { timeout: 30_000 }).then(
      () => 0,
      (err: { code?: number }) => err.code ?? -1,
    );
    const starts = await readFile(join(work, 'starts'), 'utf8').then(Number, () => 0);
    return { exit, starts, log: await readFile(log, 'utf8') };
  }

  test('compiles at C# 5 against System.ServiceProcess, with no warnings', () => {
    expect(existsSync(exe)).toBe(true);
  });

  test('restarts an agent that exits unexpectedly, and stops for good when it exits with 77 (token refused)', async () => {
    const { exit, starts, log } = await supervise([3, 77]);
    expect(starts).toBe(2);
    expect(exit).toBe(77);
    const lines = log.trimEnd().split('\n').map((l) => l.replace(/^\S+Z /, ''));
    expect(lines).toContain("start 1: secret=it's=$(x) `n config=C:\\ProgramData\\Drydock\\agent\\agent.json");
    expect(lines).toContain('[service] the agent exited unexpectedly with code 3; starting it again in 1 s');
    expect(lines.at(-1)).toMatch(/^\[service\] the agent exited with code 77: the Drydock API refused this agent's token or registration: .*not restarting it until then$/);
    // The agent's last words come before the line that says it exited.
    expect(lines.indexOf('exiting with 77')).toBeLessThan(lines.length - 1);
    expect(log).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[service\] started the agent: /);
  });

  test('stops for good when the agent exits with 78 (invalid settings)', async () => {
    const { exit, starts, log } = await supervise([78]);
    expect(starts).toBe(1);
    expect(exit).toBe(78);
    expect(log).toContain("the agent's settings are invalid: fix the config file");
  });

  test('says what to fix when node cannot be started', async () => {
    const { exit, starts, log } = await supervise([0], join(dir, 'no-such-node.exe'));
    expect(starts).toBe(0);
    expect(exit).toBe(1);
    expect(log).toMatch(/\[service\] cannot start the agent: .*; fix it and start the service again \(Start-Service DrydockAgent\)/);
  });

  test('refuses to start without the options the installer gives it', async () => {
    const err = (await run(MONO, [exe, '--node', 'x']).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(err.code).toBe(2);
    expect(err.stderr).toContain('--node, --entry, --env-file, --log and --workdir are all required; run install-agent.ps1 again');
  });
});
