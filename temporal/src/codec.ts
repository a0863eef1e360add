import { fileURLToPath } from 'node:url';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';
import { openBytes, sealBytes } from '@drydock/core';

const { temporal } = proto;
const ENCODING = 'binary/encrypted';
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

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const key = this.keys.get(this.currentKeyId)!;
    return payloads.map((payload) => {
      const data = sealBytes(key, temporal.api.common.v1.Payload.encode(payload).finish());
      return {
        metadata: { encoding: encoder.encode(ENCODING), 'encryption-key-id': encoder.encode(this.currentKeyId) },
        data,
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      if (!payload.metadata || decoder.decode(payload.metadata.encoding) !== ENCODING) return payload;
      const keyId = decoder.decode(payload.metadata['encryption-key-id']);
      const key = this.keys.get(keyId);
      if (!key) throw new Error(`no codec key with id ${keyId}; add it to decrypt older payloads`);
      return temporal.api.common.v1.Payload.decode(openBytes(key, payload.data ?? new Uint8Array()));
    });
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
