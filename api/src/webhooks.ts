import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ScriptRepository } from '@drydock/core';

export type Provider = 'github' | 'gitlab' | 'bitbucket';

export interface PushEvent {
  provider: Provider;
  /** Branches the push updated; empty for events that are not pushes (pings, tags only). */
  branches: string[];
  kind: string;
}

function equal(a: string, b: string): boolean {
  const ba = Buffer.from(a);
  const bb = Buffer.from(b);
  return ba.length === bb.length && timingSafeEqual(ba, bb);
}

function hmacMatches(secret: string, body: Buffer, header: string | undefined): boolean {
  if (!header?.startsWith('sha256=')) return false;
  return equal(header, `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`);
}

/**
 * Which provider signed this request with the repository's secret, by each provider's documented scheme:
 * GitHub `X-Hub-Signature-256` (HMAC-SHA256 of the body), GitLab `X-Gitlab-Token` (the secret itself),
 * Bitbucket Cloud and Data Center `X-Hub-Signature` (HMAC-SHA256 of the body). Undefined: not verified.
 */
export function verifiedProvider(repo: Pick<ScriptRepository, 'provider'>, secret: string, headers: (name: string) => string | undefined, body: Buffer): Provider | undefined {
  const candidates: Provider[] = repo.provider === 'generic' ? ['github', 'gitlab', 'bitbucket'] : [repo.provider];
  for (const p of candidates) {
    if (p === 'github' && headers('x-github-event') && hmacMatches(secret, body, headers('x-hub-signature-256'))) return p;
    if (p === 'gitlab' && headers('x-gitlab-event') && equal(headers('x-gitlab-token') ?? '', secret)) return p;
    if (p === 'bitbucket' && headers('x-event-key') && hmacMatches(secret, body, headers('x-hub-signature'))) return p;
  }
  return undefined;
}

const headsRef = (ref: unknown): string | undefined => (typeof ref === 'string' && ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : undefined);

/** The branches a verified push event touched, from each provider's documented payload. */
export function pushEvent(provider: Provider, headers: (name: string) => string | undefined, payload: unknown): PushEvent {
  const p = payload as Record<string, unknown>;
  if (provider === 'github') {
    const kind = headers('x-github-event') ?? '';
    const branch = kind === 'push' ? headsRef(p.ref) : undefined;
    return { provider, kind, branches: branch ? [branch] : [] };
  }
  if (provider === 'gitlab') {
    const kind = headers('x-gitlab-event') ?? '';
    const branch = kind === 'Push Hook' ? headsRef(p.ref) : undefined;
    return { provider, kind, branches: branch ? [branch] : [] };
  }
  const kind = headers('x-event-key') ?? '';
  if (kind === 'repo:push') {
    // Bitbucket Cloud: push.changes[].new is the ref after the push (null when a branch is deleted).
    const changes = ((p.push as { changes?: unknown[] } | undefined)?.changes ?? []) as { new?: { type?: string; name?: string } | null }[];
    return { provider, kind, branches: changes.flatMap((ch) => (ch.new?.type === 'branch' && ch.new.name ? [ch.new.name] : [])) };
  }
  if (kind === 'repo:refs_changed') {
    // Bitbucket Data Center: changes[].ref.id is the full ref name.
    const changes = (p.changes ?? []) as { ref?: { id?: string; type?: string } }[];
    return { provider, kind, branches: changes.flatMap((ch) => (ch.ref?.type === 'BRANCH' ? [headsRef(ch.ref.id) ?? ''] : [])).filter(Boolean) };
  }
  return { provider, kind, branches: [] };
}
