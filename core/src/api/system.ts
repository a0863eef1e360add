import { z } from 'zod';

// What is not a resource of its own: the API's health, the signed-in user, Temporal Web's payload codec.

export const HealthSchema = z
  .object({
    status: z.enum(['ok', 'degraded']),
    database: z.string().meta({ description: '`ok`, or `unreachable at <host> (<why>)`', example: 'ok' }),
    temporal: z.string().meta({ description: '`ok`, or `unreachable at <address> (<why>)`', example: 'ok' }),
    reason: z.string().optional().meta({ description: 'When degraded: what does not answer and why', example: 'temporal: unreachable at 127.0.0.1:7233 (no answer within 2 s)' }),
  })
  .meta({ id: 'Health' });
export type Health = z.infer<typeof HealthSchema>;

export const UserViewSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    email: z.string(),
    role: z.enum(['admin', 'maintainer', 'operator', 'viewer']),
    teamId: z.string(),
  })
  .meta({ id: 'UserView', description: 'The signed-in user.' });
export type UserView = z.infer<typeof UserViewSchema>;

/** Temporal's remote codec format: metadata values and data in base64. */
export const CodecPayloadsSchema = z
  .object({
    payloads: z.array(
      z.object({
        metadata: z.record(z.string(), z.string()).default({}).meta({ description: 'Values in base64' }),
        data: z.string().default('').meta({ description: 'Base64' }),
      }),
    ),
  })
  .meta({ id: 'CodecPayloads', description: "Payloads in Temporal's remote codec format." });
export type CodecPayloads = z.infer<typeof CodecPayloadsSchema>;
