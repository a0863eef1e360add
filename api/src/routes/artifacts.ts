import { Readable } from 'node:stream';
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { sql } from 'kysely';
import { z } from 'zod';
import { ConflictError, isId, newId, NotFoundError, type RunArtifact } from '@drydock/core';
import { ARTIFACT_KINDS, ENVIRONMENT_SNAPSHOT_NAME, type RunArtifactView } from '@drydock/core/run-contract';
import { BlobKeyConflictError, BlobNotFoundError, BlobTooLargeError, checkBlobKey, directoryBlobStore } from '@drydock/core/blob-store';
import { noteAudit } from '../audit.ts';
import type { ApiDeps, ApiEnv } from '../context.ts';
import { getRun } from '../run-service.ts';
import { validate } from '../validation.ts';

const MB = 1024 * 1024;
const MAX_NAME = 512;
const CONTENT_TYPE = /^[\w.+-]+\/[\w.+-]+(\s*;\s*charset=[\w-]+)?$/i;

function relativePath(name: string): boolean {
  try {
    checkBlobKey(name);
    return true;
  } catch {
    return false;
  }
}

export const ArtifactUploadQuerySchema = z
  .strictObject({
    attempt: z.coerce.number().int().min(1).max(1_000),
    kind: z.enum(ARTIFACT_KINDS),
    name: z
      .string()
      .min(1)
      .max(MAX_NAME)
      .refine(relativePath, { error: 'name is a path relative to the run directory: no leading "/", no "." or ".." or empty segments, no backslashes or control characters' }),
  })
  .refine((q) => (q.kind === 'environment') === (q.name === ENVIRONMENT_SNAPSHOT_NAME), {
    path: ['name'],
    error: `the environment snapshot, and only it, is named ${ENVIRONMENT_SNAPSHOT_NAME}`,
  });

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

/** `attachment` with the file's own name: plain ASCII in `filename`, the exact name in `filename*` (RFC 6266). */
function attachment(name: string): string {
  const base = name.slice(name.lastIndexOf('/') + 1);
  const ascii = base.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(base)}`;
}

/** The request body, read without ever cancelling it: a cancel drops the connection before a 413 can be sent. */
async function* bodyChunks(body: ReadableStream<Uint8Array> | null): AsyncGenerator<Uint8Array> {
  if (!body) return;
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

function blobStore(deps: ApiDeps) {
  return directoryBlobStore(deps.config.blobDir);
}

/**
 * `/api/v1/agent/runs/:runId/artifacts`: an agent sends what it captured of an attempt, one file per request,
 * the body streamed into the blob store and refused the moment it passes the per-file or per-run limit.
 */
export function agentArtifactRoutes(deps: ApiDeps) {
  const blobs = blobStore(deps);
  const maxFile = Math.floor(deps.config.DRYDOCK_ARTIFACT_MAX_FILE_MB * MB);
  const maxRun = Math.floor(deps.config.DRYDOCK_ARTIFACT_MAX_RUN_MB * MB);
  return new Hono<ApiEnv>().post('/:runId/artifacts', validate('query', ArtifactUploadQuerySchema), async (c) => {
    const agent = c.get('agent')!;
    const runId = c.req.param('runId');
    const q = c.req.valid('query');
    noteAudit(c, { action: 'run.artifact.upload', resource: `run:${runId}`, detail: { attempt: q.attempt, kind: q.kind, name: q.name } });
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
    const refuse = (message: string) => {
      // The rest of the body is never read: the connection cannot carry another request.
      c.header('connection', 'close');
      return new HTTPException(413, { message });
    };
    const overFile = () => refuse(`${q.name} is over the per-file artifact limit of ${deps.config.DRYDOCK_ARTIFACT_MAX_FILE_MB} MB (DRYDOCK_ARTIFACT_MAX_FILE_MB)`);
    const overRun = () =>
      refuse(`${q.name} would bring attempt ${q.attempt}'s captures past the per-run artifact limit of ${deps.config.DRYDOCK_ARTIFACT_MAX_RUN_MB} MB (DRYDOCK_ARTIFACT_MAX_RUN_MB)`);
    const declared = Number(c.req.header('content-length') ?? Number.NaN);
    if (declared > maxFile) throw overFile();
    if (declared > room) throw overRun();

    const asked = c.req.header('content-type')?.trim() ?? '';
    const contentType = q.kind === 'environment' ? 'application/json' : CONTENT_TYPE.test(asked) ? asked : 'application/octet-stream';
    const key = `runs/${runId}/${q.attempt}/${q.name}`;
    let stored;
    try {
      stored = await blobs.put(key, bodyChunks(c.req.raw.body), { contentType, maxBytes: Math.min(maxFile, room) });
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
    return c.json(toArtifactView(row), 201);
  });
}

/** `/api/v1/runs/:id/artifacts`: what a run captured, and each file's bytes as a download. */
export function runArtifactRoutes(deps: ApiDeps) {
  const blobs = blobStore(deps);
  return new Hono<ApiEnv>()
    .get('/:id/artifacts', async (c) => {
      const run = await getRun(deps, c.get('user')!.team_id, c.req.param('id'));
      const rows = await deps.db
        .selectFrom('run_artifacts')
        .selectAll()
        .where('run_id', '=', run.id)
        .orderBy('attempt')
        .orderBy(sql`kind <> 'environment'`)
        .orderBy('name')
        .execute();
      return c.json({ artifacts: rows.map(toArtifactView) });
    })
    .get('/:id/artifacts/:artifactId', async (c) => {
      const run = await getRun(deps, c.get('user')!.team_id, c.req.param('id'));
      const artifactId = c.req.param('artifactId');
      const row = isId(artifactId)
        ? await deps.db.selectFrom('run_artifacts').selectAll().where('id', '=', artifactId).where('run_id', '=', run.id).executeTakeFirst()
        : undefined;
      if (!row) throw new NotFoundError('artifact', artifactId);
      let bytes: Readable;
      try {
        bytes = await blobs.get(row.blob_key);
      } catch (err) {
        if (err instanceof BlobNotFoundError) throw new NotFoundError('stored file of artifact', `${row.name} (${row.blob_key})`);
        throw err;
      }
      return new Response(Readable.toWeb(bytes) as ReadableStream, {
        headers: {
          'content-type': row.content_type,
          'content-length': String(row.size),
          'content-disposition': attachment(row.name),
          etag: `"${row.sha256}"`,
          'cache-control': 'private, no-cache',
          // Whatever a script wrote, the browser downloads it; it never runs as a page of this origin.
          'x-content-type-options': 'nosniff',
          'content-security-policy': 'sandbox',
        },
      });
    });
}
