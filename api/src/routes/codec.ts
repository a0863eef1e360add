import { createRoute } from '@hono/zod-openapi';
import { cors } from 'hono/cors';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { type CodecPayloads, CodecPayloadsSchema, ValidationError } from '@drydock/core';
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

const codecRoute = <Direction extends 'decode' | 'encode'>(direction: Direction, summary: string) =>
  createRoute({
    method: 'post',
    path: `/${direction}` as `/${Direction}`,
    tags: ['codec'],
    ...access('viewer', 'read'),
    summary,
    description: 'Only when the API has `DRYDOCK_CODEC_KEY`. CORS allows `POST` from `DRYDOCK_TEMPORAL_UI_URL` only.',
    request: { body: jsonBody(CodecPayloadsSchema) },
    responses: { 200: json(CodecPayloadsSchema, 'The payloads, in the same order'), ...errors(400) },
  });
const decode = codecRoute('decode', 'Remote payload codec for Temporal Web: decrypt');
const encode = codecRoute('encode', 'Remote payload codec for Temporal Web: encrypt');

/** The remote codec Temporal Web calls (`--ui-codec-endpoint`) to show signed-in users decrypted payloads. */
export function codecRoutes(codec: PayloadCodec, temporalUiUrl: string, keyId: string) {
  const router = resourceRouter();
  router.use(cors({ origin: temporalWebOrigins(temporalUiUrl), allowHeaders: ['content-type', 'x-namespace'], allowMethods: ['POST'] }));
  return router
    .openapi(decode, async (c) => c.json(toJson(await decodeEach(codec, fromJson(c.req.valid('json')), keyId)), 200))
    .openapi(encode, async (c) => c.json(toJson(await codec.encode(fromJson(c.req.valid('json')))), 200));
}
