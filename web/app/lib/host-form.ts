import { DockerHostBodySchema, HostBodySchema, HostPatchSchema } from '@drydock/core/api-schemas';
import type { HostView } from '@drydock/core/api-schemas';
import { parseErrors, topLevelField, type FieldErrors } from './form-errors.ts';

export const HOST_FIELDS = ['transport', 'id', 'name', 'address', 'port', 'username', 'credentialId', 'winrmAuth', 'jumpHostId', 'socketPath', 'maxConcurrentJobs', 'environment', 'group', 'tags'] as const;
export type HostField = (typeof HOST_FIELDS)[number];

/** How Drydock reaches a host it adds: the transports the host form offers. */
export type AgentlessTransport = 'ssh' | 'winrm' | 'docker';
export const WINRM_AUTH = ['ntlm', 'basic'] as const;
export type WinrmAuth = (typeof WINRM_AUTH)[number];

/** A host form as it was sent, for showing it again. */
export type HostFormValues = Partial<Record<HostField, string>>;

export interface HostFormFailure {
  intent: 'save';
  message: string;
  fields: FieldErrors;
  values: HostFormValues;
}

/** What the edit form showed; a PATCH carries only the fields that differ from it, so it never undoes someone else's change. */
export interface HostSettings {
  /** Not editable; it decides which fields the form has and how problems are worded. */
  transport: HostView['transport'];
  name: string;
  address: string | null;
  port: number | null;
  username: string | null;
  credentialId: string | null;
  jumpHostId: string | null;
  winrmAuth: WinrmAuth | null;
  environment: string | null;
  group: string | null;
  tags: string[];
  /** Absent in forms rendered before job caps existed. */
  maxConcurrentJobs?: number | null;
}

export function settingsOf(host: HostView): HostSettings {
  return {
    transport: host.transport,
    name: host.name,
    address: host.address,
    port: host.port,
    username: host.username,
    credentialId: host.credential?.id ?? null,
    jumpHostId: host.jumpHostId,
    winrmAuth: host.winrmAuth,
    environment: host.environment,
    group: host.group,
    tags: host.tags,
    maxConcurrentJobs: host.maxConcurrentJobs,
  };
}

const nullableText = (v: unknown): v is string | null => v === null || typeof v === 'string';

/** The `_before` field of an edit form; null when it is missing or not what the form wrote. */
export function readSettings(raw: FormDataEntryValue | null): HostSettings | null {
  if (typeof raw !== 'string' || raw === '') return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const s = parsed as Record<string, unknown>;
  const ok =
    (s.transport === 'agent' || s.transport === 'ssh' || s.transport === 'winrm' || s.transport === 'docker') &&
    (s.winrmAuth === null || (WINRM_AUTH as readonly unknown[]).includes(s.winrmAuth)) &&
    typeof s.name === 'string' &&
    (s.port === null || typeof s.port === 'number') &&
    (s.maxConcurrentJobs === undefined || s.maxConcurrentJobs === null || typeof s.maxConcurrentJobs === 'number') &&
    Array.isArray(s.tags) &&
    s.tags.every((t) => typeof t === 'string') &&
    (['address', 'username', 'credentialId', 'jumpHostId', 'environment', 'group'] as const).every((k) => nullableText(s[k]));
  return ok ? (s as unknown as HostSettings) : null;
}

function field(form: FormData, name: string): string {
  const value = form.get(name);
  return typeof value === 'string' ? value.trim() : '';
}

export function hostFormValues(form: FormData): HostFormValues {
  const out: HostFormValues = {};
  for (const key of HOST_FIELDS) if (form.has(key)) out[key] = field(form, key);
  return out;
}

/** `linux, db` → `['linux', 'db']`: comma-separated, spaces trimmed, empty entries dropped. */
export function splitTags(text: string): string[] {
  return text
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
}

/** A whole number when the text is one; the text itself otherwise, so the schema names the mistake. */
function portOf(raw: string): number | string {
  return /^\d+$/.test(raw) ? Number(raw) : raw;
}

/** The transport a new-host form chose: SSH unless it says otherwise (a form from before WinRM says nothing). */
export function transportOf(form: FormData): string {
  return field(form, 'transport') || 'ssh';
}

/**
 * The body of POST /hosts: an agentless host, empty optional fields left out, and so is what the chosen transport
 * does not use (a jump host for WinRM, an authentication for SSH), whatever else the form held.
 */
