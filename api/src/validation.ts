import { zValidator } from '@hono/zod-validator';
import type { ValidationTargets } from 'hono';
import type { z } from 'zod';
import { ValidationError } from '@drydock/core';

/** zValidator whose failures become one ValidationError, so every 400 has the same shape: a message per field. */
export function validate<T extends z.ZodType, Target extends keyof ValidationTargets>(target: Target, schema: T) {
  return zValidator(target, schema, (result) => {
    if (result.success) return;
    const fields: Record<string, string[]> = {};
    for (const issue of result.error.issues) {
      const key = issue.path.length > 0 ? issue.path.map(String).join('.') : '_';
      (fields[key] ??= []).push(issue.message);
    }
    throw new ValidationError(`invalid request ${target}`, fields);
  });
}
