import { AgentRegisterBodySchema } from '@drydock/core/api-schemas';
import {
  INSTALL_COMMAND,
  INSTALL_SCRIPT_NAME,
  renderWindowsInstallScript,
  UNINSTALL_COMMAND,
  WINDOWS_DEFAULTS,
  WindowsInstallError,
  windowsInstallOptions,
} from '@drydock/agent/windows';
import { NewRegistrationTokenBodySchema, type CreatedRegistrationToken, type HostView, type RegistrationTokenView } from '@drydock/core/api-schemas';
import { api, result } from '../lib/api.server.ts';
import { splitTags } from '../lib/host-form.ts';
import { hasFieldErrors, mergeFieldErrors, parseErrors, type FieldErrors } from '../lib/form-errors.ts';
import { checkRegistrationToken, REGISTRATION_TOKEN_PLACEHOLDER, registrationTokenBody } from '../lib/registration-token.ts';

/** Settings whose values let someone register an agent or read workflow payloads. */
const SECRET_SETTING = /SECRET|TOKEN|PASSWORD|_KEY$/;
const HOST_SETTING = 'DRYDOCK_AGENT_HOST';
const TAGS_SETTING = 'DRYDOCK_AGENT_TAGS';

export interface InstallSetting {
  name: string;
  /** Empty for a secret while secrets are hidden: the value never reaches the page then. */
  value: string;
  secret: boolean;
}

export type InstallOs = 'linux' | 'windows';

/** install-agent.ps1, or why the page does not show it yet. */
export type WindowsScript =
  | { script: string; missing: null }
  | { script: null; missing: 'host' | 'secrets' | 'settings'; problem: string | null };

/** Where the Windows script puts things and how it is run: the page says so before the script is shown. */
export const WINDOWS_INSTALL = {
  ...WINDOWS_DEFAULTS,
  scriptName: INSTALL_SCRIPT_NAME,
  installCommand: INSTALL_COMMAND,
  uninstallCommand: UNINSTALL_COMMAND,
  logFile: `${WINDOWS_DEFAULTS.dataDir}\\logs\\agent.log`,
  configFile: `${WINDOWS_DEFAULTS.dataDir}\\agent.json`,
};

export interface AgentInstallPage {
  /** Which instructions the page shows: `?os=windows` picks the Windows service. */
  os: InstallOs;
  showSecrets: boolean;
  hostName: string;
  tags: string;
  fields: FieldErrors;
  settings: InstallSetting[];
  /** The whole environment file, only while secrets are shown. */
  envFile: string | null;
  command: string | null;
  /** Why the API gave no settings (not an admin, no registration secret); the rest of the page still helps. */
  problem: string | null;
  /** Addresses in the file that only this machine can reach. */
  loopback: { name: string; value: string }[];
  existing: Pick<HostView, 'id' | 'transport'> | null;
  windows: WindowsScript;
  windowsInstall: typeof WINDOWS_INSTALL;
  /** The team's registration tokens (never their values); empty for anyone but the team's admins. */
  registrationTokens: RegistrationTokenView[];
  /** The settings hold a placeholder where a registration token of the team goes (any team but the default one). */
  needsRegistrationToken: boolean;
}



function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return bare === 'localhost' || bare === '::1' || bare.startsWith('127.');
}

function loopbackSettings(settings: Record<string, string>): { name: string; value: string }[] {
  const out: { name: string; value: string }[] = [];
  const api = settings.DRYDOCK_API_URL;
  if (api && URL.canParse(api) && isLoopback(new URL(api).hostname)) out.push({ name: 'DRYDOCK_API_URL', value: api });
  const temporal = settings.TEMPORAL_ADDRESS;
  if (temporal && isLoopback(temporal.replace(/:\d+$/, ''))) out.push({ name: 'TEMPORAL_ADDRESS', value: temporal });
  return out;
}

/** The API's environment file with one setting's line replaced, the rest as the API wrote it. */
function withSetting(envFile: string, name: string, value: string): string {
  return envFile
    .split('\n')
    .map((line) => (line.startsWith(`${name}=`) ? `${name}=${value}` : line))
    .join('\n');
}

/**
 * `/hosts/install`: what an agent on another host needs. Secret values are left out of the page (and its
 * hydration data) until `?secrets=show` asks for them; `?host=` and `?tags=` fill in the agent's name and tags.
 */
