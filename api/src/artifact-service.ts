import type { Readable } from 'node:stream';
import { sql } from 'kysely';
import { ConflictError, isId, newId, NotFoundError, type RunArtifact, type RunArtifactView } from '@drydock/core';
import { BlobKeyConflictError, BlobNotFoundError, BlobTooLargeError, directoryBlobStore } from '@drydock/core/blob-store';
import type { AgentPrincipal, ApiDeps } from './context.ts';
import { getRun } from './run-service.ts';

// What runs captured: files an agent sends, streamed into the blob store within the limits, and read back.

const MB = 1024 * 1024;
const CONTENT_TYPE = /^[\w.+-]+\/[\w.+-]+(\s*;\s*charset=[\w-]+)?$/i;

/** A file past the per-file or per-run limit; the message names the limit and its setting. */
export class ArtifactTooLargeError extends Error {}

export function toArtifactView(row: RunArtifact): RunArtifactView {
  return {
    id: row.id,
    runId: row.run_id,
    attempt: row.attempt,
    name: row.name,
    kind: row.kind,
    size: Number(row.size),
    sha256: row.sha256,
    contentType: row.content_type,
    createdAt: row.created_at.toISOString(),
    downloadUrl: `/api/v1/runs/${row.run_id}/artifacts/${row.id}`,
  };
}

export interface ArtifactUpload {
  attempt: number;
  kind: RunArtifact['kind'];
  name: string;
  /** As the agent declared them: `Content-Length` and `Content-Type`. */
  declaredSize: number;
  contentType: string;
}

/** Stores one captured file; the same (run, attempt, name) sent again replaces itself. */
export function artifactStore(deps: ApiDeps) {
  const blobs = directoryBlobStore(deps.config.blobDir);
  const maxFile = Math.floor(deps.config.DRYDOCK_ARTIFACT_MAX_FILE_MB * MB);
  const maxRun = Math.floor(deps.config.DRYDOCK_ARTIFACT_MAX_RUN_MB * MB);

  async function upload(agent: AgentPrincipal, runId: string, q: ArtifactUpload, body: AsyncIterable<Uint8Array>): Promise<RunArtifactView> {
    if (!isId(runId)) throw new NotFoundError('run', runId);
    const run = await deps.db.selectFrom('runs').select(['id', 'host_id', 'team_id']).where('id', '=', runId).executeTakeFirst();
    // An agent sends the files of its own host's runs only.
    if (!run || run.host_id !== agent.hostId || run.team_id !== agent.teamId) throw new NotFoundError('run', runId);

    const { used } = await deps.db
      .selectFrom('run_artifacts')
      .select(sql<string>`coalesce(sum(size), 0)`.as('used'))
      .where('run_id', '=', runId)
      .where('attempt', '=', q.attempt)
      .where('name', '<>', q.name)
      .executeTakeFirstOrThrow();
    const room = maxRun - Number(used);
    const overFile = () => new ArtifactTooLargeError(`${q.name} is over the per-file artifact limit of ${deps.config.DRYDOCK_ARTIFACT_MAX_FILE_MB} MB (DRYDOCK_ARTIFACT_MAX_FILE_MB)`);
    const overRun = () =>
      new ArtifactTooLargeError(
        `${q.name} would bring attempt ${q.attempt}'s captures past the per-run artifact limit of ${deps.config.DRYDOCK_ARTIFACT_MAX_RUN_MB} MB (DRYDOCK_ARTIFACT_MAX_RUN_MB)`,
      );
    if (q.declaredSize > maxFile) throw overFile();
    if (q.declaredSize > room) throw overRun();

    const asked = q.contentType.trim();
    const contentType = q.kind === 'environment' ? 'application/json' : CONTENT_TYPE.test(asked) ? asked : 'application/octet-stream';
    const key = `runs/${runId}/${q.attempt}/${q.name}`;
    let stored;
    try {
      stored = await blobs.put(key, body, { contentType, maxBytes: Math.min(maxFile, room) });
    } catch (err) {
      if (err instanceof BlobTooLargeError) throw maxFile <= room ? overFile() : overRun();
      if (err instanceof BlobKeyConflictError) {
        throw new ConflictError(`${q.name} cannot be kept beside attempt ${q.attempt}'s other captures: one of them is a file where this name needs a folder, or a folder of that name holds files already`);
      }
      throw err;
    }
    const row = await deps.db
      .insertInto('run_artifacts')
      .values({ id: newId(), run_id: runId, attempt: q.attempt, name: q.name, kind: q.kind, size: stored.size, sha256: stored.sha256, content_type: contentType, blob_key: key })
      // The same file sent again (an answer lost on the way back) replaces itself.
      .onConflict((oc) =>
        oc.columns(['run_id', 'attempt', 'name']).doUpdateSet({ kind: q.kind, size: stored.size, sha256: stored.sha256, content_type: contentType, blob_key: key, created_at: new Date() }),
      )
      .returningAll()
      .executeTakeFirstOrThrow();
    return toArtifactView(row);
  }

  async function list(teamId: string, runId: string): Promise<RunArtifactView[]> {
    const run = await getRun(deps, teamId, runId);
    const rows = await deps.db
      .selectFrom('run_artifacts')
      .selectAll()
      .where('run_id', '=', run.id)
      .orderBy('attempt')
      .orderBy(sql`kind <> 'environment'`)
      .orderBy('name')
      .execute();
    return rows.map(toArtifactView);
  }

  /** One file of a run and its bytes. */
  async function open(teamId: string, runId: string, artifactId: string): Promise<{ artifact: RunArtifact; bytes: Readable }> {
    const run = await getRun(deps, teamId, runId);
    const artifact = isId(artifactId)
      ? await deps.db.selectFrom('run_artifacts').selectAll().where('id', '=', artifactId).where('run_id', '=', run.id).executeTakeFirst()
      : undefined;
    if (!artifact) throw new NotFoundError('artifact', artifactId);
    try {
      return { artifact, bytes: await blobs.get(artifact.blob_key) };
    } catch (err) {
      if (err instanceof BlobNotFoundError) throw new NotFoundError('stored file of artifact', `${artifact.name} (${artifact.blob_key})`);
      throw err;
    }
  }

  return { upload, list, open };
}
