import { z } from 'zod';

/** The one shape of every error answer; `api/src/app.ts` maps domain errors to it. */
export const ErrorBodySchema = z
  .object({
    error: z.object({
      code: z.string().meta({
        description:
          '`invalid` (400), `http` (400 malformed JSON, 413, 415), `unauthorized` (401), `forbidden` (403, also a cross-site write), `not_found` (404), `conflict` (409), `misdirected` (421, a host name the API does not answer for), `internal` (500) or `unavailable` (503, the database does not answer)',
        example: 'invalid',
      }),
      message: z.string().meta({ description: 'What went wrong and what to do, in words for a person', example: 'parameters of echo-params are invalid' }),
      fields: z
        .record(z.string(), z.array(z.string()))
        .optional()
        .meta({
          description:
            'For `invalid` only: each field (`scriptId`, `params.x`, `parameters.1.name`, or a run parameter by name) with its messages; `_` is the object itself, such as an unknown key',
          example: { count: ['Count must be at most 100'], _: ['unknown parameter: bogus'] },
        }),
      requestId: z.string().optional().meta({ description: 'For `internal` only: the request id the API logged the failure under, also in the `x-request-id` header' }),
    }),
  })
  .meta({ id: 'ErrorBody', description: 'Every error answer of the API has this shape.' });
export type ErrorBody = z.infer<typeof ErrorBodySchema>;
