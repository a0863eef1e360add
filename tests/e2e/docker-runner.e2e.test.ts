import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { HostView } from '@drydock/core';
import { SECRET_MASK } from '@drydock/core/manifest';
import type { RunArtifactView } from '@drydock/core/run-contract';
import { DockerEngine } from '../../activities/src/docker/docker-engine.ts';
import { BUSYBOX_IMAGE, buildTestImages, dockerUp, leftovers } from '../../activities/src/docker/docker-fixtures.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';

// Server mode end to end: a Docker engine added as a host, `runner: docker` manifests from the catalog,
// runs started through the API, executed by the central worker in throwaway containers on the real engine.

const engine = new DockerEngine();
let stack: TestStack;
let catalog: string;

const manifests: Record<string, string> = {
  'container-report.yaml': `id: container-report
name: Report from a container
script: scripts/container-report.sh
interpreter: sh
runner: docker
runner_image: ${BUSYBOX_IMAGE}
container:
  memory_mb: 64
  pids: 64
host_tags: [containers]
capture:
  environment_snapshot: true
  artifacts: [out/*.txt]
  packages: [busybox]
  services: [crond]
parameters:
  - name: target
    type: string
    required: true
  - name: api_token
    type: secret
`,
  'container-sleep.yaml': `id: container-sleep
name: Sleep in a container
script: scripts/container-sleep.sh
interpreter: sh
runner: docker
runner_image: ${BUSYBOX_IMAGE}
`,
  'container-missing-image.yaml': `id: container-missing-image
name: An image the engine does not have
command_template: echo never
runner: docker
runner_image: drydock-test/not-on-this-engine:1
`,
  'on-a-host.yaml': `id: on-a-host
name: An ordinary script
command_template: echo hello
`,
};

const scripts: Record<string, string> = {
  // Network off means no route at all: wget to any address fails at once.
  'container-report.sh': `echo "target=$DRYDOCK_PARAM_TARGET"
echo "arg=$1"
echo "token-length=\${#DRYDOCK_PARAM_API_TOKEN}"
mkdir -p out
echo "report for $DRYDOCK_PARAM_TARGET" > out/report.txt
if wget -q -T 2 -O /dev/null http://10.255.255.1/ 2>/dev/null; then echo network=yes; else echo network=no; fi
`,
  'container-sleep.sh': `i=0
while true; do i=$((i+1)); echo "tick $i"; sleep 1; done
`,
};

beforeAll(async () => {
  await dockerUp();
  await buildTestImages(engine);
  catalog = await mkdtemp(join(tmpdir(), 'drydock-docker-catalog-'));
  await mkdir(join(catalog, 'manifests'));
  await mkdir(join(catalog, 'scripts'));
  for (const [name, text] of Object.entries(manifests)) await writeFile(join(catalog, 'manifests', name), text);
  for (const [name, text] of Object.entries(scripts)) await writeFile(join(catalog, 'scripts', name), text);
  stack = await startTestStack({ env: { DRYDOCK_CATALOG_DIR: catalog }, processes: ['api', 'worker', 'agent', 'web'] });
  const res = await stack.api('/api/v1/hosts', { method: 'POST', json: { id: 'engine-1', transport: 'docker', environment: 'dev', tags: ['containers'] } });
  expect(res.status).toBe(201);
}, 600_000);

afterAll(async () => {
  await stack?.teardown();
  if (catalog) await rm(catalog, { recursive: true, force: true });
});

async function artifactsOf(runId: string): Promise<RunArtifactView[]> {
  return ((await (await stack.api(`/api/v1/runs/${runId}/artifacts`)).json()) as { artifacts: RunArtifactView[] }).artifacts;
}

