import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { z } from 'zod';
import type { Payload, PayloadCodec } from '@temporalio/common';
import type { ApiEnv } from '../context.ts';
import { validate } from '../validation.ts';

const JsonPayloads = z.object({
  payloads: z.array(z.object({ metadata: z.record(z.string(), z.string()).default({}), data: z.string().default('') })),
});
type JsonPayloads = z.infer<typeof JsonPayloads>;

function fromJson(body: JsonPayloads): Payload[] {
  return body.payloads.map((p) => ({
    metadata: Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
    data: Buffer.from(p.data, 'base64'),
  }));
}

function toJson(payloads: Payload[]): JsonPayloads {
  return {
    payloads: payloads.map((p) => ({
      metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')])),
      data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
    })),
  };
}

/** The remote codec Temporal Web calls (`--ui-codec-endpoint`) to show signed-in users decrypted payloads. */
export function codecRoutes(codec: PayloadCodec, temporalUiUrl: string) {
  return new Hono<ApiEnv>()
    .use(cors({ origin: [temporalUiUrl, temporalUiUrl.replace('localhost', '127.0.0.1')], allowHeaders: ['content-type', 'x-namespace'], allowMethods: ['POST'] }))
    .post('/decode', validate('json', JsonPayloads), async (c) => c.json(toJson(await codec.decode(fromJson(c.req.valid('json'))))))
    .post('/encode', validate('json', JsonPayloads), async (c) => c.json(toJson(await codec.encode(fromJson(c.req.valid('json'))))));
}