export async function loadAgentInstall(request: Request): Promise<AgentInstallPage> {
  const url = new URL(request.url);
  const showSecrets = url.searchParams.get('secrets') === 'show';
  const hostName = url.searchParams.get('host')?.trim() ?? '';
  const tags = url.searchParams.get('tags')?.trim() ?? '';

  const name = hostName === '' ? null : AgentRegisterBodySchema.shape.hostName.safeParse(hostName);
  const tagList = AgentRegisterBodySchema.shape.tags.safeParse(splitTags(tags));
  // The page's fields are named after the agent's settings, not the registration body's.
  const fields: FieldErrors = mergeFieldErrors(name ? parseErrors(name, { field: () => 'host' }) : {}, parseErrors(tagList, { field: () => 'tags' }));

  const [install, existing, tokens] = await Promise.all([
    result(api(request).agents.install.$get()),
    name?.success ? result(api(request).hosts[':id'].$get({ param: { id: hostName } })) : null,
    result(api(request).agents['registration-tokens'].$get()),
  ]);
  const os: InstallOs = url.searchParams.get('os') === 'windows' ? 'windows' : 'linux';
  const base = {
    os,
    showSecrets,
    hostName,
    tags,
    fields,
    existing: existing?.ok ? { id: existing.body.id, transport: existing.body.transport } : null,
    windowsInstall: WINDOWS_INSTALL,
    registrationTokens: tokens.ok ? tokens.body.tokens : [],
  };
  if (!install.ok) {
    return {
      ...base,
      settings: [],
      envFile: null,
      command: null,
      problem: install.error.message,
      loopback: [],
      windows: { script: null, missing: 'settings', problem: null },
      needsRegistrationToken: false,
    };
  }

  const values: Record<string, string> = { ...install.body.settings };
  let envFile = install.body.envFile;
  if (name?.success) {
    values[HOST_SETTING] = hostName;
    envFile = withSetting(envFile, HOST_SETTING, hostName);
  }
  if (tags !== '' && tagList.success) {
    values[TAGS_SETTING] = (tagList.data ?? []).join(',');
    envFile = withSetting(envFile, TAGS_SETTING, values[TAGS_SETTING]);
  }
  const settings = Object.entries(values).map(([key, value]) => {
    const secret = SECRET_SETTING.test(key);
    return { name: key, value: secret && !showSecrets ? '' : value, secret };
  });
  const windows = windowsScript(values, { named: name?.success === true, showSecrets });
  const needsRegistrationToken = Object.values(install.body.settings).includes(REGISTRATION_TOKEN_PLACEHOLDER);
  return { ...base, settings, envFile: showSecrets ? envFile : null, command: install.body.command, problem: null, loopback: loopbackSettings(values), windows, needsRegistrationToken };
}

export type RegistrationOutcome =
  | { intent: 'issue'; ok: true; issued: CreatedRegistrationToken }
  | { intent: 'issue' | 'revoke'; ok: false; message: string; fields: FieldErrors }
  | { intent: 'revoke'; ok: true; message: string };

/** Issues or revokes a registration token of the team; an issued token is in this answer only, never in a URL. */
export async function registrationTokenAction(request: Request): Promise<{ outcome: RegistrationOutcome; status: number }> {
  const form = await request.formData();
  const v1 = api(request).agents['registration-tokens'];
  if (form.get('_intent') === 'revoke') {
    const revoked = await result(v1[':id'].$delete({ param: { id: String(form.get('id') ?? '') } }));
    if (!revoked.ok) return { outcome: { intent: 'revoke', ok: false, message: revoked.error.message, fields: {} }, status: revoked.status };
    return { outcome: { intent: 'revoke', ok: true, message: `Registration token “${revoked.body.name}” revoked: it registers no more agents. Agents it registered keep working.` }, status: 200 };
  }
  const fields = checkRegistrationToken(form);
  if (hasFieldErrors(fields)) return { outcome: { intent: 'issue', ok: false, message: 'Some fields need attention.', fields }, status: 400 };
  const issued = await result(v1.$post({ json: NewRegistrationTokenBodySchema.parse(registrationTokenBody(form)) }));
  if (!issued.ok) return { outcome: { intent: 'issue', ok: false, message: issued.error.message, fields: issued.error.fields ?? {} }, status: issued.status };
  return { outcome: { intent: 'issue', ok: true, issued: issued.body }, status: 201 };
}

/** The script carries the registration secret and names the host: it is rendered only once both are given. */
function windowsScript(values: Record<string, string>, { named, showSecrets }: { named: boolean; showSecrets: boolean }): WindowsScript {
  if (!named) return { script: null, missing: 'host', problem: null };
  if (!showSecrets) return { script: null, missing: 'secrets', problem: null };
  try {
    return { script: renderWindowsInstallScript(windowsInstallOptions(values)), missing: null };
  } catch (err) {
    if (err instanceof WindowsInstallError) return { script: null, missing: 'settings', problem: err.message };
    throw err;
  }
}
