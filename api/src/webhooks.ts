import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { type ScriptRepository, ValidationError } from '@drydock/core';

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

const headsRef = (ref: string): string | undefined => (ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : undefined);

/** The fields of each provider's documented push payload that Drydock reads; anything else in the body is left alone. */
const RefPush = z.looseObject({ ref: z.string() });
const BitbucketCloudPush = z.looseObject({
  push: z.looseObject({ changes: z.array(z.looseObject({ new: z.looseObject({ type: z.string().optional(), name: z.string().optional() }).nullish() })) }),
});
const BitbucketDataCenterPush = z.looseObject({ changes: z.array(z.looseObject({ ref: z.looseObject({ id: z.string().optional(), type: z.string().optional() }).optional() })) });

function parsed<T extends z.ZodType>(schema: T, payload: unknown, what: string): z.infer<T> {
  const result = schema.safeParse(payload);
  if (result.success) return result.data;
  const fields: Record<string, string[]> = {};
  for (const issue of result.error.issues) (fields[issue.path.length > 0 ? issue.path.map(String).join('.') : '_'] ??= []).push(issue.message);
  throw new ValidationError(`webhook body is not a ${what} as the provider documents it`, fields);
}

/** The branches a verified push event touched, from each provider's documented payload; a push of another shape is a ValidationError. */
export function pushEvent(provider: Provider, headers: (name: string) => string | undefined, payload: unknown): PushEvent {
  if (provider === 'github') {
    const kind = headers('x-github-event') ?? '';
    const branch = kind === 'push' ? headsRef(parsed(RefPush, payload, 'GitHub push event').ref) : undefined;
    return { provider, kind, branches: branch ? [branch] : [] };
  }
  if (provider === 'gitlab') {
    const kind = headers('x-gitlab-event') ?? '';
    const branch = kind === 'Push Hook' ? headsRef(parsed(RefPush, payload, 'GitLab push hook').ref) : undefined;
    return { provider, kind, branches: branch ? [branch] : [] };
  }
  const kind = headers('x-event-key') ?? '';
  if (kind === 'repo:push') {
    // Bitbucket Cloud: push.changes[].new is the ref after the push (null when a branch is deleted).
    const { changes } = parsed(BitbucketCloudPush, payload, 'Bitbucket Cloud repo:push event').push;
    return { provider, kind, branches: changes.flatMap((ch) => (ch.new?.type === 'branch' && ch.new.name ? [ch.new.name] : [])) };
  }
  if (kind === 'repo:refs_changed') {
    // Bitbucket Data Center: changes[].ref.id is the full ref name.
    const { changes } = parsed(BitbucketDataCenterPush, payload, 'Bitbucket Data Center repo:refs_changed event');
    return { provider, kind, branches: changes.flatMap((ch) => (ch.ref?.type === 'BRANCH' && ch.ref.id ? [headsRef(ch.ref.id) ?? ''] : [])).filter(Boolean) };
  }
  return { provider, kind, branches: [] };
}

const MAX_DELIVERY_ID = 200;

/**
 * The id the provider gives each delivery, the same on a redelivery: GitHub `X-GitHub-Delivery`, GitLab
 * `X-Gitlab-Event-UUID`, Bitbucket Cloud `X-Request-UUID`, Bitbucket Data Center `X-Request-Id`. Undefined when
 * the provider sent none (older GitLab), so the delivery cannot be told from a replay.
 */
export function deliveryId(provider: Provider, headers: (name: string) => string | undefined): string | undefined {
  const id =
    provider === 'github' ? headers('x-github-delivery') : provider === 'gitlab' ? headers('x-gitlab-event-uuid') : (headers('x-request-uuid') ?? headers('x-request-id'));
  const trimmed = id?.trim();
  if (!trimmed) return undefined;
  if (trimmed.length > MAX_DELIVERY_ID) throw new ValidationError(`the webhook's delivery id is longer than ${MAX_DELIVERY_ID} characters`);
  return trimmed;
}
