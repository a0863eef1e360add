import { zValidator } from '@hono/zod-validator';
import type { ValidationTargets } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { z } from 'zod';
import { ValidationError } from '@drydock/core';

/** What Hono's json validator reads as JSON; anything else it would take as an empty object. */
export const JSON_TYPE = /^application\/([a-z-.]+\+)?json(;\s*[a-zA-Z0-9-]+=([^;]+))*$/;

/**
 * zValidator whose failures become one ValidationError, so every 400 has the same shape: a message per field.
 * A JSON body sent under another content type is refused rather than read as `{}`, which zValidator would do.
 */
export function validate<T extends z.ZodType, Target extends keyof ValidationTargets>(target: Target, schema: T) {
  const validator = zValidator(target, schema, (result) => {
    if (result.success) return;
    const fields: Record<string, string[]> = {};
    for (const issue of result.error.issues) {
      const key = issue.path.length > 0 ? issue.path.map(String).join('.') : '_';
      (fields[key] ??= []).push(issue.message);
    }
    throw new ValidationError(`invalid request ${target}`, fields);
  });
  if (target !== 'json') return validator;
  return createMiddleware(async (c, next) => {
    const sent = Number(c.req.header('content-length') ?? 0) > 0 || c.req.header('transfer-encoding') !== undefined;
    const type = c.req.header('content-type') ?? '';
    if (sent && !JSON_TYPE.test(type)) {
      throw new ValidationError('the body must be JSON: send it with Content-Type: application/json', { 'content-type': [`is ${type ? JSON.stringify(type.slice(0, 100)) : 'missing'}, not application/json`] });
    }
    return validator(c, next);
  }) as unknown as typeof validator;
}
