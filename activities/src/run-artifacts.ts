import type { Db } from '@drydock/core';
import { newId } from '@drydock/core';
import type { BlobStore } from '@drydock/core/blob-store';
import type { ArtifactKind } from '@drydock/core/run-contract';

export interface CapturedFile {
  runId: string;
  attempt: number;
  /** Relative to the run's work directory, or ENVIRONMENT_SNAPSHOT_NAME. */
  name: string;
  kind: ArtifactKind;
  contentType: string;
  content: Uint8Array;
}

/**
 * Stores a file a central worker captured (from a container or over SSH) the way the API stores an agent's
 * upload: the bytes in the blob store under runs/<run>/<attempt>/<name>, a run_artifacts row that the run page
 * lists. The same file stored again (a retried activity) replaces itself.
 */
export function runArtifactWriter(db: Db, blobs: BlobStore) {
  return async (file: CapturedFile): Promise<{ size: number; sha256: string }> => {
    const key = `runs/${file.runId}/${file.attempt}/${file.name}`;
    const stored = await blobs.put(key, file.content, { contentType: file.contentType });
    const row = { kind: file.kind, size: stored.size, sha256: stored.sha256, content_type: file.contentType, blob_key: key };
    await db
      .insertInto('run_artifacts')
      .values({ id: newId(), run_id: file.runId, attempt: file.attempt, name: file.name, ...row })
      .onConflict((oc) => oc.columns(['run_id', 'attempt', 'name']).doUpdateSet({ ...row, created_at: new Date() }))
      .execute();
    return stored;
  };
}
