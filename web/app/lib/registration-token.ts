import { NewRegistrationTokenBodySchema } from '@drydock/core/api-schemas';
import type { AgentInstallPage } from '../routes/host-install.server.ts';
import { parseErrors, topLevelField, type FieldErrors } from './form-errors.ts';

// The install page's registration-token form, checked the same way in the browser and on the server.

/** Where the API's install settings leave room for a team's registration token. */
export const REGISTRATION_TOKEN_PLACEHOLDER = '<registration-token>';

export function registrationTokenBody(form: FormData) {
  const days = String(form.get('expiresInDays') ?? '').trim();
  return { name: String(form.get('name') ?? '').trim(), ...(days === '' ? {} : { expiresInDays: Number(days) }) };
}

export function checkRegistrationToken(form: FormData): FieldErrors {
  return parseErrors(NewRegistrationTokenBodySchema.safeParse(registrationTokenBody(form)), { field: topLevelField });
}

/** The page with a just-issued token written where the settings, the file and the script hold its placeholder. */
export function withIssuedToken(page: AgentInstallPage, token: string | undefined): AgentInstallPage {
  if (!token || !page.needsRegistrationToken) return page;
  const fill = (text: string) => text.replaceAll(REGISTRATION_TOKEN_PLACEHOLDER, token);
  return {
    ...page,
    settings: page.settings.map((s) => (s.value === REGISTRATION_TOKEN_PLACEHOLDER ? { ...s, value: page.showSecrets ? token : '' } : s)),
    envFile: page.envFile && fill(page.envFile),
    windows: page.windows.script === null ? page.windows : { script: fill(page.windows.script), missing: null },
  };
}
