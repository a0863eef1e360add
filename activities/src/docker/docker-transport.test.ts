import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test as baseTest } from 'vitest';
import type { ParamValues } from '@drydock/core/manifest';
import type { AgentScriptJob } from '@drydock/core/run-contract';
import { DockerEngine } from './docker-engine.ts';
import { BUSYBOX_IMAGE, BUSYBOX_UID_IMAGE, BUSYBOX_USER_IMAGE, buildTestImages, dockerUp, ENTRYPOINT_MARKER, imageExists, leftovers, removeLeftovers } from './docker-fixtures.ts';
import { DockerError, type DockerRunOptions, runInDocker } from './docker-transport.ts';
import { type Collecting, collectLines, decode, failure as transportFailure, hostile, transportJob } from '../transport/transport-fixtures.ts';

const engine = new DockerEngine();

// A fresh machine has no engine: install and start one, then build the test images offline (both kept for reruns).
beforeAll(async () => {
  await dockerUp();
  await buildTestImages(engine);
}, 600_000);

const test = baseTest
  .extend('runId', async ({}, { onCleanup }) => {
    const runId = `run-${randomUUID()}`;
    onCleanup(() => removeLeftovers(engine, runId));
    return runId;
  })
  .extend('hostServer', { scope: 'file' }, async ({}, { onCleanup }): Promise<Server> => {
    const server = createServer((_req, res) => res.end('hello from the host'));
    await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
    onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
    return server;
  });

const scriptJob = (runId: string, content: string, params: ParamValues = {}, extra: Partial<AgentScriptJob> = {}) => transportJob(content, params, { runId, ...extra });

function run(options: Omit<DockerRunOptions, 'onLine' | 'signal' | 'image'> & { image?: string } & Collecting) {
  return collectLines(options, (signal, onLine) => runInDocker({ image: BUSYBOX_IMAGE, ...options, signal, onLine }));
}

const failure = (promise: Promise<unknown>) => transportFailure(promise, DockerError);
const nothingLeft = { containers: [], volumes: [] };

/** The host's address on the engine's default bridge: its gateway, which the engine makes the subnet's first address. */
async function bridgeGateway(): Promise<string> {
  const bridge = (await engine.calls.getNetwork('bridge').inspect()) as { IPAM: { Config: { Subnet?: string; Gateway?: string }[] } };
  const config = bridge.IPAM.Config.find((c) => c.Gateway ?? c.Subnet?.includes('.'));
  if (config?.Gateway) return config.Gateway;
  const [a, b, c, d] = (config?.Subnet ?? '').split('/')[0]!.split('.').map(Number);
  if (d === undefined) throw new Error('the default bridge network has no IPv4 subnet');
  return `${a}.${b}.${c}.${d + 1}`;
}

