import { loadConfig } from '@drydock/core';

const { oidc } = loadConfig();

/** The OpenID provider people may sign in with, as the sign-in page names it; null when none is configured. */
export function oidcProvider(): { name: string; startUrl: string } | null {
  if (!oidc) return null;
  return { name: new URL(oidc.issuerUrl).host, startUrl: '/api/v1/auth/oidc/start' };
}
