import { basename } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import proto from '@temporalio/proto';
import { type BundleEntry, reproducePowerShellScript, type ReproduceInput, reproduceShellScript, writeBundle } from '@drydock/activities/bundle';
import type { Manifest, Run } from '@drydock/core';
import { BlobNotFoundError, directoryBlobStore } from '@drydock/core/blob-store';
import { ENVIRONMENT_SNAPSHOT_NAME } from '@drydock/core/run-contract';
import { codecFromConfig, type EncryptionCodec } from '@drydock/temporal';
import type { ApiDeps } from './context.ts';
import { getRun, logLinesAfter, toRunView } from './run-service.ts';

// A run's reproduction bundle (decision 018): everything needed to see and re-run it, streamed as a tar.gz.

const MB = 1024 * 1024;
const LOG_PAGE = 5_000;

/**
 * The limits: a file may be as large as a captured artifact may (the log and history too), and the whole
 * bundle holds a run's captures plus as much again for its log, history and the rest.
 */
export function bundleLimits(config: ApiDeps['config']) {
  const maxEntryBytes = Math.max(Math.floor(config.DRYDOCK_ARTIFACT_MAX_FILE_MB * MB), 64 * MB);
  return { maxEntryBytes, maxTotalBytes: Math.floor(config.DRYDOCK_ARTIFACT_MAX_RUN_MB * MB) + 2 * maxEntryBytes };
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The full log as text, one line per log line, read a page at a time. */
async function* logText(deps: ApiDeps, runId: string): AsyncGenerator<Uint8Array> {
  let after = { attempt: 0, seq: -1 };
  for (;;) {
    const page = await logLinesAfter(deps, runId, after, LOG_PAGE);
    if (page.length > 0) yield Buffer.from(page.map((l) => `${l.ts} attempt ${l.attempt} ${l.stream}: ${l.line}\n`).join(''), 'utf8');
    const last = page.at(-1);
    if (!last || page.length < LOG_PAGE) return;
    after = last;
  }
}

type JsonPayload = { metadata?: Record<string, string>; data?: string };

function isPayload(value: unknown): value is JsonPayload {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  return typeof v.metadata === 'object' && v.metadata !== null && typeof (v.metadata as Record<string, unknown>).encoding === 'string';
}

/** Every payload of an event (proto JSON) decrypted when it was sealed for this run's workflow; others stay as they are. */
function decodePayloads(value: unknown, codec: EncryptionCodec, workflowId: string): unknown {
  if (Array.isArray(value)) return value.map((v) => decodePayloads(v, codec, workflowId));
  if (typeof value !== 'object' || value === null) return value;
  if (isPayload(value)) {
    const sealed = {
      metadata: Object.fromEntries(Object.entries(value.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
      data: Buffer.from(value.data ?? '', 'base64'),
    };
    try {
      const opened = codec.open(sealed);
      if (opened.workflowId !== null && opened.workflowId !== workflowId) return value;
      return {
        metadata: Object.fromEntries(Object.entries(opened.payload.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')])),
        data: Buffer.from(opened.payload.data ?? new Uint8Array()).toString('base64'),
      };
    } catch {
      return value;
    }
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, decodePayloads(v, codec, workflowId)]));
}

/**
 * The run's workflow history in Temporal's JSON form (`{"events":[…]}`, what `temporal workflow show --output json`
 * and replay read), a page of events at a time. The caller is a member of the run's team (the route's check), so
 * payloads are decoded with the codec.
 */
async function* historyJson(deps: ApiDeps, run: Run, codec: EncryptionCodec | undefined): AsyncGenerator<Uint8Array> {
  let nextPageToken: Uint8Array | undefined;
  let first = true;
  yield Buffer.from('{"events":[\n');
  do {
    const page = await deps.temporal.workflowService.getWorkflowExecutionHistory({
      namespace: deps.config.TEMPORAL_NAMESPACE,
      execution: { workflowId: run.workflow_id, ...(run.workflow_run_id ? { runId: run.workflow_run_id } : {}) },
      ...(nextPageToken ? { nextPageToken } : {}),
    });
    const events = (page.history?.events ?? []).map((e) => {
      const plain = proto.temporal.api.history.v1.HistoryEvent.fromObject(e).toJSON();
      return codec ? decodePayloads(plain, codec, run.workflow_id) : plain;
    });
    if (events.length > 0) {
      yield Buffer.from(`${first ? '' : ',\n'}${events.map((e) => JSON.stringify(e)).join(',\n')}`);
      first = false;
    }
    nextPageToken = page.nextPageToken && page.nextPageToken.length > 0 ? page.nextPageToken : undefined;
  } while (nextPageToken);
  yield Buffer.from('\n]}\n');
}

async function hostFacts(deps: ApiDeps, run: Run): Promise<BundleEntry> {
  const host = await deps.db
    .selectFrom('hosts')
    .select(['id', 'name', 'transport', 'tags', 'environment', 'host_group', 'os', 'agent_version', 'last_seen_at', 'address', 'port', 'mem_total_mb', 'disk_total_mb', 'uptime_seconds'])
    .where('id', '=', run.host_id)
    .where('team_id', '=', run.team_id)
    .executeTakeFirst();
  return host
    ? { name: 'host.json', source: json({ ...host, note: 'The host as Drydock knows it when the bundle was made; the environment snapshot has it as the run left it.' }) }
    : { name: 'host.json', unavailable: `host ${run.host_id} no longer exists` };
}

/** The run's entries, in order; a part that cannot be had is named as missing, never a failed download. */
async function* bundleEntries(deps: ApiDeps, run: Run, codec: EncryptionCodec | undefined): AsyncGenerator<BundleEntry> {
  yield { name: 'run.json', source: json(toRunView(run, deps)) };
  yield { name: 'parameters.json', source: json(run.params) };

  let manifest: Manifest | undefined;
  let scriptFile: string | null = null;
  try {
    const item = await deps.catalog.get(run.team_id, run.source, run.script_id, run.source === 'script' ? run.script_version : undefined);
    manifest = item.manifest;
    yield { name: 'manifest.json', source: json({ version: item.version, ...(item.repository ? { repository: item.repository.name } : {}), manifest }) };
  } catch (err) {
    yield { name: 'manifest.json', unavailable: `${run.source} ${run.script_id} at ${run.script_version} is no longer in the catalog: ${errorText(err)}` };
  }
  if (manifest?.script !== undefined && run.source === 'script') {
    const name = `script/${basename(manifest.script)}`;
    try {
      const content = await deps.catalog.scriptContent(run.team_id, run.script_id, run.script_version);
      if (content === null) yield { name, unavailable: `the catalog keeps no content for ${manifest.script} at ${run.script_version}` };
      else {
        yield { name, source: content, mode: 0o755 };
        scriptFile = name;
      }
    } catch (err) {
      yield { name, unavailable: errorText(err) };
    }
  }

  yield { name: 'log.txt', source: () => logText(deps, run.id) };

  const blobs = directoryBlobStore(deps.config.blobDir);
  const captured = await deps.db.selectFrom('run_artifacts').selectAll().where('run_id', '=', run.id).orderBy('attempt').orderBy('name').execute();
  if (!captured.some((a) => a.kind === 'environment')) yield { name: 'environment/snapshot.json', unavailable: 'the run captured no environment snapshot (its manifest asks for none, or its transport takes none)' };
  for (const artifact of captured) {
    const name = artifact.kind === 'environment' ? `environment/attempt-${artifact.attempt}-${ENVIRONMENT_SNAPSHOT_NAME}` : `artifacts/attempt-${artifact.attempt}/${artifact.name}`;
    yield {
      name,
      size: Number(artifact.size),
      source: async (): Promise<Readable> => {
        try {
          return await blobs.get(artifact.blob_key);
        } catch (err) {
          if (err instanceof BlobNotFoundError) throw new Error('its stored file is gone (deleted by retention, or by hand)', { cause: err });
          throw err;
        }
      },
    };
  }

  yield await hostFacts(deps, run);

  yield run.workflow_run_id || run.status !== 'queued'
    ? { name: 'temporal-history.json', source: () => historyJson(deps, run, codec) }
    : { name: 'temporal-history.json', unavailable: 'the run has not started a workflow yet' };

  if (manifest) {
    const input: ReproduceInput = {
      run: { id: run.id, source: run.source, entryId: run.script_id, version: run.script_version, hostId: run.host_id },
      apiUrl: deps.config.publicUrl.replace(/\/$/, ''),
      job: {
        scriptId: run.script_id,
        interpreter: manifest.interpreter ?? null,
        commandTemplate: manifest.command_template ?? null,
        operation: manifest.operation ?? null,
        // Secret values are masked in the run record; the scripts ask for them by variable.
        params: run.params,
        secretNames: manifest.parameters.filter((p) => p.type === 'secret').map((p) => p.name),
      },
      scriptFile,
    };
    for (const [name, make] of [
      ['reproduce.sh', reproduceShellScript],
      ['reproduce.ps1', reproducePowerShellScript],
    ] as const) {
      try {
        yield { name, source: make(input), mode: 0o755 };
      } catch (err) {
        yield { name, unavailable: errorText(err) };
      }
    }
  } else {
    yield { name: 'reproduce.sh', unavailable: 'without the manifest there is nothing to re-run' };
  }
}

/**
 * The bundle of a run of the caller's team, as a stream that is written while it is read: the run is looked up
 * first (another team's run is not found), then every part is read from its store only when its turn comes.
 */
export async function openRunBundle(deps: ApiDeps, teamId: string, runId: string): Promise<{ run: Run; stream: Readable }> {
  const run = await getRun(deps, teamId, runId);
  const codec = codecFromConfig(deps.config);
  const out = new PassThrough();
  writeBundle(bundleEntries(deps, run, codec), out, { ...bundleLimits(deps.config), root: `drydock-run-${run.id}` }).catch((err: unknown) => {
    out.destroy(err instanceof Error ? err : new Error(String(err)));
  });
  return { run, stream: out };
}
