import {
  type CredentialView,
  EnvironmentName,
  type EnvironmentView,
  HOST_SEEN_WINDOWS,
  HOST_STATUSES,
  type HostListQuery,
  HostPatchSchema,
  type HostSeenWindow,
  type HostStatus,
  type HostView,
  NewHostBodySchema,
} from '@drydock/core/api-schemas';
import { data, redirect } from 'react-router';
import { answer, api, result } from './api.server.ts';
import { checkHostBody, createBody, hostFormValues, patchBody, readSettings, settingsOf, type HostFormFailure } from './host-form.ts';
import { loadCredentials } from './repositories.server.ts';
import type { FieldErrors } from './form-errors.ts';

export interface HostFilters {
  environment: string;
  transport: '' | HostView['transport'];
  tags: string;
  status: '' | HostStatus;
  /** `within-<window>` or `not-<window>`: seen in the last window, or not for at least that long. */
  seen: '' | HostSeenFilter;
}

export type HostSeenFilter = `within-${HostSeenWindow}` | `not-${HostSeenWindow}`;
const SEEN_FILTERS: string[] = Object.keys(HOST_SEEN_WINDOWS).flatMap((w) => [`within-${w}`, `not-${w}`]);

/** The filters in the URL of /hosts; values no option offers count as no filter. */
export function readHostFilters(url: URL): HostFilters {
  const get = (name: string) => url.searchParams.get(name)?.trim() ?? '';
  const transport = get('transport');
  const status = get('status');
  const environment = get('environment');
  const seen = get('seen');
  return {
    environment: EnvironmentName.safeParse(environment).success ? environment : '',
    transport: transport === 'agent' || transport === 'ssh' || transport === 'winrm' || transport === 'docker' ? transport : '',
    tags: get('tags'),
    status: (HOST_STATUSES as readonly string[]).includes(status) ? (status as HostStatus) : '',
    seen: SEEN_FILTERS.includes(seen) ? (seen as HostSeenFilter) : '',
  };
}

/** Every filter is the API's: environment, transport, tags, status (maintenance included) and when last seen. */
export async function loadHostList(request: Request, filters: HostFilters): Promise<HostView[]> {
  const query: HostListQuery = {};
  if (filters.environment) query.environment = filters.environment;
  if (filters.transport) query.transport = filters.transport;
  if (filters.tags) query.tags = filters.tags;
  if (filters.status) query.status = filters.status;
  if (filters.seen) {
    const [how, window] = filters.seen.split('-') as ['within' | 'not', HostSeenWindow];
    query[how === 'within' ? 'seenWithin' : 'notSeenFor'] = window;
  }
  const { hosts } = await answer(api(request).hosts.$get({ query }));
  return hosts;
}

export async function loadHost(request: Request, id: string): Promise<HostView> {
  return answer(api(request).hosts[':id'].$get({ param: { id } }));
}

/** The credentials an agentless host can log in with: an SSH key or a password over SSH, a password over WinRM (the form narrows the list). */
export async function loadHostCredentials(request: Request): Promise<CredentialView[]> {
  return (await loadCredentials(request)).filter((c) => c.kind === 'ssh_key' || c.kind === 'password');
}

/** SSH hosts another host may jump through: one hop only, so not one that itself jumps, and never the host itself. */
export async function loadJumpHosts(request: Request, self?: string): Promise<HostView[]> {
  const { hosts } = await answer(api(request).hosts.$get({ query: { transport: 'ssh' } }));
  return hosts.filter((h) => h.id !== self && h.jumpHostId === null);
}

function failure(form: FormData, status: number, message: string, fields: FieldErrors) {
  return data<HostFormFailure>({ intent: 'save', message, fields, values: hostFormValues(form) }, { status });
}

/** Checks as the browser did (a request may come without JS), then adds the host. */
export async function createHost(request: Request, form: FormData) {
  const body = createBody(form);
  const fields = checkHostBody(body, 'new');
  if (Object.keys(fields).length > 0) return failure(form, 400, 'Some fields need attention.', fields);
  // The schema the form was checked with gives the body the type the route takes.
  const created = await result(api(request).hosts.$post({ json: NewHostBodySchema.parse(body) }));
  if (created.ok) return redirect(`/hosts/${encodeURIComponent(created.body.id)}`);
  return failure(form, created.status, created.error.message, created.error.fields ?? (created.status === 409 ? { id: [created.error.message] } : {}));
}

/** Sends only what changed since the form was shown. */
export async function updateHost(request: Request, id: string, form: FormData) {
  const before = readSettings(form.get('_before')) ?? settingsOf(await loadHost(request, id));
  const body = patchBody(form, before);
  const fields = checkHostBody(body, 'edit', before.transport);
  if (Object.keys(fields).length > 0) return failure(form, 400, 'Some fields need attention.', fields);
  if (Object.keys(body).length === 0) return { intent: 'save' as const, saved: true as const, message: 'Nothing changed.' };
  const updated = await result(api(request).hosts[':id'].$patch({ param: { id }, json: HostPatchSchema.parse(body) }));
  if (!updated.ok) return failure(form, updated.status, updated.error.message, updated.error.fields ?? {});
  const forgotKey = before.address !== null && 'address' in body && !updated.body.hostKeyPinned;
  const key = updated.body.transport === 'winrm' ? 'certificate' : 'host key';
  return { intent: 'save' as const, saved: true as const, message: forgotKey ? `Settings saved. The new address gets its ${key} pinned at the next connection.` : 'Settings saved.' };
}

export async function resetHostKey(request: Request, id: string) {
  const before = await loadHost(request, id);
  const reset = await result(api(request).hosts[':id'].$patch({ param: { id }, json: { resetHostKey: true } }));
  if (!reset.ok) return { intent: 'reset-host-key' as const, ok: false, message: reset.error.message };
  if (before.transport === 'winrm') {
    return {
      intent: 'reset-host-key' as const,
      ok: true,
      message: before.hostKeyPinned
        ? 'Certificate pin forgotten. The next connection pins the certificate the host presents then.'
        : 'No certificate was pinned yet. The next connection pins the certificate the host presents.',
    };
  }
  return {
    intent: 'reset-host-key' as const,
    ok: true,
    message: before.hostKeyPinned
      ? 'Host key forgotten. The next connection pins the key the host presents then.'
      : 'No host key was pinned yet. The next connection pins the key the host presents.',
  };
}

export async function deleteHost(request: Request, id: string) {
  const deleted = await result(api(request).hosts[':id'].$delete({ param: { id } }));
  if (deleted.ok) return redirect(`/hosts?deleted=${encodeURIComponent(id)}`);
  return data({ intent: 'delete' as const, ok: false, message: deleted.error.message }, { status: deleted.status });
}

/** The team's environments: the hosts' filter offers them, and each shows in its colour. */
export async function loadEnvironments(request: Request): Promise<EnvironmentView[]> {
  const { environments } = await answer(api(request).environments.$get());
  return environments;
}
