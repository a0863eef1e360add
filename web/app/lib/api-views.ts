import { CredentialBodySchema, type REPOSITORY_PROVIDERS, type ScriptView } from '@drydock/core/api-schemas';

// Response shapes of the API that @drydock/core/api-schemas does not declare, as the UI reads them.

export interface RepositoryRef {
  id: string;
  name: string;
}

export type { HostView, RunView, ScriptView } from '@drydock/core/api-schemas';
export type { BulkCounts, BulkHostState, BulkHostView, BulkOptions, BulkPreview, BulkSelector, BulkStatus, BulkView } from '@drydock/core/bulk';

export interface ScriptDetail extends ScriptView {
  current: boolean;
  scriptContent: string | null;
  parametersJsonSchema: object;
}

export interface ScriptVersionView {
  version: string;
  author: string;
  committedAt: string;
  message: string;
  changes: string[];
  current: boolean;
}

export interface CatalogProblem {
  repository: RepositoryRef;
  file: string;
  line?: number;
  message: string;
}

export interface CatalogView {
  scripts: ScriptView[];
  problems: CatalogProblem[];
  facets: { tags: string[]; categories: string[] };
}

export interface ActionView extends ScriptView {
  revision: number;
  createdBy: string;
  manifest: Record<string, unknown>;
}

export interface ActionValidation {
  valid: boolean;
  problems: { path: string; message: string }[];
}

/** `GET /agents/install`: the environment file of an agent on another host, secrets included (admins only). */
export interface AgentInstallView {
  settings: Record<string, string>;
  envFile: string;
  command: string;
}

export type Provider = (typeof REPOSITORY_PROVIDERS)[number];
export type RepositoryStatus = 'new' | 'syncing' | 'ok' | 'failed';

export interface RepositoryView {
  id: string;
  name: string;
  kind: 'git' | 'directory';
  url: string;
  branch: string;
  path: string;
  provider: Provider;
  credential: { id: string; name: string } | null;
  hasWebhookSecret: boolean;
  webhookUrl: string;
  syncIntervalSeconds: number;
  status: RepositoryStatus;
  head: string | null;
  lastSyncAt: string | null;
  lastSyncError: string | null;
  scriptCount: number;
  problemCount: number;
}

export interface RepositorySyncView {
  id: string;
  reason: string;
  status: 'running' | 'ok' | 'failed';
  head: string | null;
  added: number;
  updated: number;
  removed: number;
  problems: number;
  error: string | null;
  startedAt: string;
  finishedAt: string | null;
  workflowId: string;
  temporalUrl: string;
}

export interface RepositoryDetail extends RepositoryView {
  syncs: RepositorySyncView[];
  problems: { file: string; line?: number; message: string }[];
}

export const CREDENTIAL_KINDS = CredentialBodySchema.shape.kind.options;
export type CredentialKind = (typeof CREDENTIAL_KINDS)[number];

const CREDENTIAL_KIND_LABEL: Partial<Record<string, string>> = { https_token: 'HTTPS token', ssh_key: 'SSH private key', password: 'Password' };

export function credentialKindLabel(kind: string): string {
  return CREDENTIAL_KIND_LABEL[kind] ?? kind;
}

export interface CredentialView {
  id: string;
  name: string;
  kind: CredentialKind;
  username: string | null;
  createdAt: string;
}
