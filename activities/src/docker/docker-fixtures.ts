import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { REPO_ROOT } from '@drydock/core';
import { type DockerEngine, engineMessage, isRefusal } from './docker-engine.ts';
import { tarArchive } from './tar-archive.ts';

const exec = promisify(execFile);

/** Test support: the machine's real Docker engine, and images built offline from the host's static busybox. */

/** A scratch image holding busybox and its applets (sh, echo, cat, sleep, wget, base64, ...), as root. */
export const BUSYBOX_IMAGE = 'drydock-test/busybox:1';
/** The same, with a named USER and group (app:staff, 1000:1001 in its /etc/passwd and /etc/group) and an ENTRYPOINT that Drydock must not use. */
export const BUSYBOX_USER_IMAGE = 'drydock-test/busybox-user:2';
/** The same, with a numeric USER (4242) that no /etc/passwd names. */
export const BUSYBOX_UID_IMAGE = 'drydock-test/busybox-uid:1';
export const ENTRYPOINT_MARKER = 'the image entrypoint ran';

/** Installs and starts the engine if this machine has none running (.ci/docker-up.sh, idempotent). */
export async function dockerUp(): Promise<void> {
  try {
    await exec('bash', [join(REPO_ROOT, '.ci/docker-up.sh')], { timeout: 600_000 });
  } catch (err) {
    const e = err as Error & { stdout?: string; stderr?: string };
    throw new Error(`.ci/docker-up.sh could not start a Docker engine: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`, { cause: err });
  }
}

export async function imageExists(engine: DockerEngine, image: string): Promise<boolean> {
  try {
    await engine.reach((e) => e.calls.getImage(image).inspect());
    return true;
  } catch (err) {
    if (isRefusal(err, 404)) return false;
    throw err;
  }
}

/** `POST /build` of a context held in memory; the engine's progress messages are checked for an error. */
async function build(engine: DockerEngine, tag: string, files: { name: string; content: Buffer; mode?: number }[]): Promise<void> {
  const context = await tarArchive(files.map((f) => ({ name: f.name, type: 'file' as const, mode: f.mode ?? 0o644, uid: 0, gid: 0, content: f.content })));
  const progress = await engine.reach((e) => e.streams.buildImage(Readable.from([context]), { t: tag, rm: true, forcerm: true })).catch((err: unknown) => {
    throw new Error(`building ${tag} failed: ${engineMessage(err)}`, { cause: err });
  });
  const messages = await new Promise<{ error?: string; stream?: string }[]>((resolve, reject) => engine.streams.modem.followProgress(progress, (err, out) => (err ? reject(err) : resolve(out))));
  const failed = messages.find((m) => m.error);
  if (failed) throw new Error(`building ${tag} failed: ${failed.error}\n${messages.map((m) => m.stream ?? m.error ?? '').join('')}`);
}

/** Builds the test images unless they are already there (they are kept between runs, so reruns are fast). */
export async function buildTestImages(engine: DockerEngine): Promise<void> {
  if (!(await imageExists(engine, BUSYBOX_IMAGE))) {
    const dockerfile = ['FROM scratch', 'COPY busybox /bin/busybox', 'RUN ["/bin/busybox", "--install", "-s", "/bin"]', 'CMD ["sh"]'].join('\n');
    await build(engine, BUSYBOX_IMAGE, [
      { name: 'Dockerfile', content: Buffer.from(`${dockerfile}\n`) },
      { name: 'busybox', content: await readFile('/bin/busybox'), mode: 0o755 },
    ]);
  }
  if (!(await imageExists(engine, BUSYBOX_USER_IMAGE))) {
    const dockerfile = [`FROM ${BUSYBOX_IMAGE}`, 'COPY passwd /etc/passwd', 'COPY group /etc/group', 'USER app:staff', `ENTRYPOINT ["/bin/echo", "${ENTRYPOINT_MARKER}"]`].join('\n');
    await build(engine, BUSYBOX_USER_IMAGE, [
      { name: 'Dockerfile', content: Buffer.from(`${dockerfile}\n`) },
      { name: 'passwd', content: Buffer.from('root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n') },
      { name: 'group', content: Buffer.from('root:x:0:\napp:x:1000:\nstaff:x:1001:app\n') },
    ]);
  }
  if (!(await imageExists(engine, BUSYBOX_UID_IMAGE))) {
    await build(engine, BUSYBOX_UID_IMAGE, [{ name: 'Dockerfile', content: Buffer.from(`FROM ${BUSYBOX_IMAGE}\nUSER 4242\n`) }]);
  }
}

/** Containers and volumes Drydock labelled with a run id that are still on the engine. */
export async function leftovers(engine: DockerEngine, runId: string): Promise<{ containers: string[]; volumes: string[] }> {
  const filters = { label: [`drydock.run=${runId}`] };
  const containers = await engine.expect((e) => e.calls.listContainers({ all: true, filters }), 'listing containers');
  const volumes = await engine.expect((e) => e.calls.listVolumes({ filters }), 'listing volumes');
  return { containers: containers.map((c) => c.Id), volumes: (volumes.Volumes ?? []).map((v) => v.Name) };
}

/** Every container labelled `drydock.run`, whatever the run. */
export async function drydockContainers(engine: DockerEngine): Promise<string[]> {
  const containers = await engine.expect((e) => e.calls.listContainers({ all: true, filters: { label: ['drydock.run'] } }), 'listing containers');
  return containers.map((c) => c.Id);
}

/** After a failed test: removes what it left behind, so the next test starts clean. */
export async function removeLeftovers(engine: DockerEngine, runId: string): Promise<void> {
  const { containers, volumes } = await leftovers(engine, runId);
  // Whatever is already gone is fine: this only tidies up.
  for (const id of containers) await engine.calls.getContainer(id).remove({ force: true, v: true }).catch(() => {});
  for (const name of volumes) await engine.calls.getVolume(name).remove({ force: true }).catch(() => {});
}
