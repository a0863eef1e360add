import { z } from 'zod';
import { StartBulkBodySchema } from '@drydock/core/bulk';
import { BulkListQuerySchema, BulkPreviewBodySchema, RerunFailedBodySchema } from './routes/bulk.ts';
import { HeartbeatBodySchema } from './routes/agents.ts';
import { ArtifactUploadQuerySchema } from './routes/artifacts.ts';
import { HostListQuerySchema, LockAcquireBodySchema, LockForceReleaseBodySchema, LockLeaseBodySchema, LockListQuerySchema } from '@drydock/core';
import { AgentRegisterBodySchema, CredentialBodySchema, HostPatchSchema, NewHostBodySchema, LogBatchBodySchema, RepositoryBodySchema, RepositoryPatchSchema, RunListQuerySchema, StartRunBodySchema } from '@drydock/core';

type Operation = { summary: string; tags: string[]; body?: z.ZodType; query?: z.ZodObject; responses: Record<string, string>; security?: 'agent' | 'none'; sse?: boolean };

const ERR = { '400': 'invalid input: one message per field', '401': 'not signed in', '404': 'not found' };

/** Every route of the API, by OpenAPI path; a test holds this list and the Hono router to the same set. */
export const OPERATIONS: Record<string, Record<string, Operation>> = {
  '/health': { get: { summary: 'Liveness of the API, its database and Temporal', tags: ['system'], security: 'none', responses: { '200': 'healthy', '503': 'a dependency is down' } } },
  '/api/v1/openapi.json': { get: { summary: 'This document', tags: ['system'], security: 'none', responses: { '200': 'OpenAPI 3.1' } } },
  '/api/v1/me': { get: { summary: 'The signed-in user', tags: ['users'], responses: { '200': 'user' } } },
  '/api/v1/scripts': { get: { summary: 'The catalog (scripts and actions), searchable by q, tag and category, with manifest problems and facets', tags: ['catalog'], responses: { '200': 'scripts, problems, facets' } } },
  '/api/v1/scripts/{id}': { get: { summary: 'One script at its current version or at ?version=<sha>, with its parameter JSON Schema', tags: ['catalog'], responses: { '200': 'script', ...ERR } } },
  '/api/v1/scripts/{id}/versions': { get: { summary: "A script's versions by commit: author, message, what changed", tags: ['catalog'], responses: { '200': 'versions', ...ERR } } },
  '/api/v1/schemas/manifest.json': { get: { summary: 'The manifest format as JSON Schema, for editors', tags: ['catalog'], security: 'none', responses: { '200': 'JSON Schema' } } },
  '/api/v1/actions': {
    get: { summary: 'Action templates', tags: ['catalog'], responses: { '200': 'actions' } },
    post: { summary: 'Create an action template (a manifest with command_template)', tags: ['catalog'], responses: { '201': 'created', '409': 'id taken', ...ERR } },
  },
  '/api/v1/actions/{id}': {
    get: { summary: 'One action template', tags: ['catalog'], responses: { '200': 'action', ...ERR } },
    put: { summary: 'Replace an action template; its revision goes up', tags: ['catalog'], responses: { '200': 'updated', ...ERR } },
    delete: { summary: 'Delete an action template', tags: ['catalog'], responses: { '204': 'deleted', ...ERR } },
  },
  '/api/v1/actions/{id}/validate': { get: { summary: 'What is wrong with a stored action template', tags: ['catalog'], responses: { '200': 'valid flag and problems', ...ERR } } },
  '/api/v1/repositories': {
    get: { summary: 'Scripts repositories with their sync state', tags: ['repositories'], responses: { '200': 'repositories' } },
    post: { summary: 'Add a git repository; its first sync starts at once', tags: ['repositories'], body: RepositoryBodySchema, responses: { '201': 'added', '409': 'id taken', ...ERR } },
  },
  '/api/v1/repositories/{id}': {
    get: { summary: 'One repository, its recent syncs and current manifest problems', tags: ['repositories'], responses: { '200': 'repository', ...ERR } },
    patch: { summary: 'Change a repository; a new URL, branch, path or credential syncs at once', tags: ['repositories'], body: RepositoryPatchSchema, responses: { '200': 'updated', ...ERR } },
    delete: { summary: 'Remove a repository; its scripts leave the catalog', tags: ['repositories'], responses: { '204': 'removed', ...ERR } },
  },
  '/api/v1/repositories/{id}/sync': { post: { summary: 'Sync now (coalesced with pending requests)', tags: ['repositories'], responses: { '202': 'sync requested', ...ERR } } },
  '/api/v1/credentials': {
    get: { summary: 'Stored credentials, without their secrets', tags: ['repositories'], responses: { '200': 'credentials' } },
    post: { summary: 'Store an HTTPS token or SSH key, encrypted at rest', tags: ['repositories'], body: CredentialBodySchema, responses: { '201': 'stored', '409': 'name taken', ...ERR } },
  },
  '/api/v1/credentials/{id}': { delete: { summary: 'Delete a credential no repository uses', tags: ['repositories'], responses: { '204': 'deleted', '409': 'in use', ...ERR } } },
  '/api/v1/webhooks/{repositoryId}': {
    post: {
      summary: 'Push webhook from GitHub (X-Hub-Signature-256), GitLab (X-Gitlab-Token) or Bitbucket (X-Hub-Signature); a push to the branch requests a sync',
      tags: ['repositories'],
      security: 'none',
      responses: { '202': 'sync requested or ignored', '401': 'signature does not verify' },
    },
  },
  '/api/v1/hosts': {
    get: {
      summary: 'Hosts, filtered by tags, environment, transport, status (idle, busy, maintenance, unreachable, error) and when last seen, with liveness, running runs, last error and lock',
      tags: ['hosts'],
      query: HostListQuerySchema,
      responses: { '200': 'hosts', ...ERR },
    },
    post: { summary: 'Add an agentless host (SSH or WinRM, with a stored credential) or a Docker engine', tags: ['hosts'], body: NewHostBodySchema, responses: { '201': 'added', '409': 'id taken', ...ERR } },
  },
  '/api/v1/hosts/{id}': {
    get: { summary: 'One host', tags: ['hosts'], responses: { '200': 'host', ...ERR } },
    patch: { summary: 'Change a host; resetHostKey forgets its pinned SSH host key', tags: ['hosts'], body: HostPatchSchema, responses: { '200': 'updated', ...ERR } },
    delete: { summary: 'Remove a host (and its agent tokens)', tags: ['hosts'], responses: { '204': 'removed', '409': 'a jump host in use', ...ERR } },
  },
  '/api/v1/locks': {
    get: { summary: "Hosts whose lock is held or waited for, with holder, expiry and queue (from the locks' mirror), filtered by host and type", tags: ['locks'], query: LockListQuerySchema, responses: { '200': 'locks', ...ERR } },
  },
  '/api/v1/locks/{hostId}': {
    get: { summary: "One host's lock as Temporal has it now: holder and queue in grant order", tags: ['locks'], responses: { '200': 'lock', ...ERR } },
    post: {
      summary: "Take a host's lock, or queue for it (wait: false refuses instead); maintenance and emergency locks are for admins",
      tags: ['locks'],
      body: LockAcquireBodySchema,
      responses: { '201': 'granted: the lease', '202': 'queued: the lease, its position and the holder', '403': 'not an admin', '409': 'busy and wait is false', ...ERR },
    },
  },
  '/api/v1/locks/{hostId}/extend': {
    post: { summary: 'Extend your held lease by its TTL, up to its maximum number of extensions', tags: ['locks'], body: LockLeaseBodySchema, responses: { '200': 'the lease', '403': 'not your lease', '409': 'not held, or no extension left', ...ERR } },
  },
  '/api/v1/locks/{hostId}/release': {
    post: { summary: 'Release your held lease, or withdraw your waiting one', tags: ['locks'], body: LockLeaseBodySchema, responses: { '200': 'released', '403': 'not your lease', ...ERR } },
  },
  '/api/v1/locks/{hostId}/force-release': {
    post: {
      summary: "Take the lock away from its holder (admins only; audited with the reason); a holding run is stopped",
      tags: ['locks'],
      body: LockForceReleaseBodySchema,
      responses: { '200': 'the revoked lease', '403': 'not an admin', '409': 'nobody holds it', ...ERR },
    },
  },
  '/api/v1/bulk': {
    get: { summary: 'Bulk executions, newest first, with counts per host state', tags: ['bulk'], query: BulkListQuerySchema, responses: { '200': 'executions', ...ERR } },
    post: {
      summary: 'Start a script or action on many hosts: named or selected by environment, group and tags; parallelism, waves, canary, failure threshold, per-host timeout, retries, locks',
      tags: ['bulk'],
      body: StartBulkBodySchema,
      responses: { '201': 'started: the execution', ...ERR },
    },
  },
  '/api/v1/bulk/preview': {
    post: { summary: 'The hosts an execution would run on, those excluded and why, and its waves; nothing starts', tags: ['bulk'], body: BulkPreviewBodySchema, responses: { '200': 'preview', ...ERR } },
  },
  '/api/v1/bulk/{id}': { get: { summary: 'One execution: status, counts, elapsed, estimated time left', tags: ['bulk'], responses: { '200': 'execution', ...ERR } } },
  '/api/v1/bulk/{id}/hosts': { get: { summary: "Every host's state, run and timing, in start order", tags: ['bulk'], responses: { '200': 'hosts', ...ERR } } },
  '/api/v1/bulk/{id}/events': {
    get: { summary: 'Server-sent events: a snapshot of the grid, then the hosts that changed, then end', tags: ['bulk'], responses: { '200': 'text/event-stream', ...ERR } },
  },
  '/api/v1/bulk/{id}/pause': { post: { summary: 'Start no more hosts until resumed; running hosts finish', tags: ['bulk'], responses: { '202': 'pause requested', '409': 'already ended', ...ERR } } },
  '/api/v1/bulk/{id}/resume': { post: { summary: 'Start hosts again', tags: ['bulk'], responses: { '202': 'resume requested', '409': 'already ended', ...ERR } } },
  '/api/v1/bulk/{id}/cancel': { post: { summary: 'Cancel running hosts and start no more', tags: ['bulk'], responses: { '202': 'cancellation requested', '409': 'already ended', ...ERR } } },
  '/api/v1/bulk/{id}/rerun-failed': {
    post: { summary: 'A new execution on the hosts that failed, with the same options and parameters (secrets given again)', tags: ['bulk'], body: RerunFailedBodySchema, responses: { '201': 'the new execution', '409': 'no host failed', ...ERR } },
  },
  '/api/v1/runs': {
    get: { summary: 'Run history: filters, sort, cursor pagination', tags: ['runs'], query: RunListQuerySchema, responses: { '200': 'a page of runs', ...ERR } },
    post: { summary: 'Start a run of a script on a host', tags: ['runs'], body: StartRunBodySchema, responses: { '201': 'run started', ...ERR } },
  },
  '/api/v1/runs/{id}': { get: { summary: 'One run', tags: ['runs'], responses: { '200': 'run', ...ERR } } },
  '/api/v1/runs/{id}/cancel': { post: { summary: 'Cancel a run; its process tree is killed', tags: ['runs'], responses: { '202': 'cancellation requested', '409': 'run already ended', ...ERR } } },
  '/api/v1/runs/{id}/lines': { get: { summary: 'All log lines so far', tags: ['runs'], responses: { '200': 'lines', ...ERR } } },
  '/api/v1/runs/{id}/log': {
    get: { summary: 'Live log (SSE): `log`, `status` and `end` events; honours Last-Event-ID', tags: ['runs'], sse: true, responses: { '200': 'text/event-stream', ...ERR } },
  },
  '/api/v1/runs/{id}/artifacts': {
    get: { summary: "What a run captured, per attempt: its environment snapshot and artifact files (name, kind, size, sha256, download path)", tags: ['runs'], responses: { '200': 'artifacts', ...ERR } },
  },
  '/api/v1/runs/{id}/artifacts/{artifactId}': {
    get: { summary: 'Download one captured file as an attachment (Content-Length, ETag = its sha256)', tags: ['runs'], responses: { '200': 'the file', ...ERR } },
  },
  '/api/v1/agents/install': { get: { summary: 'Settings to install an agent on another host, secrets included (admins only)', tags: ['agents'], responses: { '200': 'settings and an environment file', '403': 'not an admin' } } },
  '/api/v1/agents/hosts/{hostId}/rotate': { post: { summary: "Issue a host's agent a new token (shown once) and revoke its old ones (admins only)", tags: ['agents'], responses: { '201': 'host id, agent id and the new token', '403': 'not an admin', ...ERR } } },
  '/api/v1/agents/hosts/{hostId}/revoke': { post: { summary: "Revoke a host's agent tokens; the agent stops and may not re-register until rotated (admins only)", tags: ['agents'], responses: { '200': 'tokens revoked', '403': 'not an admin', ...ERR } } },
  '/api/v1/agent/token': { post: { summary: "Swap the calling agent's token for a new one; the old one stops working", tags: ['agents'], security: 'agent', responses: { '201': 'the new token', '401': 'unknown or revoked token' } } },
  '/api/v1/agents/register': {
    post: { summary: 'Register an agent with the registration secret; returns its token', tags: ['agents'], security: 'none', body: AgentRegisterBodySchema, responses: { '201': 'host id and agent token', ...ERR } },
  },
  '/api/v1/agent/me': { get: { summary: "The calling agent's identity", tags: ['agents'], security: 'agent', responses: { '200': 'agent', '401': 'unknown or revoked token' } } },
  '/api/v1/agent/heartbeat': {
    post: { summary: 'Agent liveness and host metrics', tags: ['agents'], security: 'agent', body: HeartbeatBodySchema, responses: { '204': 'recorded', '400': 'unknown field', '401': 'unknown or revoked token' } },
  },
  '/api/v1/agent/runs/{runId}/script': {
    get: {
      summary: "The script of a run on the agent's host, at the exact version the run executes, as text; jobs carry only its identity (version, path, SHA-256)",
      tags: ['agents'],
      security: 'agent',
      responses: { '200': 'the script', '401': 'unknown or revoked token', '404': "not a running script run of the agent's host" },
    },
  },
  '/api/v1/agent/runs/{runId}/logs': {
    post: { summary: 'A batch of log lines of a run on the agent’s host (idempotent by attempt and seq)', tags: ['agents'], security: 'agent', body: LogBatchBodySchema, responses: { '204': 'stored', ...ERR } },
  },
  '/api/v1/agent/runs/{runId}/artifacts': {
    post: {
      summary: "One file captured from an attempt on the agent's host, as the raw request body (streamed; Content-Type kept); stored by attempt and name, sent again it replaces itself",
      tags: ['agents'],
      security: 'agent',
      query: ArtifactUploadQuerySchema,
      responses: { '201': 'stored: the artifact', '413': 'over the per-file or per-run artifact limit, named in the message', ...ERR },
    },
  },
  '/api/v1/codec/decode': { post: { summary: 'Remote payload codec for Temporal Web: decrypt', tags: ['system'], responses: { '200': 'payloads' } } },
  '/api/v1/codec/encode': { post: { summary: 'Remote payload codec for Temporal Web: encrypt', tags: ['system'], responses: { '200': 'payloads' } } },
};