describe('running a job in a container', () => {
  test('passes parameters verbatim as environment and argv, masks secrets, and never evaluates them', async ({ runId }) => {
    const marker = '/drydock/run/pwned';
    const note = hostile(marker);
    const script = [
      'for v in "$DRYDOCK_PARAM_NOTE" "$DRYDOCK_PARAM_COUNT" "$DRYDOCK_PARAM_FLAGS" "$DRYDOCK_PARAM_TOKEN"; do printf "env %s\\n" "$(printf "%s" "$v" | base64 -w0)"; done',
      'for a in "$@"; do printf "arg %s\\n" "$(printf "%s" "$a" | base64 -w0)"; done',
      'printf "cwd %s\\n" "$PWD"',
      'printf "run %s %s %s\\n" "$DRYDOCK_RUN_ID" "$DRYDOCK_SCRIPT_ID" "$DRYDOCK_ATTEMPT"',
      'echo "token is $DRYDOCK_PARAM_TOKEN"',
      'echo "token again: $DRYDOCK_PARAM_TOKEN" >&2',
      `if [ -e ${marker} ]; then echo PWNED; fi`,
      'echo "files: $(ls -A /drydock/run | tr "\\n" " ")"',
    ].join('\n');
    const params = { note, count: 3, flags: ['a b', 'c;d'], token: `s3cr3t-$(touch ${marker})` };

    const result = await run({ job: scriptJob(runId, script, params, { secretNames: ['token'] }), extraEnv: { DRYDOCK_ATTEMPT: '2' } });

    expect(result.exit).toMatchObject({ exitCode: 0, signal: null, timedOut: false, cancelled: false, stderrTail: 'token again: ••••••' });
    const fields = (prefix: string) => result.stdout.filter((l) => l.startsWith(`${prefix} `)).map((l) => l.split(' ').slice(1));
    expect(fields('env').map(([b64]) => decode(b64))).toEqual([note, '3', 'a b,c;d', `s3cr3t-$(touch ${marker})`]);
    expect(fields('arg').map(([b64]) => decode(b64))).toEqual([`--note=${note}`, '--count=3', '--flags=a b,c;d']);
    expect(result.stdout).toContain('cwd /drydock/run');
    expect(result.stdout).toContain(`run ${runId} script-1 2`);
    expect(result.stdout).toContain('token is ••••••');
    expect(result.stderr).toEqual(['token again: ••••••']);
    expect(result.stdout).not.toContain('PWNED');
    expect(result.stdout).toContain('files: script.sh ');
    expect(result.lines.map((l) => l.line).join('\n')).not.toContain('s3cr3t');
    expect(await leftovers(engine, runId)).toEqual(nothingLeft);
  });

  test('renders a command template to argv, with values inside their words', async ({ runId }) => {
    const note = hostile('/drydock/run/pwned');
    const job = scriptJob(runId, '', { note, count: 3 }, { interpreter: null, scriptPath: null, content: null, commandTemplate: `printf '[%s]\\n' {{note}} "fixed word" --count={{count}}` });

    const result = await run({ job });

    expect(result.exit.exitCode).toBe(0);
    expect(result.stdout.join('\n')).toBe(`[${note}]\n[fixed word]\n[--count=3]`);
  });

  test('reports the exit code and the last lines of stderr', async ({ runId }) => {
    const script = 'i=1; while [ $i -le 25 ]; do echo "problem $i" >&2; i=$((i + 1)); done; echo "partly done"; exit 3';

    const result = await run({ job: scriptJob(runId, script) });

    expect(result.exit).toMatchObject({ exitCode: 3, signal: null, timedOut: false, cancelled: false });
    expect(result.exit.stderrTail.split('\n')).toEqual(Array.from({ length: 20 }, (_, i) => `problem ${i + 6}`));
    expect(result.stdout).toEqual(['partly done']);
    expect(await leftovers(engine, runId)).toEqual(nothingLeft);
  });

  test('has no network but loopback unless the run asks for one', async ({ runId, hostServer }) => {
    const port = (hostServer.address() as AddressInfo).port;
    const script = [
      'echo "interfaces: $(ls /sys/class/net | tr "\\n" " ")"',
      'if printf "GET / HTTP/1.0\\r\\n\\r\\n" | nc -w 5 "$DRYDOCK_PARAM_HOST" "$DRYDOCK_PARAM_PORT" > reply.txt; then echo "reached: $(tail -n 1 reply.txt)"; else echo unreachable; fi',
    ].join('\n');
    const job = scriptJob(runId, script, { host: await bridgeGateway(), port });

    const isolated = await run({ job });
    expect(isolated.stdout).toEqual(['interfaces: lo ', 'unreachable']);

    // The same script with a network reaches the host: the isolation above is the runner's doing.
    const connected = await run({ job, network: true });
    expect(connected.stdout).toEqual(['interfaces: eth0 lo ', 'reached: hello from the host']);
  });

  test('applies the memory, CPU and process limits, and says when the memory runs out', async ({ runId }) => {
    const script = [
      'if [ -e /sys/fs/cgroup/memory.max ]; then cat /sys/fs/cgroup/memory.max; else cat /sys/fs/cgroup/memory/memory.limit_in_bytes; fi',
      'if [ -e /sys/fs/cgroup/cpu.max ]; then cat /sys/fs/cgroup/cpu.max; else echo "$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us) $(cat /sys/fs/cgroup/cpu/cpu.cfs_period_us)"; fi',
      'if [ -e /sys/fs/cgroup/pids.max ]; then cat /sys/fs/cgroup/pids.max; else cat /sys/fs/cgroup/pids/pids.max; fi',
    ].join('\n');
    const limits = { memoryMb: 64, cpus: 0.5, pids: 32 };

    const limited = await run({ job: scriptJob(runId, script), limits });
    expect(limited.stdout).toEqual([String(64 * 1024 * 1024), '50000 100000', '32']);

    const hungry = await run({ job: scriptJob(runId, 'echo eating; x=$(head -c 200000000 /dev/zero | tr "\\0" a); echo "survived ${#x}"'), limits });
    expect(hungry.stdout).toEqual(['eating']);
    expect(hungry.exit).toMatchObject({ exitCode: null, signal: 'SIGKILL', timedOut: false, cancelled: false });
    expect(hungry.system).toContain('the container ran out of memory (its limit is 64 MB) and the kernel killed the script');
    expect(await leftovers(engine, runId)).toEqual(nothingLeft);
  });

  test('stops the container at the job timeout, keeps its artifacts, and removes it', async ({ runId }) => {
    const job = scriptJob(runId, 'echo "half way" > progress.txt; echo started; sleep 120; echo "never printed"', {}, { timeoutSeconds: 1, capture: { environment_snapshot: false, artifacts: ['*.txt'] } });

    const result = await run({ job });

    expect(result.exit).toMatchObject({ exitCode: null, signal: 'SIGKILL', timedOut: true, cancelled: false });
    expect(result.stdout).toEqual(['started']);
    expect(result.artifacts.map((a) => [a.name, a.content.toString()])).toEqual([['progress.txt', 'half way\n']]);
    expect(await leftovers(engine, runId)).toEqual(nothingLeft);
  });

  test('cancel sends SIGTERM first, so a script can stop cleanly, and the container is gone afterwards', async ({ runId }) => {
    const controller = new AbortController();
    const script = 'trap \'echo "stopping cleanly"; exit 5\' TERM; echo started > started.txt; echo started; sleep 120 & wait';
    const job = scriptJob(runId, script, {}, { capture: { environment_snapshot: false, artifacts: ['*.txt'] } });

    const result = await run({ job, signal: controller.signal, onLine: (l) => l.line === 'started' && controller.abort(new Error('cancelled by a user')) });

    expect(result.exit).toMatchObject({ exitCode: 5, signal: null, timedOut: false, cancelled: true });
    expect(result.stdout).toEqual(['started', 'stopping cleanly']);
    expect(result.artifacts).toEqual([]);
    expect(await leftovers(engine, runId)).toEqual(nothingLeft);
  });

  test('cancel kills a script that ignores SIGTERM', async ({ runId }) => {
    const controller = new AbortController();
    const script = 'trap "" TERM; echo started; sleep 120 & wait; echo "still here"; sleep 120';

    const result = await run({ job: scriptJob(runId, script), signal: controller.signal, onLine: (l) => l.line === 'started' && controller.abort() });

    expect(result.exit).toMatchObject({ exitCode: null, signal: 'SIGKILL', timedOut: false, cancelled: true });
    expect(await leftovers(engine, runId)).toEqual(nothingLeft);
  });

  test('aborting before the container starts rejects with the reason and creates nothing', async ({ runId }) => {
    const controller = new AbortController();
    const reason = new Error('the run was cancelled before it started');
    controller.abort(reason);

    await expect(run({ job: scriptJob(runId, 'echo hi'), signal: controller.signal })).rejects.toBe(reason);
    expect(await leftovers(engine, runId)).toEqual(nothingLeft);
  });

  test('copies the artifacts out, within the limits, and refuses ways out of the work directory', async ({ runId }) => {
    const script = [
      'mkdir -p out/sub',
      'echo report > out/report.txt',
      'printf "{\\"ok\\":true}" > out/sub/data.json',
      'echo spaced > "out/with space.txt"',
      'ln -s report.txt out/report-link',
      'ln out/report.txt out/report-hard',
      'ln -s /etc/passwd out/passwd-link',
      'ln -s ../../../bin/busybox out/up-link',
      'mkfifo out/pipe',
      'head -c 5000 /dev/zero > big.bin',
      'echo "not asked for" > other.txt',
      'echo "{}" > drydock-environment.json',
    ].join('\n');
    const globs = ['out/**', 'big.bin', 'missing/*', '../escape', 'drydock-environment.json'];
    const job = scriptJob(runId, script, {}, { capture: { environment_snapshot: false, artifacts: globs } });

    const result = await run({ job, captureLimits: { maxFileBytes: 4096, maxRunBytes: 1024 * 1024 } });

    expect(result.exit.exitCode).toBe(0);
    expect(result.artifacts.map((a) => [a.name, a.content.toString()])).toEqual([
      ['out/report-hard', 'report\n'],
      ['out/report-link', 'report\n'],
      ['out/report.txt', 'report\n'],
      ['out/sub/data.json', '{"ok":true}'],
      ['out/with space.txt', 'spaced\n'],
    ]);
    expect(result.system).toEqual(
      expect.arrayContaining([
        `artifact glob ../escape refused: globs are relative to the run's work directory, without ".."`,
        'artifact glob missing/* matched no file',
        'artifact big.bin not captured: 4.9 kB is over the per-file limit of 4.0 kB (DRYDOCK_ARTIFACT_MAX_FILE_MB)',
        'artifact drydock-environment.json not captured: the name is reserved for the environment snapshot',
        'artifact out/passwd-link not captured: it leads outside the run\'s work directory, or to nothing (a link to /etc/passwd)',
        'artifact out/up-link not captured: it leads outside the run\'s work directory, or to nothing (a link to ../../../bin/busybox)',
        'artifact out/pipe not captured: it is not a regular file',
      ]),
    );
    expect(await leftovers(engine, runId)).toEqual(nothingLeft);
  });

  test('stops capturing at the per-run limit', async ({ runId }) => {
    const script = 'for n in 1 2 3; do head -c 600 /dev/zero > "part-$n.bin"; done';
    const job = scriptJob(runId, script, {}, { capture: { environment_snapshot: false, artifacts: ['*.bin'] } });

    const result = await run({ job, captureLimits: { maxFileBytes: 1024, maxRunBytes: 1500 } });

    expect(result.artifacts.map((a) => [a.name, a.content.length])).toEqual([
      ['part-1.bin', 600],
      ['part-2.bin', 600],
    ]);
    expect(result.system).toContain(
      "artifact part-3.bin not captured: 600 B more would bring this attempt's captures to 1.8 kB, over the per-run limit of 1.5 kB (DRYDOCK_ARTIFACT_MAX_RUN_MB)",
    );
  });

  test("runs as the image's user, named or numeric, and bypasses its entrypoint", async ({ runId }) => {
    const script = 'echo "uid $(id -u) gid $(id -g)"; echo made > made.txt; echo "args: $*"';
    const job = scriptJob(runId, script, { level: 'high' }, { capture: { environment_snapshot: false, artifacts: ['made.txt'] } });

    for (const [image, ids] of [
      [BUSYBOX_USER_IMAGE, 'uid 1000 gid 1001'],
      [BUSYBOX_UID_IMAGE, 'uid 4242 gid 0'],
    ] as const) {
      const result = await run({ job, image });

      expect(result.exit.exitCode).toBe(0);
      expect(result.stdout).toEqual([ids, 'args: --level=high']);
      expect(result.lines.map((l) => l.line)).not.toContain(ENTRYPOINT_MARKER);
      expect(result.artifacts.map((a) => [a.name, a.content.toString()])).toEqual([['made.txt', 'made\n']]);
    }
  });

  test('can mount the image read-only and still write the work directory and /tmp', async ({ runId }) => {
    const script = [
      'if touch /etc/changed 2>/dev/null; then echo "root writable"; else echo "root read-only"; fi',
      'echo scratch > /tmp/scratch && echo "tmp writable"',
      'echo kept > result.txt',
    ].join('\n');
    const job = scriptJob(runId, script, {}, { capture: { environment_snapshot: false, artifacts: ['result.txt'] } });

    const result = await run({ job, readOnlyRootFs: true });

    expect(result.stdout).toEqual(['root read-only', 'tmp writable']);
    expect(result.artifacts.map((a) => [a.name, a.content.toString()])).toEqual([['result.txt', 'kept\n']]);
    expect(await leftovers(engine, runId)).toEqual(nothingLeft);
  });
});

