import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { release, type } from 'node:os';

export interface AgentIdentity {
  hostId: string;
  agentId: string;
  token: string;
}

export const AGENT_VERSION = '0.1.0';

export interface IdentityOptions {
  apiUrl: string;
  hostName: string;
  stateFile: string;
  registrationSecret?: string;
  tags?: string[];
  log: (message: string) => void;
  signal?: AbortSignal;
}

/**
 * The agent's identity: the token stored from an earlier registration while the API still accepts it,
 * else a new registration with the registration secret. Waits for the API while it is unreachable.
 */
export async function obtainIdentity(options: IdentityOptions): Promise<AgentIdentity> {
  const stored = await readState(options.stateFile);
  if (stored && stored.hostId === options.hostName) {
    const res = await untilReachable(options, () =>
      fetch(`${options.apiUrl}/api/v1/agent/me`, { headers: { authorization: `Bearer ${stored.token}` } }),
    );
    await res.body?.cancel();
    if (res.ok) return stored;
    options.log(`stored agent token was refused (HTTP ${res.status}); registering again`);
  }
  if (!options.registrationSecret) {
    throw new Error(`agent for host ${options.hostName} is not registered: set DRYDOCK_AGENT_REGISTRATION_SECRET to the secret the Drydock UI shows`);
  }
  const res = await untilReachable(options, () =>
    fetch(`${options.apiUrl}/api/v1/agents/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        registrationSecret: options.registrationSecret,
        hostName: options.hostName,
        tags: options.tags ?? [],
        os: `${type()} ${release()}`,
        agentVersion: AGENT_VERSION,
      }),
    }),
  );
  const body = (await res.json()) as { hostId?: string; agentId?: string; token?: string; error?: { message?: string } };
  if (!res.ok || !body.token || !body.hostId || !body.agentId) {
    throw new Error(`registration of host ${options.hostName} failed (HTTP ${res.status}): ${body.error?.message ?? 'no reason given'}`);
  }
  const identity = { hostId: body.hostId, agentId: body.agentId, token: body.token };
  await mkdir(dirname(options.stateFile), { recursive: true });
  await writeFile(options.stateFile, JSON.stringify(identity), { mode: 0o600 });
  return identity;
}

async function readState(file: string): Promise<AgentIdentity | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as AgentIdentity;
  } catch {
    return undefined;
  }
}

async function untilReachable(options: IdentityOptions, call: () => Promise<Response>): Promise<Response> {
  let delay = 250;
  let warned = false;
  for (;;) {
    try {
      return await call();
    } catch (err) {
      if (options.signal?.aborted) throw err;
      if (!warned) options.log(`waiting for the API at ${options.apiUrl}`);
      warned = true;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 5_000);
    }
  }
}