export function openApiDocument(serverUrl: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [path, ops] of Object.entries(OPERATIONS)) {
    paths[path] = {};
    for (const [method, op] of Object.entries(ops)) {
      const params = [...path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
      if (op.query) {
        const schema = z.toJSONSchema(op.query, { io: 'input' }) as { properties?: Record<string, unknown>; required?: string[] };
        for (const [name, s] of Object.entries(schema.properties ?? {})) params.push({ name, in: 'query', required: schema.required?.includes(name) ?? false, schema: s as { type: string } });
      }
      paths[path][method] = {
        summary: op.summary,
        tags: op.tags,
        ...(params.length > 0 ? { parameters: params } : {}),
        ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: z.toJSONSchema(op.body, { io: 'input' }) } } } } : {}),
        responses: Object.fromEntries(
          Object.entries(op.responses).map(([code, description]) => [code, { description, ...(op.sse && code === '200' ? { content: { 'text/event-stream': {} } } : {}) }]),
        ),
        security: op.security === 'none' ? [] : op.security === 'agent' ? [{ agentToken: [] }] : [{ session: [] }],
      };
    }
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Drydock API', version: '1.0.0', description: 'Run catalog scripts on hosts, durably, on Temporal.' },
    servers: [{ url: serverUrl }],
    components: {
      securitySchemes: {
        agentToken: { type: 'http', scheme: 'bearer', description: 'agent token from /api/v1/agents/register' },
        session: { type: 'http', scheme: 'bearer', description: 'user session (local mode signs in the local admin)' },
      },
    },
    paths,
  };
}
