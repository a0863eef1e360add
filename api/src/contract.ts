import { OpenAPIHono } from '@hono/zod-openapi';
import type { z } from 'zod';
import { type AccessNeed, ErrorBodySchema, type TeamRole, type TokenScope, ValidationError } from '@drydock/core';
import { requireAccess } from './auth.ts';
import type { ApiEnv } from './context.ts';

// The building blocks every route declaration uses: bodies, answers, the one error shape, who may call.

/** Every validation failure is one ValidationError, so every 400 has the same shape: a message per field. */
function validationHook(result: { target: string; success: boolean; error?: z.ZodError }): undefined {
  if (result.success || !result.error) return undefined;
  throw new ValidationError(`invalid request ${result.target}`, fieldsOf(result.error));
}

export function fieldsOf(error: z.ZodError): Record<string, string[]> {
  const fields: Record<string, string[]> = {};
  for (const issue of error.issues) {
    const key = issue.path.length > 0 ? issue.path.map(String).join('.') : '_';
    (fields[key] ??= []).push(issue.message);
  }
  return fields;
}

/** One router per resource; mounted with `app.route()`, its declarations join the API's OpenAPI document. */
export function resourceRouter() {
  return new OpenAPIHono<ApiEnv>({ defaultHook: validationHook });
}

export const jsonBody = <T extends z.ZodType>(schema: T, description?: string) => ({
  content: { 'application/json': { schema } },
  required: true as const,
  ...(description ? { description } : {}),
});

export const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });

const ERROR_DESCRIPTIONS = {
  400: 'Invalid input: `fields` has one message per field',
  401: 'No credential, or one this API does not know',
  403: 'The caller may not do this',
  404: 'Not found',
  409: 'Conflicts with the current state',
  413: 'Too large',
} as const;
type ErrorStatus = keyof typeof ERROR_DESCRIPTIONS;

/** The error answers a route gives, in the one ErrorBody shape; a description of its own says when, for this route. */
type ErrorAnswer = { description: string; content: { 'application/json': { schema: typeof ErrorBodySchema } } };
export function errors<const S extends ErrorStatus>(...answers: (S | readonly [S, string])[]): Record<S, ErrorAnswer> {
  const out: Partial<Record<ErrorStatus, ErrorAnswer>> = {};
  for (const answer of answers) {
    const [status, description] = typeof answer === 'number' ? [answer, ERROR_DESCRIPTIONS[answer]] : answer;
    out[status] = { description, content: { 'application/json': { schema: ErrorBodySchema } } };
  }
  return out as Record<S, ErrorAnswer>;
}

/**
 * Who may call. User routes declare what they need with `access(role, scope)` and take the document's default
 * requirement (a session cookie or an API token, openapi.ts); the others declare their callers here.
 */
type SecurityRequirement = Record<string, string[]>;
export const CALLER: Record<'anyone' | 'agent' | 'gitProvider', SecurityRequirement[]> = {
  /** No credential: health, this document, the manifest schema, agent registration (its secret is in the body), sign-in. */
  anyone: [],
  agent: [{ agentToken: [] }],
  /** Any one of the providers' proofs over the body, checked with the repository's webhook secret. */
  gitProvider: [{ githubSignature: [] }, { gitlabToken: [] }, { bitbucketSignature: [] }],
};

/** The OpenAPI extension that states a user route's need: `{ role, scope }`. */
export const ACCESS_EXTENSION = 'x-drydock-access';

/**
 * What a user route needs: at least `role` in the caller's team, and `scope` when the caller is an API token
 * (read: reading; run: runs, bulk executions, locks; manage: everything else that changes something).
 * Spread into the route's declaration: the gate checks it and the OpenAPI document states it.
 */
export function access(role: TeamRole, scope: TokenScope) {
  const need: AccessNeed = { role, scope };
  return { middleware: requireAccess(need), [ACCESS_EXTENSION]: need };
}