describe('when the container cannot run', () => {
  test('a command the image lacks fails with a message naming it, and leaves nothing', async ({ runId }) => {
    const job = scriptJob(runId, '', {}, { interpreter: null, scriptPath: null, content: null, commandTemplate: 'python3 --version' });

    const err = await failure(run({ job }));

    expect(err.reason).toBe('other');
    expect(err.message).toContain(`could not start python3 in image ${BUSYBOX_IMAGE}`);
    expect(err.message).toContain('executable file not found');
    expect(await leftovers(engine, runId)).toEqual(nothingLeft);
  });

  test('an image that is not on the engine is image_missing, and nothing is pulled', async ({ runId }) => {
    const image = `drydock-test/never-built:${randomUUID().slice(0, 8)}`;

    const err = await failure(run({ job: scriptJob(runId, 'echo hi'), image }));

    expect(err.reason).toBe('image_missing');
    expect(err.message).toContain(`image ${image} is not on this worker's Docker engine, and Drydock never pulls images`);
    expect(await imageExists(engine, image)).toBe(false);
    expect(await leftovers(engine, runId)).toEqual(nothingLeft);
  });

  test('an image reference that could reach another API path is refused', async ({ runId }) => {
    const err = await failure(run({ job: scriptJob(runId, 'echo hi'), image: '../containers/json?all=1' }));

    expect(err.reason).toBe('other');
    expect(err.message).toContain('is not an image reference');
  });

  test('an engine that is not running is engine_unavailable', async ({ runId }) => {
    const socketPath = join(tmpdir(), `drydock-no-docker-${randomUUID()}.sock`);

    const err = await failure(run({ job: scriptJob(runId, 'echo hi'), socketPath }));

    expect(err.reason).toBe('engine_unavailable');
    expect(err.message).toBe(`the Docker engine is not reachable at ${socketPath}: there is no socket there; start dockerd on this worker or point it at the engine's socket`);
  });

  test('a host operation is refused: it does not run in a container', async ({ runId }) => {
    const job = scriptJob(runId, '', {}, { interpreter: null, scriptPath: null, content: null, operation: { type: 'shell_command', command: ['true'] } });

    const err = await failure(run({ job }));

    expect(err.reason).toBe('other');
    expect(err.message).toContain('does not run in a container');
  });
});
