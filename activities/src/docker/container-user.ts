import type { DockerEngine } from './docker-engine.ts';
import { DockerError } from './docker-error.ts';
import { tarEntries } from './tar-archive.ts';

export interface Owner {
  uid: number;
  gid: number;
}

/** `/etc/passwd` or `/etc/group` of a created container, as rows of fields; none when the image has no such file. */
async function table(engine: DockerEngine, containerId: string, path: string): Promise<string[][]> {
  const res = await engine.archive(containerId, path).catch((err: unknown) => {
    if (err instanceof DockerError) throw err;
    return null;
  });
  if (res === null) return [];
  for await (const entry of tarEntries(res)) {
    if (entry.type !== 'file' || entry.size > 4 * 1024 * 1024) break;
    const text = (await entry.content()).toString('utf8');
    return text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).map((l) => l.split(':'));
  }
  return [];
}

const NUMERIC = /^\d+$/;

/**
 * Who the container's process runs as (the image's `USER`: `name`, `uid`, `name:group` or `uid:gid`), as numbers,
 * so the work directory can be made theirs. Names are looked up in the image's own /etc/passwd and /etc/group,
 * as the runtime looks them up; a numeric user needs no entry.
 */
export async function containerOwner(engine: DockerEngine, containerId: string, user: string): Promise<Owner> {
  if (user === '') return { uid: 0, gid: 0 };
  const colon = user.indexOf(':');
  const userPart = colon === -1 ? user : user.slice(0, colon);
  const groupPart = colon === -1 ? null : user.slice(colon + 1);

  let passwd: string[][] | null = null;
  const byName = async (name: string) => (passwd ??= await table(engine, containerId, '/etc/passwd')).find((row) => row[0] === name);
  const byUid = async (uid: number) => (passwd ??= await table(engine, containerId, '/etc/passwd')).find((row) => row[2] === String(uid));

  let uid: number;
  let gid: number | undefined;
  if (NUMERIC.test(userPart)) uid = Number(userPart);
  else {
    const row = await byName(userPart);
    if (!row || !NUMERIC.test(row[2] ?? '') || !NUMERIC.test(row[3] ?? '')) {
      throw new DockerError('other', `the image runs as user ${userPart}, who is not in its /etc/passwd; give the image a USER that exists, or a numeric uid`);
    }
    uid = Number(row[2]);
    gid = Number(row[3]);
  }
  if (groupPart !== null && groupPart !== '') {
    if (NUMERIC.test(groupPart)) gid = Number(groupPart);
    else {
      const row = (await table(engine, containerId, '/etc/group')).find((r) => r[0] === groupPart);
      if (!row || !NUMERIC.test(row[2] ?? '')) {
        throw new DockerError('other', `the image runs as group ${groupPart}, which is not in its /etc/group; give the image a USER whose group exists, or a numeric gid`);
      }
      gid = Number(row[2]);
    }
  }
  if (gid === undefined) {
    const row = await byUid(uid);
    gid = row && NUMERIC.test(row[3] ?? '') ? Number(row[3]) : 0;
  }
  return { uid, gid };
}
