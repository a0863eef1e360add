import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
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
  /** A token from the config file or DRYDOCK_AGENT_TOKEN, such as one an admin issued by rotating. */
  token?: string;
  registrationSecret?: string;
  tags?: string[];
  log: (message: string) => void;
  signal?: AbortSignal;
}

/** Why the API refused a call, from its error body. */
export async function refusal(res: Response): Promise<string> {
  const body = (await res.json().catch(() => undefined)) as { error?: { message?: string } } | undefined;
  return `HTTP ${res.status}${body?.error?.message ? `: ${body.error.message}` : ''}`;
}

/**
 * The agent's identity: the token in the state file while the API still accepts it, else the configured
 * token, else a new registration with the registration secret. Waits for the API while it is unreachable.
 */
export async function obtainIdentity(options: IdentityOptions): Promise<AgentIdentity> {
  const stored = await readState(options.stateFile);
  const candidates: { token: string; from: string }[] = [];
  if (stored && stored.hostId === options.hostName) candidates.push({ token: stored.token, from: `the state file ${options.stateFile}` });
  if (options.token && options.token !== stored?.token) candidates.push({ token: options.token, from: 'the configured token' });

  for (const candidate of candidates) {
    const res = await untilReachable(options, () =>
      fetch(`${options.apiUrl}/api/v1/agent/me`, { headers: { authorization: `Bearer ${candidate.token}` } }),
    );
    if (!res.ok) {
      options.log(`the API refused the token from ${candidate.from} (${await refusal(res)})`);
      continue;
    }
    const me = (await res.json()) as { hostId: string; agentId: string };
    if (me.hostId !== options.hostName) {
      throw new Error(`the token from ${candidate.from} belongs to host ${me.hostId}, but this agent is configured as ${options.hostName} (server_id); fix one of them`);
    }
    const identity = { hostId: me.hostId, agentId: me.agentId, token: candidate.token };
    if (candidate.token !== stored?.token) await writeState(options.stateFile, identity);
    return identity;
  }

  if (!options.registrationSecret) {
    throw new Error(
      `agent for host ${options.hostName} is not registered: set DRYDOCK_AGENT_REGISTRATION_SECRET (or registration_secret in the config file) to the secret or a registration token of your team from the Drydock install page, or token to one an admin issued`,
    );
  }
  if (candidates.length > 0) options.log('registering again with the registration secret');
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
    throw Object.assign(new Error(`registration of host ${options.hostName} failed (HTTP ${res.status}): ${body.error?.message ?? 'no reason given'}`), { status: res.status });
  }
  const identity = { hostId: body.hostId, agentId: body.agentId, token: body.token };
  await writeState(options.stateFile, identity);
  return identity;
}

/**
 * Swaps the agent's token for a new one (`POST /api/v1/agent/token`); the old one stops working at once.
 * The new token is in the state file before this returns, so a restart right after still finds it.
 */
export async function rotateToken(options: { apiUrl: string; stateFile: string; identity: AgentIdentity }): Promise<AgentIdentity> {
  const res = await fetch(`${options.apiUrl}/api/v1/agent/token`, {
    method: 'POST',
    headers: { authorization: `Bearer ${options.identity.token}` },
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) throw Object.assign(new Error(`token rotation refused (${await refusal(res)})`), { status: res.status });
  const body = (await res.json()) as AgentIdentity;
  const identity = { hostId: body.hostId, agentId: body.agentId, token: body.token };
  await writeState(options.stateFile, identity);
  return identity;
}

async function readState(file: string): Promise<AgentIdentity | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as AgentIdentity;
  } catch {
    return undefined;
  }
}

/** Written whole, mode 600, then renamed into place: a crash never leaves half a token behind. */
async function writeState(file: string, identity: AgentIdentity): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.tmp`;
  try {
    await writeFile(temp, JSON.stringify(identity), { mode: 0o600 });
    await rename(temp, file);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
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
