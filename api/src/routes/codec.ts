import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { z } from 'zod';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { ValidationError } from '@drydock/core';
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

/** Where Temporal Web runs, as browsers name its origin: it calls the codec from there. */
export function temporalWebOrigins(temporalUiUrl: string): string[] {
  const origin = new URL(temporalUiUrl).origin;
  return [...new Set([origin, origin.replace('//localhost', '//127.0.0.1')])];
}

/** Decodes one payload at a time, so a payload that does not open is named; the others are fine to show. */
async function decodeEach(codec: PayloadCodec, payloads: Payload[], keyId: string): Promise<Payload[]> {
  const out: Payload[] = [];
  for (const [index, payload] of payloads.entries()) {
    try {
      out.push(...(await codec.decode([payload])));
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new ValidationError(`payload ${index} cannot be decrypted with this key (DRYDOCK_CODEC_KEY, id ${keyId}): ${why}`, {
        [`payloads.${index}`]: ['cannot be decrypted with this key: it was encrypted with another key, or changed since'],
      });
    }
  }
  return out;
}

/** The remote codec Temporal Web calls (`--ui-codec-endpoint`) to show signed-in users decrypted payloads. */
export function codecRoutes(codec: PayloadCodec, temporalUiUrl: string, keyId: string) {
  return new Hono<ApiEnv>()
    .use(cors({ origin: temporalWebOrigins(temporalUiUrl), allowHeaders: ['content-type', 'x-namespace'], allowMethods: ['POST'] }))
    .post('/decode', validate('json', JsonPayloads), async (c) => c.json(toJson(await decodeEach(codec, fromJson(c.req.valid('json')), keyId))))
    .post('/encode', validate('json', JsonPayloads), async (c) => c.json(toJson(await codec.encode(fromJson(c.req.valid('json'))))));
}
