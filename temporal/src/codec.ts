import { fileURLToPath } from 'node:url';
import type { DataConverter, Payload, PayloadCodec, SerializationContext } from '@temporalio/common';
import proto from '@temporalio/proto';
import { openBytes, sealBytes } from '@drydock/core';

const { temporal } = proto;
const ENCODING = 'binary/encrypted';
/**
 * The workflow a payload belongs to, sealed inside it: the codec endpoint reads it after decrypting, so it can
 * check the workflow's team, and nobody can relabel a payload without the key.
 */
const OWNER = 'drydock-workflow-id';
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * AES-256-GCM over whole payloads, so parameters (secrets included) never reach Temporal history in clear.
 * The key id travels in the metadata, which lets a key be rotated while old histories stay readable.
 */
export class EncryptionCodec implements PayloadCodec {
  private readonly keys: Map<string, Buffer>;
  private readonly currentKeyId: string;

  constructor(keys: Record<string, Buffer>, currentKeyId: string) {
    this.keys = new Map(Object.entries(keys));
    this.currentKeyId = currentKeyId;
    const current = this.keys.get(currentKeyId);
    if (!current || current.length !== 32) throw new Error(`codec key ${currentKeyId} must be 32 bytes`);
  }

  async encode(payloads: Payload[], context?: SerializationContext): Promise<Payload[]> {
    const key = this.keys.get(this.currentKeyId)!;
    const owner = context?.workflowId;
    return payloads.map((payload) => {
      const labelled = owner ? { ...payload, metadata: { ...payload.metadata, [OWNER]: encoder.encode(owner) } } : payload;
      const data = sealBytes(key, temporal.api.common.v1.Payload.encode(labelled).finish());
      return {
        metadata: { encoding: encoder.encode(ENCODING), 'encryption-key-id': encoder.encode(this.currentKeyId) },
        data,
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.open(payload).payload);
  }

  /** One payload decrypted, with the workflow it was sealed for (null: sealed without one, or never encrypted). */
  open(payload: Payload): { payload: Payload; workflowId: string | null } {
    if (!payload.metadata || decoder.decode(payload.metadata.encoding) !== ENCODING) return { payload, workflowId: null };
    const keyId = decoder.decode(payload.metadata['encryption-key-id']);
    const key = this.keys.get(keyId);
    if (!key) throw new Error(`no codec key with id ${keyId}; add it to decrypt older payloads`);
    const inner = temporal.api.common.v1.Payload.decode(openBytes(key, payload.data ?? new Uint8Array()));
    const label = inner.metadata?.[OWNER];
    if (!label) return { payload: inner, workflowId: null };
    const metadata = { ...inner.metadata };
    delete metadata[OWNER];
    return { payload: { metadata, data: inner.data }, workflowId: decoder.decode(label) };
  }
}

export function codecFromConfig(config: { DRYDOCK_CODEC_KEY?: string | undefined; DRYDOCK_CODEC_KEY_ID: string }): EncryptionCodec | undefined {
  if (!config.DRYDOCK_CODEC_KEY) return undefined;
  return new EncryptionCodec({ [config.DRYDOCK_CODEC_KEY_ID]: Buffer.from(config.DRYDOCK_CODEC_KEY, 'base64') }, config.DRYDOCK_CODEC_KEY_ID);
}

/** The module whose failure converter encodes failure messages and stacks, so the codec encrypts them too. */
export const FAILURE_CONVERTER_PATH = fileURLToPath(new URL('./failure-converter.ts', import.meta.url));

/** What every worker, agent and client of Drydock converts payloads and failures with: encrypted, or plain without a key. */
export function dataConverterFromConfig(config: Parameters<typeof codecFromConfig>[0]): DataConverter | undefined {
  const codec = codecFromConfig(config);
  return codec ? { payloadCodecs: [codec], failureConverterPath: FAILURE_CONVERTER_PATH } : undefined;
}
