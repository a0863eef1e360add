import { z } from 'zod';

/**
 * A schema with an id, or null. `.nullable()` on such a schema is documented as "the schema and also null",
 * which no value matches; a union with null is documented as either.
 */
export function orNull<T extends z.ZodType>(schema: T) {
  return z.union([schema, z.null()]);
}
