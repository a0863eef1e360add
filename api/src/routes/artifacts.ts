import { Readable } from 'node:stream';
import { createRoute } from '@hono/zod-openapi';
import { HTTPException } from 'hono/http-exception';
import { z } from 'zod';
import { RunArtifactListSchema, RunArtifactViewSchema } from '@drydock/core';
import { ARTIFACT_KINDS, ENVIRONMENT_SNAPSHOT_NAME } from '@drydock/core/run-contract';
import { checkBlobKey } from '@drydock/core/blob-store';
import { ArtifactTooLargeError, artifactStore } from '../artifact-service.ts';
import { noteAudit } from '../audit.ts';
import type { ApiDeps } from '../context.ts';
import { access, CALLER, errors, json, resourceRouter } from '../contract.ts';

const MAX_NAME = 512;

function relativePath(name: string): boolean {
  try {
    checkBlobKey(name);
    return true;
  } catch {
    return false;
  }
}

// Beside its route, not in core's contract: the name rule is the blob store's, which is Node's.
export const ArtifactUploadQuerySchema = z
  .strictObject({
    attempt: z.coerce.number().int().min(1).max(1_000).meta({ description: 'The attempt that captured the file' }),
    kind: z.enum(ARTIFACT_KINDS),
    name: z
      .string()
      .min(1)
      .max(MAX_NAME)
      .refine(relativePath, { error: 'name is a path relative to the run directory: no leading "/", no "." or ".." or empty segments, no backslashes or control characters' })
      .meta({ description: `A path relative to the run's working directory; \`${ENVIRONMENT_SNAPSHOT_NAME}\` if and only if \`kind\` is \`environment\`` }),
  })
  .refine((q) => (q.kind === 'environment') === (q.name === ENVIRONMENT_SNAPSHOT_NAME), {
    path: ['name'],
    error: `the environment snapshot, and only it, is named ${ENVIRONMENT_SNAPSHOT_NAME}`,
  });

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

const upload = createRoute({
  method: 'post',
  path: '/{runId}/artifacts',
  tags: ['artifacts'],
  summary: "One file captured from an attempt on the agent's host, as the raw request body; sent again, it replaces itself",
  description:
    "The body is streamed into the blob store and refused the moment it passes `DRYDOCK_ARTIFACT_MAX_FILE_MB`, or would bring the attempt's files past `DRYDOCK_ARTIFACT_MAX_RUN_MB` (at once when `Content-Length` says so); nothing of it is kept, and the connection is closed. `Content-Type` is kept when it is a plain `type/subtype` with an optional `charset`; the snapshot is always `application/json`.",
  security: CALLER.agent,
  request: {
    params: z.object({ runId: z.string().meta({ description: "A run on the agent's own host" }) }),
    query: ArtifactUploadQuerySchema,
    body: { required: true, content: { '*/*': { schema: { type: 'string', format: 'binary' } } } },
  },
  responses: {
    201: json(RunArtifactViewSchema, 'Stored'),
    ...errors(400, [401, 'No agent token, or one that is unknown or revoked'], [404, "No such run on the agent's host"], [409, 'A name where another capture of the attempt is a file or a folder'], [413, 'Over the per-file or per-run limit; the message names it']),
  },
});

const RunParams = z.object({ id: z.string().meta({ description: 'The run id' }) });

const list = createRoute({
  method: 'get',
  path: '/{id}/artifacts',
  tags: ['artifacts'],
  ...access('viewer', 'read'),
  summary: 'What a run captured, per attempt: its environment snapshot and artifact files',
  description: 'A run that captured nothing (SSH and WinRM runs capture no files) answers an empty list.',
  request: { params: RunParams },
  responses: { 200: json(RunArtifactListSchema, 'The files'), ...errors(404) },
});

const download = createRoute({
  method: 'get',
  path: '/{id}/artifacts/{artifactId}',
  tags: ['artifacts'],
  ...access('viewer', 'read'),
  summary: 'Download one captured file as an attachment',
  description:
    'Served with `Content-Disposition: attachment`, `ETag: "<sha256>"`, `X-Content-Type-Options: nosniff` and `Content-Security-Policy: sandbox`: whatever a script wrote is downloaded, never shown as a page of this origin.',
  request: { params: RunParams.extend({ artifactId: z.string().meta({ description: 'The artifact id' }) }) },
  responses: {
    200: { description: 'The bytes, as `contentType`', content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } },
    ...errors([404, 'No such run or artifact, or its stored file is gone']),
  },
});

/**
 * `/api/v1/agent/runs/:runId/artifacts`: an agent sends what it captured of an attempt, one file per request,
 * the body streamed into the blob store and refused the moment it passes the per-file or per-run limit.
 */
export function agentArtifactRoutes(deps: ApiDeps) {
  const artifacts = artifactStore(deps);
  return resourceRouter().openapi(upload, async (c) => {
    const { runId } = c.req.valid('param');
    const q = c.req.valid('query');
    noteAudit(c, { action: 'run.artifact.upload', resource: `run:${runId}`, detail: { attempt: q.attempt, kind: q.kind, name: q.name } });
    try {
      const declaredSize = Number(c.req.header('content-length') ?? Number.NaN);
      const stored = await artifacts.upload(c.get('agent')!, runId, { ...q, declaredSize, contentType: c.req.header('content-type') ?? '' }, bodyChunks(c.req.raw.body));
      return c.json(stored, 201);
    } catch (err) {
      if (!(err instanceof ArtifactTooLargeError)) throw err;
      // The rest of the body is never read: the connection cannot carry another request.
      c.header('connection', 'close');
      throw new HTTPException(413, { message: err.message });
    }
  });
}

/** `/api/v1/runs/:id/artifacts`: what a run captured, and each file's bytes as a download. */
export function runArtifactRoutes(deps: ApiDeps) {
  const artifacts = artifactStore(deps);
  return resourceRouter()
    .openapi(list, async (c) => c.json({ artifacts: await artifacts.list(c.get('user')!.team_id, c.req.valid('param').id) }, 200))
    .openapi(download, async (c) => {
      const { id, artifactId } = c.req.valid('param');
      const { artifact, bytes } = await artifacts.open(c.get('user')!.team_id, id, artifactId);
      return new Response(Readable.toWeb(bytes) as ReadableStream, {
        headers: {
          'content-type': artifact.content_type,
          'content-length': String(artifact.size),
          'content-disposition': attachment(artifact.name),
          etag: `"${artifact.sha256}"`,
          'cache-control': 'private, no-cache',
          // Whatever a script wrote, the browser downloads it; it never runs as a page of this origin.
          'x-content-type-options': 'nosniff',
          'content-security-policy': 'sandbox',
        },
      });
    });
}