describe('a Docker engine host', () => {
  test('is listed with its socket, and reached once a run used it', async () => {
    const host = (await (await stack.api('/api/v1/hosts/engine-1')).json()) as HostView;
    expect(host).toMatchObject({ transport: 'docker', address: '/var/run/docker.sock', tags: ['containers'], online: false, status: 'unreachable' });
    const bad = await stack.api('/api/v1/hosts', { method: 'POST', json: { id: 'engine-2', transport: 'docker', socketPath: 'relative/docker.sock' } });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('absolute path to the engine socket');
  });

  test('runs a runner docker script in a fresh container: parameters as data, no network, files and snapshot kept, container removed', async () => {
    const secret = `token-${randomBytes(6).toString('hex')}`;
    const target = `$(touch /tmp/x) 'db'; echo injected`;
    const run = await stack.startRun('container-report', { target, api_token: secret }, 'engine-1');
    const final = await stack.waitForRun(run.id, undefined, 90_000);
    expect(final).toMatchObject({ status: 'succeeded', exitCode: 0, hostId: 'engine-1' });

    const lines = (await stack.lines(run.id)).map((l) => l.line);
    expect(lines[0]).toBe(`attempt 1 on host engine-1 in a container of ${BUSYBOX_IMAGE} (no network): sh scripts/container-report.sh`);
    expect(lines).toContain(`target=${target}`);
    expect(lines).toContain(`arg=--target=${target}`);
    expect(lines).toContain(`token-length=${secret.length}`);
    expect(lines).toContain('network=no');
    expect(lines.join('\n')).not.toContain(secret);

    const artifacts = await artifactsOf(run.id);
    expect(artifacts.map((a) => [a.kind, a.name])).toEqual([
      ['environment', 'drydock-environment.json'],
      ['artifact', 'out/report.txt'],
    ]);
    const report = artifacts.find((a) => a.name === 'out/report.txt')!;
    expect(await (await stack.api(report.downloadUrl)).text()).toBe(`report for ${target}\n`);
    const snapshotText = await (await stack.api(artifacts[0]!.downloadUrl)).text();
    expect(snapshotText).not.toContain(secret);
    const snapshot = JSON.parse(snapshotText) as {
      container: { image: string; imageId: string; network: boolean; limits: { memoryMb: number } };
      environment: Record<string, string>;
      packages: unknown[];
      services: unknown[];
    };
    expect(snapshot.packages).toEqual([{ name: 'busybox', version: null, source: null, error: 'not recorded in containers' }]);
    expect(snapshot.services).toEqual([{ name: 'crond', state: null, manager: null, error: 'not recorded in containers' }]);
    expect(snapshot.container).toMatchObject({ image: BUSYBOX_IMAGE, network: false, limits: { memoryMb: 64 } });
    expect(snapshot.container.imageId).toMatch(/^sha256:/);
    expect(snapshot.environment).toMatchObject({ DRYDOCK_PARAM_API_TOKEN: SECRET_MASK, DRYDOCK_PARAM_TARGET: target, DRYDOCK_HOST_ID: 'engine-1' });

    expect(await leftovers(engine, run.id)).toEqual({ containers: [], volumes: [] });
    const host = (await (await stack.api('/api/v1/hosts/engine-1')).json()) as HostView;
    expect(host).toMatchObject({ online: true, status: 'idle', lastError: null });

    // The run page, rendered by the web server, shows the container's snapshot (not a host's).
    const page = await (await fetch(`${stack.config.webUrl}/runs/${run.id}`, { headers: { cookie: stack.admin.cookie } })).text();
    const shown = page.slice(page.indexOf('data-testid="environment-snapshot"'));
    expect(shown).toContain(BUSYBOX_IMAGE);
    expect(shown).toContain('none (loopback only)');
    expect(shown).toContain('64 MB memory');
    expect(shown).not.toContain(secret);
  });

  test('cancel stops the container and removes it', async () => {
    const run = await stack.startRun('container-sleep', {}, 'engine-1');
    await stack.waitForLine(run.id, /^tick 2$/, 60_000);
    expect((await stack.api(`/api/v1/runs/${run.id}/cancel`, { method: 'POST' })).status).toBe(202);
    const final = await stack.waitForRun(run.id, (r) => r.status === 'cancelled', 30_000);
    expect(final.status).toBe('cancelled');
    expect(await leftovers(engine, run.id)).toEqual({ containers: [], volumes: [] });
  });

  test("the engine's job cap holds: a run waits for a free slot, and one cancelled while waiting runs nothing", async () => {
    const patched = await stack.api('/api/v1/hosts/engine-1', { method: 'PATCH', json: { maxConcurrentJobs: 1 } });
    expect(((await patched.json()) as HostView).maxConcurrentJobs).toBe(1);
    const first = await stack.startRun('container-sleep', {}, 'engine-1');
    await stack.waitForLine(first.id, /^tick 2$/, 60_000);
    const second = await stack.startRun('container-report', { target: 'after' }, 'engine-1');
    const third = await stack.startRun('container-report', { target: 'never' }, 'engine-1');
    await stack.waitForLine(second.id, /^waiting for a free slot: host engine-1 runs at most 1 job at once$/);
    await stack.waitForLine(third.id, /^waiting for a free slot/);
    expect((await stack.api(`/api/v1/runs/${third.id}/cancel`, { method: 'POST' })).status).toBe(202);
    expect((await stack.waitForRun(third.id, (r) => r.status === 'cancelled', 30_000)).status).toBe('cancelled');
    expect((await stack.lines(third.id)).map((l) => l.line)).not.toContain('target=never');
    expect(((await (await stack.api(`/api/v1/runs/${second.id}`)).json()) as { status: string }).status).toBe('running');
    expect((await stack.lines(second.id)).map((l) => l.line)).not.toContain('target=after');

    expect((await stack.api(`/api/v1/runs/${first.id}/cancel`, { method: 'POST' })).status).toBe(202);
    const done = await stack.waitForRun(second.id, undefined, 60_000);
    expect(done.status).toBe('succeeded');
    expect((await stack.lines(second.id)).map((l) => l.line)).toContain('target=after');
    await stack.api('/api/v1/hosts/engine-1', { method: 'PATCH', json: { maxConcurrentJobs: null } });
  });

  test('an image the engine lacks fails the run with what to do, and is never pulled', async () => {
    const run = await stack.startRun('container-missing-image', {}, 'engine-1');
    const final = await stack.waitForRun(run.id, undefined, 60_000);
    expect(final.status).toBe('failed');
    expect(final.error).toContain('drydock-test/not-on-this-engine:1 is not on this worker');
    expect(final.error).toContain('never pulls images');
    // The engine answered: a missing image is the manifest's to fix, not the host's.
    expect(((await (await stack.api('/api/v1/hosts/engine-1')).json()) as HostView).status).toBe('idle');
  });

  test('an engine whose socket does not answer puts its host in error, with the reason', async () => {
    const socketPath = join(catalog, 'no-engine-here.sock');
    expect((await stack.api('/api/v1/hosts', { method: 'POST', json: { id: 'engine-gone', transport: 'docker', socketPath } })).status).toBe(201);
    const final = await stack.waitForRun((await stack.startRun('container-sleep', {}, 'engine-gone')).id, undefined, 60_000);
    expect(final.status).toBe('failed');
    const host = (await (await stack.api('/api/v1/hosts/engine-gone')).json()) as HostView;
    expect(host).toMatchObject({ status: 'error', online: false });
    expect(host.lastError?.message).toContain(`the Docker engine is not reachable at ${socketPath}`);
  });

  test('runner and host must match: containers only on engines, engines only run containers', async () => {
    const onAgent = await stack.api('/api/v1/runs', { method: 'POST', json: { scriptId: 'container-sleep', hostId: 'local', params: {} } });
    expect(onAgent.status).toBe(400);
    expect(await onAgent.text()).toContain('container-sleep runs in a container; choose a Docker engine host');
    const onEngine = await stack.api('/api/v1/runs', { method: 'POST', json: { scriptId: 'on-a-host', hostId: 'engine-1', params: {} } });
    expect(onEngine.status).toBe(400);
    expect(await onEngine.text()).toContain('engine-1 is a Docker engine; it runs manifests with runner docker only');
  });
});
