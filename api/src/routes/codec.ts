import { createRoute } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { cors } from 'hono/cors';
import type { Payload } from '@temporalio/common';
import { type CodecPayloads, CodecPayloadsSchema, type Db, ForbiddenError, type Principal, UnauthorizedError, ValidationError } from '@drydock/core';
import { type EncryptionCodec, SearchAttr } from '@drydock/temporal';
import type { ApiDeps, ApiEnv } from '../context.ts';
import { access, errors, json, jsonBody, resourceRouter } from '../contract.ts';

function fromJson(body: CodecPayloads): Payload[] {
  return body.payloads.map((p) => ({
    metadata: Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
    data: Buffer.from(p.data, 'base64'),
  }));
}

function toJson(payloads: Payload[]): CodecPayloads {
  return {
    payloads: payloads.map((p) => ({
      metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')])),
      data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
    })),
  };
}

/** Where Temporal Web runs, as browsers name its origin: it calls the codec from there. */
export function temporalWebOrigins(temporalUiUrl: string): string[] {
  const origin = new URL(temporalUiUrl).origin;
  return [...new Set([origin, origin.replace('//localhost', '//127.0.0.1')])];
}

/** Who owns a workflow: its `DrydockTeam` search attribute, remembered briefly (Temporal Web asks for one workflow many times). */
function workflowTeams(deps: ApiDeps) {
  const known = new Map<string, { team: string | null; until: number }>();
  return async (workflowId: string): Promise<string | null> => {
    const hit = known.get(workflowId);
    if (hit && hit.until > Date.now()) return hit.team;
    let team: string | null;
    try {
      const description = await deps.temporal.workflow.getHandle(workflowId).describe();
      team = description.typedSearchAttributes.get(SearchAttr.Team) ?? null;
    } catch {
      team = null;
    }
    if (known.size > 10_000) known.clear();
    known.set(workflowId, { team, until: Date.now() + 60_000 });
    return team;
  };
}

/** The signed-in caller; the codec has no anonymous use. */
function caller(c: Context<ApiEnv>): Principal {
  const principal = c.get('principal');
  if (!principal) throw new UnauthorizedError('sign in to Drydock first: the codec decodes only for a signed-in member of the workflow’s team');
  return principal;
}

/** A member of `team`: the team the caller acts in, or (for a person) any team they belong to. */
async function memberOf(db: Db, principal: Principal, team: string | null): Promise<boolean> {
  if (team === null) return false;
  if (team === principal.teamId) return true;
  if (!principal.userId) return false;
  const membership = await db.selectFrom('memberships').select('team_id').where('user_id', '=', principal.userId).where('team_id', '=', team).executeTakeFirst();
  return membership !== undefined;
}

interface DecodeContext {
  db: Db;
  codec: EncryptionCodec;
  keyId: string;
  teamOf: (workflowId: string) => Promise<string | null>;
  firstTeam: string;
}

/**
 * Decodes one payload at a time, so a payload that does not open is named. Each payload says, sealed inside it,
 * which workflow it belongs to: it is shown only to a member of that workflow's team. Payloads sealed before
 * they carried one belong to the install's first team (`DRYDOCK_TEAM`), which owned every workflow then.
 */
async function decodeFor(principal: Principal, payloads: Payload[], ctx: DecodeContext): Promise<Payload[]> {
  const out: Payload[] = [];
  for (const [index, payload] of payloads.entries()) {
    let opened: ReturnType<EncryptionCodec['open']>;
    try {
      opened = ctx.codec.open(payload);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new ValidationError(`payload ${index} cannot be decrypted with this key (DRYDOCK_CODEC_KEY, id ${ctx.keyId}): ${why}`, {
        [`payloads.${index}`]: ['cannot be decrypted with this key: it was encrypted with another key, or changed since'],
      });
    }
    const team = opened.workflowId === null ? ctx.firstTeam : await ctx.teamOf(opened.workflowId);
    if (!(await memberOf(ctx.db, principal, team))) {
      throw new ForbiddenError(`payload ${index} belongs to a workflow of a team you are not a member of; sign in as a member of that team to read it`);
    }
    out.push(opened.payload);
  }
  return out;
}

const codecRoute = <Direction extends 'decode' | 'encode'>(direction: Direction, summary: string) =>
  createRoute({
    method: 'post',
    path: `/${direction}` as `/${Direction}`,
    tags: ['codec'],
    ...access('viewer', 'read'),
    summary,
    description:
      'Only when the API has `DRYDOCK_CODEC_KEY`, and only for a signed-in user (session cookie or token). CORS allows `POST` with credentials from `DRYDOCK_TEMPORAL_UI_URL` only.' +
      (direction === 'decode' ? " Each payload is decoded only for a member of its workflow's team (`DrydockTeam`): 403 otherwise." : ''),
    request: { body: jsonBody(CodecPayloadsSchema) },
    responses: { 200: json(CodecPayloadsSchema, 'The payloads, in the same order'), ...errors(400, 401, ...(direction === 'decode' ? [[403, "A payload belongs to another team's workflow"] as const] : [])) },
  });
const decode = codecRoute('decode', 'Remote payload codec for Temporal Web: decrypt');
const encode = codecRoute('encode', 'Remote payload codec for Temporal Web: encrypt');

/** The remote codec Temporal Web calls (`--ui-codec-endpoint`) to show signed-in users decrypted payloads. */
export function codecRoutes(deps: ApiDeps, codec: EncryptionCodec) {
  const { config } = deps;
  const teamOf = workflowTeams(deps);
  const router = resourceRouter();
  // With credentials, so Temporal Web's calls carry the Drydock session cookie; never `*`, only Temporal Web's origin.
  router.use(cors({ origin: temporalWebOrigins(config.temporalUiUrl), allowHeaders: ['content-type', 'x-namespace', 'authorization'], allowMethods: ['POST'], credentials: true }));
  return router
    .openapi(decode, async (c) => {
      const principal = caller(c);
      const namespace = c.req.header('x-namespace');
      if (namespace !== undefined && namespace !== config.TEMPORAL_NAMESPACE) {
        throw new ForbiddenError(`this codec serves namespace ${config.TEMPORAL_NAMESPACE}, not ${namespace}`);
      }
      const ctx = { db: deps.db, codec, keyId: config.DRYDOCK_CODEC_KEY_ID, teamOf, firstTeam: config.DRYDOCK_TEAM };
      return c.json(toJson(await decodeFor(principal, fromJson(c.req.valid('json')), ctx)), 200);
    })
    .openapi(encode, async (c) => {
      caller(c);
      return c.json(toJson(await codec.encode(fromJson(c.req.valid('json')))), 200);
    });
}