export function createBody(form: FormData): Record<string, unknown> {
  const transport = transportOf(form);
  if (transport === 'docker') {
    const engine: Record<string, unknown> = { id: field(form, 'id'), transport };
    for (const key of ['name', 'socketPath', 'environment', 'group'] as const) if (field(form, key) !== '') engine[key] = field(form, key);
    engine.tags = splitTags(field(form, 'tags'));
    if (field(form, 'maxConcurrentJobs') !== '') engine.maxConcurrentJobs = portOf(field(form, 'maxConcurrentJobs'));
    return engine;
  }
  const body: Record<string, unknown> = {
    id: field(form, 'id'),
    transport,
    address: field(form, 'address'),
    username: field(form, 'username'),
    credentialId: field(form, 'credentialId'),
  };
  if (field(form, 'name') !== '') body.name = field(form, 'name');
  if (field(form, 'port') !== '') body.port = portOf(field(form, 'port'));
  if (field(form, 'maxConcurrentJobs') !== '') body.maxConcurrentJobs = portOf(field(form, 'maxConcurrentJobs'));
  if (transport === 'winrm' && field(form, 'winrmAuth') !== '') body.winrmAuth = field(form, 'winrmAuth');
  if (transport !== 'winrm' && field(form, 'jumpHostId') !== '') body.jumpHostId = field(form, 'jumpHostId');
  for (const key of ['environment', 'group'] as const) if (field(form, key) !== '') body[key] = field(form, key);
  body.tags = splitTags(field(form, 'tags'));
  return body;
}

/** The body of PATCH /hosts/:id: only the fields the form has and the person changed; an emptied choice clears it. */
export function patchBody(form: FormData, before: HostSettings): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (form.has('name') && field(form, 'name') !== before.name) body.name = field(form, 'name');
  for (const key of ['address', 'username', 'credentialId', 'winrmAuth'] as const) {
    if (form.has(key) && field(form, key) !== (before[key] ?? '')) body[key] = field(form, key);
  }
  if (form.has('port')) {
    const port = portOf(field(form, 'port'));
    if (port !== before.port) body.port = port;
  }
  for (const key of ['jumpHostId', 'environment', 'group'] as const) {
    const value = field(form, key) || null;
    if (form.has(key) && value !== before[key]) body[key] = value;
  }
  if (form.has('maxConcurrentJobs')) {
    const raw = field(form, 'maxConcurrentJobs');
    const cap = raw === '' ? null : portOf(raw);
    if (cap !== (before.maxConcurrentJobs ?? null)) body.maxConcurrentJobs = cap;
  }
  if (form.has('tags')) {
    const tags = splitTags(field(form, 'tags'));
    if (tags.join(',') !== before.tags.join(',')) body.tags = tags;
  }
  return body;
}

const WHEN_EMPTY: Partial<Record<string, string>> = {
  credentialId: 'choose an SSH key or password credential',
  port: 'a port number from 1 to 65535',
};
const WHEN_EMPTY_WINRM: Partial<Record<string, string>> = { credentialId: 'choose a password credential' };
const WHEN_WRONG: Partial<Record<string, string>> = {
  port: 'a port number from 1 to 65535',
  maxConcurrentJobs: 'a whole number of jobs from 1 to 1000, or empty for the default',
  transport: 'choose SSH, WinRM or a Docker engine',
  winrmAuth: 'choose NTLM or Basic',
};
const WHEN_WRONG_WINRM: Partial<Record<string, string>> = { username: 'a user name: user, DOMAIN\\user or user@domain' };

/**
 * The API's own body schema, problems keyed by field in words a person acts on; the browser and the route action both
 * check with it. `transport` words them for the host's kind: a new host's body names it, an edit's does not.
 */
export function checkHostBody(body: Record<string, unknown>, mode: 'new' | 'edit', transport: unknown = body.transport): FieldErrors {
  const schema = mode === 'edit' ? HostPatchSchema : transport === 'docker' ? DockerHostBodySchema : HostBodySchema;
  const winrm = transport === 'winrm';
  return parseErrors(schema.safeParse(body), {
    field: topLevelField,
    message: (issue, key) => {
      const value = body[key];
      if (value === '' || value === undefined) return (winrm ? WHEN_EMPTY_WINRM[key] : undefined) ?? WHEN_EMPTY[key] ?? 'required';
      return (winrm ? WHEN_WRONG_WINRM[key] : undefined) ?? WHEN_WRONG[key];
    },
  });
}
