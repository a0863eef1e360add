import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { EncryptionCodec } from './codec.ts';

const params = { message: 'hello', token: 'sk-live-4f9a2c7e1b', count: 3, verbose: true };
const metadataText = (p: Payload, key: string) => new TextDecoder().decode(p.metadata?.[key]);

describe('EncryptionCodec', () => {
  const codec = new EncryptionCodec({ k1: randomBytes(32) }, 'k1');

  it('decodes what it encoded to the same values', async () => {
    const originals = [defaultPayloadConverter.toPayload(params), defaultPayloadConverter.toPayload('just text'), defaultPayloadConverter.toPayload(null)];
    const decoded = await codec.decode(await codec.encode(originals));
    expect(decoded.map((p) => defaultPayloadConverter.fromPayload(p))).toEqual([params, 'just text', null]);
    expect(decoded.map((p) => metadataText(p, 'encoding'))).toEqual(originals.map((p) => metadataText(p, 'encoding')));
  });

  it('marks encrypted payloads with their encoding and key id, and hides the plaintext', async () => {
    const [encoded] = await codec.encode([defaultPayloadConverter.toPayload(params)]);
    expect(metadataText(encoded!, 'encoding')).toBe('binary/encrypted');
    expect(metadataText(encoded!, 'encryption-key-id')).toBe('k1');
    const bytes = Buffer.from(encoded!.data!);
    for (const clear of ['sk-live-4f9a2c7e1b', 'hello', 'json/plain', 'token']) expect(bytes.includes(clear)).toBe(false);
  });

  it('encrypts the same payload differently each time', async () => {
    const payload = defaultPayloadConverter.toPayload(params);
    const [a, b] = await codec.encode([payload, payload]);
    expect(Buffer.from(a!.data!).equals(Buffer.from(b!.data!))).toBe(false);
  });

  it('refuses to decode a payload whose bytes were changed', async () => {
    const [encoded] = await codec.encode([defaultPayloadConverter.toPayload(params)]);
    const data = Buffer.from(encoded!.data!);
    data[20] = data[20]! ^ 0x01;
    await expect(codec.decode([{ ...encoded!, data }])).rejects.toThrow(/unable to authenticate/);
  });

  it('refuses to decode with a different key under the same id', async () => {
    const [encoded] = await codec.encode([defaultPayloadConverter.toPayload(params)]);
    const impostor = new EncryptionCodec({ k1: randomBytes(32) }, 'k1');
    await expect(impostor.decode([encoded!])).rejects.toThrow(/unable to authenticate/);
  });

  it('says which key id is missing when it cannot decode', async () => {
    const old = new EncryptionCodec({ k0: randomBytes(32) }, 'k0');
    const [encoded] = await old.encode([defaultPayloadConverter.toPayload(params)]);
    await expect(codec.decode([encoded!])).rejects.toThrow('no codec key with id k0; add it to decrypt older payloads');
  });

  it('passes payloads that are not encrypted through decode unchanged', async () => {
    const plain = defaultPayloadConverter.toPayload(params);
    const [decoded] = await codec.decode([plain]);
    expect(decoded).toBe(plain);
  });

  it('still decodes old payloads after the key is rotated', async () => {
    const oldKey = randomBytes(32);
    const before = new EncryptionCodec({ k1: oldKey }, 'k1');
    const [old] = await before.encode([defaultPayloadConverter.toPayload(params)]);

    const rotated = new EncryptionCodec({ k1: oldKey, k2: randomBytes(32) }, 'k2');
    const [fresh] = await rotated.encode([defaultPayloadConverter.toPayload('after rotation')]);
    expect(metadataText(fresh!, 'encryption-key-id')).toBe('k2');

    const decoded = await rotated.decode([old!, fresh!]);
    expect(decoded.map((p) => defaultPayloadConverter.fromPayload(p))).toEqual([params, 'after rotation']);
    await expect(before.decode([fresh!])).rejects.toThrow('no codec key with id k2');
  });

  it('refuses a current key that is not 32 bytes', () => {
    expect(() => new EncryptionCodec({ k1: randomBytes(31) }, 'k1')).toThrow('codec key k1 must be 32 bytes');
    expect(() => new EncryptionCodec({ k1: randomBytes(32) }, 'k2')).toThrow('codec key k2 must be 32 bytes');
  });
});
