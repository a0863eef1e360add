import { createRoute } from '@hono/zod-openapi';
import { cors } from 'hono/cors';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { type CodecPayloads, CodecPayloadsSchema } from '@drydock/core';
import { errors, json, jsonBody, resourceRouter } from '../contract.ts';

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

const codecRoute = <Direction extends 'decode' | 'encode'>(direction: Direction, summary: string) =>
  createRoute({
    method: 'post',
    path: `/${direction}` as `/${Direction}`,
    tags: ['codec'],
    summary,
    description: 'Only when the API has `DRYDOCK_CODEC_KEY`. CORS allows `POST` from `DRYDOCK_TEMPORAL_UI_URL` only.',
    request: { body: jsonBody(CodecPayloadsSchema) },
    responses: { 200: json(CodecPayloadsSchema, 'The payloads, in the same order'), ...errors(400) },
  });
const decode = codecRoute('decode', 'Remote payload codec for Temporal Web: decrypt');
const encode = codecRoute('encode', 'Remote payload codec for Temporal Web: encrypt');

/** The remote codec Temporal Web calls (`--ui-codec-endpoint`) to show signed-in users decrypted payloads. */
export function codecRoutes(codec: PayloadCodec, temporalUiUrl: string) {
  const router = resourceRouter();
  router.use(cors({ origin: [temporalUiUrl, temporalUiUrl.replace('localhost', '127.0.0.1')], allowHeaders: ['content-type', 'x-namespace'], allowMethods: ['POST'] }));
  return router
    .openapi(decode, async (c) => c.json(toJson(await codec.decode(fromJson(c.req.valid('json')))), 200))
    .openapi(encode, async (c) => c.json(toJson(await codec.encode(fromJson(c.req.valid('json')))), 200));
}
